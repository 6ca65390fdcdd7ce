"""大数据分析研判 in the browser (F11, F12, F15): the leaders' dashboard with its charts drawn, the
drill-down from city to district to town to a case, the planted fraud surge among the warnings, a
report exported to Excel, a saved query, and the annual report PDF with its charts — on the demo
data (five years of history), screenshots kept."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.test_case_walk import Walk
from xietong.demo.history import SURGE

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect

if TYPE_CHECKING:
    from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

CHARTS = (
    "#chart-trend",
    "#chart-regions",
    "#chart-charges",
    "#chart-funnel",
    "#chart-durations",
    "#chart-heat",
)


def test_dashboard_drill_down_warnings_reports_and_annual_report(
    xietong_server: Server, chromium: Browser, artifacts: Path
) -> None:
    walk = Walk(chromium, xietong_server, artifacts / "analytics")
    walk.artifacts.mkdir(exist_ok=True)
    page = walk.as_user("committee")
    with page.expect_navigation():
        page.click("#nav-analytics")
    expect(page.locator("main h1")).to_contain_text("犯罪态势与办案效率")
    for chart in CHARTS:
        expect(page.locator(chart)).to_have_attribute("data-drawn", "1")
        expect(page.locator(f"{chart} canvas").first).to_be_visible()
    total = int(page.locator("#summary .num").first.inner_text())
    assert total > 500, total  # this year's share of the demo's history
    _, town_name, charge, _ = SURGE
    surge = page.locator(".warning", has_text=town_name).filter(has_text=charge)
    expect(surge.first).to_be_visible()
    expect(surge.first.locator(".spark")).to_have_attribute("data-drawn", "1")
    walk.shot(page, "dashboard-city")

    page.click("#regions >> xpath=ancestor::details")  # open the table behind the chart
    with page.expect_navigation():
        page.locator("#regions a", has_text="昆山市").click()
    expect(page.locator("#crumbs")).to_contain_text("昆山市")
    expect(page.locator("#chart-regions")).to_have_attribute("data-drawn", "1")
    walk.shot(page, "dashboard-county")
    page.click("#regions >> xpath=ancestor::details")
    with page.expect_navigation():
        page.locator("#regions a", has_text=town_name).click()
    expect(page.locator("#crumbs")).to_contain_text(town_name)
    in_town = int(page.locator("#summary .num").first.inner_text())
    assert 0 < in_town < total
    with page.expect_navigation():
        page.click("#drill-cases")
    expect(page.locator("main h1")).to_contain_text(f"共 {in_town} 件")
    walk.shot(page, "drill-cases")
    with page.expect_navigation():
        page.locator("#fact-cases tbody a").first.click()
    expect(page.locator("main h1")).to_be_visible()
    assert "/cases/" in page.url

    page.goto(xietong_server.url("/analytics/reports/?by=procuratorate_unit"))
    expect(page.locator("#report-rows tbody tr")).not_to_have_count(0)
    walk.shot(page, "reports")
    with page.expect_download() as download:
        page.click("#export-report")
    from openpyxl import load_workbook

    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet["A3"].value == "名称" and "检察院" in str(sheet["A4"].value)

    page.goto(xietong_server.url(f"/analytics/query/?charge={charge}&group=county"))
    expect(page.locator("#query-rows tbody tr").first).to_contain_text(re.compile("[区市]$|[区市]\\d"))
    expect(page.locator("#chart-query")).to_have_attribute("data-drawn", "1")
    page.fill("#save-query input[name=name]", "全市诈骗按区县")
    with page.expect_navigation():
        page.click("#save-query button")
    expect(page.locator("#saved-queries")).to_contain_text("全市诈骗按区县")
    walk.shot(page, "query")

    page.goto(xietong_server.url("/analytics/correlation/"))
    expect(page.locator("#chart-heat")).to_have_attribute("data-drawn", "1")
    walk.shot(page, "correlation")

    response = page.request.get(xietong_server.url("/analytics/annual/?format=pdf"), timeout=60_000)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(response.body()))
    text = "".join(p.extract_text() or "" for p in pdf.pages)
    assert len(pdf.pages) >= 3 and "苏州市" in text and "实证分析报告" in text
    assert sum(len(p.images) for p in pdf.pages) >= 3  # the charts
    (walk.artifacts / "annual-report.pdf").write_bytes(response.body())
    assert walk.server_errors == []
