"""Pictures: what an upload must be, and the sized versions readers' browsers pick from.

An uploaded picture (``Picture``) is kept as it came. A Celery task
(``tasks.make_picture_sizes``, enqueued after the upload commits) makes its sized
versions with Pillow: ``SIZE_WIDTHS`` wide (never wider than the original, so
never upscaled), each as WebP and JPEG, turned as its EXIF orientation says and
with no EXIF (no camera, place or time) left in them. Their names and sizes are
written on the picture's row, so a page writes ``srcset`` without touching a file;
until they exist, pages show the original with its width and height. The beat
sweep (``tasks.picture_sizes_sweep``) starts the task again for a picture a lost
task or a broker outage left without them, as the mail outbox does.

Making them is idempotent: the names follow from the original's, a second run
writes the same files again, and a picture that has them is left alone.
"""

import io
import logging
import posixpath
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import Article, Picture

logger = logging.getLogger(__name__)

# The widths made of every picture (a narrower original is made at its own width).
SIZE_WIDTHS = (480, 960, 1600)
# (MIME type, Pillow format, file extension), best first: a browser takes the first
# ``<source>`` it understands.
SIZE_FORMATS = (("image/webp", "WEBP", "webp"), ("image/jpeg", "JPEG", "jpg"))
QUALITY = {"WEBP": 80, "JPEG": 82}
# Where the sized versions go, under MEDIA_ROOT, by the original's name.
SIZES_FOLDER = "sizes"
# What an upload may be.
UPLOAD_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
MIN_SIDE = 200
MAX_SIDE = 10_000
MAX_PIXELS = 40_000_000
# A task that has not made the sizes this long after the upload is taken for lost.
SWEEP_GRACE = timedelta(minutes=2)
# EXIF orientations that turn the picture a quarter: width and height swap.
QUARTER_TURNS = {5, 6, 7, 8}
EXIF_ORIENTATION = 0x0112


def max_upload_bytes() -> int:
    return settings.PICTURE_MAX_UPLOAD_MB * 1024 * 1024


@dataclass(frozen=True)
class Dimensions:
    width: int
    height: int


def check_upload(file) -> Dimensions:
    """The width and height readers will see of the uploaded ``file``, or a
    ValidationError that says what is wrong with it (too big, not an image Pillow
    reads, a format we do not publish, too small or too large in pixels).
    """
    if file.size > max_upload_bytes():
        raise ValidationError(
            _("This file is %(size)s MB; a picture may be at most %(limit)s MB."),
            code="too_big",
            params={
                "size": f"{file.size / 1024 / 1024:.1f}",
                "limit": settings.PICTURE_MAX_UPLOAD_MB,
            },
        )
    try:
        file.seek(0)
        with Image.open(file) as image:
            image.verify()
        file.seek(0)
        with Image.open(file) as image:
            image_format = image.format
            dimensions = _shown_dimensions(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("This file is not an image we can read. Upload a JPEG, PNG or WebP picture."),
            code="not_an_image",
        ) from None
    finally:
        file.seek(0)
    if image_format not in UPLOAD_FORMATS:
        raise ValidationError(
            _("%(format)s pictures are not published here. Upload a JPEG, PNG or WebP picture."),
            code="format",
            params={"format": image_format or _("This kind of")},
        )
    if min(dimensions.width, dimensions.height) < MIN_SIDE:
        raise ValidationError(
            _(
                "This picture is %(width)s x %(height)s pixels; it needs at least %(min)s "
                "pixels on each side to look sharp."
            ),
            code="too_small",
            params={**vars(dimensions), "min": MIN_SIDE},
        )
    if (
        max(dimensions.width, dimensions.height) > MAX_SIDE
        or dimensions.width * dimensions.height > MAX_PIXELS
    ):
        raise ValidationError(
            _(
                "This picture is %(width)s x %(height)s pixels; make it at most %(max)s pixels "
                "on its longer side (and %(megapixels)s megapixels) before uploading it."
            ),
            code="too_large",
            params={**vars(dimensions), "max": MAX_SIDE, "megapixels": MAX_PIXELS // 1_000_000},
        )
    return dimensions


def _shown_dimensions(image: Image.Image) -> Dimensions:
    """Width and height as shown: a quarter-turn EXIF orientation swaps them."""
    orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    width, height = image.size
    return Dimensions(height, width) if orientation in QUARTER_TURNS else Dimensions(width, height)


def stored_dimensions(name: str) -> Dimensions:
    """The shown width and height of a stored image (reads its header only)."""
    with default_storage.open(name) as file, Image.open(file) as image:
        return _shown_dimensions(image)


def size_widths(width: int) -> list[int]:
    """The widths the sized versions of a ``width`` pixels wide original have."""
    return sorted({min(target, width) for target in SIZE_WIDTHS})


def size_name(original: str, width: int, extension: str) -> str:
    stem = posixpath.splitext(original)[0]
    return f"{SIZES_FOLDER}/{stem}-{width}w.{extension}"


def make_sizes(original: str) -> list[dict]:
    """Write the sized versions of the stored image ``original``; what was written.

    Each is ``{"name", "width", "height", "type"}``, smallest first and WebP before
    JPEG at each width. Pillow's errors on a file that is not a readable image
    (``UnidentifiedImageError``, ``DecompressionBombError``) and a missing file
    (``FileNotFoundError``) are the caller's to record; other ``OSError``s may pass.
    """
    with default_storage.open(original) as file, Image.open(file) as opened:
        image = ImageOps.exif_transpose(opened)
        image.load()
    made = []
    for width in size_widths(image.width):
        height = max(1, round(image.height * width / image.width))
        resized = image if width == image.width else image.resize((width, height), Image.LANCZOS)
        for mime, pillow_format, extension in SIZE_FORMATS:
            content = _encode(resized, pillow_format)
            name = size_name(original, width, extension)
            # The same name every time: a second run replaces the file it wrote.
            default_storage.delete(name)
            stored = default_storage.save(name, ContentFile(content))
            made.append({"name": stored, "width": width, "height": height, "type": mime})
    return made


def _encode(image: Image.Image, pillow_format: str) -> bytes:
    """``image`` as ``pillow_format``, with no EXIF or other metadata."""
    if pillow_format == "JPEG":
        image = _flattened(image)
    elif image.mode not in {"RGB", "RGBA"}:
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    buffer = io.BytesIO()
    # Pillow writes only the metadata it is given: none here.
    image.save(buffer, pillow_format, quality=QUALITY[pillow_format], optimize=True)
    return buffer.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info


def _flattened(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparent parts on white."""
    if not _has_alpha(image):
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    white = Image.new("RGB", rgba.size, "white")
    white.paste(rgba, mask=rgba.getchannel("A"))
    return white


# Writes: the picture's row -------------------------------------------------------------


def picture_make_sizes(*, picture: Picture) -> bool:
    """Make and record ``picture``'s sized versions unless it has them; True when made now.

    A file Pillow cannot read, or that has gone, is recorded on the row
    (``sizes_error``) and not tried again; other OS errors (a full disk, a storage
    that did not answer) propagate, for the task to retry. Saving the row purges the
    pages that show the picture (``articles/signals.py``).
    """
    if picture.sized_at is not None:
        return False
    try:
        made = make_sizes(picture.file.name)
    except (UnidentifiedImageError, Image.DecompressionBombError, FileNotFoundError) as exc:
        picture.sizes_error = f"{type(exc).__name__}: {exc}"[:300]
        picture.save(update_fields=["sizes_error"])
        logger.warning("picture %s: no sized versions: %s", picture.pk, picture.sizes_error)
        return False
    picture.sizes = made
    picture.sized_at = timezone.now()
    picture.sizes_error = ""
    picture.save(update_fields=["sizes", "sized_at", "sizes_error"])
    return True


def hero_picture_for(article: Article, *, user=None) -> Picture | None:
    """The library picture of ``article``'s hero image (its file, saved already): the one
    it has when that is still its image, else a new one made from the file. None
    without a hero image. A file that cannot be read gets a picture too, 0 x 0 with
    its error, which pages show as it is and the sweep does not try again.
    """
    name = article.hero_image.name if article.hero_image else ""
    if not name:
        return None
    current = article.hero_picture if article.hero_picture_id else None
    if current is not None and current.file.name == name:
        return current
    error = ""
    try:
        dimensions = stored_dimensions(name)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        logger.warning("article %s: hero image %s unreadable: %s", article.pk, name, exc)
        dimensions, error = Dimensions(0, 0), f"{type(exc).__name__}: {exc}"[:300]
    picture = Picture(
        width=dimensions.width,
        height=dimensions.height,
        sizes_error=error,
        alt=article.hero_image_alt or article.title,
        caption=article.hero_image_caption,
        credit=article.hero_image_credit,
        uploaded_by=user if user is not None and user.is_authenticated else None,
    )
    picture.file.name = name  # the article's file, stored already: no second upload
    picture.save()
    return picture


# The sweep --------------------------------------------------------------------------


def heroes_without_picture():
    """Articles whose hero image has no library picture of its file (written around
    ``services.article_save``: a data load, a fix in the shell)."""
    return Article.objects.exclude(hero_image="").filter(
        Q(hero_picture__isnull=True) | ~Q(hero_picture__file=F("hero_image"))
    )


def pictures_to_size(*, at=None, limit: int = 200) -> list[int]:
    """Pictures without sized versions whose task should have made them by now."""
    before = (at or timezone.now()) - SWEEP_GRACE
    return list(
        Picture.objects.without_sizes()
        .filter(uploaded_at__lte=before)
        .order_by("uploaded_at")
        .values_list("pk", flat=True)[:limit]
    )


# How pages show a picture ----------------------------------------------------------


@dataclass(frozen=True)
class Source:
    type: str
    srcset: str


@dataclass(frozen=True)
class ShownImage:
    """What ``includes/picture.html`` writes for an image: its address, its size when
    known (so the page keeps its place while it loads), and once its sized versions
    exist, the ``srcset`` of each format (WebP as a ``<source>``, JPEG on the ``<img>``).
    """

    src: str
    width: int | None = None
    height: int | None = None
    sources: tuple[Source, ...] = ()
    srcset: str = ""
    # The widest JPEG version on its own (link previews take it).
    widest: "ShownImage | None" = None


# The widest JPEG a browser that ignores srcset is given.
FALLBACK_WIDTH = 960


def shown(picture: Picture) -> ShownImage:
    """``picture`` as pages show it: its sized versions when made, else the original.

    Reads the row only: no file is touched.
    """
    width, height = (picture.width, picture.height) if picture.width else (None, None)
    if not picture.sizes:
        return ShownImage(src=picture.file.url, width=width, height=height)
    by_type: dict[str, list[dict]] = {}
    for size in picture.sizes:
        by_type.setdefault(size["type"], []).append(size)

    def srcset(sizes):
        return ", ".join(f"{default_storage.url(size['name'])} {size['width']}w" for size in sizes)

    jpegs = by_type.get("image/jpeg", [])
    fallback = [size for size in jpegs if size["width"] <= FALLBACK_WIDTH] or jpegs
    return ShownImage(
        src=default_storage.url(fallback[-1]["name"]) if fallback else picture.file.url,
        width=width,
        height=height,
        sources=tuple(
            Source(type=mime, srcset=srcset(sizes))
            for mime, sizes in by_type.items()
            if mime != "image/jpeg"
        ),
        srcset=srcset(jpegs),
        widest=ShownImage(
            src=default_storage.url(jpegs[-1]["name"]),
            width=jpegs[-1]["width"],
            height=jpegs[-1]["height"],
        )
        if jpegs
        else None,
    )


def share_version(image: ShownImage) -> ShownImage:
    """The version of ``image`` a link preview takes: its widest JPEG (at most
    1600 px) with that version's own size; the original until the sizes exist."""
    return image.widest or image
