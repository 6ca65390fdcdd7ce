"""Test data: a small city (two counties) built with factory_boy, never fixture files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from xietong.cases import services
from xietong.orgs.models import Appointment, Region, Unit, User

PASSWORD = "test-pass-2026"
_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:
        _HASH.append(make_password(PASSWORD))
    return _HASH[0]


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"R{n:06d}")
    name = factory.Sequence(lambda n: f"区划{n}")
    level = "town"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"U{n:06d}")
    name = factory.Sequence(lambda n: f"单位{n}")
    kind = "police_branch"
    level = "county"
    region = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"人员{n}")
    password = factory.LazyFunction(password_hash)

    @factory.post_generation
    def duties(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        for duty in extracted or ["handler"]:
            Appointment.objects.create(user=self, duty=duty)


@dataclass
class County:
    region: Region
    towns: list[Region]
    police: Unit
    station: Unit
    procuratorate: Unit
    court: Unit
    corrections: Unit
    office: Unit  # the 司法所 of the first town
    jail: Unit  # 看守所
    users: dict[str, User] = field(default_factory=dict)


@dataclass
class City:
    region: Region
    committee: Unit
    city_police: Unit
    city_procuratorate: Unit
    mid_court: Unit
    counties: dict[str, County]
    users: dict[str, User]

    def u(self, name: str) -> User:
        if name in self.users:
            return self.users[name]
        county, _, role = name.partition(".")
        return self.counties[county].users[role]


def _staff(unit: Unit, roles: dict[str, list[str]], prefix: str) -> dict[str, User]:
    return {
        role: UserFactory(
            username=f"{prefix}{role}", full_name=f"{unit.name}{role}", unit=unit, duties=duties
        )
        for role, duties in roles.items()
    }


def build_city() -> City:
    city = RegionFactory(code="320500", name="苏州市", level="city")
    committee = UnitFactory(code="C1", name="市委政法委", kind="committee", level="city", region=city)
    city_police = UnitFactory(code="P1", name="市公安局", kind="city_police", level="city", region=city)
    city_procu = UnitFactory(
        code="J1", name="市人民检察院", kind="city_procuratorate", level="city", region=city
    )
    mid_court = UnitFactory(
        code="F1", name="市中级人民法院", kind="intermediate_court", level="city", region=city
    )
    prison = UnitFactory(code="SJ1", name="江苏省苏州监狱", kind="prison", level="city", region=city)
    users = {
        "prison": UserFactory(username="prison", unit=prison, duties=["handler"]),
        "admin": UserFactory(username="admin", full_name="管理员", unit=committee, duties=["admin"]),
        "librarian": UserFactory(
            username="librarian", full_name="案例库管理员", unit=committee, duties=["librarian"]
        ),
        "committee": UserFactory(
            username="committee", full_name="政法委督查", unit=committee, duties=["leader"]
        ),
        "city_police_leader": UserFactory(username="city_police_leader", unit=city_police, duties=["leader"]),
        "mid_judge": UserFactory(username="mid_judge", unit=mid_court, duties=["handler"]),
        "mid_leader": UserFactory(username="mid_leader", unit=mid_court, duties=["leader"]),
    }
    counties = {}
    for slug, code, name in (("gusu", "320508", "姑苏区"), ("wuzhong", "320506", "吴中区")):
        region = RegionFactory(code=code, name=name, level="county", parent=city)
        towns = [
            RegionFactory(code=f"{code}{i:03d}", name=f"{name}街道{i}", level="town", parent=region)
            for i in (1, 2)
        ]
        police = UnitFactory(
            code=f"P{code}", name=f"{name}公安分局", kind="police_branch", region=region, parent=city_police
        )
        station = UnitFactory(
            code=f"P{code}001",
            name=f"{name}派出所",
            kind="police_station",
            level="town",
            region=towns[0],
            parent=police,
        )
        procu = UnitFactory(
            code=f"J{code}", name=f"{name}人民检察院", kind="procuratorate", region=region, parent=city_procu
        )
        court = UnitFactory(
            code=f"F{code}", name=f"{name}人民法院", kind="basic_court", region=region, parent=mid_court
        )
        corrections = UnitFactory(
            code=f"R{code}", name=f"{name}社区矫正管理局", kind="corrections", region=region
        )
        office = UnitFactory(
            code=f"S{code}001",
            name=f"{name}街道1司法所",
            kind="justice_office",
            level="town",
            region=towns[0],
            parent=corrections,
        )
        jail = UnitFactory(
            code=f"K{code}", name=f"{name}看守所", kind="detention_house", region=region, parent=police
        )
        county = County(region, towns, police, station, procu, court, corrections, office, jail)
        county.users.update(_staff(police, {"police": ["handler"], "police_leader": ["leader"]}, f"{slug}_"))
        county.users.update(
            _staff(station, {"station": ["handler"], "station_leader": ["leader"]}, f"{slug}_")
        )
        county.users.update(_staff(procu, {"procu": ["handler"], "procu_leader": ["leader"]}, f"{slug}_"))
        county.users.update(
            _staff(court, {"judge": ["handler"], "clerk": ["clerk"], "court_leader": ["leader"]}, f"{slug}_")
        )
        county.users.update(_staff(corrections, {"corrections": ["corrections_officer"]}, f"{slug}_"))
        county.users.update(_staff(office, {"office": ["corrections_officer"]}, f"{slug}_"))
        county.users.update(_staff(jail, {"jail": ["handler"], "jail_leader": ["leader"]}, f"{slug}_"))
        counties[slug] = county
    return City(city, committee, city_police, city_procu, mid_court, counties, users)


def register_input(
    city: City, county: str = "gusu", parties: int = 1, **overrides: object
) -> services.RegisterInput:
    town = city.counties[county].towns[0]
    data = services.RegisterInput(
        charge="盗窃罪",
        facts="2026年某日，犯罪嫌疑人在某小区内盗窃电动自行车一辆，价值人民币三千元。",
        occurred_at=timezone.now() - timedelta(days=2),
        town_id=town.pk,
        place="某小区",
        parties=[
            services.PartyInput(
                name=f"张{i}", gender="男", address=f"江苏省苏州市{town.parent.name}{town.name}幸福路{i}号"
            )
            for i in range(1, parties + 1)
        ],
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def register_case(city: City, county: str = "gusu", parties: int = 1, **overrides: object) -> int:
    result = services.case_register(
        user=city.u(f"{county}.police_leader"), data=register_input(city, county, parties, **overrides)
    )
    assert result.case is not None
    return result.case.pk


def system_client(
    unit: Unit, duties: list[str] | None = None, *, require_signature: bool = False, name: str = ""
) -> tuple[str, str]:
    """An agency system registered for ``unit``: returns ``(client_id, client_secret)``."""
    from xietong.clients.services import client_create

    issued = client_create(
        unit=unit,
        name=name or f"{unit.name}业务系统",
        duties=duties or ["handler", "leader"],
        require_signature=require_signature,
    )
    return issued.client.client_id, issued.secret
