"""DOCX and PDF of a report version: quotations indented and followed by their citation."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest
from django.test import Client

from tests.factories import City
from tests.review.conftest import ReviewCase, quote_block
from xietong.review import services
from xietong.review.models import Report, ReportVersion
from xietong.security.models import AuditEvent

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "review"


def report_with_quotes(city: City, review_case: ReviewCase) -> Report:
    report = services.report_create(
        user=city.u("gusu.procu"), case_id=review_case.case_id, kind="arrest_review"
    )
    body: dict[str, Any] = ReportVersion.objects.get(report=report).body
    evidence = next(s for s in body["sections"] if s["key"] == "evidence")
    evidence["blocks"].append(quote_block(review_case.pages[1], "问：你为什么盗窃电动自行车？答：我缺钱用。"))
    across = quote_block(review_case.pages[1], "答：我缺钱用。询问笔录")
    across.update(end_page_id=review_case.pages[2].pk, end_page_number=3)
    evidence["blocks"].append(across)
    evidence["blocks"].append({"type": "p", "text": "以上证据证明犯罪嫌疑人张1实施了盗窃。"})
    services.report_save(
        user=city.u("gusu.procu"), report_id=report.pk, body=body, expected_version=1, autosave=False
    )
    report.refresh_from_db()
    return report


def signed_in(city: City, who: str = "gusu.procu") -> Client:
    client = Client()
    client.force_login(city.u(who))
    return client


def test_docx_has_the_quotation_followed_by_its_citation(city: City, review_case: ReviewCase) -> None:
    report = report_with_quotes(city, review_case)
    response = signed_in(city).get(f"/cases/{report.case_id}/reports/{report.pk}/export.docx")
    assert response.status_code == 200
    assert (
        response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "filename*=utf-8''" in response["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.content))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "张1盗窃案审查逮捕意见书"
    assert "“问：你为什么盗窃电动自行车？答：我缺钱用。”（卷1 第2页）" in paragraphs
    assert "“答：我缺钱用。询问笔录”（卷1 第2—3页）" in paragraphs
    quote = document.paragraphs[paragraphs.index("“问：你为什么盗窃电动自行车？答：我缺钱用。”（卷1 第2页）")]
    assert quote.paragraph_format.left_indent is not None and quote.paragraph_format.left_indent.pt == 64
    assert "四、证据情况" in paragraphs and "以上证据证明犯罪嫌疑人张1实施了盗窃。" in paragraphs
    assert document.core_properties.title == "张1盗窃案审查逮捕意见书"


def test_pdf_has_the_citation_in_chinese_text(city: City, review_case: ReviewCase) -> None:
    report = report_with_quotes(city, review_case)
    response = signed_in(city).get(f"/cases/{report.case_id}/reports/{report.pk}/export.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    if shutil.which("pdftotext") is None:  # apt-get install poppler-utils
        pytest.skip("pdftotext (poppler-utils) not installed")
    pdftotext = shutil.which("pdftotext") or "pdftotext"
    text = subprocess.run(  # noqa: S603 (a fixed local tool)
        [pdftotext, "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    flat = "".join(text.split())
    assert "张1盗窃案审查逮捕意见书" in flat
    assert "卷1 第2页" in text
    assert "问：你为什么盗窃电动自行车？答：我缺钱用。”（卷1第2页）" in flat
    assert "（卷1第2—3页）" in flat


def test_an_older_version_is_exported_as_it_was(city: City, review_case: ReviewCase) -> None:
    report = report_with_quotes(city, review_case)
    response = signed_in(city).get(f"/cases/{report.case_id}/reports/{report.pk}/export.docx?version=1")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs]
    assert not any("（卷1 第2页）" in p for p in paragraphs)
    assert (
        "第1版" in response["Content-Disposition"] or "%E7%AC%AC1%E7%89%88" in response["Content-Disposition"]
    )


@pytest.mark.parametrize(
    ("who", "status"), [("gusu.police", 403), ("wuzhong.procu", 404), ("committee", 200)]
)
def test_who_may_export(city: City, review_case: ReviewCase, who: str, status: int) -> None:
    report = report_with_quotes(city, review_case)
    response = signed_in(city, who).get(f"/cases/{report.case_id}/reports/{report.pk}/export.pdf")
    assert response.status_code == status
    exported = AuditEvent.objects.filter(kind="export", user=city.u(who), case_id=report.case_id)
    assert exported.count() == (1 if status == 200 else 0)  # a refused export is not an export
