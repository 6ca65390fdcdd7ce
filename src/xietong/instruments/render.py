"""Instrument → PDF (A4, CJK font embedded, the layout of GB/T 9704-2012: 发文机关标志 in red,
文号, red rule, title, body, 落款 and 成文日期, page numbers), and where on which page the seal
goes: centred over the 署名 and 日期 (GB/T 9704 §7.3.5.1). WeasyPrint reports the position of the
落款 block (``Page.anchors``), so the seal follows the text however long the body is."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from django.template.loader import render_to_string

from xietong.pdf import CJK_FONT, font_only_fetcher

PX_TO_PT = 0.75  # CSS px → PDF points
SEAL_MM = 42.0
MM_TO_PT = 72 / 25.4


@dataclass
class Paragraph:
    text: str
    to: bool = False  # an addressee line (「…：」): not indented


@dataclass
class Sheet:
    issuer: str
    title: str
    number: str | None
    paragraphs: list[Paragraph]
    date_text: str
    closing: list[Paragraph] = field(default_factory=list)
    draft: bool = False
    qr_svg: str = ""
    verify_url: str = ""
    signature_label: str = ""


@dataclass(frozen=True)
class SealBox:
    """Where the seal goes: page index and the box in PDF points (origin bottom-left)."""

    page: int
    box: tuple[int, int, int, int]


def paragraphs_of(text: str) -> list[Paragraph]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [Paragraph(line, to=line.endswith("：")) for line in lines]


def closing_of(text: str) -> list[Paragraph]:
    """「此致」 indented two characters, the addressee under it flush left."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [Paragraph(line, to=i > 0) for i, line in enumerate(lines)]


def _font_url() -> str:
    return CJK_FONT.as_uri() if CJK_FONT.exists() else ""


@lru_cache(maxsize=1)
def _fontconfig_has_cjk() -> bool:
    import shutil
    import subprocess

    fc = shutil.which("fc-list")
    if fc is None:
        return False
    try:
        out = subprocess.run([fc, ":family=WenQuanYi Zen Hei"], capture_output=True, text=True, timeout=10)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.stdout.strip())


def render(sheet: Sheet) -> tuple[bytes, SealBox]:
    from weasyprint import HTML

    # The font by family name through fontconfig (fonts-wqy-zenhei is installed by `make`); an
    # @font-face url() would make WeasyPrint read the 17 MB collection again for every document.
    html = render_to_string(
        "instruments/pdf.html", {"s": sheet, "font_url": "" if _fontconfig_has_cjk() else _font_url()}
    )
    document = HTML(string=html, url_fetcher=font_only_fetcher()).render()
    box = SealBox(page=len(document.pages) - 1, box=(0, 0, 0, 0))
    for index, page in enumerate(document.pages):
        if "signoff" in page.anchors:
            x1, y1, x2, y2 = page.anchors["signoff"]  # the 落款 block's box, CSS px from top-left
            cx = (x1 + x2) / 2 * PX_TO_PT
            cy = (page.height - (y1 + y2) / 2) * PX_TO_PT
            r = SEAL_MM * MM_TO_PT / 2
            box = SealBox(page=index, box=(round(cx - r), round(cy - r), round(cx + r), round(cy + r)))
    pdf: bytes = document.write_pdf()
    return pdf, box


def stamp_uploaded(pdf: bytes, *, number: str, qr_svg: str, verify_url: str) -> tuple[bytes, SealBox]:
    """A document uploaded by a court, readied for its seal: the platform's 文号 and the QR code to
    its verification page are overlaid in the top margin of the first page (rendered by WeasyPrint,
    merged with pypdf), and the seal goes at the foot of the last page, right, where the court's
    落款 stands. The court's own text is not touched."""
    import io

    from django.utils.html import escape
    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML

    reader = PdfReader(io.BytesIO(pdf))
    first, last = reader.pages[0], reader.pages[-1]
    w, h = float(first.mediabox.width), float(first.mediabox.height)
    html = (
        f"<html><head><style>@page {{ size: {w}pt {h}pt; margin: 0 }}"
        f"body {{ margin: 0; font-family: 'XTCJK', 'WenQuanYi Zen Hei'; font-size: 9pt; }}"
        f".tag {{ position: absolute; top: 8mm; right: 12mm; display: flex; gap: 3mm; align-items: center;"
        f" text-align: right; line-height: 12pt }}"
        f" .tag svg, .tag img {{ width: 18mm; height: 18mm }}</style></head>"
        f"<body><div class='tag'><div>平台文号：{escape(number)}<br>核验：{escape(verify_url)}</div>"
        f"{qr_svg}</div></body></html>"
    )
    overlay = PdfReader(io.BytesIO(HTML(string=html, url_fetcher=font_only_fetcher()).write_pdf())).pages[0]
    writer = PdfWriter(clone_from=reader)
    writer.pages[0].merge_page(overlay)
    out = io.BytesIO()
    writer.write(out)
    lw = float(last.mediabox.width)
    r = SEAL_MM * MM_TO_PT / 2
    cx, cy = lw - 26 * MM_TO_PT - 32 * MM_TO_PT, 35 * MM_TO_PT + 30 * MM_TO_PT
    box = (round(cx - r), round(cy - r), round(cx + r), round(cy + r))
    return out.getvalue(), SealBox(page=len(reader.pages) - 1, box=box)
