"""A case's facts read off its ledger (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from xietong.analytics import derive

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 31, 17, 0, tzinfo=UTC)  # 2025-04-01 01:00 in Suzhou


def case(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": 7, "county_id": 1, "town_id": 2, "charge": "诈骗罪", "stage": "execution",
        "verdict": {"guilty": True, "penalty": "fixed_term", "months": 18},
        "occurred_at": T0 - timedelta(days=3), "created_at": T0, "facts": "骗取被害人人民币五万元。",
        "supplementary_count": 1, "remand_count": 0, "plea": True, "police_unit_id": 10,
        "procuratorate_unit_id": 20, "court_unit_id": 30, "ledger_seq": 9, "version": 4,
    }  # fmt: skip
    row.update(overrides)
    return row


def entries(*steps: tuple[str, float, int]) -> list[derive.Entry]:
    return [derive.Entry(action, T0 + timedelta(days=days), actor) for action, days, actor in steps]


WALK = entries(
    ("register", 0, 1),
    ("detain", 0.5, 1),
    ("approve_arrest", 6, 2),
    ("transfer_for_prosecution", 40, 1),
    ("return_for_supplementary", 60, 2),
    ("resubmit", 80, 1),
    ("indict", 100, 2),
    ("pronounce", 130, 3),
    ("judgment_effective", 141, 3),
    ("deliver_for_execution", 142, 4),
)


def test_dates_and_durations_come_from_the_ledger_in_local_time() -> None:
    fact = derive.case_fact(case(), WALK, [], overdue=0, tz=SHANGHAI)
    assert fact["registered_on"] == date(2025, 4, 1) and fact["month"] == date(2025, 4, 1)
    assert fact["arrested_on"] == date(2025, 4, 7)
    assert fact["days_investigation"] == 40 and fact["days_review"] == 60 and fact["days_trial"] == 30
    assert fact["days_total"] == 141 and fact["concluded_on"] == date(2025, 8, 20)
    assert (
        fact["outcome"] == "convicted"
        and fact["penalty_kind"] == "fixed_term"
        and fact["penalty_months"] == 18
    )
    assert fact["in_custody"] is True and fact["amount_yuan"] == 50000
    assert (fact["police_handler_id"], fact["prosecutor_id"], fact["judge_id"]) == (1, 2, 3)


def test_a_running_case_has_no_conclusion_and_an_acquittal_no_penalty() -> None:
    running = derive.case_fact(
        case(stage="first_instance", verdict=None), WALK[:7], [], overdue=1, tz=SHANGHAI
    )
    assert (
        running["outcome"] == "pending" and running["concluded_on"] is None and running["days_total"] is None
    )
    assert running["days_trial"] is None and running["overdue_count"] == 1
    acquitted = derive.case_fact(case(verdict={"guilty": False}), WALK, [], overdue=0, tz=SHANGHAI)
    assert (
        acquitted["outcome"] == "acquitted"
        and acquitted["penalty_kind"] == ""
        and acquitted["penalty_months"] is None
    )


def test_not_prosecuted_counts_review_days_to_the_decision() -> None:
    walk = entries(("register", 0, 1), ("transfer_for_prosecution", 20, 1), ("not_prosecute", 50, 2))
    fact = derive.case_fact(case(stage="not_prosecuted", verdict=None), walk, [], overdue=0, tz=SHANGHAI)
    assert fact["outcome"] == "not_prosecuted" and fact["days_review"] == 30 and fact["days_total"] == 50
    assert fact["indicted_on"] is None and fact["prosecutor_id"] == 2


def test_the_same_person_has_the_same_key_in_every_case_and_no_name_in_it() -> None:
    a = derive.person_key(id_number="32050819900101123x", name="王某", birth_date=None)
    b = derive.person_key(id_number="32050819900101123X", name="王某某", birth_date=None)
    c = derive.person_key(id_number="", name="王某", birth_date=date(1990, 1, 1))
    assert a == b and a != c and "王" not in a and len(a) == 32


def test_age_is_taken_at_the_offence() -> None:
    fact = derive.case_fact(case(), WALK, [], overdue=0, tz=SHANGHAI)
    suspect = derive.Suspect(5, "李某", "男", "", date(2000, 3, 30), "serving")
    younger = derive.Suspect(6, "赵某", "女", "", date(2000, 3, 29), "none")
    rows = derive.person_facts(fact, [suspect, younger])
    assert fact["occurred_on"] == date(2025, 3, 29)
    assert [r["age"] for r in rows] == [24, 25] and rows[0]["charge"] == "诈骗罪"
