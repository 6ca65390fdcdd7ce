"""The historic caseload of ``xietong bench rules``: the analytics bench's generator (``bench.analytics
.walk``), with abnormalities planted in a known random subset of its cases as it walks them.

Each plant is made the way the product would have recorded it, so the rules see exactly what they
would see in a real ledger: the payloads of ``cases.services._payload`` / ``_instrument_json`` and
``instruments.services._entry`` / ``instrument_change_decide``, the per-case hash chain (every entry
goes through the generator's ``_entry``, which chains it), clocks stopped by the act that stops them
in the product. A plant is recorded only once its entry or clock is written (a case cut by today
before it happened plants nothing):

=========================  ================================================================
rule                        what is planted
=========================  ================================================================
supplementary.third         three rounds of 退回补充侦查 → 重新移送 → 受理 after the first 受理
supplementary.hollow        a round whose 重新移送 comes 1–3 days after the 退回, nothing uploaded
extension.unapproved        an 延长侦查羁押期限 after the arrest receipt, its ``approved_by`` missing
backdate.claimed            an act whose instrument's ``claimed_date`` is 1–5 days before the
                            server's date (half of them also before the act it depends on)
instrument.changed          the 立案决定书 sealed, then 撤回/更正 asked for and approved
service.late                the 当庭宣判后送达判决书 clock (5 days) started at 宣判 and 送达 late
custody.overdue             移送审查起诉 after the 侦查羁押 clock (2 months, in custody) ran out
clock.overdue               起诉 after the 审查起诉 clock of a suspect on bail ran out
=========================  ================================================================
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from xietong.bench.analytics.caseload import LOCAL, Actor
from xietong.bench.analytics.walk import Generator, Walk, _Stop, utc_text
from xietong.cases.procedure import ACTIONS, HANDLERS

ENTRY_RULES = (
    "supplementary.third",
    "supplementary.hollow",
    "extension.unapproved",
    "backdate.claimed",
    "instrument.changed",
)
CLOCK_RULES = ("service.late", "custody.overdue", "clock.overdue")
PLANTED_RULES = ENTRY_RULES + CLOCK_RULES
# Share of the cases that reach each opportunity (arrested ≈ 0.2 of cases; 起诉 with a suspect on
# bail ≈ 0.45; 宣判 ≈ 0.6), so that about ``rate`` of all cases get each plant.
_REACH = {"extension.unapproved": 0.2, "custody.overdue": 0.2, "clock.overdue": 0.45, "service.late": 0.6}
_CUSTODY_CLOCKS = ("investigation_custody", "investigation_custody_ext1")
_REVIEW_CLOCKS = ("prosecution_review", "prosecution_review_fast")
_PROCEDURAL = frozenset(ACTIONS) | {"accept"}


class PlantingGenerator(Generator):
    """``Generator`` that plants ``rate`` of its cases with each abnormality (see the module)."""

    def __init__(self, *args: Any, rate: float, plant_seed: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rate = rate
        self.prng = random.Random(plant_seed)  # noqa: S311 (bench data); apart from the walk's own rng
        self.entry_keys: dict[str, set[str]] = defaultdict(set)  # rule → finding keys
        self.clock_plants: list[tuple[str, int, str, int | None, str]] = []  # rule, case, clock, party, start
        self.backdate_serious = 0
        self._plan: set[str] = set()
        self._state: dict[str, Any] = {}
        self._leaders: dict[int, Actor] = {}

    # -- per case

    def case(self, **kwargs: Any) -> dict[str, list[Any]]:
        chance = self.prng.random
        case_level = ("supplementary.third", "backdate.claimed", "instrument.changed")
        self._plan = {r for r in case_level if chance() < self.rate}
        if "supplementary.third" not in self._plan and chance() < self.rate:
            self._plan.add("supplementary.hollow")
        self._state = {}
        return super().case(**kwargs)

    def _opportunity(self, rule: str) -> bool:
        return self.prng.random() < min(1.0, self.rate / _REACH[rule])

    def _leader(self, unit: int) -> Actor:
        hit = self._leaders.get(unit)
        if hit is None:
            from xietong.ledger.services import actor_of

            staff = self.city.staff[unit]
            a = actor_of(staff.leader, preferred=["leader", "dept_head"])
            hit = self._leaders[unit] = Actor(a.user_id, a.name, a.duty, unit, staff.name)
        return hit

    def _push_past(self, w: Walk, due_at: datetime, low: float, high: float) -> None:
        """The act comes ``low``–``high`` days after ``due_at`` (raises ``_Stop`` past today)."""
        w.at = max(w.at, due_at + timedelta(days=self.prng.uniform(low, high)))
        if w.at >= self.now:
            raise _Stop

    def _clock_planted(self, rule: str, w: Walk, clock: list[Any]) -> None:
        self.clock_plants.append((rule, w.case_id, clock[0], clock[1], utc_text(clock[3])))

    # -- entries

    def _entry(self, w: Walk, action: str, actor: Actor, payload: dict[str, Any]) -> None:
        planted = None
        if action == "extend_custody" and self._state.get("unapproved"):
            payload.pop("approved_by", None)  # ``_payload`` leaves out a missing approver
            planted = "extension.unapproved"
        server_day = (w.at + LOCAL).date()
        if (
            "backdate.claimed" in self._plan
            and not self._state.get("backdated")
            and action != "register"
            and action in ACTIONS
            and isinstance(payload.get("instrument"), dict)
        ):
            before: date | None = self._state.get("last_day")
            if before is not None and self.prng.random() < 0.5:
                claimed = before - timedelta(days=self.prng.randint(1, 3))  # before the act it follows
            else:
                claimed = server_day - timedelta(days=self.prng.randint(1, 5))
            payload["instrument"] = {**payload["instrument"], "claimed_date": claimed.isoformat()}
            self._state["backdated"] = True
            self.backdate_serious += before is not None and claimed < before
            planted = "backdate.claimed"
        super()._entry(w, action, actor, payload)
        if action in _PROCEDURAL:
            self._state["last_day"] = server_day
        if planted is not None:
            self.entry_keys[planted].add(f"{planted}:{w.case_id}:{w.seq}")

    # -- acts

    def act(self, w: Walk, action: str, unit: int, **kwargs: Any) -> None:
        running = [c for c in w.clocks if c[6] is None]
        late: list[tuple[str, list[Any]]] = []
        if action == "transfer_for_prosecution":
            held = [c for c in running if c[0] in _CUSTODY_CLOCKS]
            if held and self._opportunity("custody.overdue"):
                self._push_past(w, max(c[5][1] for c in held), 1, 12)
                late = [("custody.overdue", c) for c in held]
        elif action == "indict":
            review = [c for c in running if c[0] in _REVIEW_CLOCKS and not c[4]]
            if review and self._opportunity("clock.overdue"):
                self._push_past(w, max(c[5][1] for c in review), 1, 10)
                late = [("clock.overdue", c) for c in review]
        elif action == "serve_judgment" and self._state.get("service_clock") is not None:
            clock = self._state.pop("service_clock")
            self._push_past(w, clock[5][1], 0.5, 4)
            late = [("service.late", clock)]
        super().act(w, action, unit, **kwargs)
        for rule, clock in late:
            self._clock_planted(rule, w, clock)
        if action == "register" and "instrument.changed" in self._plan:
            self._change_instrument(w, unit)
        elif action == "pronounce" and self._opportunity("service.late"):
            self.clock(w, "judgment_service_in_court", unit)  # the product starts it at 宣判
            self._state["service_clock"] = w.clocks[-1]
        elif action == "return_arrest_receipt" and self._opportunity("extension.unapproved"):
            self.wait(w, 40, 56)
            self._state["unapproved"] = True
            super().act(w, "extend_custody", w.crew.procu)
            self._state["unapproved"] = False
            for party in w.parties:
                self.clock(w, "investigation_custody_ext1", w.police, party)

    def clock(self, w: Walk, rule: str, unit: int, party: int | None = None) -> None:
        super().clock(w, rule, unit, party)
        if (
            rule in _REVIEW_CLOCKS
            and not self._state.get("rounds_done")
            and (self._plan & {"supplementary.third", "supplementary.hollow"})
        ):
            self._state["rounds_done"] = True
            self._rounds(w, rule, 3 if "supplementary.third" in self._plan else 1)

    def _rounds(self, w: Walk, rule: str, rounds: int) -> None:
        """退回补充侦查 → 重新移送 → 受理, ``rounds`` times, as the walk's own loop does them."""
        review = (2.0, 9.5) if w.fast_track else (6.0, 29.0)
        for k in range(rounds):
            self.wait(w, *review)
            w.supplementary += 1
            self.act(
                w,
                "return_for_supplementary",
                w.crew.procu,
                reason="证据不足，需补充被害人陈述及鉴定意见",
                to=w.police,
            )
            if k >= 2:
                self.entry_keys["supplementary.third"].add(f"supplementary.third:{w.case_id}:{w.seq}")
            self.clock(w, "supplementary_investigation", w.police)
            hollow = k == 0 and "supplementary.hollow" in self._plan
            if hollow:
                w.at += timedelta(days=self.prng.uniform(1, 3))
                if w.at >= self.now:
                    raise _Stop
            else:
                self.wait(w, 8, 29)
            self.act(w, "resubmit", w.police, to=w.crew.procu)
            if hollow:
                self.entry_keys["supplementary.hollow"].add(f"supplementary.hollow:{w.case_id}:{w.seq}")
            self.wait(w, 0.05, 1)
            self.accept(w)
            super().clock(w, rule, w.crew.procu)

    def _change_instrument(self, w: Walk, unit: int) -> None:
        """Seal the 立案决定书, then ask for its 撤回 or 更正 and approve it (``instruments.services``)."""
        kind = ACTIONS["register"].instrument
        instrument_id = self.instrument_id  # the one ``act`` just drafted for the registration
        year = (w.at + LOCAL).year
        number = f"苏公(刑)立字〔{year}〕{instrument_id % 100_000}号"
        ref = {"id": instrument_id, "kind": kind, "number": number}
        drafter = self.city.actor(unit, w.who, HANDLERS)
        leader = self._leader(unit)
        change = "withdraw" if self.prng.random() < 0.5 else "correct"
        reason = "犯罪嫌疑人身份信息有误" if change == "correct" else "立案决定书送达对象错误"
        digest = hashlib.sha256(f"{w.case_id}:{instrument_id}".encode()).hexdigest()
        steps: list[tuple[float, str, Actor, dict[str, Any]]] = [
            (
                0.05,
                "instrument_seal",
                leader,
                {"label": "盖章", "instrument": ref, "pdf_sha256": digest, "seal_serial": digest[:16],
                 "claimed_date": None, "to_unit": None},
            ),
            (
                self.prng.uniform(2, 10),
                "instrument_change_request",
                drafter,
                {"label": "申请撤回或更正文书", "instrument": ref, "change": change, "reason": reason,
                 "scope": "agency"},
            ),
            (
                self.prng.uniform(0.1, 1),
                "instrument_change_decide",
                leader,
                {"label": "审批撤回或更正文书", "instrument": ref, "change": change, "approved": True,
                 "reason": reason}
                | ({"correction": instrument_id + 10_000_000} if change == "correct" else {}),
            ),
        ]  # fmt: skip
        for gap, action, actor, payload in steps:
            if w.at + timedelta(days=gap) >= self.now:
                return  # today comes first (this runs right after 立案, outside the walk's own stop)
            w.at += timedelta(days=gap)
            self._entry(w, action, actor, payload)
        self.entry_keys["instrument.changed"].add(f"instrument.changed:{w.case_id}:{w.seq}")


def resolve_clock_plants(plants: list[tuple[str, int, str, int | None, str]]) -> dict[str, set[str]]:
    """The finding keys (``clock:<id>``) of the planted late clocks, whose ids COPY assigned."""
    from django.db import connection

    from xietong.cases.models import Clock

    out: dict[str, set[str]] = defaultdict(set)
    if not plants:
        return out
    table = Clock._meta.db_table
    by_key = {(case, rule, party, started): code for code, case, rule, party, started in plants}
    cases = sorted({p[1] for p in plants})
    with connection.cursor() as cursor:
        for start in range(0, len(cases), 5000):
            chunk = cases[start : start + 5000]
            cursor.execute(
                f"SELECT id, case_id, rule, party_id, started_at FROM {table} WHERE case_id = ANY(%s)",  # noqa: S608
                [chunk],
            )
            for pk, case, rule, party, started in cursor.fetchall():
                code = by_key.get((case, rule, party, utc_text(started.astimezone(UTC))))
                if code is not None:
                    out[code].add(f"clock:{pk}")
    return out
