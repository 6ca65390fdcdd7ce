"""Sentence maths: exact terms with credit, the executing body, impossible verdicts."""

from __future__ import annotations

from datetime import date

import pytest

from xietong.cases.procedure import Verdict
from xietong.execution.custody import Event, Kind
from xietong.execution.sentences import ImpossibleSentence, check_verdict, custody_days_before, plan


def v(penalty: str, months: int = 0, probation: int = 0, *, guilty: bool = True) -> Verdict:
    return Verdict(guilty=guilty, penalty=penalty, months=months, probation_months=probation)


def test_a_prison_term_ends_the_day_before_and_credits_custody_day_for_day() -> None:
    # detained 2026-01-01, effective 2026-03-01: 59 days held (Jan 31 + Feb 28); 1 year from 03-01
    # ends 2027-02-28, less 59 days = 2026-12-31 — the same as counting the year from the arrest.
    held = custody_days_before(
        [Event(Kind.DETAIN, date(2026, 1, 1)), Event(Kind.ARREST, date(2026, 1, 4))], date(2026, 3, 1)
    )
    assert held == 59
    result = plan(v("fixed_term", 12), effective_on=date(2026, 3, 1), custody_days=held)
    assert (result.body, result.term_start, result.term_end) == (
        "prison",
        date(2026, 3, 1),
        date(2026, 12, 31),
    )


def test_custody_days_count_each_spell_and_stop_at_release() -> None:
    events = [
        Event(Kind.DETAIN, date(2026, 1, 1)),
        Event(Kind.BAIL, date(2026, 1, 3)),  # held on 1, 2 and 3 January
        Event(Kind.ARREST, date(2026, 2, 1)),
    ]
    assert custody_days_before(events, date(2026, 2, 11)) == 3 + 10


def test_control_credits_two_days_per_day_held() -> None:
    result = plan(v("control", 6), effective_on=date(2026, 5, 10), custody_days=10)
    assert result.body == "corrections" and result.supervision == "control"
    # six months from 05-10 end on 11-09; ten days held take twenty off
    assert (result.term_end, result.credited_days) == (date(2026, 10, 20), 20)


def test_probation_runs_from_the_day_the_judgment_became_final_without_credit() -> None:
    result = plan(v("fixed_term", 10, 12), effective_on=date(2026, 3, 5), custody_days=40)
    assert (result.body, result.supervision, result.credited_days) == ("corrections", "probation", 0)
    assert (result.term_start, result.term_end) == (date(2026, 3, 5), date(2027, 3, 4))


def test_short_remainders_and_detention_go_to_the_detention_house() -> None:
    # 刑诉法第264条第2款: 拘役, or three months or less left after credit
    assert (
        plan(v("criminal_detention", 4), effective_on=date(2026, 6, 1), custody_days=0).body
        == "detention_house"
    )
    near_done = plan(v("fixed_term", 8), effective_on=date(2026, 6, 1), custody_days=170)
    assert near_done.body == "detention_house"
    assert plan(v("fixed_term", 8), effective_on=date(2026, 6, 1), custody_days=30).body == "prison"


def test_a_term_already_served_in_custody_means_release() -> None:
    result = plan(v("criminal_detention", 2), effective_on=date(2026, 6, 1), custody_days=70)
    assert result.body == "release"


def test_acquittal_exemption_and_fine() -> None:
    assert plan(v("none", guilty=False), effective_on=date(2026, 6, 1), custody_days=5).body == "release"
    assert plan(v("none"), effective_on=date(2026, 6, 1), custody_days=0).body == "release"
    assert plan(v("fine"), effective_on=date(2026, 6, 1), custody_days=0).body == "court"
    life = plan(v("life"), effective_on=date(2026, 6, 1), custody_days=0)
    assert (life.body, life.term_end) == ("prison", None)


@pytest.mark.parametrize(
    ("verdict", "words"),
    [
        (v("fixed_term", 400), "6至300个月"),
        (v("criminal_detention", 13), "1至12个月"),
        (v("control", 2), "3至36个月"),
        (v("fixed_term", 48, 60), "三年以下"),
        (v("fixed_term", 24, 12), "不少于原判刑期"),
        (v("criminal_detention", 3, 1), "2至12个月"),
        (v("control", 6, 12), "拘役、三年以下有期徒刑"),
    ],
)
def test_impossible_verdicts_are_refused_with_the_article(verdict: Verdict, words: str) -> None:
    with pytest.raises(ImpossibleSentence) as refused:
        check_verdict(verdict)
    assert words in str(refused.value) and "刑法第" in str(refused.value)


def test_possible_verdicts_pass() -> None:
    for verdict in (
        v("fixed_term", 36, 36),
        v("criminal_detention", 6, 6),
        v("control", 24),
        v("none", guilty=False),
    ):
        check_verdict(verdict)
