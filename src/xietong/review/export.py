"""A report version as DOCX (python-docx) and as PDF (WeasyPrint, with the WenQuanYi Zen Hei font of
Debian's ``fonts-wqy-zenhei``). Quotations are indented, in 楷体 in the DOCX, each followed by its
citation 「（卷X 第Y页）」. Nothing here writes to the database."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from xietong.pdf import CJK_FONT, font_only_fetcher
from xietong.review.document import citation_text
from xietong.review.models import Report, ReportStatus, ReportVersion

# Word falls back to what the reader's machine has; these are the faces of official documents.
DOCX_BODY_FONT = "仿宋"
DOCX_HEADING_FONT = "黑体"
DOCX_TITLE_FONT = "宋体"
DOCX_QUOTE_FONT = "楷体"


@dataclass
class ExportContext:
    report: Report
    version: ReportVersion
    body: dict[str, Any]
    unit: str
    author: str
    case_number: str
    generated_at: datetime

    @property
    def is_final(self) -> bool:
        return self.report.status == ReportStatus.FINAL and self.version.number == self.report.current_version

    @property
    def state(self) -> str:
        return "定稿" if self.is_final else f"草稿 · 第{self.version.number}版"

    @property
    def date_line(self) -> str:
        when = timezone.localtime(self.report.finalised_at if self.is_final else self.version.saved_at)
        return f"{when.year}年{when.month}月{when.day}日"

    @property
    def meta_line(self) -> str:
        return f"案件编号：{self.case_number}　承办单位：{self.unit}　承办人：{self.author}"

    def filename(self, ext: str) -> str:
        title = "".join(ch for ch in self.body["title"] if ch not in '\\/:*?"<>|').strip() or "报告"
        return f"{title}（{'定稿' if self.is_final else f'第{self.version.number}版'}）.{ext}"


def export_context(report: Report, version: ReportVersion) -> ExportContext:
    return ExportContext(
        report=report,
        version=version,
        body=version.body,
        unit=report.unit.name,
        author=report.author.full_name or report.author.username,
        case_number=report.case.number,
        generated_at=timezone.localtime(),
    )


def blocks_for_render(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections with each quotation's citation text, for templates."""
    return [
        {
            **section,
            "blocks": [
                {**b, "citation": citation_text(b)} if b["type"] == "quote" else b for b in section["blocks"]
            ],
        }
        for section in body["sections"]
    ]


# ---------------------------------------------------------------- DOCX


def _east_asian(run: Any, name: str) -> None:
    from docx.oxml.ns import qn

    run.font.name = name
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _page_number_field(paragraph: Any) -> None:
    """「— 1 —」 in the footer: a PAGE field between two runs."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run, text = OxmlElement("w:r"), OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    paragraph.add_run(" —")


def report_docx(ctx: ExportContext) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    # GB/T 9704 page: A4, 天头 37 mm, 订口 28 mm.
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(16)  # 三号
    normal.font.name = DOCX_BODY_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia", DOCX_BODY_FONT
    )
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)

    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = header.add_run(f"{ctx.unit} · {ctx.state}")
    run.font.size = Pt(10)
    _page_number_field(section.footer.paragraphs[0])
    section.footer.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    run = title.add_run(ctx.body["title"])
    run.bold = True
    run.font.size = Pt(22)  # 二号
    _east_asian(run, DOCX_TITLE_FONT)
    meta = doc.add_paragraph()
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = meta.add_run(ctx.meta_line)
    run.font.size = Pt(12)

    for part in ctx.body["sections"]:
        if part["title"]:
            heading = doc.add_paragraph()
            heading.paragraph_format.first_line_indent = Pt(32)
            heading.paragraph_format.space_before = Pt(6)
            run = heading.add_run(part["title"])
            _east_asian(run, DOCX_HEADING_FONT)
        for block in part["blocks"]:
            if block["type"] == "quote":
                para = doc.add_paragraph()
                para.paragraph_format.left_indent = Pt(64)
                para.paragraph_format.right_indent = Pt(32)
                para.paragraph_format.space_before = Pt(3)
                para.paragraph_format.space_after = Pt(3)
                run = para.add_run(f"“{block['text']}”")
                _east_asian(run, DOCX_QUOTE_FONT)
                cite = para.add_run(citation_text(block))
                cite.font.size = Pt(14)
                continue
            for line in block["text"].split("\n") or [""]:
                para = doc.add_paragraph(line)
                para.paragraph_format.first_line_indent = Pt(32)
    date = doc.add_paragraph()
    date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    date.paragraph_format.space_before = Pt(24)
    date.add_run(ctx.date_line)
    out = io.BytesIO()
    doc.core_properties.title = ctx.body["title"]
    doc.core_properties.author = ctx.author
    doc.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- PDF


def report_html(ctx: ExportContext, *, for_pdf: bool) -> str:
    return render_to_string(
        "review/export.html",
        {
            "ctx": ctx,
            "sections": blocks_for_render(ctx.body),
            "font_url": CJK_FONT.as_uri() if CJK_FONT.exists() else "",
            "for_pdf": for_pdf,
        },
    )


def report_pdf(ctx: ExportContext) -> bytes:
    from weasyprint import HTML

    html = report_html(ctx, for_pdf=True)
    pdf: bytes = HTML(string=html, url_fetcher=font_only_fetcher()).write_pdf()
    return pdf
