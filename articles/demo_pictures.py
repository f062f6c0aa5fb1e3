"""The demo's pictures, drawn with Pillow when ``load_demo`` runs: no image file is kept
in the repository. Simple landscapes, flat colours, sized like photographs."""

import io
import math

from PIL import Image, ImageDraw

SIZE = (1800, 1100)


def draw(scene: str, size: tuple[int, int] = SIZE) -> bytes:
    """A JPEG of ``scene`` ("river" or "ramp")."""
    width, height = size
    image = Image.new("RGB", size)
    pen = ImageDraw.Draw(image)
    _sky(pen, width, height, top=(196, 219, 235), bottom=(240, 236, 222))
    _hills(pen, width, height)
    if scene == "river":
        _river(pen, width, height)
    elif scene == "ramp":
        _ramp(pen, width, height)
    else:
        raise ValueError(f"no such demo scene: {scene}")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _sky(pen, width, height, *, top, bottom):
    for y in range(height):
        share = y / height
        pen.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * share) for a, b in zip(top, bottom, strict=True)),
        )


def _hills(pen, width, height):
    for depth, (colour, base, amplitude) in enumerate(
        [((142, 170, 128), 0.45, 0.08), ((104, 145, 96), 0.55, 0.06), ((76, 120, 72), 0.66, 0.05)]
    ):
        points = [(0, height)]
        for x in range(0, width + 20, 20):
            wave = math.sin(x / width * math.pi * (2 + depth) + depth)
            points.append((x, height * (base - amplitude * wave)))
        points.append((width, height))
        pen.polygon(points, fill=colour)


def _river(pen, width, height):
    left, right = [], []
    for y in range(int(height * 0.5), height + 10, 10):
        share = (y - height * 0.5) / (height * 0.5)
        middle = width * (0.5 + 0.18 * math.sin(share * math.pi * 1.6))
        half = 20 + share * width * 0.22
        left.append((middle - half, y))
        right.append((middle + half, y))
    pen.polygon(left + right[::-1], fill=(92, 140, 170))


def _ramp(pen, width, height):
    pen.rectangle([0, height * 0.62, width, height], fill=(92, 140, 170))
    for row in range(6):
        y = height * (0.6 + row * 0.065)
        for column in range(14):
            x = width * (0.22 + column * 0.045) + (row % 2) * 25
            radius = 26 + (column * 7 + row * 5) % 14
            pen.ellipse(
                [x - radius, y - radius * 0.7, x + radius, y + radius * 0.7], fill=(128, 122, 112)
            )
    for stripe in range(14):
        x = width * 0.22 + stripe * width * 0.045
        pen.line([(x, height * 0.6), (x + 30, height)], fill=(226, 238, 244), width=3)
