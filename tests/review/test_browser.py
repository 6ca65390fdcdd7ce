"""The review workspace in Debian's Chromium against a real server (F4): a prosecutor selects text on
page 1 of the scanned file in the left pane, quotes it with one click, sees it autosaved, reloads, follows
the citation back to the page, quotes from a second window (two-screen mode) with Alt+Q, and exports
the report as DOCX.

The police side (立案, 拘留, upload of a scanned PDF, 提请批准逮捕) and the procuratorate's 受理 go
through the real API with bearer tokens; the scanned volume is rendered and OCR'd by the server's
in-process job worker (``XIETONG_INPROCESS_TASKS=1``) before the prosecutor opens it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from django.conf import settings

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Frame, FrameLocator, Page, expect

from tests.browser.conftest import (  # the browser fixtures and the server helpers, shared
    REPO,
    DemoTemplate,
    Server,
    chromium,
    running_server,
)
from tests.dossier.conftest import pdf_bytes

__all__ = ["chromium"]
pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
ARTIFACTS = REPO / "artifacts" / "review"
SCAN = [
    [
        "起诉意见书",
        "犯罪嫌疑人程某某，男，一九九零年出生。",
        "经依法侦查查明：程某某在观前街盗窃电动自行车一辆。",
    ],
    ["询问笔录", "被害人李娜陈述：电动自行车停在楼下被盗。"],
]
WIDE = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def review_server(demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Like ``tests/browser``'s server (its own copy of the demo data, daphne), with the job queue run
    in-process so that an uploaded volume is rendered and OCR'd."""
    env = {"XIETONG_INPROCESS_TASKS": "1"}
    if "XIETONG_OCR_ENGINE" in os.environ:  # lets a run pin the server's OCR engine
        env["XIETONG_OCR_ENGINE"] = os.environ["XIETONG_OCR_ENGINE"]
    with running_server(
        demo_template, tmp_path_factory, name="xietong-review", env=env, movable_clock=False
    ) as server:
        yield server


# ---------------------------------------------------------------- the API side


class Api:
    def __init__(self, server: Server, username: str):
        self.server = server
        token = self.call(
            "POST", "/api/v1/auth/token", {"username": username, "password": settings.XIETONG_DEMO_PASSWORD}
        )
        self.token = token["token"]

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        body = raw if raw is not None else (json.dumps(data).encode() if data is not None else None)
        request = urllib.request.Request(self.server.url(path), data=body, method=method)  # noqa: S310 (local)
        request.add_header(
            "Content-Type", "application/octet-stream" if raw is not None else "application/json"
        )
        if getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (local)
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(
                f"{method} {path} → {exc.code}: {exc.read().decode(errors='replace')}"
            ) from None


def upload(api: Api, case_id: int, data: bytes) -> int:
    started = api.call(
        "POST",
        f"/api/v1/cases/{case_id}/uploads",
        {"filename": "诉讼卷.pdf", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
    )
    chunk = 64 * 1024
    for offset in range(0, len(data), chunk):
        part = data[offset : offset + chunk]
        api.call(
            "PUT",
            f"/api/v1/uploads/{started['id']}?offset={offset}",
            raw=part,
            headers={"X-Chunk-SHA256": hashlib.sha256(part).hexdigest()},
        )
    volume = api.call("POST", f"/api/v1/uploads/{started['id']}/finish", {"title": "诉讼卷"})
    return int(volume["id"])


def wait_ready(api: Api, case_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        volumes = api.call("GET", f"/api/v1/cases/{case_id}/volumes")["results"]
        if volumes and all(v["status"] in {"ready", "failed"} for v in volumes):
            assert volumes[0]["status"] == "ready", volumes
            return dict(volumes[0])
        if time.monotonic() > deadline:
            raise AssertionError(f"volume not processed in {timeout}s: {volumes}\n{api.server.log_tail()}")
        time.sleep(0.5)


# ---------------------------------------------------------------- the browser side


def signed_in(browser: Browser, server: Server, username: str) -> Page:
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport=WIDE, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(server.url("/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", settings.XIETONG_DEMO_PASSWORD)
    with page.expect_navigation():
        page.click(".login-box button[type=submit]")
    expect(page.locator("main h1")).to_have_text("工作台")
    return page


def join_words(parts: list[str]) -> str:
    """As the reader joins words: no space in Chinese, one between two Latin/digit runs."""
    out = ""
    for part in parts:
        ascii_run = out[-1:].isascii() and out[-1:].isalnum() and part[:1].isascii() and part[:1].isalnum()
        out += (" " if out and ascii_run else "") + part
    return out


def line_of(reader: Frame | FrameLocator | Page, page_number: int, starts: str) -> tuple[Any, Any, str]:
    """The first and last word (span) of the OCR line on ``page_number`` that starts like ``starts``,
    and the line's text as the reader quotes it."""
    spans = reader.locator(f"#page-{page_number} .textlayer span")
    expect(spans.nth(2)).to_be_attached()
    words = spans.evaluate_all("ss => ss.map(s => [s.textContent, parseFloat(s.style.top)])")
    lines: list[list[int]] = []
    for i, (_, top) in enumerate(words):
        if lines and abs(words[lines[-1][0]][1] - top) < 1.5:
            lines[-1][1] = i
        else:
            lines.append([i, i])
    for a, b in lines:
        text = join_words([w[0] for w in words[a : b + 1]])
        if text.startswith(starts[:2]):
            return spans.nth(a), spans.nth(b), text
    raise AssertionError(f"no line like {starts!r} on page {page_number}: {words}")


def drag_select(page: Page, first: Any, last: Any) -> None:
    a, b = first.bounding_box(), last.bounding_box()
    assert a and b
    page.mouse.move(a["x"] + 1, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    page.mouse.move(b["x"] + b["width"] - 1, b["y"] + b["height"] / 2, steps=2)
    page.mouse.up()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_quote_from_the_case_file_autosave_reload_follow_and_export(
    review_server: Server, chromium: Browser
) -> None:
    server = review_server
    errors: list[str] = []

    # The police: file the case, detain, upload the scanned file, ask for an arrest.
    police_page = signed_in(chromium, server, "gusu_police_leader")
    police_page.goto(server.url("/cases/new/"))
    town_id = int(police_page.locator("#id_town option").nth(1).get_attribute("value") or 0)
    police_page.context.close()
    police = Api(server, "gusu_police_leader")
    occurred = (datetime.now(tz=SHANGHAI) - timedelta(days=2)).isoformat()
    filed = police.call(
        "POST",
        "/api/v1/cases",
        {
            "charge": "盗窃罪",
            "facts": "程某某在观前街盗窃电动自行车一辆，价值人民币三千元。",
            "occurred_at": occurred,
            "town_id": town_id,
            "place": "观前街",
            "parties": [{"name": "程某某", "gender": "男"}],
        },
    )
    case_id = int(filed["case"]["id"])
    suspect = police.call("GET", f"/api/v1/cases/{case_id}")["parties"][0]["id"]
    police.call("POST", f"/api/v1/cases/{case_id}/actions/detain", {"party_ids": [suspect]})
    volume_id = upload(police, case_id, pdf_bytes(SCAN))
    volume = wait_ready(police, case_id)
    assert (volume["id"], volume["page_count"], volume["pages_ocred"]) == (volume_id, 2, 2)
    sent = police.call("POST", f"/api/v1/cases/{case_id}/actions/request_arrest", {"party_ids": [suspect]})
    Api(server, "gusu_procu").call("POST", f"/api/v1/transfers/{sent['transfer']['id']}/accept", {})

    # The prosecutor starts a 审查逮捕意见书 from the case page.
    page = signed_in(chromium, server, "gusu_procu")
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.on("pageerror", lambda e: errors.append(f"js: {e}"))
    page.goto(server.url(f"/cases/{case_id}/"))
    expect(page.locator("#report-new select[name=kind]")).to_have_value("arrest_review")
    with page.expect_navigation():
        page.click("#report-new button[type=submit]")
    workspace_url = page.url
    assert re.search(rf"/cases/{case_id}/reports/\d+/$", workspace_url), workspace_url
    expect(page.locator("#ws-title")).to_have_text("程某某盗窃案审查逮捕意见书")
    expect(page.locator('section.rs[data-key="suspects"] .rs-body')).to_contain_text("犯罪嫌疑人程某某，男。")

    # Left pane: select a line of page 1, one click on 「引用」.
    reader = page.frame_locator("#ws-reader")
    first, last, text = line_of(reader, 1, "犯罪嫌疑人")
    drag_select(page, first, last)
    button = reader.locator(".xt-quote-btn")
    expect(button).to_be_visible()
    shot(page, "01-selection.png")
    button.click()
    expect(button).to_be_hidden()
    quote = page.locator("#ws-editor .rq").first
    expect(quote.locator(".rq-cite")).to_have_text("（卷1 第1页）")
    expect(quote.locator(".rq-text")).to_have_text(text)
    expect(page.locator('section.rs[data-key="evidence"] .rq')).to_have_count(1)  # no cursor yet: 证据情况
    expect(page.locator("#ws-status")).to_have_text(
        re.compile(r"^已自动保存 \d\d:\d\d:\d\d（第2版）$"), timeout=15_000
    )
    expect(reader.locator("#xt-toast")).to_contain_text("已插入报告")
    shot(page, "02-quoted-autosaved.png")

    # Type after the quotation; the next autosave goes into the same version (within 2 minutes).
    page.locator("#ws-editor .rq + p").click()
    page.keyboard.type("上述供述与被害人陈述相互印证。")
    expect(page.locator("#ws-status")).to_have_text("有未保存的修改…")
    expect(page.locator("#ws-status")).to_have_text(re.compile(r"^已自动保存 .*（第2版）$"), timeout=15_000)

    # Reload: the quotation is there with its citation; clicking it brings page 1 back on the left.
    page.reload()
    quote = page.locator("#ws-editor .rq").first
    expect(quote.locator(".rq-cite")).to_have_text("（卷1 第1页）")
    expect(quote.locator(".rq-text")).to_have_text(text)
    expect(page.locator("#ws-editor")).to_contain_text("上述供述与被害人陈述相互印证。")
    reader.locator("#page-2").scroll_into_view_if_needed()
    quote.locator(".rq-cite").click()
    expect(reader.locator("#page-1 .textlayer span.quoted").first).to_be_visible()
    expect(reader.locator("#page-1")).to_be_in_viewport()
    shot(page, "03-workspace-wide.png")

    # Two screens: the reader in its own window; a quotation from there with Alt+Q.
    with page.context.expect_page() as opened:
        page.click("#ws-two")
    second = opened.value
    second.set_viewport_size(WIDE)
    expect(page.locator("#ws")).to_have_class(re.compile(r"\bws-two\b"))
    expect(page.locator("#ws-two")).to_have_text("收回阅卷窗口")
    page.locator('section.rs[data-key="issues"] .rs-body p').first.click()  # the cursor decides where
    first, last, text2 = line_of(second, 2, "被害人")
    drag_select(second, first, last)
    second.keyboard.press("Alt+KeyQ")
    quoted = page.locator('section.rs[data-key="issues"] .rq')
    expect(quoted).to_have_count(1)
    expect(quoted.locator(".rq-cite")).to_have_text("（卷1 第2页）")
    expect(quoted.locator(".rq-text")).to_have_text(text2)
    expect(page.locator("#ws-status")).to_have_text(re.compile(r"^已自动保存 .*（第\d版）$"), timeout=15_000)
    second.locator("#page-1").scroll_into_view_if_needed()
    quoted.locator(".rq-cite").click()  # jumps in the other window
    expect(second.locator("#page-2 .textlayer span.quoted").first).to_be_visible()
    shot(page, "04-two-screen-editor.png")
    shot(second, "05-two-screen-reader.png")
    page.click("#ws-two")  # back to one screen: the reader window closes
    expect(page.locator("#ws")).not_to_have_class(re.compile(r"\bws-two\b"))

    # Export: what is on the screen, as DOCX.
    with page.expect_download() as download_info:
        page.click("#ws-docx")
    download = download_info.value
    assert (
        download.suggested_filename.endswith(".docx")
        and "程某某盗窃案审查逮捕意见书" in download.suggested_filename
    )
    target = ARTIFACTS / "workspace-export.docx"
    download.save_as(str(target))
    paragraphs = [p.text for p in docx.Document(io.BytesIO(target.read_bytes())).paragraphs]
    assert f"“{text}”（卷1 第1页）" in paragraphs
    assert f"“{text2}”（卷1 第2页）" in paragraphs
    assert "上述供述与被害人陈述相互印证。" in paragraphs

    # The version list, the case page's report list, and a laptop screen.
    page.click("#ws-versions")
    expect(page.locator("#dlg #rv-list tbody tr")).to_have_count(3)  # prefilled, autosaved, saved for export
    expect(page.locator("#dlg #rv-list tbody tr").first).to_contain_text("手动保存")
    shot(page, "06-versions.png")
    page.locator("#dlg [data-close]").click()
    page.set_viewport_size({"width": 1366, "height": 768})
    expect(reader.locator("#page-1")).to_be_visible()
    shot(page, "07-workspace-1366x768.png")
    page.goto(server.url(f"/cases/{case_id}/"))
    expect(page.locator("#reports tbody tr")).to_have_count(1)
    expect(page.locator("#reports")).to_contain_text("草稿 · 第3版")
    page.locator("#reports").scroll_into_view_if_needed()
    shot(page, "08-case-page.png")
    assert errors == [], errors
    page.context.close()
