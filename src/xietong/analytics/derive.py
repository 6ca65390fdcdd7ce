"""A case's facts from its row, its suspects and its ledger entries (pure: no Django, no database).

The ledger is the source of every date: the act that moved the case is recorded with the server's
time (``servertime``), so 立案、移送审查起诉、起诉、宣判 and 办结 are read off it rather than off fields
someone could edit. The durations are those the seed's 政法委 tracks (立案→起诉→判决: "from two
months and more to about one").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from xietong.library import extract

# Acts that conclude a case (刑诉法第200条 判决, 第177条 不起诉, 第16条/第163条 撤销案件).
CONCLUDING = frozenset({"judgment_effective", "decide_appeal", "not_prosecute", "withdraw"})
CUSTODY_ACTS = frozenset({"detain", "approve_arrest", "deliver_to_jail"})
CUSTODY_NOW = frozenset({"detained", "arrested", "serving"})
JUDGED_STAGES = frozenset({"effective", "execution", "closed"})


@dataclass(frozen=True, slots=True)
class Entry:
    action: str
    at: datetime
    actor_id: int | None


@dataclass(frozen=True, slots=True)
class Suspect:
    party_id: int
    name: str
    gender: str
    id_number: str
    birth_date: date | None
    custody: str


def person_key(*, id_number: str, name: str, birth_date: date | None) -> str:
    """The same key for the same person in any case: his ID number, else name and birth date (a
    fictitious-name collision is far less likely than a missing number). Hashed: facts carry no names."""
    basis = id_number.strip().upper() or f"{name.strip()}|{birth_date.isoformat() if birth_date else ''}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _first(entries: Sequence[Entry], *actions: str) -> Entry | None:
    return next((e for e in entries if e.action in actions), None)


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return round((end - start).total_seconds() / 86400, 2)


def outcome(stage: str, verdict: Mapping[str, Any] | None) -> str:
    if stage in JUDGED_STAGES:
        return "convicted" if (verdict or {}).get("guilty", True) else "acquitted"
    if stage == "not_prosecuted":
        return "not_prosecuted"
    if stage == "withdrawn":
        return "withdrawn"
    return "pending"


def case_fact(
    case: Mapping[str, Any],
    entries: Sequence[Entry],
    suspects: Sequence[Suspect],
    *,
    overdue: int,
    tz: tzinfo,
) -> dict[str, Any]:
    """The ``CaseFact`` field values of one case (``entries`` in ledger order)."""

    def day(moment: datetime | None) -> date | None:
        return moment.astimezone(tz).date() if moment is not None else None

    register = _first(entries, "register")
    registered_at: datetime = register.at if register else case["created_at"]
    transfer = _first(entries, "transfer_for_prosecution")
    decision = _first(entries, "indict", "not_prosecute")
    indict = _first(entries, "indict")
    pronounce = _first(entries, "pronounce")
    arrest = _first(entries, "approve_arrest")
    concluded = outcome(case["stage"], case["verdict"]) != "pending"
    conclusion = next((e for e in reversed(entries) if e.action in CONCLUDING), None) if concluded else None
    verdict = case["verdict"] or {}
    occurred = case["occurred_at"].astimezone(tz)
    registered_on = registered_at.astimezone(tz).date()
    custody = any(e.action in CUSTODY_ACTS for e in entries) or any(
        s.custody in CUSTODY_NOW for s in suspects
    )
    return {
        "case_id": case["id"],
        "county_id": case["county_id"],
        "town_id": case["town_id"],
        "charge": case["charge"],
        "stage": case["stage"],
        "outcome": outcome(case["stage"], case["verdict"]),
        "occurred_on": occurred.date(),
        "occurred_hour": occurred.hour,
        "registered_on": registered_on,
        "month": registered_on.replace(day=1),
        "arrested_on": day(arrest.at if arrest else None),
        "transferred_on": day(transfer.at if transfer else None),
        "indicted_on": day(indict.at if indict else None),
        "judged_on": day(pronounce.at if pronounce else None),
        "concluded_on": day(conclusion.at if conclusion else None),
        "days_investigation": _days(registered_at, transfer.at if transfer else None),
        "days_review": _days(transfer.at if transfer else None, decision.at if decision else None),
        "days_trial": _days(indict.at if indict else None, pronounce.at if pronounce else None),
        "days_total": _days(registered_at, conclusion.at if conclusion else None),
        "supplementary_count": case["supplementary_count"],
        "remand_count": case["remand_count"],
        "extension_count": sum(1 for e in entries if e.action == "extend_custody"),
        "overdue_count": overdue,
        "defendants": max(len(suspects), 1),
        "in_custody": custody,
        "plea": case["plea"],
        "amount_yuan": _amount(case["facts"]),
        "penalty_kind": str(verdict.get("penalty") or "") if verdict.get("guilty") else "",
        "penalty_months": int(verdict.get("months") or 0) or None if verdict.get("guilty") else None,
        "police_unit_id": case["police_unit_id"],
        "procuratorate_unit_id": case["procuratorate_unit_id"],
        "court_unit_id": case["court_unit_id"],
        "police_handler_id": _actor(entries, "transfer_for_prosecution", "register"),
        "prosecutor_id": _actor(entries, "indict", "not_prosecute"),
        "judge_id": _actor(entries, "pronounce"),
        "ledger_seq": case["ledger_seq"],
        "version": case["version"],
    }


def _actor(entries: Sequence[Entry], *actions: str) -> int | None:
    for action in actions:  # in order of preference, not of time
        entry = _first(entries, action)
        if entry is not None and entry.actor_id is not None:
            return entry.actor_id
    return None


def _amount(facts: str) -> int | None:
    money = extract.amounts(facts).money_yuan
    return round(money) if money else None


def person_facts(fact: Mapping[str, Any], suspects: Sequence[Suspect]) -> list[dict[str, Any]]:
    """The ``PersonFact`` field values of a case's suspects; age is at the time of the offence."""
    occurred: date = fact["occurred_on"]
    rows = []
    for s in suspects:
        age = None
        if s.birth_date is not None:
            age = (
                occurred.year
                - s.birth_date.year
                - ((occurred.month, occurred.day) < (s.birth_date.month, s.birth_date.day))
            )
        rows.append(
            {
                "party_id": s.party_id,
                "case_id": fact["case_id"],
                "person_key": person_key(id_number=s.id_number, name=s.name, birth_date=s.birth_date),
                "gender": s.gender,
                "age": age if age is not None and 0 <= age < 130 else None,
                "charge": fact["charge"],
                "town_id": fact["town_id"],
                "registered_on": fact["registered_on"],
                "repeat": False,  # set over all cases by services._mark_repeaters
            }
        )
    return rows
