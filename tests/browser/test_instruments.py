"""Instruments in the browser (F5): a 提请批准逮捕书 drafted, 签发, sealed and served to the
procuratorate, which answers with a sealed 批准逮捕决定书; both verify on the public /verify page,
and a copy with one changed byte does not. The sealed PDF is rendered to an image and checked for
its red masthead, red rule and the red seal over the 落款."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.test_case_walk import (
    SHANGHAI,
    SUSPECT,
    Walk,
    accept_transfer,
    act,
    open_from_inbox,
    pick_suspect,
)

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from tests.browser.conftest import Server

pytestmark = pytest.mark.browser


def _open_instrument(page: Page, case_url: str, kind: str) -> None:
    page.goto(case_url)
    with page.expect_navigation():
        page.locator("#instruments a", has_text=kind).first.click()
    expect(page.locator("h1")).to_contain_text(kind)


def _step(page: Page, button: str, message: str) -> None:
    with page.expect_navigation():
        page.click(button)
    expect(page.locator("ul.messages")).to_contain_text(message)


def _red_share(image: object, box: tuple[int, int, int, int]) -> float:
    """Share of clearly red pixels (seal ink, masthead) in ``box`` of a PIL image."""
    region = image.crop(box).convert("RGB")  # type: ignore[attr-defined]
    flattened = getattr(region, "get_flattened_data", None) or region.getdata  # getdata() in older Pillow
    pixels = list(flattened())
    red = sum(1 for r, g, b in pixels if r > 170 and g < 110 and b < 110)
    return red / max(1, len(pixels))


def _check_rendered(pdf: bytes, out: Path) -> None:
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    doc = pdfium.PdfDocument(pdf)
    doc.init_forms()  # draw the signature widget's appearance (the seal), as a viewer does
    first = doc[0].render(scale=1.5).to_pil()  # 1.5 px per point: A4 = 893 × 1263
    w, _ = first.size
    assert _red_share(first, (int(w * 0.15), 130, int(w * 0.85), 200)) > 0.02, "red 发文机关标志 missing"
    reader = PdfReader(io.BytesIO(pdf))
    on = next(n for n, p in enumerate(reader.pages) if "/Annots" in p)  # the page with the seal
    widget = reader.pages[on]["/Annots"][0].get_object()
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    image = doc[on].render(scale=1.5).to_pil()
    image.save(out)
    height = float(doc[on].get_height())
    seal_box = (int(x1 * 1.5), int((height - y2) * 1.5), int(x2 * 1.5), int((height - y1) * 1.5))
    assert _red_share(image, seal_box) > 0.05, "no red seal drawn over the 落款"
    assert x1 > 595 / 2, "the seal sits right of centre, over the 落款"


def test_arrest_request_and_decision_sealed_served_and_verified(
    xietong_server: Server, chromium: Browser, artifacts: Path
) -> None:
    walk = Walk(chromium, xietong_server, artifacts)
    # 立案 by the police leader (no 呈请 needed), 拘留, 提请批准逮捕.
    page = walk.as_user("gusu_police_leader")
    page.goto(xietong_server.url("/cases/new/"))
    page.fill("#id_charge", "盗窃罪")
    page.select_option("#id_town", index=1)
    page.fill("#id_place", "平江路某小区")
    page.fill("#id_occurred_at", (datetime.now(tz=SHANGHAI) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_facts", "犯罪嫌疑人程某某在平江路某小区盗窃电动自行车二辆，价值人民币六千元。")
    page.fill("#id_suspect_name", SUSPECT)
    page.select_option("#id_suspect_gender", "男")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    match = re.search(r"/cases/(\d+)/$", page.url)
    assert match, page.url
    case_url = xietong_server.url(f"/cases/{match.group(1)}/")
    act(page, "detain", pick_suspect)
    act(page, "request_arrest", pick_suspect)

    # The handler edits and submits the draft; the leader 签发 and seals it: served at once.
    page = walk.as_user("gusu_police")
    _open_instrument(page, case_url, "提请批准逮捕书")
    expect(page.locator("#status")).to_have_text("草稿")
    body = page.locator("#body")
    expect(body).to_contain_text("提请批准逮捕")
    body.fill(body.input_value() + "\n犯罪嫌疑人程某某有多次盗窃前科。")
    _step(page, "#save-btn", "草稿已保存")
    _step(page, "#submit-btn", "已提交签发")
    walk.shot(page, "instrument-submitted")

    page = walk.as_user("gusu_police_leader")
    _open_instrument(page, case_url, "提请批准逮捕书")
    _step(page, "#approve-btn", "已签发")
    _step(page, "#seal-btn", "已盖章并送达")
    expect(page.locator("#status")).to_have_text("已盖章")
    number = page.locator("#number").inner_text()
    assert re.fullmatch(r"苏姑苏公\(刑\)提捕字〔\d{4}〕\d+号", number), number
    expect(page.locator("#services")).to_contain_text("姑苏区人民检察院")
    expect(page.locator("#services")).to_contain_text("未签收")
    walk.shot(page, "instrument-sealed")
    pdf_url = page.locator("#pdf").get_attribute("src") or ""
    request_pdf = page.request.get(xietong_server.url(pdf_url.split("#")[0])).body()
    _check_rendered(request_pdf, artifacts / "instrument-request-rendered.png")

    # The procuratorate receives the file; opening the instrument is its 签收.
    page = walk.as_user("gusu_procu")
    open_from_inbox(page, case_url)
    accept_transfer(page)
    _open_instrument(page, case_url, "提请批准逮捕书")
    expect(page.locator("#status")).to_have_text("已盖章")
    page.wait_for_timeout(500)  # the PDF frame loads: that view is the opening
    page = walk.as_user("gusu_police_leader")
    _open_instrument(page, case_url, "提请批准逮捕书")
    expect(page.locator("#services")).not_to_contain_text("未签收")

    # The procuratorate's leader approves the arrest and seals the 批准逮捕决定书.
    page = walk.as_user("gusu_procu_leader")
    page.goto(case_url)
    act(page, "approve_arrest", pick_suspect)
    _open_instrument(page, case_url, "批准逮捕决定书")
    expect(page.locator("#body")).to_contain_text(number)  # it answers the request by its 文号
    _step(page, "#submit-btn", "已提交签发")
    _step(page, "#approve-btn", "已签发")
    _step(page, "#seal-btn", "已盖章并送达")
    expect(page.locator("#services")).to_contain_text("公安局姑苏分局")
    pdf_url = page.locator("#pdf").get_attribute("src") or ""
    decision_pdf = page.request.get(xietong_server.url(pdf_url.split("#")[0])).body()
    _check_rendered(decision_pdf, artifacts / "instrument-decision-rendered.png")

    # Anyone, without logging in, verifies both; a copy with one changed byte fails.
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    public = context.new_page()
    for name, data, verdict in (
        ("request.pdf", request_pdf, "valid"),
        ("decision.pdf", decision_pdf, "valid"),
        ("changed.pdf", _one_byte_changed(decision_pdf), "altered"),
    ):
        public.goto(xietong_server.url("/verify/"))
        public.set_input_files(
            "#verify-file", files=[{"name": name, "mimeType": "application/pdf", "buffer": data}]
        )
        with public.expect_navigation():
            public.click("#verify-btn")
        expect(public.locator("#verdict")).to_have_attribute("data-verdict", verdict)
        public.screenshot(path=str(artifacts / f"verify-{name}.png"), full_page=True)
    expect(public.locator("#result")).to_contain_text("文件完整否")
    context.close()
    assert not walk.server_errors, walk.server_errors


def _one_byte_changed(pdf: bytes) -> bytes:
    at = pdf.index(b"WeasyPrint")
    return pdf[:at] + b"w" + pdf[at + 1 :]
