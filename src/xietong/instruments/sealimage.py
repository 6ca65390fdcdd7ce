"""The red round seal (公章) drawn for a unit: a ring, a five-pointed star in the middle, the unit's
name along the upper arc and a line of text below the star — the layout of a Chinese official seal
(国务院《关于国家行政机关和企业事业单位社会团体印章管理的规定》: round, star in the centre, name
from left to right along the rim). Drawn with Pillow; transparent background so the text under
the seal shows through, as with ink."""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SEAL_RED = (218, 30, 30, 235)
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
SIZE = 480  # pixels for a 42 mm seal: ≈ 290 dpi


def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT), px)
    except OSError:  # without the CJK font (never in a `make` install) the seal still draws
        return ImageFont.load_default()


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def seal_png(unit_name: str, *, bottom: str = "") -> bytes:
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c = SIZE / 2
    ring = SIZE * 0.035
    draw.ellipse((ring / 2, ring / 2, SIZE - ring / 2, SIZE - ring / 2), outline=SEAL_RED, width=int(ring))
    _star(draw, c, c, SIZE * 0.15)
    # The name along the upper arc, from lower left over the top to lower right (≈ 240°).
    text = unit_name
    n = len(text)
    glyph = min(int(SIZE * 0.105), int(SIZE * 2.4 / max(n, 1)))
    font = _font(glyph)
    radius = c - ring - glyph * 0.85
    span = min(math.radians(250), math.radians(22) * n)
    for i, ch in enumerate(text):
        angle = -math.pi / 2 - span / 2 + (span * (i + 0.5) / n)
        tile = Image.new("RGBA", (glyph * 2, glyph * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((glyph, glyph), ch, font=font, fill=SEAL_RED, anchor="mm")
        tile = tile.rotate(-math.degrees(angle + math.pi / 2), resample=Image.Resampling.BICUBIC)
        x = c + radius * math.cos(angle) - glyph
        y = c + radius * math.sin(angle) - glyph
        img.alpha_composite(tile, (int(x), int(y)))
    if bottom:
        small = _font(int(SIZE * 0.075))
        draw.text((c, c + SIZE * 0.27), bottom, font=small, fill=SEAL_RED, anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
