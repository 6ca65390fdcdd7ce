"""The Content-Security-Policy in a real browser: every main page of the platform loads, runs its
scripts and styles, and the browser reports no violation (issue 11, item 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.conf import settings

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect

if TYPE_CHECKING:
    from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/cases/",
    "/cases/new/",
    "/deadlines/",
    "/search/",
    "/library/",
    "/library/consistency/",
    "/analytics/",
    "/analytics/annual/",
    "/analytics/query/",
    "/board/",
    "/supervision/alerts/",
    "/supervision/oversight/",
    "/execution/",
    "/quality/",
    "/instruments/register/",
    "/verify/",
    "/api/docs/",
]

# Runs before any page script and outside the page's policy: collects the violations the browser
# raises as events, besides the "Refused to …" console lines.
_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(
    e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def test_main_pages_load_with_no_csp_violation(chromium: Browser, xietong_server: Server) -> None:
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    context.add_init_script(_RECORDER)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: (
            refused.append(f"{page.url}: {msg.text}")
            if "Refused to" in msg.text or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.goto(xietong_server.url("/login/"))
    page.fill("#id_username", "gusu_police_leader")
    page.fill("#id_password", settings.XIETONG_DEMO_PASSWORD)
    with page.expect_navigation():
        page.click(".login-box button[type=submit]")
    expect(page.locator("main h1")).to_have_text("工作台")

    violations: list[str] = []
    for path in PAGES:
        response = page.goto(xietong_server.url(path))
        assert response is not None and response.status < 500, (path, response and response.status)
        assert response.headers.get("content-security-policy"), path
        page.wait_for_load_state("networkidle")
        violations += [f"{path}: {v}" for v in page.evaluate("window.__cspViolations")]
    # a case page, its files and a volume in the reader (PDF.js), reached by following links
    page.goto(xietong_server.url("/cases/"))
    case_path = page.evaluate(
        "[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))"
        ".find(h => /^\\/cases\\/\\d+\\/$/.test(h || ''))"
    )
    assert case_path, "no case listed"
    for path in (case_path, case_path + "files/"):
        page.goto(xietong_server.url(path))
        page.wait_for_load_state("networkidle")
        violations += [f"{path}: {v}" for v in page.evaluate("window.__cspViolations")]
    volume = page.locator("a[href^='/volumes/']").first
    if volume.count():
        path = volume.get_attribute("href") or ""
        page.goto(xietong_server.url(path))
        page.wait_for_load_state("networkidle")
        violations += [f"{path}: {v}" for v in page.evaluate("window.__cspViolations")]
    assert not refused, "\n".join(refused)
    assert not violations, "\n".join(violations)
    context.close()
