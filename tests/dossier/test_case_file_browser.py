"""The case file as people use it, in Debian's Chromium against a real server (issue 3's walk):
a police handler drops a scanned volume on the upload page and watches it being split and read,
fixes the catalogue, and the case goes to the procuratorate; the prosecutor accepts it, opens the
volume, searches it, selects text on a page, drops it with its citation into a 审查逮捕意见书 and
exports the report as PDF."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect

from tests.browser.conftest import REPO, Server, chromium
from tests.dossier.conftest import pdf_bytes
from tests.review.test_browser import SHANGHAI, Api, drag_select, line_of, review_server, signed_in

__all__ = ["chromium", "review_server"]
pytestmark = pytest.mark.browser
ARTIFACTS = REPO / "artifacts" / "case-file"
PAGES = [
    [
        "起诉意见书",
        "犯罪嫌疑人韩某某，男，一九八八年出生。",
        "经依法侦查查明：韩某某在石路盗窃电动自行车一辆。",
    ],
    ["讯问笔录", "问：你为什么偷电动自行车？", "答：我缺钱用。"],
    ["鉴定意见书", "涉案电动自行车价值人民币二千八百元。"],
]


def test_upload_catalogue_transfer_search_quote_export(
    review_server: Server, chromium: Browser, tmp_path: Path
) -> None:
    server = review_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []

    leader_api = Api(server, "gusu_police_leader")
    police = signed_in(chromium, server, "gusu_police_leader")
    police.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    police.goto(server.url("/cases/new/"))
    town_id = int(police.locator("#id_town option").nth(1).get_attribute("value") or 0)
    filed = leader_api.call(
        "POST",
        "/api/v1/cases",
        {
            "charge": "盗窃罪",
            "facts": "韩某某在石路盗窃电动自行车一辆。",
            "occurred_at": (datetime.now(tz=SHANGHAI) - timedelta(days=1)).isoformat(),
            "town_id": town_id,
            "parties": [{"name": "韩某某", "gender": "男"}],
        },
    )
    case_id = int(filed["case"]["id"])

    # Upload in the browser: progress, then the volume is split and read in the background.
    scan = tmp_path / "诉讼卷.pdf"
    scan.write_bytes(pdf_bytes(PAGES))
    police.goto(server.url(f"/cases/{case_id}/files/"))
    police.set_input_files("#file-input", str(scan))
    expect(police.locator("#upload-list .status")).to_contain_text("已生成第1卷（3页）", timeout=30_000)
    police.screenshot(path=str(ARTIFACTS / "01-uploaded.png"), full_page=True)
    expect(police.locator("#volumes")).to_contain_text("已完成", timeout=120_000)
    expect(police.locator("#volumes")).to_contain_text("识别 3/3")
    police.screenshot(path=str(ARTIFACTS / "02-processed.png"), full_page=True)

    # Fix the catalogue in the reader.
    police.click("#volumes a:has-text('阅卷')")
    police.wait_for_load_state("load")  # htmx has taken over the form (else it is sent as a plain GET)
    if not police.locator(".catalogue-form").is_visible():
        police.locator("#catalogue details summary").click()
    rows = police.locator(".catalogue-form .cat-row")
    for index, (title, kind, start, end) in enumerate(
        [("起诉意见书", "法律文书", 1, 1), ("讯问笔录", "讯问笔录", 2, 3)]
    ):
        row = rows.nth(index)
        row.locator("input[name=title]").fill(title)
        row.locator("select[name=kind]").select_option(kind)
        row.locator("input[name=start_page]").fill(str(start))
        row.locator("input[name=end_page]").fill(str(end))
    police.click(".catalogue-form button[type=submit]")
    expect(police.locator("#catalogue")).to_contain_text("目录已保存（第1版）")
    expect(police.locator("ol.catalogue")).to_contain_text("讯问笔录")
    police.screenshot(path=str(ARTIFACTS / "03-catalogue.png"))

    # The case goes to the procuratorate: detain, then 提请批准逮捕 through the case page's dialogs.
    for action in ("detain", "request_arrest"):
        police.goto(server.url(f"/cases/{case_id}/"))
        police.click(f"button[data-action={action}]")
        expect(police.locator("#dlg")).to_be_visible()
        police.click("#act-submit")
        expect(police.locator(".messages")).to_contain_text("已办理")
    expect(police.locator("#stage")).to_have_text("审查逮捕")
    police.context.close()

    prosecutor = signed_in(chromium, server, "gusu_procu")
    prosecutor.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    prosecutor.goto(server.url(f"/cases/{case_id}/"))
    prosecutor.click("#accept-transfer")
    expect(prosecutor.locator(".messages")).to_contain_text("已受理")

    # Open the volume, search it: hits on the pages that mention the bicycle, highlighted.
    prosecutor.goto(server.url(f"/cases/{case_id}/files/"))
    prosecutor.click("#volumes a:has-text('阅卷')")
    prosecutor.fill("#find-q", "电动自行车")
    prosecutor.click("#find button[type=submit]")
    results = prosecutor.locator("#find-results li a")
    expect(results).to_have_count(3)
    expect(results.first).to_contain_text("卷1 第")
    results.nth(1).click()
    expect(prosecutor.locator(".textlayer span.hit").first).to_be_visible()
    prosecutor.screenshot(path=str(ARTIFACTS / "04-search.png"))
    # after the transfer the catalogue is frozen: an edit makes a new version
    expect(prosecutor.locator("#catalogue summary")).to_contain_text("保存将生成新版本")

    # A 审查逮捕意见书 from the case page; quote page 1 with one click; export as PDF.
    prosecutor.goto(server.url(f"/cases/{case_id}/"))
    with prosecutor.expect_navigation():
        prosecutor.click("#report-new button[type=submit]")
    reader = prosecutor.frame_locator("#ws-reader")
    # the 经依法侦查查明 line: Tesseract and RapidOCR both read its first words reliably
    first, last, text = line_of(reader, 1, "经依法侦查查明")
    drag_select(prosecutor, first, last)
    reader.locator(".xt-quote-btn").click()
    quote = prosecutor.locator("#ws-editor .rq").first
    expect(quote.locator(".rq-cite")).to_have_text("（卷1 第1页）")
    expect(prosecutor.locator("#ws-status")).to_have_text(re.compile(r"^已自动保存"), timeout=15_000)
    prosecutor.screenshot(path=str(ARTIFACTS / "05-quoted.png"))
    with prosecutor.expect_download() as download_info:
        prosecutor.click("#ws-pdf")
    pdf = ARTIFACTS / "report.pdf"
    download_info.value.save_as(str(pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert errors == [], errors
    assert text
