"""The pure custody rules (``execution.custody``): which basis each event gives a person held, how
long it lasts, and who is held on a given day without any (刑诉法第91条、第156条至第159条、第172条、
第175条、第208条、第220条、第225条、第243条、第260条、第264条; 高法解释第202条)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from xietong.execution.custody import (
    DECIDED_UNTIL,
    STATE_AFTER,
    Basis,
    Event,
    Finding,
    Kind,
    Reason,
    State,
    assess,
    basis_of,
)

POLICE, PROCU, COURT, MID_COURT, PRISON, JAIL = 11, 12, 13, 14, 15, 16
D = date(2026, 3, 2)  # a Monday in an ordinary month
_ids = itertools.count(1)


def ev(
    kind: Kind, on: date, *, unit: int | None = None, until: date | None = None, variant: str = ""
) -> Event:
    return Event(kind, on, unit, until, variant, event_id=next(_ids))


def days(n: int) -> timedelta:
    return timedelta(days=n)


def lawful_until(events: list[Event], last_lawful: date) -> Finding:
    """Assert the person is lawfully held on ``last_lawful`` (and the day before) and flagged the
    day after; return that finding."""
    assert assess(events, last_lawful - days(1)) is None
    assert assess(events, last_lawful) is None
    finding = assess(events, last_lawful + days(1))
    assert finding is not None
    assert finding.since == last_lawful + days(1)
    assert finding.days_over(last_lawful + days(1)) == 1
    return finding


# ------------------------------------------------------------------ 拘留 and its extension


def test_detention_lasts_three_days_then_is_flagged() -> None:
    detain = ev(Kind.DETAIN, D, unit=POLICE)
    finding = lawful_until([detain], D + days(3))
    assert finding == Finding(Reason.DETENTION_EXPIRED, D + days(4), detain, POLICE, "刑事诉讼法第91条第1款")
    assert assess([detain], D) is None
    assert assess([detain], D + days(10)) == finding  # the same lapse, later
    assert finding.days_over(D + days(10)) == 7


@pytest.mark.parametrize("extended_to", [7, 30])
def test_extended_detention_lasts_until_the_extension(extended_to: int) -> None:
    detain = ev(Kind.DETAIN, D, unit=POLICE)
    extend = ev(Kind.EXTEND_DETENTION, D + days(2), unit=POLICE, until=D + days(extended_to))
    finding = lawful_until([detain, extend], D + days(extended_to))
    assert finding.reason == Reason.DETENTION_EXPIRED
    assert finding.basis_event == extend
    assert finding.article == "刑事诉讼法第91条第2款"


def test_request_for_arrest_gives_seven_more_days_from_the_request() -> None:
    events = [ev(Kind.DETAIN, D, unit=POLICE), ev(Kind.REQUEST_ARREST, D + days(2), unit=PROCU)]
    finding = lawful_until(events, D + days(9))
    assert finding.reason == Reason.ARREST_REVIEW_EXPIRED
    assert finding.unit_id == PROCU
    assert finding.article == "刑事诉讼法第91条第3款"


def test_request_after_a_30_day_extension_counts_from_the_request() -> None:
    events = [
        ev(Kind.DETAIN, D, unit=POLICE),
        ev(Kind.EXTEND_DETENTION, D + days(3), unit=POLICE, until=D + days(30)),
        ev(Kind.REQUEST_ARREST, D + days(29), unit=PROCU),
    ]
    assert lawful_until(events, D + days(36)).reason == Reason.ARREST_REVIEW_EXPIRED


# ------------------------------------------------------------------ 逮捕 and the investigation


@pytest.mark.parametrize(
    ("arrested", "last_lawful"),
    [
        (date(2026, 3, 15), date(2026, 5, 15)),
        (date(2026, 12, 31), date(2027, 2, 28)),  # month-end rule: to the last day of February
        (date(2027, 12, 31), date(2028, 2, 29)),  # a leap year
        (date(2026, 12, 30), date(2027, 2, 28)),  # February has no 30th
        (date(2026, 4, 30), date(2026, 6, 30)),  # from a month's last day: to the last day
        (date(2026, 1, 31), date(2026, 3, 31)),
    ],
)
def test_arrest_gives_two_months(arrested: date, last_lawful: date) -> None:
    events = [
        ev(Kind.DETAIN, arrested - days(8), unit=POLICE),
        ev(Kind.REQUEST_ARREST, arrested - days(6), unit=PROCU),
        ev(Kind.ARREST, arrested, unit=POLICE),
    ]
    finding = lawful_until(events, last_lawful)
    assert finding.reason == Reason.CUSTODY_EXPIRED
    assert finding.basis_event.kind == Kind.ARREST
    assert finding.unit_id == POLICE
    assert finding.article == "刑事诉讼法第156条"


def test_extended_custody_lasts_until_the_approved_date() -> None:
    arrest = ev(Kind.ARREST, D, unit=POLICE)
    extend = ev(Kind.EXTEND_CUSTODY, D + days(55), unit=PROCU, until=date(2026, 6, 2))
    finding = lawful_until([arrest, extend], date(2026, 6, 2))
    assert (finding.reason, finding.basis_event, finding.unit_id) == (Reason.CUSTODY_EXPIRED, extend, PROCU)


def test_extension_without_a_date_gives_nothing_new() -> None:
    arrest = ev(Kind.ARREST, D, unit=POLICE)
    extend = ev(Kind.EXTEND_CUSTODY, D + days(55), unit=PROCU)
    finding = lawful_until([arrest, extend], date(2026, 5, 2))
    assert finding.basis_event == arrest


# ------------------------------------------------------------------ 审查起诉


@pytest.mark.parametrize(
    ("kind", "article"),
    [
        (Kind.TRANSFER_PROSECUTION, "刑事诉讼法第172条、第98条"),
        (Kind.SUPPLEMENTARY, "刑事诉讼法第175条第3款"),
        (Kind.RESUBMIT, "刑事诉讼法第172条、第98条"),
    ],
)
@pytest.mark.parametrize(
    ("on", "last_lawful"),
    [
        (date(2026, 3, 10), date(2026, 4, 10)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2026, 2, 28), date(2026, 3, 31)),
    ],
)
def test_prosecution_steps_give_one_month(kind: Kind, article: str, on: date, last_lawful: date) -> None:
    events = [ev(Kind.ARREST, on - days(40), unit=POLICE), ev(kind, on, unit=PROCU)]
    finding = lawful_until(events, last_lawful)
    assert (finding.reason, finding.article, finding.unit_id) == (Reason.CUSTODY_EXPIRED, article, PROCU)


def test_supplementary_investigation_and_resubmission_each_restart_the_month() -> None:
    events = [
        ev(Kind.ARREST, date(2026, 1, 5), unit=POLICE),
        ev(Kind.TRANSFER_PROSECUTION, date(2026, 3, 1), unit=PROCU),
        ev(Kind.SUPPLEMENTARY, date(2026, 3, 20), unit=POLICE),
        ev(Kind.RESUBMIT, date(2026, 4, 18), unit=PROCU),
    ]
    assert assess(events[:3], date(2026, 4, 20)) is None  # the return's month: to 04-20
    finding = lawful_until(events, date(2026, 5, 18))
    assert finding.basis_event.kind == Kind.RESUBMIT


# ------------------------------------------------------------------ 审判


@pytest.mark.parametrize(
    ("variant", "last_lawful", "article"),
    [
        ("", date(2026, 6, 2), "刑事诉讼法第208条第1款"),  # ordinary: three months
        ("summary", D + days(20), "刑事诉讼法第220条、第225条"),
        ("summary_over_3y", D + days(45), "刑事诉讼法第220条、第225条"),
        ("fast", D + days(10), "刑事诉讼法第220条、第225条"),
        ("fast_over_1y", D + days(15), "刑事诉讼法第220条、第225条"),
    ],
)
@pytest.mark.parametrize("kind", [Kind.COURT_ACCEPT, Kind.REMAND])
def test_trial_limits_by_procedure(kind: Kind, variant: str, last_lawful: date, article: str) -> None:
    events = [ev(Kind.ARREST, D - days(50), unit=POLICE), ev(kind, D, unit=COURT, variant=variant)]
    finding = lawful_until(events, last_lawful)
    assert (finding.reason, finding.article, finding.unit_id) == (Reason.CUSTODY_EXPIRED, article, COURT)


def test_extended_trial_lasts_until_the_approved_date() -> None:
    extend = ev(Kind.EXTEND_TRIAL, D + days(80), unit=MID_COURT, until=date(2026, 9, 2))
    events = [ev(Kind.ARREST, D - days(50), unit=POLICE), ev(Kind.COURT_ACCEPT, D, unit=COURT), extend]
    finding = lawful_until(events, date(2026, 9, 2))
    assert finding.basis_event == extend
    assert finding.article == "刑事诉讼法第156条至第159条、第208条"


def test_custodial_judgment_holds_fifteen_days_until_it_takes_effect() -> None:
    pronounce = ev(Kind.PRONOUNCE, D, unit=COURT, variant="custodial")
    events = [
        ev(Kind.ARREST, D - days(50), unit=POLICE),
        ev(Kind.COURT_ACCEPT, D - days(30), unit=COURT),
        pronounce,
    ]
    finding = lawful_until(events, D + days(15))
    assert (finding.reason, finding.basis_event) == (Reason.CUSTODY_EXPIRED, pronounce)
    assert finding.article == "刑事诉讼法第202条、第230条"


def test_appeal_gives_two_months() -> None:
    events = [
        ev(Kind.ARREST, date(2026, 1, 2), unit=POLICE),
        ev(Kind.PRONOUNCE, date(2026, 2, 20), unit=COURT, variant="custodial"),
        ev(Kind.APPEAL, date(2026, 2, 28), unit=MID_COURT),
    ]
    finding = lawful_until(events, date(2026, 4, 30))  # from February's last day: April's last day
    assert (finding.reason, finding.unit_id, finding.article) == (
        Reason.CUSTODY_EXPIRED,
        MID_COURT,
        "刑事诉讼法第243条",
    )


# ------------------------------------------------------------------ judgments that free, and sentences


def _held_to_judgment(on: date) -> list[Event]:
    return [ev(Kind.ARREST, on - days(60), unit=POLICE), ev(Kind.COURT_ACCEPT, on - days(30), unit=COURT)]


def test_acquittal_or_non_custodial_judgment_must_free_him_the_same_day() -> None:
    pronounce = ev(Kind.PRONOUNCE, D, unit=COURT, variant="release")
    events = [*_held_to_judgment(D), pronounce]
    assert assess(events, D) is None
    finding = assess(events, D + days(1))
    assert finding == Finding(Reason.RELEASE_REQUIRED, D + days(1), pronounce, COURT, "刑事诉讼法第260条")
    # released that day: nothing to report, ever after
    assert assess([*events, ev(Kind.RELEASE, D, unit=JAIL)], D + days(400)) is None


def test_a_later_step_does_not_revive_a_basis_the_acquittal_ended() -> None:
    pronounce = ev(Kind.PRONOUNCE, D, unit=COURT, variant="release")
    appeal = ev(Kind.APPEAL, D + days(5), unit=MID_COURT)  # 抗诉 does not keep him
    finding = assess([*_held_to_judgment(D), pronounce, appeal], D + days(6))
    assert finding is not None
    assert (finding.reason, finding.basis_event, finding.since) == (
        Reason.RELEASE_REQUIRED,
        pronounce,
        D + days(1),
    )


def test_an_effective_judgment_ordering_release_ends_the_appeal_basis() -> None:
    events = [
        *_held_to_judgment(D),
        ev(Kind.PRONOUNCE, D, unit=COURT, variant="custodial"),
        ev(Kind.APPEAL, D + days(8), unit=MID_COURT),
    ]
    effective = ev(Kind.EFFECTIVE, D + days(30), unit=MID_COURT, variant="release")  # 二审改判无罪
    assert assess([*events, effective], D + days(30)) is None
    finding = assess([*events, effective], D + days(31))
    assert finding is not None
    assert (finding.reason, finding.basis_event, finding.unit_id) == (
        Reason.RELEASE_REQUIRED,
        effective,
        MID_COURT,
    )


def test_a_new_arrest_after_an_acquittal_is_a_new_basis() -> None:
    pronounce = ev(Kind.PRONOUNCE, D, unit=COURT, variant="release")
    arrest = ev(Kind.ARREST, D, unit=MID_COURT)  # 抗诉, and the court of second instance decides to arrest
    events = [*_held_to_judgment(D), pronounce, arrest]
    finding = lawful_until(events, date(2026, 5, 2))
    assert (finding.reason, finding.basis_event) == (Reason.CUSTODY_EXPIRED, arrest)
    # and the steps after it count again
    accept = ev(Kind.REMAND, date(2026, 4, 20), unit=COURT)
    assert lawful_until([*events, accept], date(2026, 7, 20)).basis_event == accept


def test_a_custodial_judgment_on_appeal_after_an_acquittal_is_a_new_basis() -> None:
    pronounce = ev(Kind.PRONOUNCE, D, unit=COURT, variant="release")
    effective = ev(Kind.EFFECTIVE, D + days(40), unit=MID_COURT, until=D + days(400))  # 二审改判有罪
    events = [*_held_to_judgment(D), pronounce, ev(Kind.APPEAL, D + days(5), unit=MID_COURT), effective]
    assert assess(events, D + days(39)) is not None  # held without basis until then
    finding = lawful_until(events, D + days(400))
    assert (finding.reason, finding.basis_event) == (Reason.SENTENCE_SERVED, effective)


def test_effective_sentence_and_commitment_hold_until_the_term_ends() -> None:
    term_end = date(2027, 9, 1)
    effective = ev(Kind.EFFECTIVE, D + days(16), unit=COURT, until=term_end)
    commit = ev(Kind.COMMIT, D + days(30), unit=PRISON, until=term_end)
    events = [*_held_to_judgment(D), ev(Kind.PRONOUNCE, D, unit=COURT, variant="custodial"), effective]
    finding = lawful_until(events, term_end)
    assert (finding.reason, finding.basis_event, finding.article) == (
        Reason.SENTENCE_SERVED,
        effective,
        "刑事诉讼法第264条第5款",
    )
    finding = lawful_until([*events, commit], term_end)
    assert (finding.reason, finding.basis_event, finding.unit_id) == (Reason.SENTENCE_SERVED, commit, PRISON)
    assert assess([*events, commit, ev(Kind.TERM_END, term_end, unit=PRISON)], term_end + days(1)) is None


@pytest.mark.parametrize(
    "freeing",
    [
        Kind.RELEASE,
        Kind.BAIL,
        Kind.SURVEIL,
        Kind.PAROLE,
        Kind.TEMPORARY_RELEASE,
        Kind.TERM_END,
        Kind.CORRECTIONS_START,
        Kind.CORRECTIONS_END,
    ],
)
def test_release_bail_and_parole_clear_everything(freeing: Kind) -> None:
    events = [ev(Kind.DETAIN, D, unit=POLICE), ev(freeing, D + days(2), unit=JAIL)]
    assert assess(events, D + days(2)) is None
    assert assess(events, D + days(500)) is None
    # and a later step of the case while he is out does not hold him
    later = [*events, ev(Kind.TRANSFER_PROSECUTION, D + days(60), unit=PROCU)]
    assert assess(later, D + days(200)) is None


def test_a_person_on_bail_arrested_again_is_held_on_the_new_arrest() -> None:
    arrest = ev(Kind.ARREST, date(2026, 6, 10), unit=POLICE)
    events = [ev(Kind.DETAIN, D, unit=POLICE), ev(Kind.BAIL, D + days(1), unit=POLICE), arrest]
    assert lawful_until(events, date(2026, 8, 10)).basis_event == arrest


def test_revocation_holds_him_again_until_its_date() -> None:
    revoke = ev(Kind.REVOKE, date(2026, 8, 1), unit=PRISON, until=date(2027, 1, 31))
    events = [
        ev(Kind.PRONOUNCE, D, unit=COURT, variant="release"),  # 缓刑, he was on bail
        ev(Kind.CORRECTIONS_START, D + days(5)),
        revoke,
    ]
    assert assess(events[:2], date(2026, 7, 31)) is None
    finding = lawful_until(events, date(2027, 1, 31))
    assert (finding.reason, finding.basis_event, finding.unit_id) == (Reason.SENTENCE_SERVED, revoke, PRISON)


def test_paroled_person_is_free_of_the_term_limit() -> None:
    commit = ev(Kind.COMMIT, D, unit=PRISON, until=date(2027, 3, 1))
    events = [commit, ev(Kind.PAROLE, date(2026, 12, 1), unit=PRISON)]
    assert assess(events, date(2027, 6, 1)) is None


# ------------------------------------------------------------------ time and missing basis


def test_events_after_today_are_ignored() -> None:
    detain = ev(Kind.DETAIN, D, unit=POLICE)
    late_release = ev(Kind.RELEASE, D + days(10), unit=JAIL)
    finding = assess([detain, late_release], D + days(5))
    assert finding is not None and finding.reason == Reason.DETENTION_EXPIRED
    assert assess([detain, late_release], D + days(10)) is None
    future_arrest = ev(Kind.ARREST, D + days(3), unit=POLICE)
    assert assess([detain, future_arrest], D + days(2)) is None
    # a person whose first event is still to come is not held
    assert assess([ev(Kind.DETAIN, D + days(1), unit=POLICE)], D) is None


def test_held_without_any_basis() -> None:
    commit = ev(Kind.COMMIT, D + days(90), unit=PRISON)  # 收监 recorded without the term
    events = [ev(Kind.DETAIN, D, unit=POLICE), ev(Kind.BAIL, D + days(2), unit=POLICE), commit]
    assert assess(events, D + days(89)) is None
    finding = assess(events, D + days(120))
    assert finding == Finding(Reason.NO_BASIS, D + days(90), commit, PRISON, "刑事诉讼法第3条")
    assert finding.days_over(D + days(120)) == 31
    revoke = ev(Kind.REVOKE, D + days(30), unit=PRISON)
    finding = assess([ev(Kind.CORRECTIONS_START, D), revoke], D + days(31))
    assert finding is not None and (finding.reason, finding.basis_event) == (Reason.NO_BASIS, revoke)


def test_nobody_with_no_events_or_never_held() -> None:
    assert assess([], D) is None
    assert (
        assess([ev(Kind.BAIL, D, unit=POLICE), ev(Kind.TRANSFER_PROSECUTION, D + days(9))], D + days(90))
        is None
    )


def test_the_unit_that_answers_is_the_one_whose_basis_lapsed_not_the_last_to_act() -> None:
    events = [
        ev(Kind.ARREST, D, unit=POLICE),
        ev(Kind.TRANSFER_PROSECUTION, D + days(50), unit=PROCU),
        ev(Kind.EXTEND_CUSTODY, D + days(55), unit=MID_COURT),  # no date: gives nothing
    ]
    finding = assess(events, D + days(200))
    assert finding is not None
    assert (finding.unit_id, finding.basis_event.kind) == (PROCU, Kind.TRANSFER_PROSECUTION)


# ------------------------------------------------------------------ the tables


def test_basis_of_events_that_give_none() -> None:
    for kind in (Kind.BAIL, Kind.SURVEIL, Kind.RELEASE, Kind.TERM_END, Kind.PAROLE, Kind.CORRECTIONS_START):
        assert basis_of(ev(kind, D)) is None
    for kind in DECIDED_UNTIL:
        assert basis_of(ev(kind, D)) is None, kind  # a decided limit without its date


def test_basis_of_cites_an_article_for_every_kind_that_gives_one() -> None:
    for kind in Kind:
        basis = basis_of(ev(kind, D, until=D + days(100), variant="custodial"))
        if basis is None:
            assert STATE_AFTER.get(kind) is not None and not STATE_AFTER[kind].locked_up, kind
            continue
        assert isinstance(basis, Basis)
        assert basis.article.startswith("刑事诉讼法第"), kind
        assert basis.until >= D, kind


def test_states() -> None:
    assert {s for s in State if s.locked_up} == {State.HELD, State.SERVING}
    assert {k for k, s in STATE_AFTER.items() if s.locked_up} == {
        Kind.DETAIN,
        Kind.ARREST,
        Kind.COMMIT,
        Kind.REVOKE,
    }
    assert Kind.DETAIN.label == "刑事拘留"
    assert Reason.SENTENCE_SERVED.label == "刑期已满，未释放"
