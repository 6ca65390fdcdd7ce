from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
LINES = [
    "起诉意见书",
    "犯罪嫌疑人张伟，男，一九九零年出生。",
    "经依法侦查查明：张伟在吴中区木渎镇盗窃电动自行车一辆。",
    "被害人通过支付宝转账人民币三千元。",
]


def page_image(lines: list[str], *, size: tuple[int, int] = (1240, 1754)) -> Image.Image:
    """An A4 page at 150 dpi with Chinese text in a real CJK font (the OCR tests read it back)."""
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 40) if FONT.exists() else ImageFont.load_default()
    for i, line in enumerate(lines):
        draw.text((100, 150 + i * 90), line, fill=0, font=font)
    return img


def pdf_bytes(pages: list[list[str]]) -> bytes:
    images = [page_image(lines).convert("RGB") for lines in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


@pytest.fixture
def scanned_pdf() -> bytes:
    return pdf_bytes([LINES, ["询问笔录", "被害人李娜陈述：手机被盗后支付宝被转走三千元。"], []])


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: object, tmp_path: Path) -> None:
    settings.TASKS = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "dossier"],
        }
    }
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"  # type: ignore[attr-defined]
