"""One case from 立案 to 交付执行 through the web pages, in Debian's Chromium, by the people of four
agencies, each signing in through the login page (F2 lifecycle, inbox, approvals, F1 visibility).

The appeal period (10 days, 刑事诉讼法第230条) must have run out before the judgment takes effect, and
the server decides that by its own clock. The server therefore runs under ``clockshift.py``: the test
writes an offset in days to a file and signals the server, which shifts its wall clock while it keeps
running. This was chosen over restarting the server with a shifted clock because nothing is lost (the
server, its database and its log stay the same) and the check can be done exactly at the boundary: on
the last day of the period the act is still refused, the day after it goes through.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from xietong.cases.procedure import ACTIONS

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUSPECT = "程某某"
CHARGE = "盗窃罪"
REFUSED = "届满前判决尚未生效"
ADDRESS = "江苏省苏州市姑苏区平江街道平江路88号"  # 平江司法所 supervises him (社区矫正法第17条)
OFFICE = "gusu_jo01_justice_office"


@dataclass
class Person:
    username: str
    unit: str
    name: str


@dataclass
class Walk:
    """The browser side of the walk: one signed-in page per user, screenshots, 5xx watch."""

    browser: Browser
    server: Server
    artifacts: Path
    pages: dict[str, Page] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    shots: int = 0

    def as_user(self, username: str) -> Page:
        """The page of ``username``, signing in through the login page the first time."""
        if username in self.pages:
            return self.pages[username]
        context = self.browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on(
            "response",
            lambda r: (
                self.server_errors.append(f"{r.status} {r.request.method} {r.url}")
                if r.status >= 500
                else None
            ),
        )
        page.goto(self.server.url("/login/"))
        expect(page.locator(".login-box h1")).to_have_text("协同")
        page.fill("#id_username", username)
        page.fill("#id_password", settings.XIETONG_DEMO_PASSWORD)
        with page.expect_navigation():
            page.click(".login-box button[type=submit]")
        expect(page.locator("main h1")).to_have_text("工作台")
        who = page.locator("header .who span").inner_text()
        unit, _, rest = who.partition(" · ")
        self.people[username] = Person(username, unit.strip(), rest.split("（")[0].strip())
        self.pages[username] = page
        return page

    def sign_out_everyone(self) -> None:
        """After the server's clock jumps, the sessions made before may have expired: start over."""
        for page in self.pages.values():
            page.context.close()
        self.pages.clear()

    def shot(self, page: Page, step: str) -> None:
        self.shots += 1
        page.screenshot(path=str(self.artifacts / f"{self.shots:02d}-{step}.png"), full_page=True)


def _open_dialog(page: Page, code: str) -> None:
    page.click(f'#actions button[data-action="{code}"]')
    expect(page.locator("#dlg")).to_be_visible()
    expect(page.locator("#dlg-body h3")).to_have_text(ACTIONS[code].label)
    expect(page.locator("#act-submit")).to_be_visible()


def act(page: Page, code: str, fill: Callable[[Page], None] | None = None) -> str:
    """Click the action button, fill the HTMX dialog, submit; return the flash message."""
    _open_dialog(page, code)
    if fill is not None:
        fill(page)
    with page.expect_navigation():  # 204 + HX-Redirect: htmx navigates to the case page
        page.click("#act-submit")
    message = page.locator("ul.messages")
    expect(message).to_contain_text(f"已办理「{ACTIONS[code].label}」")
    return message.inner_text()


def act_refused(page: Page, code: str) -> str:
    """Submit the dialog expecting the server to refuse; return the message shown in the dialog."""
    _open_dialog(page, code)
    page.click("#act-submit")
    alert = page.locator("#dlg-body .alert[role=alert]")
    expect(alert).to_be_visible()
    expect(page.locator("#dlg-body h3")).to_have_text("无法办理")
    return alert.inner_text()


def pick_suspect(page: Page) -> None:
    box = page.locator("#dlg-body ul.checks li", has_text=SUSPECT).locator("input[type=checkbox]")
    box.check()


def accept_transfer(page: Page, procedure: str | None = None) -> None:
    expect(page.locator("#pending")).to_be_visible()
    select = page.locator("#pending select[name=procedure]")
    if procedure is not None:
        expect(select).to_be_visible()
        select.select_option(procedure)
    else:
        expect(select).to_have_count(0)
    with page.expect_navigation():
        page.click("#accept-transfer")
    expect(page.locator("ul.messages")).to_contain_text("已受理")
    expect(page.locator("#pending")).to_have_count(0)


def stage_is(page: Page, label: str) -> None:
    expect(page.locator("#stage")).to_have_text(label)


def open_from_inbox(page: Page, case_url: str) -> None:
    """The receiving unit finds the case in its 待受理移送 on the workbench and opens it from there."""
    page.goto(case_url.split("/cases/")[0] + "/")
    row = page.locator("#inbox tr", has_text=SUSPECT)
    expect(row).to_have_count(1)
    with page.expect_navigation():
        row.locator("a.btn").click()
    assert page.url == case_url


def _seal_as_court(walk: Walk, case_url: str, kind: str) -> Page:
    """The clerk submits the draft, the court's leader 签发 and seals it (served at once); returns
    the leader's page on the sealed instrument."""
    for username, buttons in (
        ("gusu_clerk", ["#submit-btn"]),
        ("gusu_court_leader", ["#approve-btn", "#seal-btn"]),
    ):
        page = walk.as_user(username)
        page.goto(case_url)
        with page.expect_navigation():
            page.locator("#instruments a", has_text=kind).first.click()
        for button in buttons:
            with page.expect_navigation():
                page.click(button)
            expect(page.locator("ul.messages")).to_be_visible()
    page = walk.pages["gusu_court_leader"]
    expect(page.locator("#status")).to_have_text("已盖章")
    return page


def _offset_to(moment: datetime) -> float:
    """Days from the real now to ``moment`` (what the server's clock file takes)."""
    return (moment - datetime.now(tz=SHANGHAI)).total_seconds() / 86400


def test_case_from_register_to_execution(xietong_server: Server, chromium: Browser, artifacts: Path) -> None:
    for old in artifacts.glob("*.png"):
        old.unlink()
    walk = Walk(chromium, xietong_server, artifacts)

    # 1. 立案: the handler files it, it waits as a 呈请 for the leader, who approves on the workbench.
    page = walk.as_user("gusu_police")
    page.goto(xietong_server.url("/cases/new/"))
    page.fill("#id_charge", CHARGE)
    page.select_option("#id_town", index=1)
    page.fill("#id_place", "观前街某商场地下车库")
    occurred = datetime.now(tz=SHANGHAI) - timedelta(days=3)
    page.fill("#id_occurred_at", occurred.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_facts", "犯罪嫌疑人程某某在观前街某商场地下车库盗窃电动自行车一辆，价值人民币三千元。")
    page.fill("#id_suspect_name", SUSPECT)
    page.select_option("#id_suspect_gender", "男")
    page.fill("#id_suspect_address", ADDRESS)
    walk.shot(page, "register-form")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("立案呈请已提交，待负责人审批")

    page = walk.as_user("gusu_police_leader")
    request = page.locator("#approvals > div", has_text=SUSPECT)
    expect(request).to_have_count(1)
    expect(request).to_contain_text("立案")
    walk.shot(page, "leader-workbench-approval")
    with page.expect_navigation():
        request.locator("button[name=decision][value=approve]").click()
    expect(page.locator("ul.messages")).to_contain_text("已批准并办理")
    match = re.search(r"/cases/(\d+)/$", page.url)
    assert match, page.url
    case_url = xietong_server.url(f"/cases/{match.group(1)}/")
    stage_is(page, "侦查")
    expect(page.locator("#timeline")).to_contain_text("立案")

    # 2. The police leader detains the suspect and asks the procuratorate to approve the arrest.
    act(page, "detain", pick_suspect)
    expect(page.locator("#parties")).to_contain_text("刑事拘留")
    message = act(page, "request_arrest", pick_suspect)
    assert "待其受理" in message
    stage_is(page, "审查逮捕")
    expect(page.locator("#pending")).to_be_visible()
    walk.shot(page, "arrest-requested")

    # 3. The procuratorate accepts the file; its leader approves the arrest.
    page = walk.as_user("gusu_procu")
    open_from_inbox(page, case_url)
    accept_transfer(page)
    page = walk.as_user("gusu_procu_leader")
    page.goto(case_url)
    act(page, "approve_arrest", pick_suspect)
    stage_is(page, "侦查")
    expect(page.locator("#parties")).to_contain_text("逮捕")
    walk.shot(page, "arrest-approved")

    # 4. Investigation ends: 移送审查起诉, accepted, then 提起公诉.
    page = walk.pages["gusu_police_leader"]
    page.goto(case_url)
    act(page, "transfer_for_prosecution")
    stage_is(page, "审查起诉")
    page = walk.pages["gusu_procu"]
    open_from_inbox(page, case_url)
    accept_transfer(page)
    page = walk.pages["gusu_procu_leader"]
    page.goto(case_url)
    act(page, "indict")
    stage_is(page, "一审")
    walk.shot(page, "indicted")

    # 5. The court accepts (简易程序) and pronounces 有期徒刑十个月，缓刑一年 (a community sentence).
    page = walk.as_user("gusu_judge")
    open_from_inbox(page, case_url)
    accept_transfer(page, procedure="summary")
    expect(page.locator("dl.facts")).to_contain_text("简易程序")

    def verdict(p: Page) -> None:
        p.select_option("#id_guilty", "1")
        p.select_option("#id_penalty", "fixed_term")
        p.fill("#id_months", "10")
        p.fill("#id_probation_months", "12")

    act(page, "pronounce", verdict)
    # a suspended sentence: the defendant held in custody is released at once (刑诉法第260条)
    expect(page.locator("#progress")).to_contain_text("判决后应当立即释放")
    act(page, "release_defendant", pick_suspect)
    expect(page.locator("#progress")).to_contain_text("未羁押")
    stage_is(page, "上诉抗诉期")
    expect(page.locator("dl.facts")).to_contain_text("有罪，有期徒刑10个月，缓刑12个月")
    walk.shot(page, "pronounced")

    # 6. Before the appeal period has run out the judgment cannot take effect (server's clock) ...
    refused = act_refused(page, "judgment_effective")
    assert REFUSED in refused, refused
    walk.shot(page, "effective-refused")
    found = re.search(r"上诉、抗诉期限至(\d{4}-\d{2}-\d{2})届满", refused)
    assert found, refused
    due = date.fromisoformat(found.group(1))
    assert due >= datetime.now(tz=SHANGHAI).date() + timedelta(days=10), due

    # ... nor on its last day (noon, server time) ...
    server_now = xietong_server.set_clock_offset(_offset_to(datetime.combine(due, time(12), SHANGHAI)))
    assert server_now.astimezone(SHANGHAI).date() == due
    walk.sign_out_everyone()
    page = walk.as_user("gusu_judge")
    page.goto(case_url)
    assert REFUSED in act_refused(page, "judgment_effective")

    # ... but on the next day it has: the platform itself marks it effective (刑诉法第259条) and at
    # once tells the corrections unit of his residence, before any document is sent.
    day_after = due + timedelta(days=1)
    server_now = xietong_server.set_clock_offset(_offset_to(datetime.combine(day_after, time(12), SHANGHAI)))
    assert server_now.astimezone(SHANGHAI).date() == day_after
    walk.sign_out_everyone()
    page = walk.as_user("gusu_clerk")
    page.goto(case_url)
    stage_is(page, "判决生效")
    expect(page.locator("#timeline")).to_contain_text("协同平台")
    progress = page.locator("#progress")
    expect(progress).to_contain_text("平江司法所")
    expect(progress).to_contain_text("已预告知")
    term_end = (date(day_after.year + 1, day_after.month, day_after.day) - timedelta(days=1)).strftime(
        "%Y-%m-%d"
    )
    expect(progress).to_contain_text(f"考验期 {day_after:%Y-%m-%d} 至 {term_end}")  # 刑法第73条第3款
    # The concluded case is in the library by itself, and the 类案 panel shows how similar judged
    # cases (the demo's real judgments) were charged and sentenced.
    expect(page.locator("#library-panel")).to_contain_text("类案如何定罪量刑")
    expect(page.locator("#library-panel .similar-hit").first).to_contain_text("盗窃罪")
    walk.shot(page, "library-panel")
    page.goto(xietong_server.url("/library/?collection=platform"))
    expect(page.locator(".lib-hit")).to_have_count(1)
    expect(page.locator(".lib-hit")).to_contain_text("缓刑")
    walk.shot(page, "library-collected")
    page = walk.as_user(OFFICE)
    page.goto(xietong_server.url("/execution/"))
    expect(page.locator("#waiting")).to_contain_text(SUSPECT)
    expect(page.locator("#waiting")).to_contain_text("已预告知")
    walk.shot(page, "office-notified")

    # 7. The clerk delivers for execution; the court seals the 执行通知书, served at once.
    page = walk.pages["gusu_clerk"]
    page.goto(case_url)
    message = act(page, "deliver_for_execution")
    assert "社区矫正" in message, message
    expect(page.locator("#pending")).to_contain_text("社区矫正")
    expect(page.locator("#clocks")).not_to_contain_text("送达执行文书")  # stopped within the 10 days
    page = _seal_as_court(walk, case_url, "执行通知书")
    services = page.locator("#services tr", has_text="社区矫正管理局")
    expect(services).to_contain_text("未签收")
    served_at = services.locator("td").nth(2).inner_text()
    assert served_at.startswith(day_after.isoformat()), served_at  # served the day after it took effect
    walk.shot(page, "delivered")

    # 8. Community corrections accepts the file and opens the notice (its 签收, seen by the court).
    page = walk.as_user("gusu_corrections")
    open_from_inbox(page, case_url)
    accept_transfer(page)
    stage_is(page, "交付执行")
    expect(page.locator("dl.facts")).to_contain_text("社区矫正")
    expect(page.locator("#parties")).to_contain_text("交付执行")
    with page.expect_navigation():
        page.locator("#instruments a", has_text="执行通知书").first.click()
    expect(page.locator("#status")).to_have_text("已盖章")
    page.wait_for_timeout(500)  # the PDF frame loads: that view is the opening
    walk.shot(page, "execution")
    page = walk.as_user("gusu_court_leader")
    page.goto(case_url)
    with page.expect_navigation():
        page.locator("#instruments a", has_text="执行通知书").first.click()
    expect(page.locator("#services")).not_to_contain_text("未签收")

    # 9. He reports at the 司法所 within ten days (社区矫正法第21条); supervision starts.
    page = walk.as_user(OFFICE)
    page.goto(xietong_server.url("/execution/"))
    row = page.locator("#waiting tr", has_text=SUSPECT)
    expect(row).to_contain_text("待报到")
    with page.expect_navigation():
        row.locator("button[data-report]").click()
    expect(page.locator("ul.messages")).to_contain_text("已报到")
    expect(page.locator("#supervised")).to_contain_text(SUSPECT)
    expect(page.locator("#supervised")).to_contain_text("刑法第75条")  # the rules he must keep
    walk.shot(page, "reported")
    page.goto(case_url)
    expect(page.locator("#progress")).to_contain_text("社区矫正（缓刑）")
    expect(page.locator("#progress")).to_contain_text("平江司法所报到")
    expect(page.locator("#clocks")).not_to_contain_text("社区矫正对象报到")

    # The timeline has every step, oldest first, each with who did it and for which unit.
    steps = [
        ("立案", "gusu_police"),
        ("刑事拘留", "gusu_police_leader"),
        ("提请批准逮捕", "gusu_police_leader"),
        ("受理（提请批准逮捕）", "gusu_procu"),
        ("批准逮捕", "gusu_procu_leader"),
        ("移送审查起诉", "gusu_police_leader"),
        ("受理（移送审查起诉）", "gusu_procu"),
        ("提起公诉", "gusu_procu_leader"),
        ("受理（提起公诉）", "gusu_judge"),
        ("一审宣判", "gusu_judge"),
        ("释放在押被告人", "gusu_judge"),
        ("判决生效", None),
        ("交付执行", "gusu_clerk"),
        ("盖章并送达", "gusu_court_leader"),  # the 执行通知书 (its drafting steps are the court's own)
        ("受理（交付执行）", "gusu_corrections"),
        ("签收文书", "gusu_corrections"),
        ("社区矫正对象报到", OFFICE),
    ]
    items = page.locator("#timeline > li")
    labels = [t.strip() for t in items.locator("b").all_inner_texts()]
    assert labels == [label for label, _ in steps], labels
    for index, (label, username) in enumerate(steps):
        text = items.nth(index).inner_text()
        if username is None:  # the platform's own act, in the court's name
            assert "苏州市姑苏区人民法院 · 协同平台" in text, (label, text)
            continue
        person = walk.people[username]
        assert f"{person.unit} · {person.name}" in text, (label, person, text)
    leader = walk.people["gusu_police_leader"]
    assert f"审批：{leader.name}" in items.nth(0).inner_text()

    # 8. Visibility: another county's police does not even learn that the case exists.
    page = walk.as_user("wuzhong_police")
    response = page.goto(case_url)
    assert response is not None
    assert response.status == 404
    expect(page.locator(".alert")).to_contain_text("案件不存在")
    walk.shot(page, "other-county-404")

    assert walk.server_errors == [], walk.server_errors
    log = xietong_server.log_tail(100_000)
    assert "Traceback" not in log, log
