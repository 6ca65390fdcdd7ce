"""网上案件评查 in Debian's Chromium (F16): the 市公安局 leader creates a campaign over every police
unit and draws the cases that have a scanned file; two reviewers of different districts are cross-
assigned; one opens the case file, drags a rectangle on a page, files the defect (the server keeps
the cropped screenshot), settles the machine's suggestions and submits a score; the handling unit's
handler sees the defect with its screenshot and marks it rectified; the campaign's results show per
unit with the chart drawn, and the PDF report downloads.

The server has its own data folder and database (demo units and people, a few generated cases, three
scanned volumes rendered and recognised before it starts), so the draw has case files to review.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (  # the browser fixture and the server helpers, shared
    Server,
    chromium,
    demo_template_made,
    running_server,
)
from tests.browser.test_case_walk import Walk

__all__ = ["chromium"]
pytestmark = pytest.mark.browser

LEADER = "city_police_leader"
REVIEWERS = ("wujiang_police2", "gusu_police2")
LOADED = "s => { const i = document.querySelector(s); return !!i && i.complete && i.naturalWidth > 0; }"
PROCESS_VOLUMES = (
    "from xietong.dossier.services import volume_process\n"
    "from xietong.dossier.models import Volume\n"
    "for v in Volume.objects.exclude(status='ready'):\n"
    "    volume_process(volume_id=v.pk)\n"
)


@pytest.fixture(scope="module")
def quality_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Sixteen cases with scanned volumes and sealed instruments, the volumes processed; no history."""
    demo = ("--cases", "16", "--scans", "3", "--sealed", "4", "--history-months", "0")
    with (
        demo_template_made(tmp_path_factory, demo, then=(("shell", "-c", PROCESS_VOLUMES),)) as template,
        running_server(
            template, tmp_path_factory, name="xietong-quality", env={}, movable_clock=False
        ) as server,
    ):
        yield server


def _submit(page: Page, button: str, message: str) -> None:
    with page.expect_navigation():
        page.click(button)
    expect(page.locator("ul.messages")).to_contain_text(message)


def _image_loaded(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


def test_campaign_review_feedback_and_report(quality_server: Server, chromium: Browser) -> None:
    server = quality_server
    artifacts = Path(__file__).resolve().parents[2] / "artifacts" / "browser" / "quality"
    artifacts.mkdir(parents=True, exist_ok=True)
    walk = Walk(chromium, server, artifacts)

    # 1. The leader creates the campaign, adds two reviewers of different districts and draws.
    leader = walk.as_user(LEADER)
    with leader.expect_navigation():
        leader.click("#nav-quality")
    expect(leader.locator("main h1")).to_contain_text("网上案件评查")
    with leader.expect_navigation():
        leader.click("#campaign-new")
    leader.fill("input[name=name]", "全市公安机关刑事案件交叉评查")
    leader.fill("input[name=per_unit]", "0")
    walk.shot(leader, "campaign-new")
    leader.reload()  # a full-page screenshot leaves Chromium's hit-testing stale on this long form
    for label in leader.locator(".q-units label").all():  # every county's 公安分局/公安局, not the 派出所
        name = label.inner_text().strip()
        if name.endswith(("分局", "公安局")) and name != "苏州市公安局":
            label.locator("input").check()
    leader.fill("input[name=per_unit]", "0")
    with leader.expect_navigation():
        leader.click("#campaign-create")
    expect(leader.locator("ul.messages")).to_contain_text("已创建评查活动")
    campaign_url = leader.url
    for username in REVIEWERS:
        option = leader.locator("#reviewer-form select option", has_text=f"（{username}）")
        leader.select_option("#reviewer-form select", value=option.get_attribute("value"))
        _submit(leader, "#reviewer-form button", "已添加评查员")
    expect(leader.locator("#reviewers li")).to_have_count(2)
    _submit(leader, "#draw", "已抽取")
    expect(leader.locator("#drawn tbody tr[data-case]")).not_to_have_count(0)
    _submit(leader, "#assign-auto", "已交叉分配")
    walk.shot(leader, "campaign-drawn-assigned")

    # 2. A reviewer of another district opens the case file, marks a region and scores.
    reviewer = None
    for username in REVIEWERS:
        candidate = walk.as_user(username)
        candidate.goto(server.url("/quality/"))
        if candidate.locator("#my-assignments a.btn").count():
            reviewer = candidate
            break
    assert reviewer is not None, "no case was assigned"
    with reviewer.expect_navigation():
        reviewer.locator("#my-assignments a.btn").first.click()
    expect(reviewer.locator("main h1")).to_contain_text("评查：")
    reviewed_unit = (
        reviewer.locator("main p.muted").first.inner_text().split("被评查单位：")[1].split(" · ")[0]
    )
    buttons = reviewer.locator(".q-page")
    expect(buttons.first).to_be_visible()
    buttons.nth(1 if buttons.count() > 1 else 0).click()
    reviewer.wait_for_function(LOADED, arg="#page-img")
    box = reviewer.locator("#page-img").bounding_box()
    assert box is not None
    reviewer.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.25)
    reviewer.mouse.down()
    reviewer.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.45, steps=12)
    reviewer.mouse.up()
    expect(reviewer.locator("#sel")).to_be_visible()
    assert int(reviewer.input_value("#f-w")) > 100 and int(reviewer.input_value("#f-h")) > 50
    reviewer.select_option("#f-item", value="TY-04")
    reviewer.check("input[name=severity][value=irregular]")
    reviewer.fill("#f-comment", "讯问笔录末页无犯罪嫌疑人核对意见及签名、捺印（刑事诉讼法第一百二十二条）。")
    walk.shot(reviewer, "workspace-marked")
    reviewer.click("#defect-submit")
    expect(reviewer.locator("#defects .q-defect")).to_have_count(1)
    expect(reviewer.locator("#defects img.q-crop")).to_be_visible()
    reviewer.wait_for_function(LOADED, arg="#defects img.q-crop")
    # the machine's suggestions: confirm the first, dismiss the rest
    decide = reviewer.locator("#findings .q-decide")
    if decide.count():
        reviewer.locator("#findings .q-decide button", has_text="确认为问题").first.click()
        expect(reviewer.locator("#defects .q-defect")).to_have_count(2)
    while (left := reviewer.locator("#findings .q-decide").count()) > 0:
        reviewer.locator("#findings .q-decide button", has_text="排除").first.click()
        expect(reviewer.locator("#findings .q-decide")).to_have_count(left - 1)
    walk.shot(reviewer, "workspace-defects")
    reviewer.fill("#submit-form input[name=adjustment]", "1")
    reviewer.fill("#submit-form input[name=reason]", "其余材料规范齐全")
    reviewer.fill("#submit-form textarea[name=summary]", "事实清楚，笔录制作不规范，请整改。")
    _submit(reviewer, "#review-submit", "评查已提交")
    expect(reviewer.locator("#final-score")).to_be_visible()
    walk.shot(reviewer, "workspace-submitted")

    # 3. The handling unit's handler sees the defect with its screenshot and rectifies it.
    # the server's own database (the test process has a different one)
    handler_name = (
        server.console(
            "shell",
            "-c",
            "from xietong.orgs.models import User\n"
            f"print(User.objects.filter(unit__name={reviewed_unit!r}, appointments__duty='handler')"
            ".order_by('username').first().username)",
        )
        .strip()
        .splitlines()[-1]
    )
    handler = walk.as_user(handler_name)
    handler.goto(server.url("/quality/"))
    with handler.expect_navigation():
        handler.locator("#my-feedback a.btn").first.click()
    expect(handler.locator("#feedback-defects .q-defect").first).to_be_visible()
    crop = handler.locator("#feedback-defects img.q-crop").first
    expect(crop).to_be_visible()
    assert _image_loaded(handler, "#feedback-defects img.q-crop")
    form = handler.locator("#feedback-defects form.q-answer-form").first
    form.locator("textarea").fill("已补充犯罪嫌疑人核对签名，重新扫描入卷。")
    form.locator("input[value=rectify]").check()
    with handler.expect_navigation():
        form.locator("button").click()
    expect(handler.locator("ul.messages")).to_contain_text("已整改")
    expect(handler.locator("#feedback-defects .badge.q-rectified").first).to_be_visible()
    walk.shot(handler, "feedback-rectified")

    # 4. The results per unit, the chart, and the PDF report.
    leader.goto(campaign_url)
    with leader.expect_navigation():
        leader.click("#results-link")
    expect(leader.locator("#unit-results tbody")).to_contain_text(reviewed_unit)
    expect(leader.locator("#chart-units")).to_have_attribute("data-drawn", "1")
    expect(leader.locator("#chart-units canvas").first).to_be_visible()
    walk.shot(leader, "results")
    with leader.expect_download() as download:
        leader.click("#report-pdf")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    from pypdf import PdfReader

    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    assert "情况通报" in text and reviewed_unit in text
    (artifacts / "report.pdf").write_bytes(data)
    assert walk.server_errors == []
