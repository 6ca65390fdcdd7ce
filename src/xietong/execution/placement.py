"""Where a sentence is executed: the unit of each executing body for a case and a person.

社区矫正法第17条: community corrections are executed where the offender lives (经常居住地); the
platform reads the town out of the recorded address and finds that county's 社区矫正机构 and the
town's 司法所. A prison term goes to the prison (刑诉法第264条第2款), a short remainder or 拘役 to the
看守所 of the county, a fine to the court that tried the case (第271条)."""

from __future__ import annotations

from dataclasses import dataclass

from xietong.cases.models import Case
from xietong.orgs.models import Level, Region, Unit, UnitKind


def town_of_address(address: str) -> Region | None:
    """The town (镇、街道) an address lies in, when it names both the county and the town; the most
    specific match wins (a town name that is a prefix of another loses to the longer one)."""
    if not address:
        return None
    best: Region | None = None
    for town in Region.objects.filter(level=Level.TOWN).select_related("parent").order_by("code"):
        county = town.parent
        if county is None or county.name not in address or town.name not in address:
            continue
        if best is None or len(town.name) > len(best.name):
            best = town
    return best


@dataclass(frozen=True)
class Placement:
    unit: Unit | None
    office: Unit | None = None  # the 司法所 of the offender's town (community corrections only)
    residence: Region | None = None
    problem: str = ""  # why no unit was found, in Chinese, for the user or the alert


def place(body: str, *, case: Case, address: str) -> Placement:
    """The executing unit for ``body`` (an ``execution.models.Body`` value)."""
    if body == "corrections":
        town = town_of_address(address)
        if town is None:
            return Placement(
                None,
                problem=f"住址「{address or '未登记'}」不能对应到本市的镇（街道），无法确定执行地社区矫正机构"
                "（社区矫正法第17条），请核实被告人居住地",
            )
        corrections = (
            Unit.objects.filter(kind=UnitKind.CORRECTIONS, region__children=town).order_by("id").first()
        )
        office = Unit.objects.filter(kind=UnitKind.JUSTICE_OFFICE, region=town).order_by("id").first()
        if corrections is None:
            return Placement(
                None,
                residence=town,
                problem=f"{town.parent.name if town.parent else ''}没有社区矫正机构，无法交付执行",
            )
        return Placement(corrections, office, town)
    if body == "prison":
        prison = Unit.objects.filter(kind=UnitKind.PRISON).order_by("id").first()
        return Placement(prison, problem="" if prison else "平台未配置监狱，无法交付执行")
    if body == "detention_house":
        jail = (
            Unit.objects.filter(kind=UnitKind.DETENTION_HOUSE, region_id=case.county_id)
            .order_by("id")
            .first()
        )
        if jail is None:  # 拘役 is executed by the public security (刑诉法第264条第2款)
            jail = (
                Unit.objects.filter(kind=UnitKind.POLICE_BRANCH, region_id=case.county_id)
                .order_by("id")
                .first()
            )
        return Placement(jail, problem="" if jail else "本县区没有看守所或公安机关，无法交付执行")
    if body == "court":
        return Placement(Unit.objects.filter(pk=case.court_unit_id or 0).first())
    return Placement(None)
