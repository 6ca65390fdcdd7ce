"""The procedure table is consistent with itself and with the deadline rules."""

from __future__ import annotations

from xietong.cases import deadlines
from xietong.cases.guards import CONDITIONS, GUARDS
from xietong.cases.procedure import ACTIONS, TERMINAL_STAGES, Stage, actions_for_stage


def test_every_clock_the_table_names_is_a_rule_code() -> None:
    named = {s.rule for a in ACTIONS.values() for s in a.starts} | {
        r for a in ACTIONS.values() for r in a.stops
    }
    assert named - set(deadlines.RULES) == set()


def test_every_guard_and_condition_exists() -> None:
    for action in ACTIONS.values():
        for guard in action.guards:
            assert guard in GUARDS, (action.code, guard)
        for start in action.starts:
            if start.condition:
                assert start.condition in CONDITIONS, (action.code, start.condition)


def test_every_stage_is_reachable_and_every_live_stage_has_a_way_out() -> None:
    reached = {a.to_stage for a in ACTIONS.values() if a.to_stage}
    assert set(Stage) - {Stage.INVESTIGATION} <= reached
    for stage in set(Stage) - TERMINAL_STAGES - {Stage.EXECUTION}:
        assert any(a.to_stage and a.to_stage != stage for a in actions_for_stage(stage)), stage


def test_acts_cite_articles_and_transfers_issue_instruments() -> None:
    for action in ACTIONS.values():
        assert action.articles, action.code
        if action.transfer_to:
            assert action.instrument, action.code
        if action.custody_to:
            assert action.per_party, action.code


def test_police_acts_before_a_court_are_never_open_to_the_court() -> None:
    for action in actions_for_stage(Stage.INVESTIGATION):
        # the procuratorate approves an extension of the custody of an arrested suspect (刑诉法第156条)
        assert action.agency == "police" or action.code == "extend_custody", action.code
    assert {a.agency for a in actions_for_stage(Stage.APPEAL_PERIOD)} == {"court", "procuratorate"}


def test_admin_holiday_table_reaches_the_calculator(db: None) -> None:
    """2027 is not in the chinese-calendar package: an admin enters 2027-02-08 as a rest day."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from xietong.cases.clocks import compute, holiday_calendar_changed
    from xietong.cases.models import HolidayOverride

    start = datetime(2027, 1, 8, 10, tzinfo=ZoneInfo("Asia/Shanghai"))  # 1 month → Mon 2027-02-08
    holiday_calendar_changed()
    assert compute("supplementary_investigation", start, in_custody=False).due.isoformat() == "2027-02-08"
    HolidayOverride.objects.create(day="2027-02-08", is_rest_day=True, note="春节（示例）")
    holiday_calendar_changed()
    assert compute("supplementary_investigation", start, in_custody=False).due.isoformat() == "2027-02-09"
    holiday_calendar_changed()
