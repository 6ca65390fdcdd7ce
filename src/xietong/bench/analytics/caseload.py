"""The caseload model of ``xietong bench analytics``: how many cases each town has of each charge in
each month of the decade (trend, season, growth, surges), and the city's units and staff that act."""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

MONTHS = 120
LOCAL = timedelta(hours=8)  # Asia/Shanghai, no daylight saving since 1991
DUTY_ORDER = ("leader", "dept_head", "handler", "clerk", "corrections_officer")

# ------------------------------------------------------------------ the shape of the caseload


def _trend(charge: str, y: float) -> float:
    """A charge's volume in year ``y`` of the decade relative to its catalogue weight."""
    if charge == "诈骗罪":
        return 0.9 + 0.16 * y
    if charge == "帮助信息网络犯罪活动罪":  # rare before the 2020 断卡 campaign, then a wave
        return (0.04 + 3.2 / (1 + math.exp(-2.2 * (y - 4.0)))) * (1 - 0.06 * max(0.0, y - 7))
    if charge == "危险驾驶罪":  # the 2023-12 醉驾 guideline
        return (1.0 + 0.05 * y) * (0.65 if y >= 7.05 else 1.0)
    if charge == "盗窃罪":
        return 1.45 - 0.08 * y
    if charge in {"开设赌场罪", "掩饰、隐瞒犯罪所得罪"}:
        return 0.8 + 0.08 * y
    if charge == "侵犯公民个人信息罪":
        return 0.5 + 0.13 * y
    if charge in {"寻衅滋事罪", "贩卖毒品罪", "容留他人吸毒罪", "组织卖淫罪"}:
        return 1.3 - 0.06 * y
    return 1.0


def _season(charge: str, month: int) -> float:
    def wave(peak: float, amplitude: float) -> float:
        return 1 + amplitude * math.cos(2 * math.pi * (month - peak) / 12)

    factor = 0.8 if month == 2 and charge != "危险驾驶罪" else 1.0  # the Spring Festival
    if charge == "盗窃罪":
        return factor * wave(7.5, 0.28)
    if charge in {"故意伤害罪", "寻衅滋事罪", "聚众斗殴罪"}:
        return factor * wave(7.0, 0.15)
    if charge == "危险驾驶罪":
        return factor * wave(1.0, 0.18)
    if charge in {"诈骗罪", "帮助信息网络犯罪活动罪"}:
        return factor * wave(12.0, 0.08)
    return factor


# The hour of the offence (local), per charge: weights over 0..23.
def offence_hours(charge: str) -> list[float]:
    night = [3, 2.5, 2, 1.5, 1, 0.6, 0.5, 0.6, 0.8, 1, 1, 1, 1, 1, 1, 1, 1.2, 1.4, 1.6, 2, 2.6, 3.2, 3.4, 3.2]
    day = [
        0.3,
        0.2,
        0.1,
        0.1,
        0.1,
        0.2,
        0.4,
        0.8,
        1.4,
        2,
        2.2,
        2.1,
        1.8,
        1.9,
        2.1,
        2.2,
        2.2,
        2,
        1.8,
        1.7,
        1.6,
        1.4,
        1,
        0.6,
    ]
    if charge in {
        "危险驾驶罪",
        "故意伤害罪",
        "寻衅滋事罪",
        "聚众斗殴罪",
        "开设赌场罪",
        "组织卖淫罪",
        "容留他人吸毒罪",
    }:
        return night
    if charge == "盗窃罪":
        return [n + d for n, d in zip(night, day, strict=True)]
    return day


def month_starts(now: datetime) -> list[date]:
    local = (now + LOCAL).date().replace(day=1)
    index = local.year * 12 + local.month - 1
    return [date((index - k) // 12, (index - k) % 12 + 1, 1) for k in range(MONTHS - 1, -1, -1)]


def plan_counts(
    *, total: int, towns: list[tuple[int, int, str, bool]], months: list[date], now: datetime, seed: int
) -> tuple[Any, list[tuple[int, int, int]]]:
    """Cases per (month, town, charge): a multinomial draw of ``total`` over a model of the city.
    Returns the counts and the planted surges (month index, town index, charge index)."""
    import numpy as np

    from xietong.demo.crimes import CHARGES

    rng = np.random.default_rng(seed)
    n_towns, n_charges = len(towns), len(CHARGES)
    county_size = {0: 1.3, 5: 1.5, 8: 1.5, 2: 1.1, 6: 1.1}  # 姑苏, 园区, 昆山, 吴中, 常熟 busier
    base = rng.lognormal(0.0, 0.45, n_towns) * np.array(
        [(1.5 if street else 1.0) * county_size.get(county, 1.0) for county, _, _, street in towns]
    )
    growth = np.clip(rng.normal(0.01, 0.035, n_towns), -0.07, 0.10)
    growth[rng.choice(n_towns, 4, replace=False)] = 0.12  # new towns filling up
    growth[rng.choice(n_towns, 4, replace=False)] = -0.08  # old centres emptying
    years = np.arange(len(months)) / 12.0
    town_part = base[None, :] * (1 + growth[None, :]) ** years[:, None]
    charge_part = np.array(
        [
            [c.weight * _trend(c.name, y) * _season(c.name, m.month) for c in CHARGES]
            for y, m in zip(years, months, strict=True)
        ]
    )
    mix = rng.lognormal(0.0, 0.35, (n_towns, n_charges))
    lam = town_part[:, :, None] * charge_part[:, None, :] * mix[None, :, :]
    lam *= rng.gamma(30.0, 1 / 30.0, lam.shape)  # month-to-month noise beyond Poisson
    local_now = now + LOCAL
    days = calendar.monthrange(local_now.year, local_now.month)[1]
    lam[-1] *= (local_now.day - 1 + local_now.hour / 24) / days  # this month so far
    surges = []
    for month_back in (2, 7, 15):  # planted surges (one in the last complete month)
        m = len(months) - month_back
        t = int(rng.integers(n_towns))
        c = int(rng.choice([1, 2, 3]))  # theft, fraud, 帮信
        lam[m, t, c] *= 4.0
        surges.append((m, t, c))
    counts = rng.multinomial(total, (lam / lam.sum()).ravel()).reshape(lam.shape)
    return counts, surges


# ------------------------------------------------------------------ the city's units and staff


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    duty: str
    unit_id: int
    unit_name: str


@dataclass
class UnitStaff:
    unit_id: int
    name: str
    handlers: list[Any]
    leader: Any
    approved_by: dict[str, Any] | None


@dataclass
class Crew:
    county_index: int
    police: int
    stations: dict[int, int]  # town region id → staffed 派出所
    procu: int
    court: int
    jail: int
    corrections: int


@dataclass
class City:
    staff: dict[int, UnitStaff]
    crews: list[Crew]
    towns: list[tuple[int, int, str, bool]]  # (county index, region id, name, is 街道)
    counties: list[int]  # region ids, in ``COUNTIES`` order
    mid_court: int
    prison: int
    digits: dict[int, str]
    actors: dict[tuple[int, int, frozenset[str]], Actor] = field(default_factory=dict)

    def actor(self, unit_id: int, who: int, duties: frozenset[str]) -> Actor:
        """The ledger's actor for an act of ``unit_id``'s handler number ``who``."""
        from xietong.ledger.services import actor_of

        key = (unit_id, who, duties)
        hit = self.actors.get(key)
        if hit is None:
            staff = self.staff[unit_id]
            user = staff.handlers[who % len(staff.handlers)]
            a = actor_of(user, preferred=[d for d in DUTY_ORDER if d in duties])
            hit = self.actors[key] = Actor(a.user_id, a.name, a.duty, unit_id, staff.name)
        return hit


def load_city() -> City:
    from xietong.demo.suzhou import COUNTIES
    from xietong.orgs.models import Duty, Region, Unit, UnitKind, User

    users: dict[int, list[Any]] = defaultdict(list)
    for user in User.objects.filter(unit__isnull=False).prefetch_related("appointments").order_by("pk"):
        users[user.unit_id].append(user)  # type: ignore[index]
    staff: dict[int, UnitStaff] = {}
    for unit in Unit.objects.all():
        people = users.get(unit.pk, [])
        handlers = [u for u in people if u.duty_codes & {"handler", "clerk", "corrections_officer"}]
        handlers = [u for u in handlers if "leader" not in u.duty_codes] or handlers
        leader = next((u for u in people if u.duty_codes & {"leader", "dept_head"}), None)
        approved = None
        if leader is not None:
            duties = [str(Duty(d).label) for d in sorted(leader.duty_codes) if d in {"leader", "dept_head"}]
            approved = {"id": leader.pk, "name": leader.full_name, "duty": "、".join(duties)}
        if handlers:
            staff[unit.pk] = UnitStaff(unit.pk, unit.name, handlers, leader, approved)
    crews, towns, counties = [], [], []
    units = {(u.region_id, u.kind): u.pk for u in Unit.objects.exclude(kind=UnitKind.POLICE_STATION)}
    for i, county in enumerate(COUNTIES):
        region = Region.objects.get(code=county.code)
        counties.append(region.pk)
        stations = {
            u.region_id: u.pk
            for u in Unit.objects.filter(kind=UnitKind.POLICE_STATION, parent__region=region)
            if u.pk in staff and staff[u.pk].leader is not None
        }
        crews.append(
            Crew(
                county_index=i,
                police=units[(region.pk, UnitKind.POLICE_BRANCH)],
                stations=stations,
                procu=units[(region.pk, UnitKind.PROCURATORATE)],
                court=units[(region.pk, UnitKind.BASIC_COURT)],
                jail=units[(region.pk, UnitKind.DETENTION_HOUSE)],
                corrections=units[(region.pk, UnitKind.CORRECTIONS)],
            )
        )
        for town in Region.objects.filter(parent=region).order_by("code"):
            towns.append((i, town.pk, town.name, town.name.endswith("街道")))
    city = Region.objects.get(level="city")
    return City(
        staff=staff,
        crews=crews,
        towns=towns,
        counties=counties,
        mid_court=units[(city.pk, UnitKind.INTERMEDIATE_COURT)],
        prison=units[(city.pk, UnitKind.PRISON)],
        digits={
            u.pk: "".join(ch for ch in u.code if ch.isdigit()).ljust(9, "0")[:12] for u in Unit.objects.all()
        },
    )
