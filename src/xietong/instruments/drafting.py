"""The text of a draft: the catalogue's body template filled from case data. Read-only."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.template import Context, Engine

from xietong.cases.models import Case, Party
from xietong.instruments.catalogue import COURT, POLICE, PROCURATORATE, Kind
from xietong.orgs.models import Unit

_ENGINE = Engine(builtins=["django.template.defaultfilters"], autoescape=False)
_PENALTY = {
    "fine": "罚金",
    "control": "管制",
    "criminal_detention": "拘役",
    "fixed_term": "有期徒刑",
    "life": "无期徒刑",
}


def date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _term(months: int) -> str:
    years, rest = divmod(months, 12)
    return (f"{years}年" if years else "") + (f"{rest}个月" if rest else "")


def verdict_text(case: Case) -> str:
    v = case.verdict or {}
    if not v:
        return "（判决内容）"
    charges = "、".join(v.get("charges") or [case.charge])
    if not v.get("guilty", True):
        return "被告人无罪。"
    penalty = v.get("penalty")
    if penalty == "none":
        return f"被告人犯{charges}，免予刑事处罚。"
    if penalty in {"fine", "life"}:
        return f"被告人犯{charges}，判处{_PENALTY[penalty]}。"
    text = f"被告人犯{charges}，判处{_PENALTY.get(str(penalty), '')}{_term(int(v.get('months') or 0))}"
    if v.get("probation_months"):
        text += f"，缓刑{_term(int(v['probation_months']))}"
    return text + "。"


def person_line(p: Party) -> str:
    """「程某某，男，1990年1月1日出生，公民身份号码……，住……。」 with whatever is known."""
    parts = [p.name]
    if p.gender:
        parts.append(p.gender)
    if p.birth_date:
        parts.append(f"{date_text(p.birth_date)}出生")
    if p.id_number:
        parts.append(f"公民身份号码{p.id_number}")
    if p.address:
        parts.append(f"住{p.address}")
    return "，".join(parts) + "。"


def recipient_unit(case: Case, kind: Kind) -> Unit | None:
    target = {
        POLICE: case.police_unit,
        PROCURATORATE: case.procuratorate_unit,
        COURT: case.court_unit,
        "execution": case.execution_unit,
    }
    return target.get(kind.serve_to or "")


def context_for(
    *,
    case: Case,
    kind: Kind,
    unit: Unit,
    receiver: Unit | None,
    parties: list[Party],
    reason: str,
    today: date,
    extra: dict[str, Any],
) -> dict[str, Any]:
    names = "、".join(p.name for p in parties) or "（姓名）"
    return {
        "case": case,
        "parties": parties,
        "persons": [person_line(p) for p in parties],
        "names": names,
        "charge": case.charge,
        "facts": case.facts,
        "unit": unit,
        "recipient": receiver.name if receiver else (kind.to_person or ""),
        "today": date_text(today),
        "reason": reason,
        "verdict_text": verdict_text(case),
        "verdict_reason": f"被告人{names}的行为构成{case.charge}，事实清楚，证据确实、充分。",
        **extra,
    }


def fill(template: str, context: dict[str, Any]) -> str:
    return _ENGINE.from_string(template).render(Context(context)).strip()
