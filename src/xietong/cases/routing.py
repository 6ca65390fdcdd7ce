"""Which unit receives a transfer: the counterpart of the same county (同级), the city's
intermediate court for 二审, and for 交付执行 the executing unit of the sentence (prison, 看守所, or
the community corrections of the offender's residence, 社区矫正法第17条; ``execution.placement``)."""

from __future__ import annotations

from xietong import fastsql
from xietong.cases.models import Case
from xietong.cases.procedure import Target
from xietong.errors import Conflict
from xietong.orgs.models import Unit, UnitKind


def _unit_in_county(case: Case, kind: str) -> Unit | None:
    found = fastsql.fetch_models(
        Unit, "WHERE {t}.kind = %s AND {t}.region_id = %s ORDER BY {t}.id LIMIT 1", [kind, case.county_id]
    )
    return found[0] if found else None


def _case_unit(case: Case, field: str) -> Unit | None:
    """``case.<field>`` (a unit), read with hand-written SQL when not loaded yet."""
    if getattr(Case, field).is_cached(case):
        cached: Unit | None = getattr(case, field)
        return cached
    unit_id = getattr(case, f"{field}_id")
    if unit_id is None:
        return None
    found = fastsql.fetch_models(Unit, "WHERE {t}.id = %s", [unit_id])
    if found:
        setattr(case, field, found[0])
        return found[0]
    missing: Unit | None = getattr(case, field)  # cannot happen (PROTECT): the ORM raises as it would
    return missing


def resolve_target(case: Case, target: Target) -> Unit:
    unit: Unit | None
    if target == Target.PROCURATORATE:
        unit = _case_unit(case, "procuratorate_unit") or _unit_in_county(case, UnitKind.PROCURATORATE)
        unit = unit or Unit.objects.filter(kind=UnitKind.CITY_PROCURATORATE).first()
    elif target == Target.COURT:
        unit = _unit_in_county(case, UnitKind.BASIC_COURT)
    elif target == Target.UPPER_COURT:
        unit = Unit.objects.filter(kind=UnitKind.INTERMEDIATE_COURT).order_by("id").first()
    elif target == Target.ORIGINAL_COURT:
        unit = case.court_unit
    elif target == Target.POLICE:
        unit = _case_unit(case, "police_unit")
    else:  # EXECUTION: the unit placed when the judgment took effect (execution.placement)
        from xietong.execution.services import executing_unit

        unit = executing_unit(case)
    if unit is None:
        raise Conflict("未找到接收单位，请联系系统管理员配置单位", code="no_receiving_unit")
    return unit
