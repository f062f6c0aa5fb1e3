"""Real image files for the picture tests: made with Pillow, stored in a temporary MEDIA_ROOT."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

RED, BLUE = (220, 20, 20), (20, 20, 220)
EXIF_ORIENTATION = 0x0112
EXIF_MAKE = 0x010F


def image_bytes(
    width: int, height: int, *, kind: str = "JPEG", orientation: int | None = None
) -> bytes:
    """A picture whose left half is red and right half blue, as stored; with an EXIF
    orientation (``6``: turn it a quarter clockwise to show it) and a camera make."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    buffer = io.BytesIO()
    if kind == "JPEG":
        exif = Image.Exif()
        exif[EXIF_MAKE] = "Newsroom test camera"
        if orientation:
            exif[EXIF_ORIENTATION] = orientation
        image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    else:
        image.save(buffer, kind)
    return buffer.getvalue()


def upload(name: str = "harbour.jpg", content: bytes | None = None, **kwargs) -> SimpleUploadedFile:
    content = image_bytes(1200, 800, **kwargs) if content is None else content
    return SimpleUploadedFile(name, content, content_type="image/jpeg")
