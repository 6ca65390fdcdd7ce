"""Opening, answering and closing threads through ``board.services``: the rules, the refusals
(which write nothing), the ledger entries and the answer deadline."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta

import pytest
import time_machine

from tests.board.factories import (
    BoardCase,
    add_volume,
    attachment,
    board_case,
    open_thread,
    pdf_bytes,
    png_bytes,
)
from tests.cases.test_services_lifecycle import accept, act
from xietong.board import services
from xietong.board.models import Attachment, Citation, Message, Thread, ThreadStatus
from xietong.board.rules import SHANGHAI
from xietong.cases.clocks import holiday_calendar_changed
from xietong.cases.models import HolidayOverride
from xietong.dossier.models import Blob
from xietong.errors import Conflict, DomainError, NotAllowed, NotFound, ValidationFailed
from xietong.instruments.models import Instrument
from xietong.ledger.models import LedgerEntry
from xietong.ledger.verify import ledger_verify


def counts() -> tuple[int, int, int, int, int, int]:
    return (
        Thread.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        Citation.objects.count(),
        Blob.objects.count(),
        LedgerEntry.objects.count(),
    )


def refused(exc_type: type[DomainError], code: str, call: object, *args: object, **kwargs: object) -> None:
    """``call`` raises ``exc_type`` with ``code`` and writes nothing."""
    before = counts()
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code == code, info.value.message
    assert counts() == before


def test_open_writes_the_thread_its_first_message_and_a_ledger_entry(bc: BoardCase) -> None:
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), tick=False):
        thread = open_thread(bc, stage="arrest_review")
    assert thread.status == ThreadStatus.WAITING
    assert thread.from_unit == bc.police and thread.to_unit == bc.procuratorate
    assert thread.opened_by == bc.city.u("gusu.police")
    # 5 working days for 异议 from Friday 27 November: Mon 30 … Fri 4 December, 24时
    assert thread.due_at == datetime(2026, 12, 5, 0, 0, tzinfo=SHANGHAI)
    message = Message.objects.get(thread=thread)
    assert message.seq == 1 and not message.is_answer
    assert message.text_sha256 == hashlib.sha256(message.text.encode()).hexdigest()
    entry = LedgerEntry.objects.get(case_id=bc.case_id, action="board_open")
    assert message.entry_hash == entry.entry_hash
    payload = json.loads(entry.payload)
    assert payload["label"] == "留言板：提出异议"
    assert payload["to_unit"] == bc.procuratorate.name
    assert payload["board"] == {"thread": thread.pk, "message": 1, "kind": "objection"}
    assert payload["text_sha256"] == message.text_sha256
    assert payload["stage"] == "审查逮捕"
    assert message.text not in entry.payload  # the trail holds the hash, the board holds the words
    assert ledger_verify().ok


def test_the_answer_limit_follows_the_holiday_table(bc: BoardCase) -> None:
    HolidayOverride.objects.create(day=date(2026, 11, 30), is_rest_day=True, note="测试")
    holiday_calendar_changed()
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), tick=False):
        thread = open_thread(bc, kind="question")
    # 7 working days, Monday 30 a rest day: Tue 1 … Wed 9 December
    assert thread.due_at == datetime(2026, 12, 10, 0, 0, tzinfo=SHANGHAI)


def test_subject_defaults_to_the_first_line_of_the_text(bc: BoardCase) -> None:
    thread = open_thread(bc, subject="  ", text="扣押物品去向不明\n请说明。")
    assert thread.subject == "扣押物品去向不明"


def test_the_addressed_unit_must_have_a_role_in_the_case(bc: BoardCase) -> None:
    court = bc.city.counties["gusu"].court
    refused(ValidationFailed, "unit_no_role", open_thread, bc, to_unit_id=court.pk)
    other_county = bc.city.counties["wuzhong"].procuratorate
    refused(ValidationFailed, "unit_no_role", open_thread, bc, to_unit_id=other_county.pk)


def test_the_committee_may_address_any_unit(bc: BoardCase) -> None:
    court = bc.city.counties["gusu"].court
    thread = open_thread(bc, who="committee", to_unit_id=court.pk, kind="opinion")
    assert thread.from_unit == bc.city.committee and thread.to_unit == court


def test_bad_input_is_refused_with_a_code_and_writes_nothing(bc: BoardCase) -> None:
    refused(ValidationFailed, "board_self", open_thread, bc, to_unit_id=bc.police.pk)
    refused(ValidationFailed, "unit_not_found", open_thread, bc, to_unit_id=999_999)
    refused(ValidationFailed, "empty_text", open_thread, bc, text="  \n ")
    refused(ValidationFailed, "text_too_long", open_thread, bc, text="字" * (services.MAX_TEXT + 1))
    refused(ValidationFailed, "unknown_kind", open_thread, bc, kind="complaint")
    refused(ValidationFailed, "unknown_stage", open_thread, bc, stage="heaven")
    refused(NotFound, "case_not_found", open_thread, bc, case_id=999_999)


def test_an_author_who_cannot_see_the_case_is_told_it_does_not_exist(bc: BoardCase) -> None:
    refused(NotFound, "case_not_found", open_thread, bc, who="wuzhong.police")
    refused(NotFound, "case_not_found", open_thread, bc, who="gusu.judge")


def test_duties_that_do_not_handle_cases_may_not_write(bc: BoardCase) -> None:
    refused(NotAllowed, "duty_forbidden", open_thread, bc, who="librarian")


def test_an_instrument_of_another_case_is_refused(bc: BoardCase) -> None:
    other = board_case(bc.city, "wuzhong")
    instrument = Instrument.objects.filter(case_id=other.case_id).first()
    assert instrument is not None
    refused(ValidationFailed, "instrument_other_case", open_thread, bc, instrument_id=instrument.pk)
    own = Instrument.objects.filter(case_id=bc.case_id).first()
    assert own is not None
    thread = open_thread(bc, instrument_id=own.pk)
    assert thread.instrument == own


def test_citations_resolve_to_pages_and_instruments_of_the_same_case(bc: BoardCase) -> None:
    volume, pages = add_volume(bc.case_id, bc.city.u("gusu.police"), pages=3)
    instrument = Instrument.objects.filter(case_id=bc.case_id).first()
    assert instrument is not None
    thread = open_thread(
        bc,
        citations=[
            services.CitationInput(page_id=pages[0].pk),
            services.CitationInput(volume_id=volume.pk, page_number=3),
            services.CitationInput(instrument_id=instrument.pk),
            services.CitationInput(page_id=pages[0].pk),  # a repeat is kept once
        ],
    )
    cites = list(Citation.objects.filter(message__thread=thread).order_by("pk"))
    assert [(c.page_id, c.instrument_id) for c in cites] == [
        (pages[0].pk, None),
        (pages[2].pk, None),
        (None, instrument.pk),
    ]
    payload = json.loads(LedgerEntry.objects.get(action="board_open").payload)
    assert payload["citations"][1] == {"page": pages[2].pk, "volume": 1, "number": 3}


def test_a_citation_into_another_case_is_refused(bc: BoardCase) -> None:
    other = board_case(bc.city, "wuzhong")
    other_volume, other_pages = add_volume(other.case_id, bc.city.u("wuzhong.police"))
    add_volume(bc.case_id, bc.city.u("gusu.police"))
    for cite in (
        services.CitationInput(page_id=other_pages[0].pk),
        services.CitationInput(volume_id=other_volume.pk, page_number=1),
    ):
        refused(ValidationFailed, "citation_other_case", open_thread, bc, citations=[cite])
    refused(
        ValidationFailed,
        "citation_other_case",
        open_thread,
        bc,
        citations=[services.CitationInput(page_id=1_000_000)],
    )
    own_volume = bc.case.volumes.get()
    refused(
        ValidationFailed,
        "citation_no_page",
        open_thread,
        bc,
        citations=[services.CitationInput(volume_id=own_volume.pk, page_number=9)],
    )
    refused(ValidationFailed, "citation_invalid", open_thread, bc, citations=[services.CitationInput()])
    refused(
        ValidationFailed,
        "citation_invalid",
        open_thread,
        bc,
        citations=[services.CitationInput(page_id=other_pages[0].pk, instrument_id=1)],
    )


def test_attachments_are_stored_as_content_addressed_blobs(bc: BoardCase) -> None:
    data = pdf_bytes(2)
    thread = open_thread(
        bc, attachments=[attachment("监控截图说明.pdf", data), attachment("现场.png", png_bytes())]
    )
    files = list(Attachment.objects.filter(message__thread=thread).select_related("blob").order_by("pk"))
    assert [f.name for f in files] == ["监控截图说明.pdf", "现场.png"]
    assert files[0].blob.sha256 == hashlib.sha256(data).hexdigest()
    assert files[0].blob.content_type == "application/pdf" and files[1].blob.content_type == "image/png"
    payload = json.loads(LedgerEntry.objects.get(action="board_open").payload)
    assert payload["attachments"][0] == {
        "name": "监控截图说明.pdf",
        "sha256": files[0].blob.sha256,
        "size": len(data),
    }
    # the same bytes again are stored once
    open_thread(bc, attachments=[attachment("again.pdf", data)])
    assert Blob.objects.filter(sha256=files[0].blob.sha256).count() == 1


def test_bad_attachments_are_refused_before_anything_is_stored(
    bc: BoardCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_file(item: services.AttachmentInput) -> None:
        open_thread(bc, attachments=[item])

    refused(
        ValidationFailed,
        "attachment_too_large",
        with_file,
        attachment("big.pdf", b"%PDF-", size=21 * 1024**2),
    )
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 100)
    refused(ValidationFailed, "attachment_too_large", with_file, attachment("lies.pdf", pdf_bytes(), size=10))
    monkeypatch.undo()
    refused(ValidationFailed, "attachment_type", with_file, attachment("run.exe", b"MZ\x90\x00"))
    refused(ValidationFailed, "attachment_type", with_file, attachment("意见.docx", b"PK\x03\x04"))
    refused(ValidationFailed, "attachment_mismatch", with_file, attachment("fake.pdf", png_bytes()))
    refused(ValidationFailed, "attachment_mismatch", with_file, attachment("noise.pdf", b"hello world"))
    refused(ValidationFailed, "empty_attachment", with_file, attachment("empty.pdf", b""))
    refused(ValidationFailed, "pdf_corrupt", with_file, attachment("broken.pdf", b"%PDF-1.4\n garbage"))
    six = [attachment(f"{i}.png", png_bytes()) for i in range(services.MAX_ATTACHMENTS + 1)]
    refused(ValidationFailed, "too_many_attachments", open_thread, bc, attachments=six)


def test_the_addressed_units_first_reply_is_the_answer(bc: BoardCase) -> None:
    thread = open_thread(bc)
    answer = services.message_post(
        user=bc.city.u("gusu.procu"), thread_id=thread.pk, text="已核实，时间以监控为准。"
    )
    thread.refresh_from_db()
    assert answer.is_answer and answer.seq == 2
    assert thread.status == ThreadStatus.ANSWERED and thread.answered_by == bc.city.u("gusu.procu")
    follow = services.message_post(user=bc.city.u("gusu.police"), thread_id=thread.pk, text="收到。")
    more = services.message_post(user=bc.city.u("gusu.procu_leader"), thread_id=thread.pk, text="另请补充。")
    thread.refresh_from_db()
    assert not follow.is_answer and not more.is_answer
    assert thread.status == ThreadStatus.ANSWERED and thread.message_count == 4
    actions = list(
        LedgerEntry.objects.filter(case_id=bc.case_id, action__startswith="board_")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["board_open", "board_answer", "board_post", "board_post"]
    assert ledger_verify().ok


def test_only_the_two_units_may_post(bc: BoardCase) -> None:
    thread = open_thread(bc)
    # the city police's leader reads his subtree's threads but does not speak for the branch
    refused(
        NotAllowed, "board_not_party", services.message_post,
        user=bc.city.u("city_police_leader"), thread_id=thread.pk, text="批示",
    )  # fmt: skip
    for outsider in ("wuzhong.police", "gusu.judge", "wuzhong.procu"):
        refused(
            NotFound, "thread_not_found", services.message_post,
            user=bc.city.u(outsider), thread_id=thread.pk, text="插话",
        )  # fmt: skip
    refused(
        ValidationFailed, "empty_text", services.message_post,
        user=bc.city.u("gusu.procu"), thread_id=thread.pk, text="",
    )  # fmt: skip


def test_closing_by_the_opener_or_his_leader_only(bc: BoardCase) -> None:
    thread = open_thread(bc)
    for who in ("gusu.procu", "gusu.procu_leader", "committee"):
        refused(
            NotAllowed, "board_close_forbidden", services.thread_close,
            user=bc.city.u(who), thread_id=thread.pk, note="关闭",
        )  # fmt: skip
    refused(
        ValidationFailed, "closing_note_required", services.thread_close,
        user=bc.city.u("gusu.police"), thread_id=thread.pk, note=" ",
    )  # fmt: skip
    closed = services.thread_close(
        user=bc.city.u("gusu.police_leader"), thread_id=thread.pk, note="已当面沟通解决"
    )
    assert closed.status == ThreadStatus.CLOSED and closed.closing_note == "已当面沟通解决"
    assert closed.closed_by == bc.city.u("gusu.police_leader")
    entry = LedgerEntry.objects.get(case_id=bc.case_id, action="board_close")
    assert json.loads(entry.payload)["note_sha256"] == hashlib.sha256("已当面沟通解决".encode()).hexdigest()
    # closed is final: no more messages, no second close, no reopening
    refused(
        Conflict, "board_closed", services.message_post,
        user=bc.city.u("gusu.procu"), thread_id=thread.pk, text="补充答复",
    )  # fmt: skip
    refused(
        Conflict, "board_closed", services.thread_close,
        user=bc.city.u("gusu.police"), thread_id=thread.pk, note="再关一次",
    )  # fmt: skip
    assert not hasattr(services, "thread_reopen")


def test_the_sweep_raises_exactly_one_alert_per_late_thread(bc: BoardCase) -> None:
    from xietong.supervision.models import Alert

    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), tick=False):
        late = open_thread(bc)
        answered = open_thread(bc, subject="已答复的")
        services.message_post(user=bc.city.u("gusu.procu"), thread_id=answered.pk, text="答复")
        closed = open_thread(bc, subject="已撤回的")
        services.thread_close(user=bc.city.u("gusu.police"), thread_id=closed.pk, note="撤回")
        question = open_thread(bc, kind="question", subject="询问")  # 7 working days: still in time
    with time_machine.travel(datetime(2026, 12, 4, 23, 59, tzinfo=SHANGHAI), tick=False):
        assert services.board_unanswered_sweep() == 0  # the last day is not over
    with time_machine.travel(datetime(2026, 12, 5, 0, 1, tzinfo=SHANGHAI), tick=False):
        assert services.board_unanswered_sweep() == 1
        assert services.board_unanswered_sweep() == 0
    alert = Alert.objects.get()
    assert alert.kind == "board_unanswered" and alert.key == f"board:{late.pk}"
    assert alert.case_id == bc.case_id and alert.unit_id == bc.procuratorate.pk
    assert alert.rule == "board.unanswered" and alert.severity == "warning"
    assert bc.procuratorate.name in alert.message and "2026-12-04 24时" in alert.message
    assert alert.details["thread"] == late.pk
    with time_machine.travel(datetime(2026, 12, 9, 0, 1, tzinfo=SHANGHAI), tick=False):
        assert services.board_unanswered_sweep() == 1  # the question's 7 days are over too
        assert services.board_unanswered_sweep() == 0
    assert set(Alert.objects.values_list("key", flat=True)) == {f"board:{late.pk}", f"board:{question.pk}"}


def test_the_sweep_works_off_a_backlog_larger_than_a_batch(bc: BoardCase) -> None:
    from xietong.supervision.models import Alert

    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), tick=False):
        for i in range(5):
            open_thread(bc, subject=f"异议{i}")
    with time_machine.travel(datetime(2026, 12, 20, tzinfo=SHANGHAI), tick=False):
        assert services.board_unanswered_sweep(batch=2) == 5
        assert services.board_unanswered_sweep(batch=2) == 0
    assert Alert.objects.count() == 5


def test_a_late_answer_is_marked_in_the_ledger(bc: BoardCase) -> None:
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), tick=False):
        thread = open_thread(bc)
    with time_machine.travel(datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI), tick=False):
        services.message_post(user=bc.city.u("gusu.procu"), thread_id=thread.pk, text="迟复为歉。")
    entry = LedgerEntry.objects.get(action="board_answer")
    assert json.loads(entry.payload)["late"] is True


def test_the_sweep_is_registered_as_a_periodic_task() -> None:
    from xietong import tasks

    assert tasks._periodic["board.unanswered"] == 300.0
    assert tasks._jobs["board.unanswered"] is services.board_unanswered_sweep


def test_a_thread_on_a_case_that_moved_on_keeps_working(bc: BoardCase) -> None:
    """The procuratorate approved the arrest and the case went back to the police: both still
    have their role, so the thread goes on."""
    thread = open_thread(bc)
    parties = list(bc.case.parties.values_list("pk", flat=True))
    act(bc.city, "gusu.procu_leader", bc.case_id, "approve_arrest", party_ids=parties)
    act(bc.city, "gusu.police_leader", bc.case_id, "transfer_for_prosecution")
    accept(bc.city, "gusu.procu", bc.case_id)
    services.message_post(user=bc.city.u("gusu.procu"), thread_id=thread.pk, text="答复")
    assert Thread.objects.get(pk=thread.pk).status == ThreadStatus.ANSWERED
    assert timedelta(0) < thread.due_at - thread.opened_at
