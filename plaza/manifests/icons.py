"""Plaza's two Teams icons, drawn at build time (no image files in the repository).

Teams asks for a 192x192 full-colour icon and a 32x32 outline icon that is white on a
transparent background (learn.microsoft.com: app icons for Teams). Both show a speech bubble.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

ACCENT = (0x2F, 0x5D, 0x8C)  # the manifest's accentColor
WHITE = (255, 255, 255)
COLOR_SIZE = 192
OUTLINE_SIZE = 32


def color_icon() -> bytes:
    """192x192, opaque RGB: a white speech bubble with three dots on Plaza's accent colour."""
    image = Image.new("RGB", (COLOR_SIZE, COLOR_SIZE), ACCENT)
    draw = ImageDraw.Draw(image)
    _bubble(draw, scale=COLOR_SIZE / OUTLINE_SIZE, fill=WHITE, outline=None, width=0)
    for x in (66, 96, 126):
        draw.ellipse((x - 9, 78 - 9, x + 9, 78 + 9), fill=ACCENT)
    return _png(image)


def outline_icon() -> bytes:
    """32x32 RGBA: the bubble's outline in white, everything else fully transparent."""
    image = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    _bubble(draw, scale=1, fill=None, outline=(*WHITE, 255), width=2)
    return _png(image)


def _bubble(draw: ImageDraw.ImageDraw, scale: float, fill, outline, width: int) -> None:
    """A rounded box with a tail at the bottom left, on a 32-unit grid."""

    def at(*points: float) -> list[float]:
        return [round(p * scale) for p in points]

    draw.rounded_rectangle(at(4, 5, 28, 21), radius=round(5 * scale), fill=fill,
                           outline=outline, width=width)  # fmt: skip
    if fill is not None:
        draw.polygon(at(9, 20, 9, 27, 16, 20), fill=fill)
        return
    # Outline: open the box's bottom edge where the tail joins it, then draw the tail's sides.
    draw.rectangle(at(10, 20, 14, 21), fill=(0, 0, 0, 0))
    draw.line(at(9, 20, 9, 27, 15, 21), fill=outline, width=width)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
