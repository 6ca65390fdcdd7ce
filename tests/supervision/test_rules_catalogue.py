"""Each rule of the catalogue on synthetic histories: it catches its planted case and says nothing on
a clean one (pure: no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from xietong.supervision.rules import base, catalogue

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def entry(seq: int, action: str, days: float = 0, **payload: Any) -> base.Entry:
    return base.Entry(seq, action, T0 + timedelta(days=days), 7, 3, json.dumps({"label": action, **payload}))


def clock(
    pk: int, rule: str, *, due_days: float, stopped_days: float | None = None, custody: bool = False
) -> base.ClockRow:
    return base.ClockRow(
        pk,
        rule,
        3,
        None,
        T0,
        T0 + timedelta(days=due_days),
        custody,
        "running" if stopped_days is None else "stopped",
        None if stopped_days is None else T0 + timedelta(days=stopped_days),
    )


def history(
    entries: list[base.Entry], clocks: list[base.ClockRow] = (), now_days: float = 100
) -> base.CaseHistory:  # type: ignore[assignment]
    return base.CaseHistory(
        1,
        "苏公刑1号",
        entries,
        list(clocks),
        T0 + timedelta(days=now_days),
        ZoneInfo("Asia/Shanghai"),
    )


def found(code: str, h: base.CaseHistory) -> list[base.Finding]:
    return list(base.REGISTRY[code].check(h))


def test_a_third_return_for_supplementary_investigation() -> None:
    two = [
        entry(1, "return_for_supplementary"),
        entry(2, "resubmit", 20),
        entry(3, "return_for_supplementary", 40),
    ]
    assert found("supplementary.third", history(two)) == []
    three = [*two, entry(4, "resubmit", 60), entry(5, "return_for_supplementary", 70)]
    (f,) = found("supplementary.third", history(three))
    assert f.key == "supplementary.third:1:5" and "第3次" in f.message and len(f.evidence["entries"]) == 3


def test_a_resubmission_days_after_a_return_with_nothing_new_in_the_file() -> None:
    hollow = [entry(1, "return_for_supplementary"), entry(2, "resubmit", 1.5)]
    (f,) = found("supplementary.hollow", history(hollow))
    assert "1.5 日" in f.message and f.evidence["days"] == 1.5
    with_material = [
        entry(1, "return_for_supplementary"),
        entry(2, "volume_upload", 1),
        entry(3, "resubmit", 1.5),
    ]
    slow = [entry(1, "return_for_supplementary"), entry(2, "resubmit", 25)]
    assert found("supplementary.hollow", history(with_material)) == []
    assert found("supplementary.hollow", history(slow)) == []


def test_an_extension_without_its_approval_or_instrument() -> None:
    approved = entry(1, "extend_custody", approved_by={"id": 1}, instrument={"id": 9, "kind": "决定书"})
    assert found("extension.unapproved", history([approved])) == []
    (f,) = found("extension.unapproved", history([entry(1, "extend_custody", instrument={"id": 9})]))
    assert f.evidence["missing"] == ["批准人"]


def test_backdating_against_the_server_date_and_against_the_act_it_depends_on() -> None:
    today = "2026-03-02"
    clean = [
        entry(1, "register", claimed_date=today),
        entry(2, "detain", 1, instrument={"id": 5, "claimed_date": "2026-03-03"}),
    ]
    assert found("backdate.claimed", history(clean)) == []
    late_seal = [
        entry(1, "detain", 0, instrument={"id": 5}),
        entry(2, "instrument_seal", 3, instrument={"id": 5}, claimed_date="2026-03-03"),
    ]
    (f,) = found("backdate.claimed", history(late_seal))
    assert "倒签 2 日" in f.message and f.severity is None
    before_the_act = [
        entry(1, "request_arrest", 0),
        entry(2, "accept", 1),
        entry(3, "approve_arrest", 2, instrument={"id": 6, "claimed_date": "2026-03-01"}),
    ]
    (f,) = found("backdate.claimed", history(before_the_act))
    assert f.severity == "serious" and "早于其所依据的「accept」" in f.message


def test_each_approved_withdrawal_or_correction_is_attributed_to_who_asked() -> None:
    asked = base.Entry(
        1,
        "instrument_change_request",
        T0,
        42,
        8,
        json.dumps({"instrument": {"id": 3, "kind": "起诉意见书"}, "change": "withdraw"}),
    )
    refused = entry(2, "instrument_change_decide", 1, instrument={"id": 3}, approved=False)
    assert found("instrument.changed", history([asked, refused])) == []
    approved = entry(
        2,
        "instrument_change_decide",
        1,
        instrument={"id": 3, "kind": "起诉意见书", "number": "苏公(刑)诉字〔2026〕1号"},
        approved=True,
        change="withdraw",
        reason="写错罪名",
    )
    (f,) = found("instrument.changed", history([asked, approved]))
    assert f.user_id == 42 and f.unit_id == 8 and "被撤回" in f.message and "写错罪名" in f.message


@pytest.mark.parametrize(
    ("rule", "clock_rule", "custody", "code"),
    [
        ("detention_family_notice", "detention_family_notice", False, "service.late"),
        ("investigation_custody", "investigation_custody", False, "custody.overdue"),
        ("prosecution_review detained", "prosecution_review", True, "custody.overdue"),
        ("prosecution_review on bail", "prosecution_review", False, "clock.overdue"),
        ("interrogation within 24 hours", "detention_interrogation", True, "clock.overdue"),
    ],
)
def test_each_overrun_clock_belongs_to_exactly_one_rule(
    rule: str, clock_rule: str, custody: bool, code: str
) -> None:
    late = clock(11, clock_rule, due_days=10, stopped_days=12, custody=custody)
    running = clock(12, clock_rule, due_days=10, custody=custody)
    in_time = clock(13, clock_rule, due_days=10, stopped_days=9, custody=custody)
    h = history([], [late, running, in_time], now_days=11)
    by_rule = {c: [f.key for f in found(c, h)] for c in ("service.late", "custody.overdue", "clock.overdue")}
    assert by_rule.pop(code) == ["clock:11", "clock:12"]
    assert by_rule == {c: [] for c in by_rule}


def test_the_parties_periods_never_make_an_alert() -> None:
    h = history(
        [],
        [
            clock(1, "appeal_judgment", due_days=10, stopped_days=15),
            clock(2, "corrections_report", due_days=10),
        ],
        now_days=30,
    )
    assert [f for r in base.REGISTRY.values() for f in r.check(h)] == []


def test_a_rule_that_reads_an_unknown_event_or_has_no_norm_is_refused() -> None:
    def check(h: base.CaseHistory) -> list[base.Finding]:
        return []

    good = base.Rule(
        "x.test", "backdate", "warning", "测试", "刑诉法第1条", frozenset({"register"}), False, check
    )
    assert base.validate(good, existing={}, kinds=["backdate"]) is good
    with pytest.raises(base.RuleError, match="不存在的事件：teleport"):
        base.validate(good.__class__(**{**good.__dict__, "reads": frozenset({"teleport"})}), existing={})
    with pytest.raises(base.RuleError, match="预警类型"):
        base.validate(good, existing={}, kinds=["other"])
    with pytest.raises(base.RuleError, match="依据"):
        base.validate(good.__class__(**{**good.__dict__, "norm": ""}), existing={})
    with pytest.raises(base.RuleError, match="已被占用"):
        base.validate(good, existing={"x.test": good.__class__(**{**good.__dict__, "check": lambda h: []})})
    with pytest.raises(base.RuleError, match="无从判断"):
        base.validate(good.__class__(**{**good.__dict__, "reads": frozenset()}), existing={})


def test_every_rule_in_force_reads_known_events_and_cites_a_norm() -> None:
    assert len(base.REGISTRY) >= 8
    for r in base.REGISTRY.values():
        assert r.reads <= base.KNOWN_ACTIONS and r.norm and r.title
    assert {"detention_family_notice", "judgment_service_in_court"} <= catalogue.SERVICE_RULES
