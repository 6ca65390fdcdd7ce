"""The rules engine's vocabulary (pure: no Django). A rule is a function of one case's history — its
ledger entries and its clocks — that returns findings; the engine (``supervision.engine``) feeds it
histories as acts arrive and over the whole ledger, and turns findings into alerts.

A rule is registered with ``@rule(...)`` in any module listed in ``RULE_MODULES`` (or imported by
one), so a new rule is a new function, not a change to the engine. Registration checks what it can
check before a single case is read: the code is new, the kind is an alert kind, and every ledger
action the rule reads is one the platform writes — a rule that listens for an event that never
happens would otherwise sit silent for ever.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from xietong.cases.procedure import ACTIONS
from xietong.execution.custody import Kind as CustodyKind

# Ledger actions written outside the procedure table: the inbox, the file, instruments, reports,
# hearings, execution's custody events, the message board, case review and supervision itself.
# ``tests/supervision/test_known_actions.py`` reads every ``ledger_append`` call in the code and
# fails on an action missing here, so an app that adds one cannot be forgotten.
OTHER_ACTIONS = frozenset(
    {
        "accept", "return", "catalogue_revise", "volume_upload", "evidence_upload",
        "instrument_draft", "instrument_source", "instrument_submit", "instrument_approve",
        "instrument_reject", "instrument_seal", "instrument_opened", "instrument_receipt",
        "instrument_change_request", "instrument_change_decide",
        "report_create", "report_finalise", "hearing_open", "hearing_advice", "hearing_advice_ack",
        "hearing_present", "hearing_cross", "hearing_ruling", "hearing_turn", "hearing_note",
        "corrections_plan", "alert_response",
        "board_open", "board_post", "board_answer", "board_close",
        "quality_defect", "quality_review", "quality_answer", "case_import",
    }
)  # fmt: skip
KNOWN_ACTIONS = (
    frozenset(ACTIONS)
    | {f"request:{code}" for code in ACTIONS}
    | {f"reject:{code}" for code in ACTIONS}
    | {kind.value for kind in CustodyKind}
    | OTHER_ACTIONS
)

# Modules whose ``@rule`` functions are in force (settings may extend the list).
RULE_MODULES = ("xietong.supervision.rules.catalogue",)


class RuleError(ValueError):
    """A rule that cannot be registered; the message is for the developer who wrote it."""


@dataclass(slots=True)
class Entry:
    """One ledger entry as rules see it: the payload is parsed once, and only when a rule asks (a
    re-evaluation of the whole ledger parses only the entries some rule looks into)."""

    seq: int
    action: str
    recorded_at: datetime
    actor_id: int | None
    unit_id: int | None
    payload_text: str
    _parsed: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def payload(self) -> dict[str, Any]:
        if self._parsed is None:
            try:
                value = json.loads(self.payload_text) if self.payload_text else {}
            except ValueError:
                value = {}
            self._parsed = value if isinstance(value, dict) else {}
        return self._parsed


@dataclass(frozen=True, slots=True)
class ClockRow:
    id: int
    rule: str
    unit_id: int
    party_id: int | None
    started_at: datetime
    due_at: datetime
    in_custody: bool
    status: str
    stopped_at: datetime | None


@dataclass(slots=True)
class CaseHistory:
    """What rules read of one case: the entries of the actions they asked for, in chain order, and
    all its clocks. ``now`` is the server time of the evaluation (for clocks still running)."""

    case_id: int
    number: str
    entries: list[Entry]
    clocks: list[ClockRow]
    now: datetime
    tz: tzinfo  # the platform's time zone: dates in rules and messages are its calendar days

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def of(self, *actions: str) -> list[Entry]:
        return [e for e in self.entries if e.action in actions]


@dataclass(frozen=True, slots=True)
class Finding:
    """One abnormality. ``key`` names it for good: evaluating the same history again finds the same
    key, and an alert is raised once per key."""

    key: str
    message: str
    unit_id: int | None
    user_id: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None  # overrides the rule's


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    severity: str
    title: str
    norm: str  # the article or regulation the rule enforces, shown with every alert
    reads: frozenset[str]  # ledger actions the rule looks at
    clocks: bool  # whether it reads the case's clocks
    check: Callable[[CaseHistory], Iterable[Finding]]


REGISTRY: dict[str, Rule] = {}
SEVERITIES = ("notice", "warning", "serious")


def rule(
    *,
    code: str,
    kind: str,
    severity: str,
    title: str,
    norm: str,
    reads: Iterable[str] = (),
    clocks: bool = False,
) -> Callable[[Callable[[CaseHistory], Iterable[Finding]]], Callable[[CaseHistory], Iterable[Finding]]]:
    """Register the decorated function as rule ``code``. Refuses unknown actions and kinds."""

    def register(
        check: Callable[[CaseHistory], Iterable[Finding]],
    ) -> Callable[[CaseHistory], Iterable[Finding]]:
        REGISTRY[code] = validate(
            Rule(code, kind, severity, title, norm, frozenset(reads), clocks, check), existing=REGISTRY
        )
        return check

    return register


def validate(candidate: Rule, *, existing: dict[str, Rule], kinds: Iterable[str] | None = None) -> Rule:
    """Check a rule before it is used; ``kinds`` defaults to the alert kinds of the models module,
    which is passed in by the engine (this module stays free of Django)."""
    taken = candidate.code in existing and existing[candidate.code].check is not candidate.check
    if not candidate.code or taken:
        raise RuleError(f"规则代码 {candidate.code!r} 为空或已被占用")
    unknown = sorted(candidate.reads - KNOWN_ACTIONS)
    if unknown:
        raise RuleError(f"规则 {candidate.code} 引用了不存在的事件：{'、'.join(unknown)}")
    if not candidate.reads and not candidate.clocks:
        raise RuleError(f"规则 {candidate.code} 既不读事件也不读期限，无从判断")
    if candidate.severity not in SEVERITIES:
        raise RuleError(f"规则 {candidate.code} 的等级 {candidate.severity!r} 不在 {SEVERITIES} 之中")
    if kinds is not None and candidate.kind not in set(kinds):
        raise RuleError(f"规则 {candidate.code} 的预警类型 {candidate.kind!r} 不存在")
    if not candidate.norm:
        raise RuleError(f"规则 {candidate.code} 须写明所依据的规范")
    return candidate


def load(modules: Iterable[str] = RULE_MODULES) -> dict[str, Rule]:
    """Import the rule modules (their ``@rule`` decorators register) and return the registry."""
    import importlib

    for name in modules:
        importlib.import_module(name)
    return REGISTRY


def evaluate(history: CaseHistory, rules: Iterable[Rule]) -> list[tuple[Rule, Finding]]:
    """Every finding of ``rules`` on one case, in rule order."""
    found: list[tuple[Rule, Finding]] = []
    for r in rules:
        found.extend((r, f) for f in r.check(history))
    return found
