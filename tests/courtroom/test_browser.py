"""The courtroom in Debian's Chromium (F6, F18): the presiding judge opens the hearing from the case
page and pairs a public screen and a defence screen by one-time codes; the prosecutor presents a
page and marks a passage; the judge's, the defence's and the public screen follow; the public screen
reloads and catches up; 质证 and 认证 are recorded; the procuratorate's leader follows live and his
advice reaches only the prosecutor."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server, chromium  # noqa: F401 (fixtures)
from tests.dossier.conftest import pdf_bytes
from tests.review.test_browser import SHANGHAI, Api, review_server, signed_in, upload, wait_ready  # noqa: F401

pytestmark = pytest.mark.browser


def _to_trial(server: Server, town_id: int) -> int:
    police = Api(server, "gusu_police_leader")
    filed = police.call(
        "POST",
        "/api/v1/cases",
        {
            "charge": "盗窃罪",
            "facts": "程某某在观前街盗窃电动自行车一辆，价值人民币三千元。",
            "occurred_at": (datetime.now(tz=SHANGHAI) - timedelta(days=20)).isoformat(),
            "town_id": town_id,
            "place": "观前街",
            "parties": [{"name": "程某某", "gender": "男"}],
        },
    )
    case_id = int(filed["case"]["id"])
    upload(
        police, case_id, pdf_bytes([["讯问笔录", "问：你是否盗窃了电动自行车？答：是的。"], ["现场照片说明"]])
    )
    wait_ready(police, case_id)
    sent = police.call("POST", f"/api/v1/cases/{case_id}/actions/transfer_for_prosecution", {})
    Api(server, "gusu_procu").call("POST", f"/api/v1/transfers/{sent['transfer']['id']}/accept", {})
    indicted = Api(server, "gusu_procu_leader").call("POST", f"/api/v1/cases/{case_id}/actions/indict", {})
    Api(server, "gusu_judge").call(
        "POST",
        f"/api/v1/transfers/{indicted['transfer']['id']}/accept",
        {"options": {"procedure": "ordinary"}},
    )
    return case_id


def _code(judge: Page, role: str) -> str:
    judge.select_option("#code-role", role)
    with judge.expect_navigation():
        judge.click("#code-btn")
    return judge.locator("#screen-code").inner_text().strip()


def _screen(browser: Browser, server: Server, hearing_url: str, code: str) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(server.url(hearing_url + "screen"))
    page.fill("#code", code)
    page.click("#pair-btn")
    expect(page.locator("#conn")).to_have_text("已连接")
    return page


def test_presenter_and_three_followers_record_and_remote_advice(
    review_server: Server,  # noqa: F811 (the fixture, imported above)
    chromium: Browser,  # noqa: F811
) -> None:
    server = review_server
    judge = signed_in(chromium, server, "gusu_judge")
    police = signed_in(chromium, server, "gusu_police_leader")
    police.goto(server.url("/cases/new/"))
    town_id = int(police.locator("#id_town option").nth(1).get_attribute("value") or 0)
    police.context.close()
    case_id = _to_trial(server, town_id)

    judge.goto(server.url(f"/cases/{case_id}/"))
    with judge.expect_navigation():
        judge.click("#open-hearing")
    hearing_url = judge.url.removeprefix(server.base_url)
    expect(judge.locator("#my-role")).to_have_text("审判长")
    public_code, defence_code = _code(judge, "public"), _code(judge, "defence")
    public = _screen(chromium, server, hearing_url, public_code)
    expect(public.locator("#my-role")).to_have_text("公共显示屏")
    defence = _screen(chromium, server, hearing_url, defence_code)
    prosecutor = signed_in(chromium, server, "gusu_procu")
    prosecutor.goto(server.url(hearing_url))
    expect(prosecutor.locator("#my-role")).to_have_text("公诉人")
    leader = signed_in(chromium, server, "gusu_procu_leader")
    leader.goto(server.url(hearing_url))
    expect(leader.locator("#my-role")).to_have_text("远程指挥")
    for page in (judge, prosecutor, leader):
        expect(page.locator("#conn")).to_have_text("已连接")

    # out of turn: the prosecutor's click is refused and nobody's screen moves
    first = prosecutor.locator("#items [data-item]").first
    item = first.get_attribute("data-item")
    first.click()
    expect(prosecutor.locator("#events")).to_contain_text("现在不是您举证")
    expect(public.locator("#display")).to_have_attribute("data-item", "")

    judge.click("[data-turn=prosecutor]")
    expect(public.locator("#display")).to_have_attribute("data-version", "1")
    prosecutor.fill("#purpose", "被告人供认盗窃")
    first.click()
    followers = (judge, defence, public, leader)
    for page in followers:
        expect(page.locator("#display")).to_have_attribute("data-item", item or "")
        expect(page.locator("#display-img")).to_be_visible()
    prosecutor.locator("#display-img").click(position={"x": 200, "y": 150})
    box = prosecutor.locator("#highlight")
    expect(box).to_be_visible()
    expect(prosecutor.locator("#display")).to_have_attribute("data-version", "3")
    marked = box.get_attribute("data-box")
    assert marked
    for page in followers:
        expect(page.locator("#highlight")).to_have_attribute("data-box", marked)

    public.reload()  # a screen that reconnects (its token, not the used code) catches up at once
    expect(public.locator("#display")).to_have_attribute("data-item", item or "")
    expect(public.locator("#highlight")).to_have_attribute("data-box", marked)

    prosecutor.click("#cross-btn")
    judge.click("#admit-btn")
    for page in (judge, prosecutor, leader):
        events = page.locator("#events")
        expect(events).to_contain_text("举证：公诉人出示")
        expect(events).to_contain_text("质证：公诉人")
        expect(events).to_contain_text("认证：")

    clerk = signed_in(chromium, server, "gusu_clerk")  # the clerk's running record, live to the leader
    clerk.goto(server.url(hearing_url))
    expect(clerk.locator("#conn")).to_have_text("已连接")
    clerk.fill("#note-text", "公诉人宣读讯问笔录。")
    clerk.click("#note-send")
    expect(leader.locator("#events")).to_contain_text("笔录：公诉人宣读讯问笔录。")
    leader.fill("#advice-text", "注意被告人翻供的可能")
    leader.click("#advice-send")
    expect(leader.locator("#advice-status")).to_have_text("已发送")
    expect(prosecutor.locator("#advice")).to_contain_text("注意被告人翻供的可能")
    prosecutor.locator("#advice button").click()
    expect(prosecutor.locator("#advice button")).to_have_text("已确认")
    for page in (judge, defence, public):
        expect(page.locator("body")).not_to_contain_text("注意被告人翻供的可能")
    judge.screenshot(path="artifacts/browser/courtroom-judge.png", full_page=True)
    judge.click("#deliberate-btn")  # 合议: the judges recall what was presented
    expect(judge.locator("#hearing-status")).to_have_text("合议")
    with judge.expect_navigation():
        judge.click("#record-link")
    record = judge.locator("#record")
    for kind in ("present", "cross", "ruling", "turn"):
        expect(record.locator(f"tr[data-kind={kind}]")).to_have_count(1)
    expect(record).to_contain_text("被告人供认盗窃")
    public.screenshot(path="artifacts/browser/courtroom-public.png", full_page=True)
