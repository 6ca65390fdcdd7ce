"""Machine pre-screening (pure): each check on small facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from xietong.quality import prescreen
from xietong.quality.prescreen import Act, CaseFacts, ClockFact, InstrumentFact, PageFact
from xietong.quality.standards import Severity

ISSUES = {"register": "立案决定书", "detain": "拘留证", "interrogate": ""}
NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def _facts(**kw: object) -> CaseFacts:
    base = CaseFacts(stage="investigation", supplementary_count=0)
    for k, v in kw.items():
        setattr(base, k, v)
    return base


def test_act_without_its_instrument_and_one_never_sealed() -> None:
    facts = _facts(
        acts=[Act("register", "立案", date(2026, 3, 1)), Act("detain", "刑事拘留", date(2026, 3, 2))],
        instruments=[InstrumentFact(7, "立案决定书", "register", "draft", None, None)],
    )
    found = {s.key: s for s in prescreen.missing_instruments(facts, ISSUES)}
    assert set(found) == {"instrument-unsealed:register", "instrument-missing:detain"}
    assert found["instrument-missing:detain"].severity == Severity.ERROR
    assert "拘留证" in found["instrument-missing:detain"].message
    assert found["instrument-unsealed:register"].instrument_id == 7


def test_sealed_instrument_is_not_flagged() -> None:
    facts = _facts(
        acts=[Act("register", "立案", date(2026, 3, 1))],
        instruments=[
            InstrumentFact(7, "立案决定书", "register", "sealed", date(2026, 3, 1), date(2026, 3, 1))
        ],
    )
    assert prescreen.prescreen(facts, issues=ISSUES, now=NOW) == []


def test_dated_before_its_act_or_after_its_seal() -> None:
    facts = _facts(
        acts=[Act("detain", "刑事拘留", date(2026, 3, 5))],
        instruments=[
            InstrumentFact(1, "拘留证", "detain", "sealed", date(2026, 3, 3), date(2026, 3, 5)),
            InstrumentFact(2, "拘留证", "detain", "sealed", date(2026, 3, 9), date(2026, 3, 6)),
        ],
    )
    keys = [s.key for s in prescreen.date_conflicts(facts)]
    assert keys == ["date-before-act:1", "date-after-seal:2"]


def test_two_returns_for_supplementary_investigation() -> None:
    assert prescreen.supplementary(_facts(supplementary_count=1)) == []
    [s] = prescreen.supplementary(_facts(supplementary_count=2))
    assert s.topic == "supplementary" and "2 次" in s.message


def test_clock_overdue_when_stopped_late_or_still_running_past_its_end() -> None:
    due = NOW - timedelta(days=3)
    facts = _facts(
        clocks=[
            ClockFact(1, "审查逮捕", due, due + timedelta(days=1, hours=2)),
            ClockFact(2, "侦查羁押", due, None),
            ClockFact(3, "拘留后送看守所", due, due - timedelta(hours=1)),
        ]
    )
    found = prescreen.overdue_clocks(facts, NOW)
    assert [s.key for s in found] == ["clock:1", "clock:2"]
    assert "办结时已超期 1 日" in found[0].message and "仍在计时且已超期 3 日" in found[1].message


def test_blank_page_and_unsigned_record() -> None:
    pages = [
        PageFact(1, 1, 1, (), "起诉意见书", True),
        PageFact(2, 1, 2, (), "讯问笔录\n问：姓名？答：张三。", True, "讯问笔录（第一次）", "讯问笔录"),
        PageFact(3, 1, 3, (), "问：还有补充吗？答：没有。", True, "讯问笔录（第一次）", "讯问笔录"),
        PageFact(4, 1, 4, ("blank",), "", True),
        PageFact(5, 1, 5, (), "询问笔录\n以上笔录我看过，和我说的相符。签名：李四", True),
    ]
    found = prescreen.prescreen(_facts(pages=pages), issues=ISSUES, now=NOW)
    assert [(s.topic, s.page_id) for s in found] == [("scan", 4), ("signature", 3)]
    assert "第1卷第2—3页《讯问笔录（第一次）》" in found[1].message


def test_record_not_yet_recognised_is_not_judged() -> None:
    pages = [PageFact(1, 1, 1, (), "", False, "讯问笔录", "讯问笔录")]
    assert prescreen.unsigned_records(_facts(pages=pages)) == []
