"""One case of ``xietong bench analytics``: its suspects, its walk through the procedure (the acts of
``cases.procedure`` with the payloads ``cases.services`` writes and the per-case hash chain), its
clocks, and the COPY lines of all of it."""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from xietong.bench.analytics.caseload import LOCAL, Actor, City, Crew, month_starts, offence_hours
from xietong.cases.procedure import ACTIONS, CORRECTIONS_STAFF, COURT_STAFF, HANDLERS
from xietong.ledger.chain import GENESIS, canonical_payload, entry_hash

NULL = "\\N"
REUSE_SHARE = 0.06  # suspect slots taken by someone from an earlier case
MAX_CASES_A_PERSON = 6
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_ACCEPT_DUTIES = HANDLERS | COURT_STAFF | CORRECTIONS_STAFF
# Families of offences a repeat offender mostly stays within (相关性分析 finds the pairs).
_FAMILIES = {
    "盗窃罪": "property", "诈骗罪": "cyber", "掩饰、隐瞒犯罪所得罪": "property", "信用卡诈骗罪": "property",
    "抢劫罪": "property", "职务侵占罪": "property", "贩卖毒品罪": "drugs", "容留他人吸毒罪": "drugs",
    "故意伤害罪": "violence", "寻衅滋事罪": "violence", "聚众斗殴罪": "violence", "妨害公务罪": "violence",
    "帮助信息网络犯罪活动罪": "cyber", "侵犯公民个人信息罪": "cyber", "开设赌场罪": "cyber",
    "危险驾驶罪": "traffic", "交通肇事罪": "traffic",
}  # fmt: skip
# Where suspects come from: Suzhou's own counties, and the provinces its migrant workers come from.
_OUTSIDE_AREAS = (
    "341221", "341222", "341226", "340827", "412726", "411527", "320721", "320826", "321322",
    "511322", "513030", "522427", "430524", "360428", "370826",
)  # fmt: skip
_AGE_BANDS = ((16, 17, 2), (18, 24, 20), (25, 34, 33), (35, 44, 24), (45, 54, 14), (55, 70, 7))


# Trial procedure → its clock (审限) and the usual days from 受理 to 宣判.
_TRIAL = {
    "fast": ("fast_track_trial", (3, 9.5)),
    "summary": ("summary_trial", (6, 19.5)),
    "ordinary": ("first_instance", (18, 58)),
}
# The stage a transfer's 受理 puts the case in → the act it receives.
_RECEIVED = {
    "arrest_review": "提请批准逮捕",
    "prosecution_review": "移送审查起诉",
    "first_instance": "提起公诉",
    "second_instance": "被告人上诉",
    "execution": "交付执行",
}


class _Stop(Exception):
    """The next act would fall after today: the case rests where it is."""


# ------------------------------------------------------------------ one case


def _esc(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:  # nearly always: translate() is slow on CJK text
        return text
    return text.translate(_COPY_ESCAPES)


def utc_text(at: datetime) -> str:
    """The ledger's ``timestamp_text`` of a UTC time (isoformat is ~4× faster than strftime)."""
    return at.isoformat(timespec="microseconds")[:-6] + "Z"


@dataclass
class Suspect:
    name: str
    gender: str
    id_number: str
    birth: date | None
    address: str
    cases: int = 1


@dataclass
class Walk:
    """One case being walked: its row as the acts leave it, its entries, clocks and custody."""

    case_id: int
    charge: Any
    crew: Crew
    police: int
    who: int  # which of a unit's handlers takes the case
    at: datetime
    number: str
    parties: list[int]
    names: list[str]
    plea: bool
    fast_track: bool
    stage: str = ""
    holder: int = 0
    handler: int | None = None
    procu: int | None = None
    court: int | None = None
    execution: int | None = None
    procedure: str = ""
    supplementary: int = 0
    remand: int = 0
    verdict: dict[str, Any] | None = None
    custody: str = "none"
    custody_since: datetime | None = None
    seq: int = 0
    head: str = GENESIS
    entries: list[tuple[str, str]] = field(default_factory=list)  # (recorded_at text, COPY line)
    clocks: list[list[Any]] = field(default_factory=list)
    transfer_to: int | None = None
    transfer_id: int = 0


class Generator:
    """Makes cases one after another and hands out their COPY lines."""

    def __init__(self, city: City, *, seed: int, now: datetime, total: int, persons: int) -> None:
        from xietong.cases import clocks
        from xietong.demo.people import fictitious_address
        from xietong.demo.suzhou import COUNTIES

        self.city, self.now, self.rng = city, now, random.Random(seed)  # noqa: S311 (bench data)
        self.calendar = clocks.holiday_calendar()
        self.deadlines: dict[tuple[str, date, bool], tuple[date, datetime]] = {}
        self.first = month_starts(now)[0]
        self.total, self.persons_target = total, persons
        self.case_id = self.party_id = self.instrument_id = self.transfer_id = 0
        self.made_cases = self.made_persons = self.entries = 0
        self.numbers: dict[tuple[int, int], int] = defaultdict(int)
        self.ids: set[str] = set()
        self.pools: dict[str, list[Suspect]] = defaultdict(list)
        self.repeaters: list[Suspect] = []
        self.reused = 0
        self.addresses = [
            [fictitious_address(self.rng, c, c.towns[k % len(c.towns)]) for k in range(60)] for c in COUNTIES
        ]
        self.hours = {}
        from xietong.demo.crimes import CHARGES

        for c in CHARGES:
            self.hours[c.name] = offence_hours(c.name)

    # -- people

    def _new_suspect(self, charge: str, county: int, on: date) -> Suspect:
        from xietong.demo.people import fictitious_id_number, fictitious_name
        from xietong.demo.suzhou import COUNTIES

        rng = self.rng
        women = {"诈骗罪": 0.3, "帮助信息网络犯罪活动罪": 0.3, "组织卖淫罪": 0.5, "容留他人吸毒罪": 0.2}
        gender = "女" if rng.random() < women.get(charge, 0.12) else "男"
        name = fictitious_name(rng, gender=gender)[0]
        low, high, _ = rng.choices(_AGE_BANDS, weights=[b[2] for b in _AGE_BANDS])[0]
        age = rng.randint(low, high)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        birth = date(on.year - age - ((month, day) > (on.month, on.day)), month, day)  # ``age`` on ``on``
        number = ""
        if rng.random() < 0.97:  # a few suspects are known by name and birth date only
            area = COUNTIES[county].code if rng.random() < 0.45 else rng.choice(_OUTSIDE_AREAS)
            while not number or number in self.ids:
                number = fictitious_id_number(rng, area_code=area, birth=birth, gender=gender)
            self.ids.add(number)
        return Suspect(name, gender, number, birth, self.addresses[county][rng.randrange(60)])

    def _suspects(self, charge: Any, county: int, on: date) -> list[Suspect]:
        from xietong.demo.crimes import SOLO_CHARGES, suspect_count

        rng = self.rng
        n = suspect_count(rng, charge)
        expected = self.persons_target * (self.made_cases + 1) / self.total
        if charge.name not in SOLO_CHARGES and self.made_persons + n < expected - 1:
            n += 1  # keep the total of suspects on its target
        family = _FAMILIES.get(charge.name, "other")
        out: list[Suspect] = []
        for _ in range(n):
            person = None
            if rng.random() < REUSE_SHARE:
                pool = self.repeaters if self.repeaters and rng.random() < 0.3 else None
                if pool is None:
                    pool = self.pools[family if rng.random() < 0.7 else rng.choice(list(_FAMILIES.values()))]
                if pool:
                    candidate = pool[rng.randrange(len(pool))]
                    if (
                        candidate.cases < MAX_CASES_A_PERSON
                        and all(candidate is not o for o in out)
                        and candidate.birth
                        and (on - candidate.birth).days > 16 * 366
                    ):
                        person = candidate
                        person.cases += 1
                        self.reused += 1
                        if person.cases == 2:
                            self.repeaters.append(person)
            if person is None:
                person = self._new_suspect(charge.name, county, on)
                pool = self.pools[family]
                if len(pool) < 60_000:
                    pool.append(person)
                else:  # a ring of recent offenders
                    pool[rng.randrange(len(pool))] = person
            out.append(person)
        self.made_persons += len(out)
        return out

    # -- acts

    def wait(self, w: Walk, low: float, high: float, *, tail: float = 0.0, late: float = 1.5) -> None:
        """Advance the case's time by a gap in days; now and then (``tail``) a gap past its usual
        range (the overdue ones). Raises ``_Stop`` when the act would fall after today."""
        gap = self.rng.uniform(low, high)
        if tail and self.rng.random() < tail:
            gap = high * self.rng.uniform(1.0, late)
        w.at += timedelta(days=gap, microseconds=self.rng.randrange(1_000_000))
        if w.at >= self.now:
            raise _Stop

    def _entry(self, w: Walk, action: str, actor: Actor, payload: dict[str, Any]) -> None:
        w.seq += 1
        text = canonical_payload(payload)
        at = utc_text(w.at)
        digest = entry_hash(
            case_id=w.case_id, seq=w.seq, recorded_at=at, actor_id=actor.user_id, actor_name=actor.name,
            actor_duty=actor.duty, unit_id=actor.unit_id, unit_name=actor.unit_name, action=action,
            payload=text, prev_hash=w.head,
        )  # fmt: skip
        uid = NULL if actor.user_id is None else str(actor.user_id)
        w.entries.append(
            (
                at,
                f"{w.case_id}\t{w.seq}\t{at}\t{uid}\t{actor.name}\t{actor.duty}\t{actor.unit_id}\t"
                f"{actor.unit_name}\t{action}\t{_esc(text)}\t{w.head}\t{digest}\n",
            )
        )
        w.head = digest

    def act(
        self,
        w: Walk,
        action: str,
        unit: int,
        *,
        reason: str = "",
        to: int | None = None,
        system: bool = False,
    ) -> None:
        """One act of ``cases.procedure`` on the case, as ``cases.services._apply`` records it."""
        spec = ACTIONS[action]
        before = w.stage
        if spec.to_stage is not None:
            w.stage = spec.to_stage.value
        if system:
            name = self.city.staff[unit].name
            actor = Actor(None, "协同平台", "自动计算（上诉、抗诉期满）", unit, name)
        else:
            actor = self.city.actor(unit, w.who, spec.duties)
        body: dict[str, Any] = {"label": spec.label, "articles": list(spec.articles)}
        if action == "register":
            body["number"], body["charge"], body["party_names"] = w.number, w.charge.name, w.names
        else:
            body["stage_from"] = before
        body["stage_to"] = w.stage
        if spec.per_party:
            body["party_ids"], body["party_names"] = w.parties, w.names
        if reason:
            body["reason"] = reason
        if spec.instrument:
            self.instrument_id += 1
            body["instrument"] = {"kind": spec.instrument, "id": self.instrument_id, "claimed_date": None}
        if spec.approval and self.city.staff[unit].approved_by:
            body["approved_by"] = self.city.staff[unit].approved_by
        if to is not None:
            body["to_unit"] = self.city.staff[to].name
            if spec.transfer_to is not None:
                self.transfer_id += 1
                w.transfer_id, w.transfer_to = self.transfer_id, to
                body["transfer_id"] = self.transfer_id
            else:  # handed back without an inbox step
                w.holder, w.handler = to, None
        if action in {"pronounce", "decide_appeal"} and w.verdict is not None:
            body["verdict"] = w.verdict
        self._entry(w, action, actor, body)
        if spec.custody_to is not None:
            w.custody, w.custody_since = spec.custody_to.value, w.at
        if spec.to_stage is not None and spec.ends_case and w.custody in {"detained", "arrested"}:
            w.custody, w.custody_since = "released", w.at
        for clock in w.clocks:  # a case that ends stops every clock (``clocks_stop_all``)
            if clock[6] is None and (clock[0] in spec.stops or spec.ends_case):
                clock[6], clock[7] = w.at, action

    def accept(self, w: Walk, procedure: str = "") -> None:
        """受理 by the unit the last transfer went to."""
        unit = w.transfer_to
        if unit is None:
            raise RuntimeError("accept without a transfer")
        spec_label = _RECEIVED[w.stage]
        if w.stage == "prosecution_review" and w.supplementary:
            spec_label = "补充侦查完毕重新移送"
        if w.stage == "first_instance" and w.remand:
            spec_label = "发回重审"
        from_unit = self.city.staff[w.holder].name
        if procedure:
            w.procedure = procedure
        kind = "court" if unit == w.crew.court else "procu" if unit == w.crew.procu else ""
        if kind == "procu":
            w.procu = unit
        elif kind == "court":
            w.court = unit
        if w.stage == "execution":
            w.execution = unit
            w.custody, w.custody_since = "serving", w.at
        w.holder = unit
        user = self.city.staff[unit].handlers[w.who % len(self.city.staff[unit].handlers)]
        w.handler = user.pk
        actor = self.city.actor(unit, w.who, _ACCEPT_DUTIES)
        body = {
            "label": f"受理（{spec_label}）",
            "transfer_id": w.transfer_id,
            "from_unit": from_unit,
            "stage_to": w.stage,
            "trial_procedure": w.procedure or None,
        }
        self._entry(w, "accept", actor, body)
        w.transfer_to = None

    def clock(self, w: Walk, rule: str, unit: int, party: int | None = None) -> None:
        held = w.custody in {"detained", "arrested"}
        day = (w.at + LOCAL).date()
        key = (rule, day, held)
        hit = self.deadlines.get(key)
        if hit is None:
            from xietong.cases import deadlines

            result = deadlines.compute_deadline(rule, w.at, in_custody=held, calendar=self.calendar)
            hit = self.deadlines[key] = (result.due, result.due_at.astimezone(UTC))
        w.clocks.append([rule, party, unit, w.at, held, hit, None, ""])

    # -- the walk

    def walk(self, w: Walk, y: float) -> None:
        rng, crew, police, name = self.rng, w.crew, w.police, w.charge.name
        if rng.random() < 0.02:
            self.wait(w, 3, 40)
            self.act(w, "withdraw", police, reason="经侦查，犯罪嫌疑人行为情节显著轻微，不认为是犯罪")
            return
        easing = min(1.0, max(0.0, (y - 4.0) / 3.0))  # 少捕慎诉慎押 from 2021
        p_detain = (0.62 if w.charge.detention_likely else 0.08) * (1 - 0.45 * easing)
        arrested = False
        if rng.random() < p_detain:
            self.wait(w, 0.05, 1)
            self.act(w, "detain", police)
            self.wait(w, 0.01, 0.4)
            self.act(w, "deliver_to_jail", police)
            self.wait(w, 0.01, 0.4)
            self.act(w, "notify_detention", police)
            self.wait(w, 0.01, 0.3)
            self.act(w, "interrogate", police)
            if rng.random() < 0.78 - 0.2 * easing:
                self.wait(w, 0.8, 2.8, tail=0.15, late=2.3)
                self.act(w, "request_arrest", police, to=crew.procu)
                self.wait(w, 0.02, 0.3)
                self.accept(w)
                self.clock(w, "arrest_review_detained", crew.procu)
                if rng.random() < 0.88 - 0.15 * easing:
                    self.wait(w, 2, 6.5, tail=0.01)
                    self.act(w, "approve_arrest", crew.procu, to=police)
                    for party in w.parties:
                        self.clock(w, "investigation_custody", police, party)
                    arrested = True
                    self.wait(w, 0.01, 0.5)
                    self.act(w, "notify_arrest", police)
                    self.wait(w, 0.01, 0.5)
                    self.act(w, "interrogate", police)
                    self.wait(w, 0.1, 2)
                    self.act(w, "return_arrest_receipt", police)
                    if rng.random() < 0.08:
                        self.wait(w, 40, 56)
                        self.act(w, "extend_custody", crew.procu)
                        for party in w.parties:
                            self.clock(w, "investigation_custody_ext1", police, party)
                else:
                    self.wait(w, 2, 6.5)
                    self.act(w, "deny_arrest", crew.procu, reason="不符合逮捕条件", to=police)
                    self.wait(w, 0.01, 1)
                    self.act(w, "bail", police)
            else:
                self.wait(w, 0.5, 2.9)
                self.act(w, "bail", police)
        else:
            self.wait(w, 0.1, 3)
            self.act(w, "bail", police)
        if not arrested and rng.random() < 0.05:  # 挂案 (on bail): no further act
            return
        if rng.random() < 0.02:
            self.wait(w, 20, 150)
            self.act(w, "withdraw", police, reason="经侦查，犯罪嫌疑人行为情节显著轻微，不认为是犯罪")
            return
        slow = (
            1.8 if name in {"诈骗罪", "非法吸收公众存款罪", "组织卖淫罪", "贩卖毒品罪", "职务侵占罪"} else 1.0
        )
        speed = 1.0 - 0.25 * min(1.0, max(0.0, (y - 2.5) / 3))  # 认罪认罚 shortens the decade's cases
        if arrested:
            self.wait(w, 15, 55, tail=0.03, late=1.3)
        else:
            self.wait(w, 10 * speed, 110 * slow * speed)
        self.act(w, "transfer_for_prosecution", police, to=crew.procu)
        self.wait(w, 0.05, 1)
        self.accept(w)
        rule = "prosecution_review_fast" if w.fast_track else "prosecution_review"
        review = (2.0, 9.5) if w.fast_track else (6.0, 29.0)  # days to decide (10 days or a month)
        self.clock(w, rule, crew.procu)
        for round_ in range(2):
            if rng.random() >= (0.12 if round_ == 0 else 0.25) * (1.0 if not w.fast_track else 0.3):
                break
            self.wait(w, *review, tail=0.02)
            w.supplementary += 1
            self.act(
                w,
                "return_for_supplementary",
                crew.procu,
                reason="证据不足，需补充被害人陈述及鉴定意见",
                to=police,
            )
            self.clock(w, "supplementary_investigation", police)
            self.wait(w, 8, 29, tail=0.03)
            self.act(w, "resubmit", police, to=crew.procu)
            self.wait(w, 0.05, 1)
            self.accept(w)
            self.clock(w, rule, crew.procu)
        not_prosecuted = 0.05 + 0.17 * min(1.0, max(0.0, (y - 3.5) / 3))
        if name == "危险驾驶罪" and y >= 7.05:
            not_prosecuted += 0.25
        if rng.random() < not_prosecuted:
            self.wait(w, *review, tail=0.02)
            self.act(w, "not_prosecute", crew.procu, reason="犯罪情节轻微，依照刑法规定不需要判处刑罚")
            return
        self.wait(w, *review, tail=0.03, late=1.4)
        self.act(w, "indict", crew.procu, to=crew.court)
        if w.fast_track and w.plea:
            procedure = "fast"
        else:
            procedure = (
                rng.choice(["summary", "summary", "ordinary"])
                if w.plea
                else rng.choice(["summary", "ordinary", "ordinary"])
            )
        self.wait(w, 0.1, 2)
        self.accept(w, procedure)
        self._trial(w, y)

    def _trial(self, w: Walk, y: float) -> None:
        rng, crew = self.rng, w.crew
        rule, days = _TRIAL[w.procedure]
        if w.remand:
            rule, days = "first_instance", (20, 58)
        self.clock(w, rule, crew.court)
        self.wait(w, *days, tail=0.03, late=1.4)
        w.verdict = _verdict(rng, w.charge)
        self.act(w, "pronounce", crew.court)
        self.clock(w, "appeal_judgment", crew.court)
        pronounced = w.at
        custodial = (
            w.verdict["guilty"]
            and w.verdict["penalty"] in {"criminal_detention", "fixed_term"}
            and not w.verdict["probation_months"]
        )
        if not custodial and w.custody in {"detained", "arrested"}:
            self.wait(w, 0.01, 0.5)
            self.act(w, "release_defendant", crew.court)
        self.wait(w, 0.1, 3)
        self.act(w, "serve_judgment", crew.court)
        if w.verdict["guilty"] and rng.random() < 0.06:
            self.wait(w, 0.5, 5)
            self.act(w, "appeal", crew.court, to=self.city.mid_court)
            self.wait(w, 1, 4)
            self.accept(w)
            self.clock(w, "second_instance", self.city.mid_court)
            self.wait(w, 20, 55, tail=0.03)
            if rng.random() < 0.04 and not w.remand:
                w.remand += 1
                self.act(w, "remand", self.city.mid_court, reason="原判事实不清、证据不足", to=crew.court)
                self.wait(w, 1, 4)
                self.accept(w)
                self._trial(w, y)
                return
            self.act(w, "decide_appeal", self.city.mid_court)
            effective_unit = self.city.mid_court
        else:
            w.at = max(w.at, pronounced + timedelta(days=11))
            self.wait(w, 0.01, 0.5)
            self.act(w, "judgment_effective", crew.court, system=True)
            effective_unit = crew.court
        verdict = w.verdict
        if not verdict["guilty"] or verdict["penalty"] in {"none", "fine"}:
            self.wait(w, 1, 5)
            self.act(w, "close", effective_unit)
            return
        community = bool(verdict["probation_months"]) or verdict["penalty"] == "control"
        if not community:
            self.clock(w, "execution_documents", effective_unit)
        self.wait(w, 1, 4, tail=0.02, late=3)
        short = verdict["penalty"] == "criminal_detention" or verdict["months"] <= 3
        to = crew.corrections if community else crew.jail if short else self.city.prison
        self.act(w, "deliver_for_execution", effective_unit, to=to)
        self.wait(w, 0.2, 2)
        self.accept(w)
        if community:
            self.wait(w, 0.5, 4)
            self.act(w, "offender_report", crew.corrections)

    # -- a whole case

    def case(self, *, town_index: int, charge: Any, registered: datetime, y: float) -> dict[str, list[Any]]:
        """One case with its suspects, entries and clocks, as COPY lines."""
        from xietong.demo.crimes import generate_facts
        from xietong.demo.suzhou import COUNTIES

        rng, city = self.rng, self.city
        county_index, town_id, _, _ = city.towns[town_index]
        county = COUNTIES[county_index]
        crew = city.crews[county_index]
        town = county.towns[[t[1] for t in city.towns if t[0] == county_index].index(town_id)]
        police = crew.stations.get(town_id, crew.police) if rng.random() < 0.5 else crew.police
        self.case_id += 1
        local = registered + LOCAL
        lag = (
            timedelta(days=rng.uniform(1, 30))
            if charge.name in {"诈骗罪", "职务侵占罪", "非法吸收公众存款罪"}
            else timedelta(hours=rng.uniform(2, 60))
        )
        hour = rng.choices(range(24), weights=self.hours[charge.name])[0]
        occurred_local = datetime.combine((local - lag).date(), datetime.min.time()) + timedelta(
            hours=hour, minutes=rng.randrange(60)
        )
        occurred = (occurred_local - LOCAL).replace(tzinfo=UTC)
        if occurred >= registered:
            occurred -= timedelta(days=1)
        suspects = self._suspects(charge, county_index, occurred_local.date())
        facts = generate_facts(
            rng, charge=charge, suspects=[s.name for s in suspects], county=county, town=town,
            occurred_at=occurred, latest=registered + timedelta(days=2),
        )  # fmt: skip
        plea = rng.random() < 0.1 + 0.75 * min(1.0, max(0.0, (y - 1.8) / 2.5))
        key = (police, local.year)
        self.numbers[key] += 1
        number = f"A{city.digits[police]}{local:%Y%m}{self.numbers[key]:05d}"
        first_party = self.party_id + 1
        self.party_id += len(suspects)
        w = Walk(
            case_id=self.case_id,
            charge=charge,
            crew=crew,
            police=police,
            who=rng.randrange(2),
            at=registered,
            number=number,
            parties=list(range(first_party, self.party_id + 1)),
            names=[s.name for s in suspects],
            plea=plea,
            fast_track=plea and rng.random() < charge.fast_track_share,
        )
        w.holder, w.handler = police, city.staff[police].handlers[w.who % len(city.staff[police].handlers)].pk
        self.act(w, "register", police)
        with contextlib.suppress(_Stop):
            self.walk(w, y)
        self.made_cases += 1
        self.entries += len(w.entries)
        verdict = NULL if w.verdict is None else _esc(json.dumps(w.verdict, ensure_ascii=False))
        updated = w.entries[-1][0]

        def opt(v: int | None) -> str:
            return NULL if v is None else str(v)

        case_line = (
            f"{w.case_id}\t{number}\t{_esc(facts.title)}\t{charge.name}\t{_esc(facts.facts)}\t{occurred.isoformat()}\t"
            f"{_esc(facts.place)}\t{town_id}\t{city.counties[county_index]}\t{w.stage}\t{w.holder}\t"
            f"{opt(w.handler)}\t{police}\t{opt(w.procu)}\t{opt(w.court)}\t{opt(w.execution)}\t"
            f"{'t' if w.plea else 'f'}\t{'t' if w.fast_track else 'f'}\t{w.procedure}\t{w.supplementary}\t"
            f"{w.remand}\t{verdict}\t{w.seq}\t{utc_text(registered)}\t{updated}\t{w.seq}\t{w.head}\n"
        )
        since = NULL if w.custody_since is None else utc_text(w.custody_since)
        parties = [
            f"{pid}\t{w.case_id}\t{k}\t{s.name}\t{s.gender}\t{s.id_number}\t"
            f"{s.birth.isoformat() if s.birth else NULL}\t{s.address}\t{w.custody}\t{since}\n"
            for k, (pid, s) in enumerate(zip(w.parties, suspects, strict=True), start=1)
        ]
        clocks = []
        for rule, party, unit, started, held, (due, due_at), stopped, by in w.clocks:
            status = "running" if stopped is None else "stopped"
            clocks.append(
                f"{w.case_id}\t{opt(party)}\t{rule}\t{unit}\t{utc_text(started)}\t{'t' if held else 'f'}\t"
                f"{due}\t"
                f"{utc_text(due_at)}\t{status}\t{NULL if stopped is None else utc_text(stopped)}\t{by}\n"
            )
        return {"case": [case_line], "party": parties, "clock": clocks, "entries": w.entries}


def _verdict(rng: random.Random, charge: Any) -> dict[str, Any]:
    """A judgment as the demo's cases get one (``demo.generator``), with its charge."""
    low, high = charge.sentence_months
    if rng.random() < 0.015:
        return {
            "guilty": False,
            "penalty": "none",
            "months": 0,
            "probation_months": 0,
            "charges": [charge.name],
        }
    if rng.random() < 0.03:
        return {
            "guilty": True,
            "penalty": "fine",
            "months": 0,
            "probation_months": 0,
            "charges": [charge.name],
        }
    months = rng.randint(max(low, 1), max(high, 1))
    penalty = "criminal_detention" if months <= 6 and rng.random() < 0.6 else "fixed_term"
    if charge.name == "危险驾驶罪":
        penalty = "criminal_detention"
    months = max(months, 6) if penalty == "fixed_term" else min(months, 6)
    probation = 0
    if rng.random() < charge.probation_rate and (penalty == "criminal_detention" or months <= 36):
        probation = min(
            60,
            max(
                months * 2 if penalty == "fixed_term" else months + 2,
                2 if penalty == "criminal_detention" else 12,
            ),
        )
    return {
        "guilty": True,
        "penalty": penalty,
        "months": months,
        "probation_months": probation,
        "charges": [charge.name],
    }
