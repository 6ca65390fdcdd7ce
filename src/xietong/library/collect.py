"""A concluded platform case as a library record: assembled from the case, its parties, its
sealed instruments and its ledger (who decided what, when), so nobody types a case summary.

Read only; ``services.records_from_cases`` writes what this returns."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.utils import timezone

from xietong.cases.models import Case
from xietong.cases.procedure import ACTIONS, PENALTY_LABELS, STAGE_LABELS, Stage
from xietong.instruments.models import Instrument, InstrumentStatus
from xietong.ledger.models import LedgerEntry
from xietong.library import extract
from xietong.library.models import Outcome
from xietong.library.records import RecordInput

# The platform's penalty codes (``procedure.Verdict``) in the library's vocabulary (``extract.Penalty``).
PENALTY_KINDS = {
    "none": "exempt",
    "fine": "fine_only",
    "control": "public_surveillance",
    "criminal_detention": "criminal_detention",
    "fixed_term": "fixed_term",
    "life": "life",
}
# The instruments whose text says what each agency decided, in the order of the procedure.
DECISION_INSTRUMENTS = ("起诉意见书", "起诉书", "不起诉决定书", "撤销案件决定书", "刑事判决书", "刑事裁定书")
_OUTCOMES = {
    Stage.EFFECTIVE: Outcome.JUDGMENT,
    Stage.EXECUTION: Outcome.JUDGMENT,
    Stage.CLOSED: Outcome.JUDGMENT,
    Stage.NOT_PROSECUTED: Outcome.NOT_PROSECUTED,
    Stage.WITHDRAWN: Outcome.WITHDRAWN,
}


CONCLUDED_STAGES = tuple(s.value for s in _OUTCOMES)


def outcome_of(stage: str) -> Outcome | None:
    """How a case in ``stage`` concluded (None while it runs)."""
    return _OUTCOMES.get(Stage(stage))


def _months_text(months: int) -> str:
    years, rest = divmod(months, 12)
    return (f"{years}年" if years else "") + (f"{rest}个月" if rest else "")


def penalty_of(verdict: dict[str, Any] | None) -> dict[str, Any] | None:
    if not verdict:
        return None
    if not verdict.get("guilty"):
        return {"kind": "acquittal", "months": None, "probation_months": None, "label": "无罪"}
    code = str(verdict.get("penalty") or "none")
    months = int(verdict.get("months") or 0) or None
    probation = int(verdict.get("probation_months") or 0) or None
    label = PENALTY_LABELS.get(code, code) + (_months_text(months) if months else "")
    if probation:
        label += "，缓刑" + _months_text(probation)
    return {
        "kind": PENALTY_KINDS.get(code, code),
        "months": months,
        "probation_months": probation,
        "label": label,
    }


def _stages(entries: list[LedgerEntry]) -> list[dict[str, Any]]:
    """How long the case spent in each stage: from the act that moved it in to the next such act."""
    starts: list[tuple[str, datetime]] = []
    for entry in entries:
        spec = ACTIONS.get(entry.action)
        if entry.action == "register":
            starts.append((Stage.INVESTIGATION.value, entry.recorded_at))
        elif spec is not None and spec.to_stage is not None:
            starts.append((spec.to_stage.value, entry.recorded_at))
    out = []
    for (stage, start), (_, end) in zip(starts, [*starts[1:], (None, None)], strict=True):
        days = (end - start).total_seconds() / 86400 if end is not None else None
        out.append(
            {
                "stage": stage,
                "label": STAGE_LABELS.get(Stage(stage), stage),
                "from": timezone.localtime(start).date().isoformat(),
                "days": round(days, 1) if days is not None else None,
            }
        )
    return out


def _decisions(entries: list[LedgerEntry]) -> list[dict[str, Any]]:
    """The procedural acts (立案, 逮捕, 起诉, 宣判 …) and receipts, not the paperwork in between."""
    out = []
    for entry in entries:
        if entry.action not in ACTIONS and entry.action not in {"accept", "return"}:
            continue
        try:
            payload = json.loads(entry.payload)
        except ValueError:
            payload = {}
        out.append(
            {
                "on": timezone.localtime(entry.recorded_at).date().isoformat(),
                "unit": entry.unit_name,
                "act": payload.get("label") or entry.action,
                "by": entry.actor_name,
            }
        )
    return out


def case_record(case_id: int) -> tuple[RecordInput, str] | None:
    """The record of a concluded case, or None while it has not concluded."""
    case = (
        Case.objects.select_related("county", "court_unit", "procuratorate_unit", "police_unit")
        .filter(pk=case_id)
        .first()
    )
    if case is None or Stage(case.stage) not in _OUTCOMES:
        return None
    outcome = _OUTCOMES[Stage(case.stage)]
    instruments = {
        i.kind: i
        for i in Instrument.objects.filter(
            case=case, kind__in=DECISION_INSTRUMENTS, status=InstrumentStatus.SEALED
        ).order_by("sealed_at")
    }
    entries = list(LedgerEntry.objects.filter(case_id=case.pk).order_by("seq"))
    verdict = case.verdict if outcome == Outcome.JUDGMENT else None
    penalty = penalty_of(verdict)
    charges = list((verdict or {}).get("charges") or []) or [case.charge]
    parties = list(case.parties.order_by("ordinal"))
    role = "被告人" if outcome == Outcome.JUDGMENT else "犯罪嫌疑人"
    reasoning = "\n".join(
        i.body for kind in DECISION_INSTRUMENTS if (i := instruments.get(kind)) is not None and i.body
    )
    judgment = ""
    if outcome == Outcome.JUDGMENT and penalty is not None:
        names = "、".join(p.name for p in parties)
        judgment = (
            f"被告人{names}无罪。"
            if penalty["kind"] == "acquittal"
            else f"被告人{names}犯{'、'.join(charges)}，判处{penalty['label']}。"
        )
    elif outcome == Outcome.NOT_PROSECUTED:
        judgment = f"对犯罪嫌疑人{'、'.join(p.name for p in parties)}不起诉。"
    else:
        judgment = "撤销案件。"
    text = f"{case.facts}\n{reasoning}"
    circumstances = extract.circumstances(text)
    if case.plea and "认罪认罚" not in circumstances:
        circumstances.append("认罪认罚")
    amounts = extract.amounts(case.facts)
    concluded = entries[-1].recorded_at if entries else case.updated_at
    record = RecordInput(
        external_id=case.number,
        title=case.title,
        document_name={
            Outcome.JUDGMENT: "刑事判决书",
            Outcome.NOT_PROSECUTED: "不起诉决定书",
            Outcome.WITHDRAWN: "撤销案件决定书",
        }[outcome],
        court=case.court_unit.name if case.court_unit else "",
        region=case.county.name,
        year=timezone.localtime(concluded).year,
        facts=case.facts,
        reasoning=reasoning,
        judgment=judgment,
        charges=charges,
        articles=extract.articles(reasoning),
        circumstances=circumstances,
        penalty=penalty,
        money_yuan=amounts.money_yuan,
        drug_grams=amounts.drug_grams,
        details={
            "defendants": [p.name for p in parties],
            "parties": [{"role": role, "name": p.name, "gender": p.gender} for p in parties],
            "amounts": {
                "money_yuan": amounts.money_yuan,
                "drug_grams": amounts.drug_grams,
                "drug": amounts.drug,
                "injury": amounts.injury,
            },
            "units": {
                "police": case.police_unit.name,
                "procuratorate": case.procuratorate_unit.name if case.procuratorate_unit else "",
                "court": case.court_unit.name if case.court_unit else "",
            },
            "decisions": _decisions(entries),
            "stages": _stages(entries),
            "plea": case.plea,
            "trial_procedure": case.trial_procedure,
        },
    )
    return record, outcome.value
