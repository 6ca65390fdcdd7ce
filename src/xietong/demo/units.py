"""Create Suzhou's regions, political-legal units and named demo people (all fictitious)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from xietong.demo.people import fictitious_name
from xietong.demo.suzhou import CITY, COUNTIES, County
from xietong.orgs.models import Appointment, Duty, Region, Unit, UnitKind, User

COUNTY_SLUG = {
    "姑苏区": "gusu",
    "虎丘区": "huqiu",
    "吴中区": "wuzhong",
    "相城区": "xiangcheng",
    "吴江区": "wujiang",
    "苏州工业园区": "sip",
    "常熟市": "changshu",
    "张家港市": "zjg",
    "昆山市": "kunshan",
    "太仓市": "taicang",
}

# Staff per unit kind: (username suffix, duties, title). The first is the unit's main handler.
STAFF: dict[str, list[tuple[str, list[str], str]]] = {
    UnitKind.POLICE_BRANCH: [
        ("police", [Duty.HANDLER], "民警"),
        ("police2", [Duty.HANDLER], "民警"),
        ("police_head", [Duty.DEPT_HEAD, Duty.HANDLER], "法制大队大队长"),
        ("police_leader", [Duty.LEADER], "副局长"),
    ],
    UnitKind.POLICE_STATION: [
        ("handler", [Duty.HANDLER], "民警"),
        ("leader", [Duty.LEADER, Duty.HANDLER], "所长"),
    ],
    UnitKind.PROCURATORATE: [
        ("procu", [Duty.HANDLER], "检察官"),
        ("procu2", [Duty.HANDLER], "检察官"),
        ("procu_head", [Duty.DEPT_HEAD, Duty.HANDLER], "刑事检察部主任"),
        ("procu_leader", [Duty.LEADER], "副检察长"),
    ],
    UnitKind.BASIC_COURT: [
        ("judge", [Duty.HANDLER], "法官"),
        ("clerk", [Duty.CLERK], "书记员"),
        ("judge_head", [Duty.DEPT_HEAD, Duty.HANDLER], "刑事审判庭庭长"),
        ("court_leader", [Duty.LEADER], "副院长"),
    ],
    UnitKind.CORRECTIONS: [
        ("corrections", [Duty.CORRECTIONS_OFFICER], "社区矫正工作人员"),
        ("corrections_head", [Duty.DEPT_HEAD, Duty.CORRECTIONS_OFFICER], "科长"),
    ],
    UnitKind.JUSTICE_BUREAU: [
        ("justice", [Duty.HANDLER], "科员"),
        ("justice_leader", [Duty.LEADER], "副局长"),
    ],
    UnitKind.JUSTICE_OFFICE: [("justice_office", [Duty.CORRECTIONS_OFFICER], "司法所所长")],
    UnitKind.DETENTION_HOUSE: [
        ("jail", [Duty.HANDLER], "管教民警"),
        ("jail_leader", [Duty.LEADER, Duty.HANDLER], "看守所所长"),
    ],
    UnitKind.PRISON: [
        ("prison", [Duty.HANDLER], "狱政管理科民警"),
        ("prison_leader", [Duty.LEADER, Duty.HANDLER], "副监狱长"),
    ],
    UnitKind.COMMITTEE: [("committee", [Duty.LEADER, Duty.REVIEWER], "政法委副书记")],
    UnitKind.CITY_POLICE: [("city_police_leader", [Duty.LEADER], "副局长")],
    UnitKind.CITY_PROCURATORATE: [("city_procu_leader", [Duty.LEADER], "副检察长")],
    UnitKind.INTERMEDIATE_COURT: [
        ("szzy_judge", [Duty.HANDLER], "法官"),
        ("szzy_clerk", [Duty.CLERK], "书记员"),
        ("szzy_leader", [Duty.LEADER, Duty.DEPT_HEAD], "刑事审判庭庭长"),
    ],
    UnitKind.CITY_JUSTICE: [("city_justice_leader", [Duty.LEADER], "副局长")],
}


@dataclass
class DemoOrg:
    city: Region
    counties: dict[str, Region]
    towns: dict[str, list[Region]]
    units: dict[tuple[str, str], Unit]  # (county name or "city", kind) -> unit
    stations: dict[str, list[Unit]]


def _user(
    username: str, full_name: str, unit: Unit, duties: list[str], title: str, password_hash: str
) -> User:
    user = User.objects.create(
        username=username,
        full_name=full_name,
        unit=unit,
        title=title,
        password=password_hash,
        is_staff=Duty.ADMIN in duties,
        is_superuser=Duty.ADMIN in duties,
    )
    Appointment.objects.bulk_create([Appointment(user=user, duty=d) for d in duties])
    return user


def _staff(
    rng: random.Random, unit: Unit, prefix: str, password_hash: str, *, station_index: int | None = None
) -> None:
    for suffix, duties, title in STAFF.get(unit.kind, []):
        if unit.kind in {
            UnitKind.CITY_POLICE,
            UnitKind.CITY_PROCURATORATE,
            UnitKind.INTERMEDIATE_COURT,
            UnitKind.CITY_JUSTICE,
            UnitKind.PRISON,
        }:
            username = suffix
        elif station_index is not None:
            kind = "ps" if unit.kind == UnitKind.POLICE_STATION else "jo"
            username = f"{prefix}_{kind}{station_index:02d}_{suffix}"
        else:
            username = f"{prefix}_{suffix}"
        name, _gender = fictitious_name(rng)
        _user(username, name, unit, list(duties), title, password_hash)


def _unit(code: str, name: str, kind: str, region: Region, parent: Unit | None) -> Unit:
    unit = Unit(code=code, name=name, kind=kind, region=region, parent=parent)
    unit.level = region.level
    unit.save()
    return unit


@transaction.atomic
def create_org(*, seed: int = 2026) -> DemoOrg:
    """Regions, units and staff of the whole city. Every demo user shares XIETONG_DEMO_PASSWORD."""
    rng = random.Random(seed)
    password_hash = make_password(settings.XIETONG_DEMO_PASSWORD)
    city = Region.objects.create(code=CITY.code, name=CITY.name, level="city")
    committee = _unit("C" + CITY.code, CITY.committee, UnitKind.COMMITTEE, city, None)
    _user("admin", "系统管理员", committee, [Duty.ADMIN, Duty.LEADER], "信息中心主任", password_hash)
    _user(
        "committee", "政法委督查员", committee, [Duty.LEADER, Duty.REVIEWER], "执法监督处处长", password_hash
    )
    _user("librarian", "案例库管理员", committee, [Duty.LIBRARIAN], "政法委案例研究室", password_hash)
    city_police = _unit("P" + CITY.code, CITY.police, UnitKind.CITY_POLICE, city, None)
    city_procu = _unit("J" + CITY.code, CITY.procuratorate, UnitKind.CITY_PROCURATORATE, city, None)
    mid_court = _unit("F" + CITY.code, CITY.court, UnitKind.INTERMEDIATE_COURT, city, None)
    city_justice = _unit("S" + CITY.code, CITY.justice, UnitKind.CITY_JUSTICE, city, None)
    prison = _unit("SJ" + CITY.code, "江苏省苏州监狱", UnitKind.PRISON, city, city_justice)
    for unit in (city_police, city_procu, mid_court, city_justice, prison):
        _staff(rng, unit, "", password_hash)
    org = DemoOrg(city=city, counties={}, towns={}, units={}, stations={})
    org.units.update(
        {
            ("city", UnitKind.CITY_POLICE): city_police,
            ("city", UnitKind.CITY_PROCURATORATE): city_procu,
            ("city", UnitKind.INTERMEDIATE_COURT): mid_court,
            ("city", UnitKind.CITY_JUSTICE): city_justice,
            ("city", UnitKind.PRISON): prison,
            ("city", UnitKind.COMMITTEE): committee,
        }
    )
    for county in COUNTIES:
        _create_county(rng, org, county, password_hash)
    return org


def _create_county(rng: random.Random, org: DemoOrg, county: County, password_hash: str) -> None:
    slug = COUNTY_SLUG[county.name]
    region = Region.objects.create(code=county.code, name=county.name, level="county", parent=org.city)
    org.counties[county.name] = region
    towns = Region.objects.bulk_create(
        [
            Region(code=f"{county.code}{i:03d}", name=town.name, level="town", parent=region)
            for i, town in enumerate(county.towns, start=1)
        ]
    )
    org.towns[county.name] = towns
    parents = {
        UnitKind.POLICE_BRANCH: org.units[("city", UnitKind.CITY_POLICE)],
        UnitKind.PROCURATORATE: org.units[("city", UnitKind.CITY_PROCURATORATE)],
        UnitKind.BASIC_COURT: org.units[("city", UnitKind.INTERMEDIATE_COURT)],
        UnitKind.JUSTICE_BUREAU: org.units[("city", UnitKind.CITY_JUSTICE)],
        UnitKind.COMMITTEE: org.units[("city", UnitKind.COMMITTEE)],
    }
    names = {
        UnitKind.POLICE_BRANCH: county.police,
        UnitKind.PROCURATORATE: county.procuratorate,
        UnitKind.BASIC_COURT: county.court,
        UnitKind.JUSTICE_BUREAU: county.justice,
        UnitKind.COMMITTEE: county.committee,
    }
    letters = {
        UnitKind.POLICE_BRANCH: "P",
        UnitKind.PROCURATORATE: "J",
        UnitKind.BASIC_COURT: "F",
        UnitKind.JUSTICE_BUREAU: "S",
        UnitKind.COMMITTEE: "C",
    }
    for kind, name in names.items():
        unit = _unit(letters[kind] + county.code, name, kind, region, parents[kind])
        org.units[(county.name, kind)] = unit
        _staff(rng, unit, slug, password_hash)
    justice = org.units[(county.name, UnitKind.JUSTICE_BUREAU)]
    corrections = _unit("R" + county.code, county.corrections, UnitKind.CORRECTIONS, region, justice)
    org.units[(county.name, UnitKind.CORRECTIONS)] = corrections
    _staff(rng, corrections, slug, password_hash)
    branch = org.units[(county.name, UnitKind.POLICE_BRANCH)]
    jail_name = (f"{CITY.name}{county.name}" if county.kind == "区" else county.name) + "看守所"
    jail = _unit("K" + county.code, jail_name, UnitKind.DETENTION_HOUSE, region, branch)
    org.units[(county.name, UnitKind.DETENTION_HOUSE)] = jail
    _staff(rng, jail, slug, password_hash)
    stations = []
    for i, (town, town_region) in enumerate(zip(county.towns, towns, strict=True), start=1):
        station = _unit(
            f"P{county.code}{i:03d}",
            f"{branch.name}{town.short}派出所",
            UnitKind.POLICE_STATION,
            town_region,
            branch,
        )
        stations.append(station)
        office = _unit(
            f"S{county.code}{i:03d}",
            f"{justice.name}{town.short}司法所",
            UnitKind.JUSTICE_OFFICE,
            town_region,
            justice,
        )
        if i <= 2:  # named staff in the first stations and offices; the rest are there for the tree
            _staff(rng, station, slug, password_hash, station_index=i)
            _staff(rng, office, slug, password_hash, station_index=i)
    org.stations[county.name] = stations
