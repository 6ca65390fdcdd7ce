"""Scanned-looking volumes for demo cases: a 受案登记表-style cover, the 起诉意见书 with the case's
facts, a 讯问笔录 and a 鉴定意见 page, typeset in a Chinese TrueType font and slightly skewed and
noisy like a real scan. Uploaded through the real services, so OCR and search work on them."""

from __future__ import annotations

import io
import random
import textwrap
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT_PATHS = [
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
]
A4 = (1240, 1754)  # 150 dpi keeps the demo light; real scans are 200–300 dpi


def font_path() -> Path | None:
    return next((p for p in FONT_PATHS if p.exists()), None)


def _page(
    lines: list[str], rng: random.Random, font: ImageFont.FreeTypeFont, title_font: ImageFont.FreeTypeFont
) -> Image.Image:
    img = Image.new("L", A4, 250)
    draw = ImageDraw.Draw(img)
    y = 140
    for i, line in enumerate(lines):
        if i == 0:
            width = draw.textlength(line, font=title_font)
            draw.text(((A4[0] - width) / 2, y), line, fill=15, font=title_font)
            y += 110
            continue
        for part in textwrap.wrap(line, 26) or [""]:
            draw.text((120, y), part, fill=20, font=font)
            y += 62
        y += 10
    img = img.rotate(rng.uniform(-0.6, 0.6), fillcolor=250, resample=Image.Resampling.BICUBIC)
    img = img.filter(ImageFilter.GaussianBlur(0.4))
    return ImageChops.add(img, Image.effect_noise(A4, 6), scale=1.0, offset=-128)


def volume_pdf(
    *, rng: random.Random, title: str, number: str, unit: str, facts: str, suspects: list[str]
) -> bytes | None:
    """A few pages for the case as a PDF, or None when no Chinese font is installed."""
    path = font_path()
    if path is None:
        return None
    font = ImageFont.truetype(str(path), 34)
    title_font = ImageFont.truetype(str(path), 52)
    first = suspects[0] if suspects else "犯罪嫌疑人"
    pages = [
        [
            "起诉意见书",
            f"{unit}",
            f"案件编号：{number}",
            f"犯罪嫌疑人：{'、'.join(suspects)}",
            "经依法侦查查明：",
            facts,
        ],
        [
            "讯问笔录",
            "时间：本案立案后第一次讯问",
            f"问：你叫什么名字？答：我叫{first}。",
            "问：你知道为什么被传唤吗？答：知道，因为我做了违法的事。",
            f"问：把经过讲一下。答：{facts[:80]}",
            "问：以上所说是否属实？答：属实。",
        ],
        [
            "鉴定意见书",
            f"委托单位：{unit}",
            f"鉴定事项：{title}涉案物品价值或伤情鉴定。",
            "鉴定意见：涉案物品价值及相关情况经鉴定属实，详见附件。",
        ],
    ]
    images = [_page(lines, rng, font, title_font).convert("RGB") for lines in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()
