"""The message board in the browser (F17): a police officer opens an objection to the
procuratorate on a case, citing a page of its e-file; the prosecutor sees the badge, answers with
an attachment (HTMX, no page load); the officer reads the answer and closes the thread; the case's
trail shows all three. Screenshots in ``artifacts/browser/board/``.

The case and its scanned volume are made before the browser starts, by a short script run with the
server's own environment (its data folder and database), through the real services: how a case
reaches the procuratorate is walked in ``test_case_walk``, and rendering pages in ``tests/dossier``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.test_case_walk import Walk

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect

if TYPE_CHECKING:
    from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
SUSPECT = "魏某某"
PAGE_LINES = {
    1: ["提请批准逮捕书", "犯罪嫌疑人魏某某，男，一九九二年出生。"],
    2: ["监控录像截图说明", "二〇二六年十一月二日二十一时四十分，", "犯罪嫌疑人出现在平江路某小区东门。"],
    3: ["询问笔录", "被害人陈述：电动自行车于当晚被盗。"],
}


def prepare() -> None:
    """Run inside the server's environment: a case the police filed, detained the suspect and sent
    for arrest review, accepted by the procuratorate, with a three-page scanned volume. Prints the
    ids and names the browser needs, as JSON."""
    import io
    from datetime import timedelta

    import django

    django.setup()
    from django.utils import timezone
    from PIL import Image, ImageDraw, ImageFont

    from xietong.cases import services
    from xietong.cases.models import Case, Transfer
    from xietong.dossier import blobs
    from xietong.dossier.models import OcrStatus, Page, Volume, VolumeStatus
    from xietong.orgs.models import Region, User

    leader = User.objects.get(username="gusu_police_leader")
    assert leader.unit is not None
    county = leader.unit.region if leader.unit.region.level == "county" else leader.unit.region.parent
    town = Region.objects.filter(level="town", parent=county).order_by("code").first()
    assert town is not None
    result = services.case_register(
        user=leader,
        data=services.RegisterInput(
            charge="盗窃罪",
            facts="犯罪嫌疑人魏某某在平江路某小区东门盗窃电动自行车一辆，价值人民币三千元。",
            occurred_at=timezone.now() - timedelta(days=3),
            town_id=town.pk,
            place="平江路某小区",
            parties=[services.PartyInput(name=SUSPECT, gender="男", address="江苏省苏州市姑苏区平江路1号")],
        ),
    )
    assert result.case is not None
    case = result.case

    def png(lines: list[str], size: tuple[int, int]) -> bytes:
        img = Image.new("L", size, 255)
        draw = ImageDraw.Draw(img)
        scale = size[0] / 1240
        font = ImageFont.truetype(str(FONT), int(40 * scale)) if FONT.exists() else ImageFont.load_default()
        for i, line in enumerate(lines):
            draw.text((int(100 * scale), int((150 + i * 90) * scale)), line, fill=0, font=font)
        out = io.BytesIO()
        img.save(out, "PNG")
        return out.getvalue()

    source = blobs.blob_put_bytes(
        b"%PDF-1.4 board browser test volume " + str(case.pk).encode(), content_type="application/pdf"
    )
    volume = Volume.objects.create(
        case=case,
        number=1,
        title="诉讼卷",
        source=source,
        source_name="诉讼卷.pdf",
        page_count=len(PAGE_LINES),
        pages_rendered=len(PAGE_LINES),
        pages_ocred=len(PAGE_LINES),
        status=VolumeStatus.READY,
        uploaded_by=leader,
        uploaded_at=timezone.now(),
    )
    for number, lines in PAGE_LINES.items():
        Page.objects.create(
            volume=volume,
            number=number,
            image=blobs.blob_put_bytes(png(lines, (1240, 1754)), content_type="image/png"),
            thumb=blobs.blob_put_bytes(png(lines, (124, 175)), content_type="image/png"),
            width=1240,
            height=1754,
            ocr_status=OcrStatus.DONE,
            text="\n".join(lines),
        )
    parties = list(Case.objects.get(pk=case.pk).parties.values_list("pk", flat=True))
    services.case_act(user=leader, case_id=case.pk, action="detain", party_ids=parties)
    services.case_act(user=leader, case_id=case.pk, action="request_arrest", party_ids=parties)
    transfer = Transfer.objects.get(case=case, status="pending")
    prosecutor = User.objects.get(username="gusu_procu")
    services.transfer_accept(user=prosecutor, transfer_id=transfer.pk, options={})
    case.refresh_from_db()
    assert case.procuratorate_unit is not None
    print(  # noqa: T201 (the parent test reads it)
        json.dumps(
            {
                "case_id": case.pk,
                "volume_id": volume.pk,
                "procuratorate": case.procuratorate_unit.name,
                "police": case.police_unit.name,
            },
            ensure_ascii=False,
        )
    )


def _prepare_on(server: Server) -> dict[str, object]:
    """Run ``prepare`` with the environment the server was started with (data folder, database)."""
    raw = Path(f"/proc/{server.process.pid}/environ").read_bytes()
    env = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "src")])
    done = subprocess.run(  # our own interpreter and module
        [sys.executable, "-c", "from tests.browser.test_board import prepare; prepare()"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    data: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def test_objection_cited_answered_with_attachment_and_closed(
    xietong_server: Server, chromium: Browser, artifacts: Path, tmp_path: Path
) -> None:
    folder = artifacts / "board"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    walk = Walk(chromium, xietong_server, folder)
    made = _prepare_on(xietong_server)
    case_url = xietong_server.url(f"/cases/{made['case_id']}/")

    # 1. The police officer opens an objection from the case page, citing page 2 of volume 1.
    page = walk.as_user("gusu_police")
    page.goto(case_url)
    expect(page.locator("#board-panel")).to_contain_text("本案尚无留言")
    page.click("#board-new")
    expect(page.locator("#dlg-body h3")).to_have_text("发起留言")
    page.select_option("#board-kind", "objection")
    page.select_option("#board-to-unit", label=f"{made['procuratorate']}（检察院）")
    page.fill("#board-subject", "提请批准逮捕书所列作案时间有误")
    page.fill(
        "#board-text",
        "提请批准逮捕书写明作案时间为二十二时许，监控截图（第1卷第2页）显示为二十一时四十分，请核实。",
    )
    page.select_option("#dlg-body select[name=cite_volume]", str(made["volume_id"]))
    page.fill("#dlg-body input[name=cite_page]", "2")
    walk.shot(page, "police-opens-objection")
    with page.expect_navigation():
        page.click("#board-open-submit")
    expect(page.locator("ul.messages")).to_contain_text("已向")
    expect(page.locator("h1")).to_contain_text("异议：提请批准逮捕书所列作案时间有误")
    expect(page.locator("h1 .board-state")).to_have_text("待答复")
    cite = page.locator("#message-1 a.cite")
    expect(cite).to_have_text("第1卷第2页")
    walk.shot(page, "thread-waiting")
    with page.expect_navigation():
        cite.click()
    assert page.url.endswith(f"/volumes/{made['volume_id']}/#page-2"), page.url
    expect(page.locator("#page-2")).to_be_visible()
    page.wait_for_function(
        "() => { const img = document.querySelector('#page-2 img');"
        " return img && img.complete && img.naturalWidth > 0; }"
    )
    walk.shot(page, "citation-opens-the-page")

    # 2. The prosecutor sees the badge, finds the thread in the inbox and answers with a file.
    page = walk.as_user("gusu_procu")
    expect(page.locator("#board-count")).to_have_text("1")
    expect(page.locator("#board-waiting")).to_contain_text("提请批准逮捕书所列作案时间有误")
    walk.shot(page, "prosecutor-workbench")
    with page.expect_navigation():
        page.click("#nav-board")
    row = page.locator("#board-inbox tbody tr", has_text="提请批准逮捕书所列作案时间有误")
    expect(row).to_contain_text("待答复")
    walk.shot(page, "prosecutor-inbox")
    with page.expect_navigation():
        row.locator("a", has_text="提请批准逮捕书所列作案时间有误").click()
    expect(page.locator("#board-reply-submit")).to_have_text("答复")
    letter = tmp_path / "核实情况说明.pdf"
    from PIL import Image

    Image.new("RGB", (300, 420), "white").save(letter, "PDF", resolution=72)
    page.fill("#board-reply-text", "经调取监控原始文件核实，作案时间应为二十一时四十分，已通知承办人更正。")
    page.set_input_files("#board-reply-files", str(letter))
    url_before = page.url
    page.click("#board-reply-submit")
    expect(page.locator("#message-2")).to_contain_text("经调取监控原始文件核实")
    assert page.url == url_before  # HTMX swapped the thread in place
    expect(page.locator("#message-2 .badge")).to_have_text("答复")
    expect(page.locator("#message-2 a.attachment")).to_have_text("核实情况说明.pdf")
    expect(page.locator("h1 .board-state")).to_have_text("已答复")
    expect(page.locator("#board-close")).to_have_count(0)  # only the opener's side closes
    expect(page.locator("#nav-board")).to_be_visible()
    expect(page.locator("#board-count")).to_have_count(0)  # the badge went out of band with the answer
    walk.shot(page, "prosecutor-answered")
    href = page.locator("#message-2 a.attachment").get_attribute("href") or ""
    download = page.request.get(xietong_server.url(href))
    assert download.status == 200 and download.body() == letter.read_bytes()

    # 3. The officer reads the answer and closes the thread; no more replies, and the trail has it.
    page = walk.pages["gusu_police"]
    page.goto(url_before)
    expect(page.locator("#message-2")).to_contain_text("经调取监控原始文件核实")
    page.fill("#board-close-note", "答复意见已采纳，提请批准逮捕书已更正。")
    with page.expect_navigation():
        page.click("#board-close-submit")
    expect(page.locator("ul.messages")).to_contain_text("留言已关闭")
    expect(page.locator("h1 .board-state")).to_have_text("已关闭")
    expect(page.locator("#board-closed")).to_be_visible()
    expect(page.locator("#board-reply-form")).to_have_count(0)
    walk.shot(page, "police-closed")
    page.goto(case_url)
    expect(page.locator("#board-threads")).to_contain_text("已关闭")
    for label in ("留言板：提出异议", "留言板：答复异议", "留言板：关闭异议"):
        expect(page.locator("#timeline")).to_contain_text(label)
    page.locator("#board-panel").scroll_into_view_if_needed()
    walk.shot(page, "case-page-panel")
    assert walk.server_errors == []
