"""Five years of concluded cases behind the analytics demo, written in bulk rather than through the door.

Why not through ``cases.services`` like the rest of the demo: the door makes 4–15 cases a second, and
the dashboard's trends, seasonality, per-town rates and risk warnings need tens of thousands of cases
over several years. These are cases of the past, as if the platform had been in use since then: each
has its case row, suspects, participations and a ledger whose hash chain is valid (``ledger verify``
passes), with the acts a real case of its outcome goes through and the actors of its units. They have
no documents and no clocks: they ended before the demo's "now". Their facts are then derived by the
product's own ``analytics.services.facts_refresh``, exactly as for a live case.

The shape is deliberate and documented in docs/analytics.md: thefts peak in summer, drunk driving
around the new year, telecom fraud grows about 15 % a year, investigation gets faster each year (the
seed: 立案→判决 from two months and more to about one), and in the last complete month one town's
fraud cases surge (``SURGE``) so that the risk warning has something real to find.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max
from django.utils import timezone

from xietong.analytics.services import months_back
from xietong.cases.models import Case, InstrumentCounter, Participation, Party
from xietong.cases.procedure import ACTIONS, Stage
from xietong.demo.crimes import CHARGES, Charge, generate_facts, suspect_count
from xietong.demo.generator import Staff, draw_verdict
from xietong.demo.people import fictitious_address, fictitious_id_number, fictitious_name
from xietong.demo.suzhou import COUNTIES, County
from xietong.ledger.chain import GENESIS, canonical_payload, entry_hash, timestamp_text
from xietong.ledger.models import LedgerEntry
from xietong.orgs.models import Region, Unit, UnitKind

# 第七次全国人口普查 (2020) 常住人口 of Suzhou's county-level divisions, rounded; the demo splits each
# over its towns (``town_populations``). Replace with the statistics bureau's town figures in
# production (``xietong analytics population FILE.csv``).
COUNTY_RESIDENTS: dict[str, int] = {
    "320508": 922_000,  # 姑苏区
    "320505": 833_000,  # 虎丘区
    "320506": 1_391_000,  # 吴中区
    "320507": 891_000,  # 相城区
    "320509": 1_546_000,  # 吴江区
    "320571": 1_135_000,  # 苏州工业园区
    "320581": 1_677_000,  # 常熟市
    "320582": 1_434_000,  # 张家港市
    "320583": 2_093_000,  # 昆山市
    "320585": 831_000,  # 太仓市
}
POPULATION_SOURCE = "演示估算：第七次全国人口普查区县常住人口按镇（街道）分摊"
# (county code, town name, charge, extra cases) planted in the last complete month.
SURGE = ("320583", "花桥镇", "诈骗罪", 22)
# Seasonal factor per calendar month (1–12) for the charges whose season is well known.
SEASONS: dict[str, tuple[float, ...]] = {
    "盗窃罪": (0.85, 0.8, 0.9, 0.95, 1.0, 1.1, 1.25, 1.3, 1.1, 1.0, 0.9, 0.85),
    "危险驾驶罪": (1.35, 1.4, 1.0, 0.9, 0.9, 0.85, 0.9, 0.9, 0.95, 1.1, 1.0, 1.25),
    "故意伤害罪": (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.2, 1.05, 0.95, 0.9, 0.85),
}
# When in the day each charge tends to happen (weights for hours 0–23); others: daytime and evening.
_NIGHT = (
    3,
    3,
    2,
    1,
    0.5,
    0.3,
    0.2,
    0.2,
    0.3,
    0.3,
    0.3,
    0.4,
    0.6,
    0.4,
    0.3,
    0.3,
    0.4,
    0.6,
    1,
    1.5,
    2.5,
    3.5,
    4,
    4,
)
_DAY = (
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.2,
    0.4,
    0.8,
    1.2,
    1.5,
    1.6,
    1.5,
    1.2,
    1.3,
    1.5,
    1.6,
    1.5,
    1.4,
    1.2,
    1.2,
    1.1,
    0.9,
    0.6,
    0.4,
)
HOURS: dict[str, tuple[float, ...]] = {
    "危险驾驶罪": _NIGHT,
    "寻衅滋事罪": _NIGHT,
    "故意伤害罪": _NIGHT,
    "盗窃罪": (
        1.5,
        1.8,
        2,
        1.8,
        1.2,
        0.6,
        0.5,
        0.8,
        1,
        1.1,
        1.2,
        1.1,
        1,
        1,
        1.1,
        1.2,
        1.2,
        1.1,
        1,
        0.9,
        0.9,
        1,
        1.1,
        1.3,
    ),
}
# Share of suspects who were suspects in an earlier case (再犯/多次涉案), drawn from the same county.
REPEAT_SHARE = 0.06
# Yearly growth of a charge's caseload (telecom fraud up, street crime down).
GROWTH: dict[str, float] = {"诈骗罪": 0.15, "帮助信息网络犯罪活动罪": 0.3, "盗窃罪": -0.05, "抢劫罪": -0.1}


def town_populations() -> dict[str, int]:
    """Residents per town region code: the county's total split by a stable weight per town
    (街道 are denser than 镇), so the per-10,000 rates differ as real towns' do."""
    out: dict[str, int] = {}
    for county in COUNTIES:
        weights = [
            (1.5 if town.is_street else 1.0) * (0.7 + (sum(map(ord, town.name)) % 61) / 100)
            for town in county.towns
        ]
        total = sum(weights)
        for i, w in enumerate(weights, start=1):
            out[f"{county.code}{i:03d}"] = round(COUNTY_RESIDENTS.get(county.code, 800_000) * w / total)
    return out


def population_csv(year: int) -> str:
    """Town and county populations as the loader's CSV (区划代码,年份,常住人口,来源)."""
    lines = ["区划代码,年份,常住人口,来源"]
    for code, residents in town_populations().items():
        lines.append(f"{code},{year},{residents},{POPULATION_SOURCE}")
    for code, residents in COUNTY_RESIDENTS.items():
        lines.append(f"{code},{year},{residents},{POPULATION_SOURCE}")
    return "\n".join(lines)


@dataclass
class _Place:
    county: County
    region: Region
    towns: list[Region]
    town_weights: list[int]
    police: Unit
    procuratorate: Unit
    court: Unit
    corrections: Unit


@dataclass
class _Act:
    code: str
    at: datetime
    actor: Any  # orgs.User
    unit: Unit
    payload: dict[str, Any]


class _History:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now
        self.staff = Staff.load()
        self.prison = Unit.objects.filter(kind=UnitKind.PRISON).first()
        people = town_populations()
        self.places: list[_Place] = []
        for county in COUNTIES:
            region = Region.objects.get(code=county.code)
            towns = list(Region.objects.filter(parent=region).order_by("code"))
            self.places.append(
                _Place(
                    county=county,
                    region=region,
                    towns=towns,
                    town_weights=[people.get(t.code, 50_000) for t in towns],
                    police=Unit.objects.get(kind=UnitKind.POLICE_BRANCH, region=region),
                    procuratorate=Unit.objects.get(kind=UnitKind.PROCURATORATE, region=region),
                    court=Unit.objects.get(kind=UnitKind.BASIC_COURT, region=region),
                    corrections=Unit.objects.get(kind=UnitKind.CORRECTIONS, region=region),
                )
            )
        self.place_weights = [sum(p.town_weights) for p in self.places]
        self.next_case = (Case.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.next_party = (Party.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.counters: dict[tuple[int, int], int] = defaultdict(int)
        for unit_id, year, last in InstrumentCounter.objects.filter(kind="案件编号").values_list(
            "unit_id", "year", "last"
        ):
            self.counters[(unit_id, year)] = last
        self.cases: list[Case] = []
        self.parties: list[Party] = []
        self.participations: list[Participation] = []
        self.entries: list[LedgerEntry] = []
        self.people: dict[str, list[tuple[str, str, str, date]]] = defaultdict(list)

    # --- one case ------------------------------------------------------------------------------

    def charge_weights(self, month: date, years_ago: float) -> list[float]:
        return [
            c.weight
            * SEASONS.get(c.name, (1.0,) * 12)[month.month - 1]
            * (1 + GROWTH.get(c.name, 0.0)) ** -years_ago
            for c in CHARGES
        ]

    def case(self, month: date, charge: Charge, place: _Place, town_index: int, years_ago: float) -> None:
        rng = self.rng
        days_in_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - month
        local = datetime(month.year, month.month, 1, tzinfo=timezone.get_current_timezone())
        registered = local + timedelta(seconds=rng.uniform(0, days_in_month.total_seconds()))
        registered = min(registered, self.now - timedelta(days=2))
        day = timezone.localtime(registered - timedelta(days=rng.uniform(0.2, 4))).replace(minute=0, second=0)
        hour = rng.choices(range(24), weights=HOURS.get(charge.name, _DAY))[0]
        occurred = min(
            day.replace(hour=hour) + timedelta(minutes=rng.uniform(0, 59)), registered - timedelta(hours=1)
        )
        n = suspect_count(rng, charge)
        people = [self.person(rng, place) for _ in range(n)]
        names = [(p[0], p[1]) for p in people]
        town = place.towns[town_index]
        facts = generate_facts(
            rng,
            charge=charge,
            suspects=[p[0] for p in names],
            county=place.county,
            town=place.county.towns[town_index],
            occurred_at=occurred,
            latest=registered,
        )
        acts = self.walk(rng, charge, place, registered, years_ago)
        case_id = self.next_case
        self.next_case += 1
        year = timezone.localtime(registered).year
        self.counters[(place.police.pk, year)] += 1
        digits = "".join(ch for ch in place.police.code if ch.isdigit()).ljust(9, "0")[:12]
        number = f"A{digits}{timezone.localtime(registered):%Y%m}{self.counters[(place.police.pk, year)]:05d}"
        last = acts[-1]
        stage = ACTIONS[last.code].to_stage or Stage.EXECUTION
        verdict = next((a.payload["verdict"] for a in acts if a.code == "pronounce"), None)
        execution_unit = None
        if stage == Stage.EXECUTION and verdict:
            custodial = verdict["penalty"] == "fixed_term" and not verdict["probation_months"]
            execution_unit = self.prison if custodial and verdict["months"] > 12 else place.corrections
        prev, seq = GENESIS, 0
        for act in acts:
            seq += 1
            payload = canonical_payload(act.payload)
            fields = {
                "case_id": case_id,
                "seq": seq,
                "recorded_at": act.at,
                "actor_id": act.actor.pk,
                "actor_name": act.actor.full_name,
                "actor_duty": "承办人",
                "unit_id": act.unit.pk,
                "unit_name": act.unit.name,
                "action": act.code,
                "payload": payload,
                "prev_hash": prev,
            }
            digest = entry_hash(**{**fields, "recorded_at": timestamp_text(act.at)})
            self.entries.append(LedgerEntry(**fields, entry_hash=digest))
            prev = digest
        title = f"{names[0][0]}{'等' if n > 1 else ''}{charge.short}案"
        self.cases.append(
            Case(
                pk=case_id,
                number=number,
                title=title,
                charge=charge.name,
                facts=facts.facts,
                occurred_at=occurred,
                place=facts.place,
                town=town,
                county=place.region,
                stage=stage.value,
                holder_unit=execution_unit or last.unit,
                handler=None,
                police_unit=place.police,
                procuratorate_unit=place.procuratorate
                if any(a.unit == place.procuratorate for a in acts)
                else None,
                court_unit=place.court if verdict else None,
                execution_unit=execution_unit,
                plea=facts.confessed and rng.random() < 0.8,
                trial_procedure="summary" if verdict else "",
                supplementary_count=sum(1 for a in acts if a.code == "return_for_supplementary"),
                verdict=verdict,
                created_at=registered,
                updated_at=last.at,
                ledger_seq=seq,
                ledger_head=prev,
                version=seq + 1,
            )
        )
        for unit in {a.unit for a in acts} | ({execution_unit} if execution_unit else set()):
            self.participations.append(Participation(case_id=case_id, unit=unit, since=registered))
        for ordinal, (name, gender, id_number, birth) in enumerate(people, start=1):
            self.parties.append(
                Party(
                    pk=self.next_party,
                    case_id=case_id,
                    ordinal=ordinal,
                    name=name,
                    gender=gender,
                    id_number=id_number,
                    birth_date=birth,
                    custody="released",
                    address=fictitious_address(
                        rng, place.county, place.county.towns[rng.randrange(len(place.county.towns))]
                    ),
                )
            )
            self.next_party += 1

    def person(self, rng: random.Random, place: _Place) -> tuple[str, str, str, date]:
        """A suspect: now and then someone from an earlier case of the county (a repeat offender)."""
        earlier = self.people[place.county.code]
        if earlier and rng.random() < REPEAT_SHARE:
            return earlier[rng.randrange(len(earlier))]
        name, gender = fictitious_name(rng)
        birth = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
        person = (
            name,
            gender,
            fictitious_id_number(rng, area_code=place.county.code, birth=birth, gender=gender),
            birth,
        )
        earlier.append(person)
        return person

    def walk(
        self, rng: random.Random, charge: Charge, place: _Place, start: datetime, years_ago: float
    ) -> list[_Act]:
        """The acts of one concluded case with realistic gaps; investigation gets faster over the
        years (the platform's effect, as the seed reports). Gaps are squeezed for a recent case so
        that it has concluded by now (a real recent month's concluded cases are the quick ones)."""
        police = (self.staff.handler[place.police.pk], place.police)
        procu = (self.staff.handler[place.procuratorate.pk], place.procuratorate)
        court = (self.staff.handler[place.court.pk], place.court)
        speed = 0.55 + 0.12 * min(years_ago, 4)  # ≈ 1.0 five years ago, 0.55 now
        plan: list[tuple[str, tuple[Any, Unit], float]] = [("register", police, 0.0)]
        if charge.detention_likely and rng.random() < 0.7:
            plan += [
                ("detain", police, 0.2),
                ("request_arrest", police, rng.uniform(3, 7)),
                ("approve_arrest", procu, rng.uniform(3, 7)),
            ]
        draw = rng.random()
        if draw < 0.035:
            plan.append(("withdraw", police, rng.lognormvariate(math.log(40 * speed), 0.5)))
        else:
            plan.append(("transfer_for_prosecution", police, rng.lognormvariate(math.log(45 * speed), 0.5)))
            if rng.random() < 0.1:
                plan += [
                    ("return_for_supplementary", procu, rng.uniform(15, 35)),
                    ("resubmit", police, rng.uniform(15, 30)),
                ]
            if draw < 0.095:
                plan.append(("not_prosecute", procu, rng.uniform(20, 45)))
            else:
                plan += [
                    ("indict", procu, rng.lognormvariate(math.log(25 * speed), 0.4)),
                    ("pronounce", court, rng.lognormvariate(math.log(25 * speed), 0.4)),
                ]
                plan += [
                    ("judgment_effective", court, rng.uniform(11, 14)),
                    ("deliver_for_execution", court, rng.uniform(1, 5)),
                ]
        total = sum(gap for _, _, gap in plan)
        room = (self.now - timedelta(days=1) - start).total_seconds() / 86400
        squeeze = min(1.0, room / total) if total else 1.0
        acts, at = [], start
        for code, (actor, unit), gap in plan:
            at += timedelta(days=gap * squeeze, seconds=rng.uniform(60, 3600))
            spec = ACTIONS[code]
            payload: dict[str, Any] = {"label": spec.label, "articles": list(spec.articles)}
            if spec.to_stage is not None:
                payload["stage_to"] = spec.to_stage.value
            if code == "pronounce":
                verdict = draw_verdict(rng, charge)
                payload["verdict"] = verdict
            acts.append(_Act(code, at, actor, unit, payload))
        if any(a.code == "pronounce" and not a.payload["verdict"]["guilty"] for a in acts):
            acts = [a for a in acts if a.code != "deliver_for_execution"]
            acts.append(
                _Act(
                    "close",
                    acts[-1].at + timedelta(days=1),
                    court[0],
                    court[1],
                    {
                        "label": ACTIONS["close"].label,
                        "stage_to": Stage.CLOSED.value,
                        "articles": list(ACTIONS["close"].articles),
                    },
                )
            )
        return acts

    def flush(self) -> None:
        with transaction.atomic():
            Case.objects.bulk_create(self.cases, batch_size=500)
            Party.objects.bulk_create(self.parties, batch_size=500)
            Participation.objects.bulk_create(self.participations, batch_size=500)
            LedgerEntry.objects.bulk_create(self.entries, batch_size=1000)
        self.cases, self.parties, self.participations, self.entries = [], [], [], []

    def finish(self) -> None:
        """Bring the id sequences past the ids given here (PostgreSQL's do not move for explicit ids;
        the next case filed through the door would collide) and the 案件编号 counters up to date."""
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            for sql in connections[DEFAULT_DB_ALIAS].ops.sequence_reset_sql(no_style(), [Case, Party]):
                cursor.execute(sql)
        self.save_counters()

    def save_counters(self) -> None:
        for (unit_id, year), last in self.counters.items():
            InstrumentCounter.objects.update_or_create(
                unit_id=unit_id, kind="案件编号", year=year, defaults={"last": last}
            )


def generate_history(
    *,
    months: int = 60,
    per_month: int = 200,
    seed: int = 11,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """``months`` complete months of concluded cases before this one (about ``per_month`` a month
    city-wide before seasonality and trend), plus ``SURGE`` in the last; returns the count."""
    rng = random.Random(seed)
    now = now or timezone.now()
    history = _History(rng, now)
    this_month = timezone.localtime(now).date().replace(day=1)
    made = 0
    for back in range(months, 0, -1):
        month = months_back(this_month, back)
        years_ago = back / 12
        weights = history.charge_weights(month, years_ago)
        count = max(0, round(rng.gauss(per_month, math.sqrt(per_month))))
        for _ in range(count):
            place = rng.choices(history.places, weights=history.place_weights)[0]
            town_index = rng.choices(range(len(place.towns)), weights=place.town_weights)[0]
            charge = rng.choices(CHARGES, weights=weights)[0]
            history.case(month, charge, place, town_index, years_ago)
            made += 1
        if back == 1:
            county_code, town_name, charge_name, extra = SURGE
            place = next(p for p in history.places if p.county.code == county_code)
            index = next(i for i, t in enumerate(place.county.towns) if t.name == town_name)
            charge = next(c for c in CHARGES if c.name == charge_name)
            for _ in range(extra):
                history.case(month, charge, place, index, years_ago)
                made += 1
        history.flush()
        if progress:
            progress(months - back + 1, made)
    history.finish()
    return made


__all__ = ["COUNTY_RESIDENTS", "POPULATION_SOURCE", "SURGE", "generate_history", "population_csv"]
