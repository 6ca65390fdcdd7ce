"""The demo threads: an answered objection of the police and a waiting question of the
procuratorate, written once, through the services (so the ledger still verifies)."""

from __future__ import annotations

from tests.board.factories import BoardCase
from xietong.board.demo import board_demo
from xietong.board.models import Thread, ThreadStatus
from xietong.ledger.verify import ledger_verify


def test_demo_threads_are_written_once(bc: BoardCase) -> None:
    assert board_demo(count=1) == 2
    objection = Thread.objects.get(kind="objection")
    question = Thread.objects.get(kind="question")
    assert (objection.from_unit, objection.to_unit, objection.status) == (
        bc.police,
        bc.procuratorate,
        ThreadStatus.ANSWERED,
    )
    assert objection.message_count == 2 and objection.instrument is None
    assert (question.from_unit, question.to_unit, question.status) == (
        bc.procuratorate,
        bc.police,
        ThreadStatus.WAITING,
    )
    assert board_demo(count=1) == 0
    assert Thread.objects.count() == 2
    assert ledger_verify().ok


def test_demo_without_cases_writes_nothing(db: None) -> None:
    assert board_demo() == 0
