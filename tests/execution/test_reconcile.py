"""The daily custody reconciliation (``execution.reconcile``) on a small city: every planted lapse
found with its reason and answering unit, no lawful history flagged, alerts idempotent, resolved
when the person is let go; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from tests.factories import City, register_case
from xietong.cases.models import Case, Party
from xietong.execution import reconcile as rec
from xietong.execution.custody import Event, Kind, Reason, assess
from xietong.execution.models import CustodyEvent
from xietong.orgs.models import Unit
from xietong.supervision.models import Alert
from xietong.supervision.selectors import alerts_visible_to

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 28)


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


Step = tuple  # (kind, on, unit[, until[, variant]])


def history(party: Party, *steps: Step) -> list[CustodyEvent]:
    """Record ``steps`` for ``party`` as the services would: ``at`` in order, ``on`` its local day."""
    made = []
    for i, step in enumerate(steps):
        kind, on, unit, *rest = step
        until = rest[0] if rest else None
        variant = rest[1] if len(rest) > 1 else ""
        made.append(
            CustodyEvent.objects.create(
                party=party,
                case_id=party.case_id,
                kind=kind,
                at=datetime.combine(on, time(9, i), SHANGHAI),
                on=on,
                unit=unit,
                until=until,
                variant=variant,
            )
        )
    return made


@dataclass
class World:
    city: City
    persons: dict[str, Party]
    expected: dict[int, tuple[str, int, date, int, int]]  # party → reason, unit, since, basis event, case
    prison: Unit


def _people(city: City, county: str, count: int, label: str) -> list[Party]:
    case_id = register_case(city, county, parties=count)
    parties = list(Party.objects.filter(case_id=case_id).order_by("ordinal"))
    for i, party in enumerate(parties, start=1):
        party.name = f"{label}{i}"
        party.save(update_fields=["name"])
    return parties


@pytest.fixture
def world(city: City) -> World:
    gusu, wuzhong = city.counties["gusu"], city.counties["wuzhong"]
    prison = city.u("prison").unit
    assert prison is not None and prison.kind == "prison"
    names = iter(
        _people(city, "gusu", 8, "甲") + _people(city, "wuzhong", 8, "乙") + _people(city, "gusu", 8, "丙")
    )
    persons: dict[str, Party] = {}
    expected: dict[int, tuple[str, int, date, int, int]] = {}

    def plant(label: str, reason: Reason, basis: int, since: date, *steps: Step) -> None:
        party = persons[label] = next(names)
        events = history(party, *steps)
        ev = events[basis]
        assert ev.unit_id is not None
        expected[party.pk] = (reason.value, ev.unit_id, since, ev.pk, party.case_id)

    def lawful(label: str, *steps: Step) -> None:
        party = persons[label] = next(names)
        history(party, *steps)

    # planted: one of each way a basis runs out
    plant("detention", Reason.DETENTION_EXPIRED, 0, TODAY, ("detain", ago(4), gusu.police))
    plant(
        "extension",
        Reason.DETENTION_EXPIRED,
        1,
        ago(9),
        ("detain", ago(40), gusu.police),
        ("extend_detention", ago(38), gusu.police, ago(10)),
    )
    plant(
        "review",
        Reason.ARREST_REVIEW_EXPIRED,
        1,
        ago(2),
        ("detain", ago(12), wuzhong.police),
        ("request_arrest", ago(10), wuzhong.procuratorate),
    )
    plant(  # 2026-09-27 + 2 months = 11-27: one day over
        "arrest",
        Reason.CUSTODY_EXPIRED,
        2,
        TODAY,
        ("detain", date(2026, 9, 20), gusu.police),
        ("request_arrest", date(2026, 9, 22), gusu.procuratorate),
        ("arrest", date(2026, 9, 27), gusu.police),
    )
    plant(
        "summary_trial",
        Reason.CUSTODY_EXPIRED,
        2,
        ago(4),
        ("arrest", ago(90), wuzhong.police),
        ("transfer_prosecution", ago(50), wuzhong.procuratorate),
        ("court_accept", ago(25), wuzhong.court, None, "summary"),
    )
    plant(
        "served",
        Reason.SENTENCE_SERVED,
        3,
        ago(29),
        ("arrest", ago(500), gusu.police),
        ("pronounce", ago(400), gusu.court, None, "custodial"),
        ("effective", ago(388), gusu.court, ago(30)),
        ("commit", ago(380), prison, ago(30)),
    )
    plant(
        "acquitted",
        Reason.RELEASE_REQUIRED,
        2,
        ago(2),
        ("arrest", ago(100), wuzhong.police),
        ("court_accept", ago(60), wuzhong.court),
        ("pronounce", ago(3), wuzhong.court, None, "release"),
    )
    plant(
        "no_basis",
        Reason.NO_BASIS,
        3,
        ago(20),
        ("detain", ago(200), gusu.police),
        ("bail", ago(198), gusu.police),
        ("pronounce", ago(60), gusu.court, None, "custodial"),
        ("commit", ago(20), prison),
    )

    # lawful histories
    lawful("released", ("detain", ago(300), gusu.police), ("release", ago(298), gusu.police))
    lawful("bailed", ("detain", ago(30), gusu.police), ("bail", ago(28), gusu.police))
    lawful("detained_last_day", ("detain", ago(3), gusu.police))
    lawful(  # 2026-09-28 + 2 months = 11-28: today is the last lawful day
        "arrested_last_day",
        ("detain", date(2026, 9, 22), wuzhong.police),
        ("request_arrest", date(2026, 9, 24), wuzhong.procuratorate),
        ("arrest", date(2026, 9, 28), wuzhong.police),
    )
    lawful(
        "extended",
        ("arrest", ago(70), gusu.police),
        ("extend_custody", ago(12), gusu.procuratorate, TODAY + timedelta(days=19)),
    )
    lawful(
        "in_review",
        ("arrest", ago(80), wuzhong.police),
        ("transfer_prosecution", ago(20), wuzhong.procuratorate),
        ("supplementary", ago(10), wuzhong.police),
    )
    lawful(
        "pronounced", ("arrest", ago(90), gusu.police), ("pronounce", ago(15), gusu.court, None, "custodial")
    )
    lawful(
        "appealed",
        ("arrest", ago(150), gusu.police),
        ("pronounce", ago(50), gusu.court, None, "custodial"),
        ("appeal", ago(45), city.mid_court),
    )
    lawful(
        "serving",
        ("arrest", ago(300), wuzhong.police),
        ("pronounce", ago(200), wuzhong.court, None, "custodial"),
        ("effective", ago(188), wuzhong.court, TODAY + timedelta(days=400)),
        ("commit", ago(180), prison, TODAY + timedelta(days=400)),
    )
    lawful(
        "served_and_freed",
        ("commit", ago(800), prison, ago(10)),
        ("term_end", ago(10), prison),
    )
    lawful(
        "probation",
        ("arrest", ago(120), gusu.police),
        ("pronounce", ago(20), gusu.court, None, "release"),
        ("release", ago(20), gusu.police),
        ("corrections_start", ago(15), gusu.corrections),
    )
    lawful(
        "paroled",
        ("commit", ago(700), prison, TODAY + timedelta(days=100)),
        ("parole", ago(100), prison),
    )
    lawful(
        "revoked",
        ("corrections_start", ago(300), wuzhong.corrections),
        ("revoke", ago(30), prison, TODAY + timedelta(days=300)),
    )
    lawful("future", ("detain", TODAY + timedelta(days=1), gusu.police))  # not yet
    lawful(
        "acquitted_today", ("arrest", ago(60), gusu.police), ("pronounce", TODAY, gusu.court, None, "release")
    )
    persons["nothing"] = next(names)  # a party never held
    return World(city, persons, expected, prison)


Found = dict[int, tuple[str, int | None, date, int | None, int]]


def found(today: date = TODAY, workers: int = 1, prefilter: bool = True) -> Found:
    return {
        party_id: (f.reason.value, f.unit_id, f.since, f.basis_event.event_id, case_id)
        for party_id, case_id, f in rec.find_unlawful(today, workers=workers, prefilter=prefilter)
    }


@pytest.mark.parametrize("prefilter", [True, False])
def test_every_planted_lapse_is_found_and_nothing_else(world: World, prefilter: bool) -> None:
    assert len(world.expected) == 8
    assert {r for r, *_ in world.expected.values()} == {r.value for r in Reason}
    assert found(prefilter=prefilter) == world.expected


@pytest.mark.parametrize("prefilter", [True, False])
def test_the_day_before_fewer_are_flagged(world: World, prefilter: bool) -> None:
    yesterday = found(TODAY - timedelta(days=1), prefilter=prefilter)
    persons = world.persons
    assert persons["arrest"].pk not in yesterday  # its last lawful day
    assert persons["detention"].pk not in yesterday  # detained 11-24: 11-27 was his third day
    assert persons["extension"].pk in yesterday
    tomorrow = found(TODAY + timedelta(days=1), prefilter=prefilter)
    for label in ("detained_last_day", "arrested_last_day", "pronounced", "acquitted_today"):
        assert persons[label].pk in tomorrow, label
    assert persons["future"].pk not in tomorrow  # detained tomorrow: day one of three


def test_scan_counts(world: World) -> None:
    stats = rec.ScanStats()
    list(rec.find_unlawful(TODAY, prefilter=False, stats=stats))
    assert stats.persons == stats.streamed == len(world.persons) - 1  # one party has no events
    assert stats.events == CustodyEvent.objects.count()
    assert stats.assessed == 8 + 9  # the flagged and the nine lawfully held
    assert (stats.workers, stats.prefilter) == (1, False)
    filtered = rec.ScanStats()
    list(rec.find_unlawful(TODAY, stats=filtered))
    assert filtered.persons == len(world.persons) - 1
    assert filtered.streamed == 17 + 1  # the locked up, and the one with an event dated tomorrow
    assert filtered.events == CustodyEvent.objects.filter(party__in=filtered_parties(world)).count()
    assert filtered.assessed == 17
    assert filtered.prefilter is True


def filtered_parties(world: World) -> list[Party]:
    free = ("released", "bailed", "served_and_freed", "probation", "paroled", "nothing")
    return [p for label, p in world.persons.items() if label not in free]


def test_scan_counts_with_nobody_locked_up(world: World) -> None:
    assert found(date(2020, 1, 1)) == {}
    stats = rec.ScanStats()
    list(rec.find_unlawful(date(2020, 1, 1), stats=stats))
    # everyone's events are dated after that day: all streamed, nobody assessed
    assert (stats.persons, stats.streamed, stats.assessed) == (23, 23, 0)
    # only the free are left: nothing to stream, the count comes from its own query
    CustodyEvent.objects.filter(party__in=filtered_parties(world)).delete()
    stats = rec.ScanStats()
    assert list(rec.find_unlawful(TODAY, stats=stats)) == []
    assert (stats.persons, stats.streamed, stats.assessed) == (5, 0, 0)


def test_reconcile_raises_one_alert_per_finding(world: World) -> None:
    result = rec.reconcile(TODAY)
    assert (result.flagged, result.raised, result.reopened, result.resolved) == (8, 8, 0, 0)
    assert result.persons == len(world.persons) - 1
    assert result.by_reason == {
        "detention_expired": 2,
        "arrest_review_expired": 1,
        "custody_expired": 2,
        "sentence_served": 1,
        "release_required": 1,
        "no_basis": 1,
    }
    alerts = {a.details["party"]: a for a in Alert.objects.filter(kind="custody_unlawful")}
    assert set(alerts) == set(world.expected)
    for party_id, (reason, unit_id, since, event_id, case_id) in world.expected.items():
        alert = alerts[party_id]
        assert alert.key == f"custody:{party_id}:{reason}:{event_id}"
        assert (alert.unit_id, alert.case_id, alert.resolved_at) == (unit_id, case_id, None)
        assert alert.details["since"] == since.isoformat()
        assert alert.details["days_over"] == (TODAY - since).days + 1
        assert alert.details["reason"] == reason
    alert = alerts[world.persons["arrest"].pk]
    number = Case.objects.get(pk=world.persons["arrest"].case_id).number
    assert alert.message == (
        f"{number} {world.persons['arrest'].name}：羁押期限届满，未依法延长。自2026-11-28起羁押无法律依据，"
        "已1日（执行逮捕，2026-09-27；刑事诉讼法第156条）"
    )
    assert alerts[world.persons["served"].pk].message.endswith("刑事诉讼法第264条第5款）")
    assert "刑期已满，未释放" in alerts[world.persons["served"].pk].message


def test_a_second_run_raises_nothing_new(world: World) -> None:
    rec.reconcile(TODAY)
    again = rec.reconcile(TODAY)
    assert (again.flagged, again.raised, again.reopened, again.resolved) == (8, 0, 0, 0)
    assert Alert.objects.filter(kind="custody_unlawful").count() == 8
    later = rec.reconcile(TODAY + timedelta(days=1))  # the same lapses a day older: same alerts
    assert later.raised == 4  # the four held on their last lawful day today
    assert later.resolved == 0


def test_a_released_persons_alert_is_resolved(world: World) -> None:
    rec.reconcile(TODAY)
    person = world.persons["acquitted"]
    CustodyEvent.objects.create(
        party=person,
        case_id=person.case_id,
        kind="release",
        at=datetime.combine(TODAY, time(18, 0), SHANGHAI),
        on=TODAY,
    )
    result = rec.reconcile(TODAY)
    assert (result.flagged, result.raised, result.resolved) == (7, 0, 1)
    alert = Alert.objects.get(details__party=person.pk)
    assert alert.resolved_at is not None
    assert Alert.objects.filter(kind="custody_unlawful", resolved_at__isnull=True).count() == 7


def test_a_new_basis_resolves_the_old_alert_and_a_new_lapse_raises_a_new_one(world: World) -> None:
    rec.reconcile(TODAY)
    person = world.persons["detention"]
    gusu = world.city.counties["gusu"]
    history(person, ("request_arrest", ago(1), gusu.procuratorate))  # late, but a basis until TODAY + 6
    result = rec.reconcile(TODAY)
    assert (result.flagged, result.raised, result.resolved) == (7, 0, 1)
    result = rec.reconcile(TODAY + timedelta(days=7))
    old = Alert.objects.get(key=f"custody:{person.pk}:detention_expired:{world.expected[person.pk][3]}")
    assert old.resolved_at is not None
    new = Alert.objects.filter(details__party=person.pk, resolved_at__isnull=True).get()
    assert new.details["reason"] == "arrest_review_expired"
    assert new.unit_id == gusu.procuratorate.pk


def test_an_alert_resolved_by_hand_opens_again_while_the_person_is_still_held(world: World) -> None:
    rec.reconcile(TODAY)
    person = world.persons["served"]
    Alert.objects.filter(details__party=person.pk).update(resolved_at=datetime(2026, 11, 28, 3, tzinfo=UTC))
    result = rec.reconcile(TODAY)
    assert (result.raised, result.reopened, result.resolved) == (0, 1, 0)
    assert Alert.objects.get(details__party=person.pk).resolved_at is None


def test_committee_sees_every_alert_and_a_unit_leader_his_units(world: World) -> None:
    rec.reconcile(TODAY)
    city = world.city
    assert alerts_visible_to(user=city.u("committee")).filter(kind="custody_unlawful").count() == 8
    gusu_police = alerts_visible_to(user=city.u("gusu.police_leader")).filter(kind="custody_unlawful")
    assert {a.details["party"] for a in gusu_police} == {
        world.persons[label].pk for label in ("detention", "extension", "arrest")
    }
    assert not alerts_visible_to(user=city.u("gusu.police")).exists()  # a handler is not a leader


def test_today_defaults_to_the_day_in_shanghai(world: World) -> None:
    with time_machine.travel(datetime(2026, 11, 27, 17, 30, tzinfo=UTC), tick=False):  # 11-28 01:30 there
        assert rec.shanghai_today() == TODAY
        result = rec.reconcile()
    assert result.today == TODAY
    assert result.flagged == 8


def test_management_command(world: World) -> None:
    out = io.StringIO()
    call_command("reconcile", "--date", TODAY.isoformat(), stdout=out)
    text = out.getvalue()
    assert f"核查日期 2026-11-28：核查 {len(world.persons) - 1} 人" in text
    assert "发现在押无法律依据 8 人；新增预警 8 条" in text
    assert "刑期已满，未释放：1 人" in text
    out = io.StringIO()
    call_command("reconcile", "--date", "2026-01-01", stdout=out)
    assert "解除 8 条" in out.getvalue()


def test_management_command_refuses_a_bad_date(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reconcile", "--date", "28/11/2026", stdout=io.StringIO())


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_find_the_same(world: World) -> None:
    one = found()
    stats = rec.ScanStats()
    two = {
        party_id: (f.reason.value, f.unit_id, f.since, f.basis_event.event_id, case_id)
        for party_id, case_id, f in rec.find_unlawful(TODAY, workers=2, stats=stats)
    }
    assert stats.workers == 2
    assert stats.persons == len(world.persons) - 1
    assert one == two == world.expected
    assert rec.reconcile(TODAY, workers=2).raised == 8


# ------------------------------------------------------------------ the cheap first look is safe


def test_the_first_look_never_skips_a_person_assess_would_flag() -> None:
    """``_locked_up`` is the only thing between a person and ``assess``: on random histories (dates
    in any order, decided limits with and without their date), whenever it says "not locked up",
    ``assess`` finds nothing."""
    rng = random.Random(7)
    kinds = list(Kind)
    skipped = flagged = 0
    for n in range(20_000):
        rows = []
        for i in range(rng.randint(1, 8)):
            on = ago(rng.randint(-5, 120))
            until = on + timedelta(days=rng.randint(0, 60)) if rng.random() < 0.5 else None
            variant = rng.choice(["", "", "release", "custodial", "summary", "fast"])
            rows.append((n, 1, i + 1, rng.choice(kinds).value, on, until, variant, rng.choice([None, 5])))
        finding = assess(rec.events_of(rows), TODAY)
        assert rec.assess_rows(rows, TODAY) == finding
        if not rec._locked_up(rows, TODAY):
            skipped += 1
            assert finding is None, rows
        elif finding is not None:
            flagged += 1
    assert skipped > 5_000 and flagged > 2_000  # both paths exercised


# ------------------------------------------------------------------ the pre-filter is safe


@pytest.mark.parametrize("consistent_times", [True, False])
def test_the_prefilter_changes_nothing_on_random_histories(city: City, consistent_times: bool) -> None:
    """Random histories (any kinds in any order; some dated after the day; with
    ``consistent_times=False`` even ``on`` out of step with ``at``): the database pre-filter, the
    full stream and ``assess`` on each person's events agree."""
    rng = random.Random(11 if consistent_times else 12)
    case = Case.objects.get(pk=register_case(city))
    units = [city.counties["gusu"].police, city.counties["gusu"].court, None]
    parties = Party.objects.bulk_create(
        [Party(case=case, ordinal=i + 2, name=f"随机{i}", gender="男") for i in range(400)]
    )
    rows = []
    for party in parties:
        start = datetime.combine(ago(rng.randint(0, 200)), time(10), SHANGHAI)
        for i in range(rng.randint(1, 7)):
            at = start + timedelta(days=rng.randint(0, 40) * i, minutes=i)
            on = at.astimezone(SHANGHAI).date() if consistent_times else ago(rng.randint(-5, 200))
            until = on + timedelta(days=rng.randint(0, 90)) if rng.random() < 0.6 else None
            rows.append(
                CustodyEvent(
                    party=party,
                    case=case,
                    kind=rng.choice(list(Kind)).value,
                    at=at,
                    on=on,
                    unit=rng.choice(units),
                    until=until,
                    variant=rng.choice(["", "", "release", "custodial", "summary", "fast"]),
                )
            )
    CustodyEvent.objects.bulk_create(rows)
    expected: Found = {}
    for party in parties:
        events = [
            Event(Kind(e.kind), e.on, e.unit_id, e.until, e.variant, e.pk)
            for e in CustodyEvent.objects.filter(party=party).order_by("at", "id")
        ]
        finding = assess(events, TODAY)
        if finding is not None:
            basis = finding.basis_event
            expected[party.pk] = (
                finding.reason.value,
                finding.unit_id,
                finding.since,
                basis.event_id,
                case.pk,
            )
    assert len(expected) > 40
    assert found(prefilter=True) == found(prefilter=False) == expected
