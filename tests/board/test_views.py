"""The board's pages: the case panel, the new-thread dialog, the thread page with HTMX replies,
closing, attachments, the inbox with states and the nav badge, the workbench panel."""

from __future__ import annotations

import io
from datetime import datetime

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.board.factories import BoardCase, ThreadFactory, add_volume, attachment, open_thread, pdf_bytes
from xietong.board import services
from xietong.board.models import Attachment, Message, Thread, ThreadStatus
from xietong.board.rules import SHANGHAI
from xietong.instruments.models import Instrument

HTMX = {"HTTP_HX_REQUEST": "true"}


def client(bc: BoardCase, who: str) -> Client:
    c = Client()
    c.force_login(bc.city.u(who))
    return c


def test_case_page_shows_the_board_panel_and_the_dialog_opens_a_thread(bc: BoardCase) -> None:
    volume, _ = add_volume(bc.case_id, bc.city.u("gusu.police"))
    police = client(bc, "gusu.police")
    page = police.get(f"/cases/{bc.case_id}/").content.decode()
    assert 'id="board-panel"' in page and "本案尚无留言" in page and 'id="board-new"' in page
    dialog = police.get(f"/cases/{bc.case_id}/board/new", **HTMX).content.decode()
    assert bc.procuratorate.name in dialog and bc.city.counties["gusu"].court.name not in dialog
    assert "第1卷 诉讼卷（3页）" in dialog
    instrument = Instrument.objects.filter(case_id=bc.case_id).first()
    assert instrument is not None
    response = police.post(
        f"/cases/{bc.case_id}/board/new",
        {
            "kind": "objection",
            "to_unit": bc.procuratorate.pk,
            "subject": "时间有误",
            "text": "请核实。",
            "stage": "arrest_review",
            "instrument": instrument.pk,
            "cite_volume": [volume.pk, ""],
            "cite_page": ["2", ""],
            "cite_instrument": [instrument.pk],
            "attachments": [_file("说明.pdf", pdf_bytes())],
        },
        **HTMX,
    )
    assert response.status_code == 204, response.content.decode()
    thread = Thread.objects.get()
    assert response["HX-Redirect"] == f"/board/threads/{thread.pk}/"
    assert thread.instrument == instrument and thread.stage == "arrest_review"
    shown = police.get(f"/board/threads/{thread.pk}/").content.decode()
    assert f'href="/volumes/{volume.pk}/#page-2"' in shown and "第1卷第2页" in shown
    assert f'href="/instruments/{instrument.pk}/"' in shown
    assert "说明.pdf" in shown and "待答复" in shown
    panel = police.get(f"/cases/{bc.case_id}/").content.decode()
    assert "时间有误" in panel and "待答复" in panel


def _file(name: str, data: bytes) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def test_a_refused_new_thread_shows_the_message_in_the_dialog(bc: BoardCase) -> None:
    police = client(bc, "gusu.police")
    court = bc.city.counties["gusu"].court
    response = police.post(
        f"/cases/{bc.case_id}/board/new",
        {"kind": "objection", "to_unit": court.pk, "text": "请核实。"},
        **HTMX,
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "未参与本案办理" in body and "unit_no_role" in body and "请核实。" in body
    empty = police.post(f"/cases/{bc.case_id}/board/new", {"kind": "objection", "to_unit": ""}, **HTMX)
    assert empty.status_code == 400 and "unit_not_found" in empty.content.decode()
    bad_page = police.post(
        f"/cases/{bc.case_id}/board/new",
        {
            "kind": "objection",
            "to_unit": bc.procuratorate.pk,
            "text": "x",
            "cite_volume": "abc",
            "cite_page": "1",
        },
        **HTMX,
    )
    assert bad_page.status_code == 400 and "citation_invalid" in bad_page.content.decode()
    assert Thread.objects.count() == 0
    outsider = client(bc, "wuzhong.police").get(f"/cases/{bc.case_id}/board/new", **HTMX)
    assert outsider.status_code == 404


def test_reply_with_htmx_swaps_the_thread_and_refusals_keep_the_text(bc: BoardCase) -> None:
    thread = open_thread(bc)
    procu = client(bc, "gusu.procu")
    page = procu.get(f"/board/threads/{thread.pk}/").content.decode()
    assert 'id="board-reply-submit">答复<' in page
    refused = procu.post(f"/board/threads/{thread.pk}/messages", {"text": "   "}, **HTMX)
    assert refused.status_code == 400 and "留言内容不能为空" in refused.content.decode()
    mismatch = procu.post(
        f"/board/threads/{thread.pk}/messages",
        {"text": "见附件", "attachments": [_file("a.tiff", b"not a tiff at all")]},
        **HTMX,
    )
    assert mismatch.status_code == 400 and "见附件" in mismatch.content.decode()
    ok = procu.post(f"/board/threads/{thread.pk}/messages", {"text": "已核实。"}, **HTMX)
    assert ok.status_code == 200
    body = ok.content.decode()
    assert body.startswith('<div id="board-thread">') and "已核实。" in body and "已答复" in body
    assert Message.objects.filter(thread=thread).count() == 2
    plain = client(bc, "gusu.police").post(f"/board/threads/{thread.pk}/messages", {"text": "谢谢"})
    assert plain.status_code == 302
    outsider = client(bc, "wuzhong.procu").post(f"/board/threads/{thread.pk}/messages", {"text": "x"}, **HTMX)
    assert outsider.status_code == 404


def test_closing_from_the_thread_page(bc: BoardCase) -> None:
    thread = open_thread(bc)
    assert (
        'id="board-close"'
        not in client(bc, "gusu.procu").get(f"/board/threads/{thread.pk}/").content.decode()
    )
    forbidden = client(bc, "gusu.procu").post(f"/board/threads/{thread.pk}/close", {"note": "关"})
    assert (
        forbidden.status_code == 403
        and "只有发起人或发起单位负责人可以关闭留言" in forbidden.content.decode()
    )
    police = client(bc, "gusu.police")
    assert 'id="board-close"' in police.get(f"/board/threads/{thread.pk}/").content.decode()
    assert police.post(f"/board/threads/{thread.pk}/close", {"note": ""}).status_code == 400
    done = police.post(f"/board/threads/{thread.pk}/close", {"note": "已解决"}, follow=True)
    body = done.content.decode()
    assert "留言已关闭" in body and 'id="board-closed"' in body and 'id="board-reply-form"' not in body
    assert Thread.objects.get(pk=thread.pk).status == ThreadStatus.CLOSED


def test_attachments_download_only_for_readers(bc: BoardCase) -> None:
    data = pdf_bytes()
    thread = open_thread(bc, attachments=[attachment("核实说明.pdf", data)])
    item = Attachment.objects.get(message__thread=thread)
    response = client(bc, "gusu.procu").get(f"/board/attachments/{item.pk}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == data  # type: ignore[attr-defined]
    assert "filename" in response["Content-Disposition"]
    assert client(bc, "wuzhong.procu").get(f"/board/attachments/{item.pk}").status_code == 404
    assert client(bc, "gusu.procu").get("/board/attachments/999999").status_code == 404


def test_inbox_states_badge_and_workbench(bc: BoardCase) -> None:
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), tick=False):
        late = open_thread(bc, subject="逾期的异议")
        answered = open_thread(bc, subject="已答复的异议")
        services.message_post(user=bc.city.u("gusu.procu"), thread_id=answered.pk, text="答复")
        closed = open_thread(bc, subject="已关闭的异议")
        services.thread_close(user=bc.city.u("gusu.police"), thread_id=closed.pk, note="撤回")
    with time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI), tick=False):
        waiting = open_thread(bc, subject="新的询问", kind="question")
        procu = client(bc, "gusu.procu")
        inbox = procu.get("/board/").content.decode()
        for text in (
            "逾期的异议",
            "已答复的异议",
            "已关闭的异议",
            "新的询问",
            "逾期",
            "已答复",
            "已关闭",
            "待答复",
        ):
            assert text in inbox, text
        assert 'id="board-count"' in inbox and ">2</span>" in inbox  # two wait for the procuratorate
        overdue = procu.get("/board/?state=overdue").content.decode()
        assert "逾期的异议" in overdue and "新的询问" not in overdue
        assert "新的询问" in procu.get("/board/?state=waiting").content.decode()
        workbench = procu.get("/").content.decode()
        assert (
            'id="board-waiting"' in workbench
            and "逾期的异议" in workbench
            and "已答复的异议" not in workbench
        )
        police = client(bc, "gusu.police")
        assert "逾期的异议" not in police.get("/board/").content.decode()  # nothing addressed to the police
        assert "逾期的异议" in police.get("/board/?box=out").content.decode()
        assert 'id="board-count"' not in police.get("/board/").content.decode()
        assert 'id="nav-board"' in police.get("/").content.decode()
    assert waiting.status == ThreadStatus.WAITING and late.status == ThreadStatus.WAITING


def test_inbox_queries_do_not_grow_with_the_threads(bc: BoardCase) -> None:
    procu = client(bc, "gusu.procu")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert procu.get("/board/?box=all").status_code == 200
        return len(ctx.captured_queries)

    def make(n: int) -> None:
        for _ in range(n):
            ThreadFactory(
                case=bc.case,
                from_unit=bc.police,
                to_unit=bc.procuratorate,
                opened_by=bc.city.u("gusu.police"),
            )

    make(2)
    small = queries()
    make(20)
    assert queries() == small


def test_thread_page_queries_do_not_grow_with_messages(bc: BoardCase) -> None:
    _, pages = add_volume(bc.case_id, bc.city.u("gusu.police"))
    thread = open_thread(bc, citations=[services.CitationInput(page_id=pages[0].pk)])
    procu = client(bc, "gusu.procu")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert procu.get(f"/board/threads/{thread.pk}/").status_code == 200
        return len(ctx.captured_queries)

    small = queries()
    for i in range(5):
        services.message_post(
            user=bc.city.u("gusu.procu"),
            thread_id=thread.pk,
            text=f"第{i}条",
            citations=[services.CitationInput(page_id=pages[1].pk)],
            attachments=[attachment(f"{i}.pdf", pdf_bytes())],
        )
    assert queries() == small


def test_outsiders_get_404_on_the_thread_page(bc: BoardCase) -> None:
    thread = open_thread(bc)
    assert client(bc, "wuzhong.police").get(f"/board/threads/{thread.pk}/").status_code == 404
    assert client(bc, "gusu.judge").get(f"/board/threads/{thread.pk}/").status_code == 404
    assert client(bc, "committee").get(f"/board/threads/{thread.pk}/").status_code == 200
    assert Client().get(f"/board/threads/{thread.pk}/").status_code == 302  # to the login page
