"""Generate cases in every stage by replaying their history through the real services (the one
door), each act at the simulated time it notionally happened, so that the demo's ledger, clocks,
inboxes and instruments are exactly what real use would have produced."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.utils import timezone

from xietong import servertime
from xietong.cases import services
from xietong.cases.models import ActionRequest, Case, Clock, Party, Transfer, TransferStatus
from xietong.cases.procedure import Stage
from xietong.demo.crimes import Charge, generate_facts, pick_charge, suspect_count
from xietong.demo.people import fictitious_address, fictitious_id_number, fictitious_name
from xietong.demo.suzhou import COUNTIES, County
from xietong.execution import services as execution
from xietong.execution.models import CustodyEvent, Sentence, Supervisee
from xietong.instruments.models import Instrument, InstrumentStatus
from xietong.orgs.models import Duty, Region, Unit, UnitKind, User

# Share of cases whose history stops in each stage (what a city's live caseload looks like).
# How long ago (days) a case aimed at a stage was filed: about the time the walk takes to get there.
START_WINDOWS: dict[str, tuple[float, float]] = {
    "investigation": (2, 60),
    "detained": (0.5, 2.5),
    "detention_overdue": (6, 9),  # detained 5+ days ago: the 3 days of 刑诉法第91条 have run out
    "approval": (0.2, 5),
    "arrest_review": (2, 8),
    "pending_prosecution": (35, 50),
    "prosecution_review": (40, 58),
    "supplementary": (60, 85),
    "pending_court": (55, 70),
    "first_instance": (58, 90),
    "appeal_period": (78, 95),
    "second_instance": (95, 130),
    "effective": (95, 110),
}

TARGETS: list[tuple[str, float]] = [
    ("investigation", 0.16),
    ("detained", 0.05),
    ("arrest_review", 0.05),
    ("prosecution_review", 0.13),
    ("supplementary", 0.04),
    ("pending_prosecution", 0.03),
    ("first_instance", 0.12),
    ("pending_court", 0.02),
    ("appeal_period", 0.05),
    ("second_instance", 0.03),
    ("effective", 0.04),
    ("execution", 0.15),
    ("detention_overdue", 0.01),  # a police unit that let the 3 days pass: the custody check finds it
    ("withdrawn", 0.02),
    ("not_prosecuted", 0.03),
    ("closed", 0.01),
    ("approval", 0.02),
]


@dataclass
class Staff:
    """Who acts for each unit: the leader (acts without a 呈请) and a handler."""

    leader: dict[int, User]
    handler: dict[int, User]

    @classmethod
    def load(cls) -> Staff:
        leader: dict[int, User] = {}
        handler: dict[int, User] = {}
        for user in User.objects.filter(unit__isnull=False).prefetch_related("appointments").order_by("id"):
            duties = {a.duty for a in user.appointments.all()}
            assert user.unit_id is not None
            if duties & {Duty.LEADER, Duty.DEPT_HEAD} and user.unit_id not in leader:
                leader[user.unit_id] = user
            if duties & {Duty.HANDLER, Duty.CLERK, Duty.CORRECTIONS_OFFICER} and user.unit_id not in handler:
                handler[user.unit_id] = user
        return cls(leader=leader, handler=handler)


@dataclass
class CountyPlaces:
    county: County
    towns: list[Region]
    branch: Unit
    stations: list[Unit]


class Replay:
    """Walks one case through the procedure, advancing a simulated clock between acts."""

    def __init__(
        self, rng: random.Random, staff: Staff, at: datetime, stop_before: datetime, seal: bool = False
    ):
        self.rng, self.staff, self.at, self.stop_before = rng, staff, at, stop_before
        self.case_id = 0
        self.seal = seal

    def wait(self, low_days: float, high_days: float) -> bool:
        """Advance time; False when the next act would fall after 'now' (the case stops here)."""
        self.at += timedelta(days=self.rng.uniform(low_days, high_days))
        return self.at < self.stop_before

    def leader_of(self, unit_id: int) -> User:
        return self.staff.leader[unit_id]

    def act(self, action: str, unit_id: int, **kwargs: Any) -> services.ActResult:
        with servertime.simulated(self.at):
            result = services.case_act(
                user=self.leader_of(unit_id), case_id=self.case_id, action=action, **kwargs
            )
        if self.seal and result.instrument is not None:
            self.seal_instrument(result.instrument.pk, unit_id)
        return result

    def seal_instrument(self, instrument_id: int, unit_id: int) -> None:
        """The leader 签发 and seals the act's instrument an hour later (simulated time)."""
        from xietong.instruments import services as instruments

        leader = self.leader_of(unit_id)
        with servertime.simulated(self.at + timedelta(hours=1)):
            instruments.instrument_submit(user=leader, instrument_id=instrument_id)
            instruments.instrument_approve(user=leader, instrument_id=instrument_id)
            instruments.instrument_seal(user=leader, instrument_id=instrument_id)

    def takes_effect(self) -> None:
        with servertime.simulated(self.at):
            services.judgment_effective_auto(case_id=self.case_id)

    def seal_execution_documents(self) -> None:
        """签发 and seal the documents a prison or 看守所 needs to take the offender in (监狱法第16条:
        判决书, 起诉书, 执行通知书, 结案登记表); the corrections unit's intake does not wait for them."""
        transfer = Transfer.objects.filter(case_id=self.case_id, status=TransferStatus.PENDING).first()
        if transfer is None or transfer.to_unit.kind not in {UnitKind.PRISON, UnitKind.DETENTION_HOUSE}:
            return
        wanted = ["刑事判决书", "刑事裁定书", "起诉书", "执行通知书", "结案登记表"]
        for pk, unit_id in Instrument.objects.filter(
            case_id=self.case_id, kind__in=wanted, status=InstrumentStatus.DRAFT
        ).values_list("pk", "unit_id"):
            self.seal_instrument(pk, unit_id)

    def supervising_unit(self, supervisee: Supervisee) -> int:
        """The offender's 司法所 when it has staff in the demo, else the corrections unit."""
        if supervisee.office_id is not None and supervisee.office_id in self.staff.handler:
            return supervisee.office_id
        return supervisee.corrections_unit_id

    def as_unit(self, unit_id: int, fn: Callable[..., object]) -> None:
        """``fn(user=…)`` done by the unit's handler at the replay's time."""
        with servertime.simulated(self.at):
            fn(user=self.staff.handler[unit_id])

    def report(self, party_id: int, unit_id: int) -> None:
        with servertime.simulated(self.at):
            services.case_act(
                user=self.staff.handler[unit_id],
                case_id=self.case_id,
                action="offender_report",
                party_ids=[party_id],
            )

    def accept(self, options: dict[str, Any] | None = None) -> Case:
        transfer = Transfer.objects.get(case_id=self.case_id, status=TransferStatus.PENDING)
        with servertime.simulated(self.at):
            result = services.transfer_accept(
                user=self.staff.handler[transfer.to_unit_id], transfer_id=transfer.pk, options=options or {}
            )
        assert result.case is not None
        return result.case

    def holder(self) -> int:
        return int(Case.objects.values_list("holder_unit_id", flat=True).get(pk=self.case_id))


# Charges whose heaviest main penalty is 拘役: 危险驾驶罪 (刑法第133条之一).
DETENTION_ONLY = frozenset({"危险驾驶罪"})


def draw_verdict(rng: random.Random, charge: Charge) -> dict[str, object]:
    """A plausible verdict for ``charge``: 2 % acquittals, else 拘役 or 有期徒刑 within the charge's
    usual range, suspended at the charge's probation rate."""
    low, high = charge.sentence_months
    if rng.random() < 0.02:
        return {"guilty": False, "penalty": "none", "months": 0, "probation_months": 0}
    months = rng.randint(max(low, 1), max(high, 1))
    penalty = "criminal_detention" if months <= 6 and rng.random() < 0.6 else "fixed_term"
    if charge.name in DETENTION_ONLY:
        penalty = "criminal_detention"
    months = max(months, 6) if penalty == "fixed_term" else min(months, 6)
    probation = 0
    if rng.random() < charge.probation_rate and (penalty == "criminal_detention" or months <= 36):
        probation = max(
            months * 2 if penalty == "fixed_term" else months + 2,
            2 if penalty == "criminal_detention" else 12,
        )
        probation = min(probation, 60)
    return {"guilty": True, "penalty": penalty, "months": months, "probation_months": probation}


def generate_case(
    rng: random.Random,
    staff: Staff,
    *,
    target: str,
    now: datetime,
    place: CountyPlaces,
    seal: bool = False,
) -> int | None:
    county, towns, stations = place.county, place.towns, place.stations
    charge = pick_charge(rng)
    n_suspects = suspect_count(rng, charge)
    people = [fictitious_name(rng) for _ in range(n_suspects)]
    # Later stages started longer ago. The walk goes on until the next act would fall after 'now',
    # so a case is caught in the middle of its handling — never left lying in a stage past its
    # statutory limit (the custody reconciliation finds nothing the demo did not mean to show).
    low, high = START_WINDOWS.get(target, (32.0, 450.0))
    start = now - timedelta(days=rng.uniform(low, high))
    town_index = rng.randrange(len(towns))
    town = towns[town_index]
    facts = generate_facts(
        rng,
        charge=charge,
        suspects=[p[0] for p in people],
        county=county,
        town=county.towns[town_index],
        occurred_at=start - timedelta(days=rng.uniform(0, 3)),
        latest=start + timedelta(days=2),
    )
    police = place.branch if rng.random() < 0.7 or not stations else rng.choice(stations)
    data = services.RegisterInput(
        charge=charge.name,
        facts=facts.facts,
        occurred_at=start - timedelta(hours=rng.uniform(3, 60)),
        town_id=town.pk,
        place=facts.place,
        title=facts.title,
        plea=facts.confessed and rng.random() < 0.8,
        fast_track=facts.confessed and rng.random() < charge.fast_track_share,
        parties=[
            services.PartyInput(
                name=name,
                gender=gender,
                id_number=fictitious_id_number(
                    rng,
                    area_code=county.code,
                    birth=(birth := date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))),
                    gender=gender,
                ),
                birth_date=birth,
                address=fictitious_address(rng, county, county.towns[rng.randrange(len(county.towns))]),
            )
            for name, gender in people
        ],
    )
    replay = Replay(rng, staff, start, now, seal=seal)
    if target == "approval":  # a handler's filing waiting for the leader
        with servertime.simulated(replay.at):
            services.case_register(user=staff.handler[police.pk], data=data)
        return None
    with servertime.simulated(replay.at):
        request = services.case_register(user=staff.handler[police.pk], data=data)
    replay.wait(0.01, 0.2)
    with servertime.simulated(replay.at):
        assert request.request is not None
        result = services.request_decide(
            user=staff.leader[police.pk], request_id=request.request.pk, approve=True
        )
    assert result.case is not None
    replay.case_id = result.case.pk
    if seal and result.instrument is not None:
        replay.seal_instrument(result.instrument.pk, police.pk)
    _walk(replay, rng, target, charge, police)
    return replay.case_id


def _walk(r: Replay, rng: random.Random, target: str, charge: Charge, police: Unit) -> None:
    party_ids = list(Case.objects.get(pk=r.case_id).parties.values_list("pk", flat=True))

    def go(fn: Callable[[], object], low: float, high: float) -> bool:
        if not r.wait(low, high):
            return False
        fn()
        return True

    detain = charge.detention_likely or target in {"detained", "arrest_review", "detention_overdue"}

    def after_detention() -> bool:
        return (
            go(lambda: r.act("deliver_to_jail", police.pk, party_ids=party_ids), 0.01, 0.4)
            and go(lambda: r.act("notify_detention", police.pk, party_ids=party_ids), 0.01, 0.4)
            and go(lambda: r.act("interrogate", police.pk, party_ids=party_ids), 0.01, 0.3)
        )

    if target == "investigation" and not detain:
        go(lambda: r.act("bail", police.pk, party_ids=party_ids), 0.2, 3)
        return
    if detain:
        if not go(lambda: r.act("detain", police.pk, party_ids=party_ids), 0.05, 1):
            return
        if target == "detained" and rng.random() < 0.4:
            return  # just detained: the 24-hour limits are still running
        if not after_detention() or target in {"detained", "detention_overdue"}:
            return
        if not go(lambda: r.act("request_arrest", police.pk, party_ids=party_ids), 1, 2.8):
            return
        if not go(lambda: r.accept(), 0.02, 0.3):
            return
        if target == "arrest_review":
            return
        procu = r.holder()
        if not go(lambda: r.act("approve_arrest", procu, party_ids=party_ids), 2, 6):
            return
        if not (
            go(lambda: r.act("notify_arrest", police.pk, party_ids=party_ids), 0.01, 0.5)
            and go(lambda: r.act("interrogate", police.pk, party_ids=party_ids), 0.01, 0.5)
            and go(lambda: r.act("return_arrest_receipt", police.pk), 0.1, 2)
        ):
            return
        if target == "investigation":
            return
    else:
        if not go(lambda: r.act("bail", police.pk, party_ids=party_ids), 0.1, 3):
            return
    if not go(lambda: r.act("transfer_for_prosecution", police.pk), 15, 50):
        return
    if not go(lambda: r.accept(), 0.05, 1):
        return
    procu = r.holder()
    if target == "supplementary" or rng.random() < 0.12:
        if not go(
            lambda: r.act("return_for_supplementary", procu, reason="证据不足，需补充被害人陈述及鉴定意见"),
            10,
            25,
        ):
            return
        if not go(lambda: r.act("resubmit", police.pk), 10, 28):
            return
        if not go(lambda: r.accept(), 0.05, 1):
            return
    if target == "withdrawn":
        # the police withdraw only during investigation; replay a withdrawal right after filing instead
        return
    if target == "not_prosecuted":
        go(lambda: r.act("not_prosecute", procu, reason="犯罪情节轻微，依照刑法规定不需要判处刑罚"), 8, 20)
        return
    if not go(lambda: r.act("indict", procu), 8, 25):
        return
    case = Case.objects.get(pk=r.case_id)
    procedure = "fast" if case.fast_track and case.plea else rng.choice(["ordinary", "summary", "summary"])
    if not go(lambda: r.accept({"procedure": procedure}), 0.1, 2):
        return
    court = r.holder()
    verdict = draw_verdict(rng, charge)
    if target == "closed":
        verdict = {"guilty": False, "penalty": "none", "months": 0, "probation_months": 0}
    trial_days = {"fast": (3, 9), "summary": (8, 19), "ordinary": (20, 58)}[procedure]
    if not go(lambda: r.act("pronounce", court, options={"verdict": verdict}), *trial_days):
        return
    to_release = _to_release_on_judgment(r.case_id)
    if to_release and not go(lambda: r.act("release_defendant", court, party_ids=to_release), 0.01, 0.5):
        return
    if not go(lambda: r.act("serve_judgment", court), 0.1, 3):
        return
    if target == "second_instance" or (rng.random() < 0.06 and verdict["guilty"]):
        if not go(lambda: r.act("appeal", court), 0.5, 5):  # within the 10 days (刑诉法230)
            return
        if not go(lambda: r.accept(), 1, 4):
            return
        upper = r.holder()
        if not go(lambda: r.act("decide_appeal", upper), 20, 55):
            return
    else:
        appeal_due = (
            Clock.objects.filter(case_id=r.case_id, rule="appeal_judgment")
            .values_list("due_at", flat=True)
            .first()
        )
        if appeal_due is not None:
            r.at = max(r.at, appeal_due)
        if not go(r.takes_effect, 0.01, 0.2):  # computed by the platform when the period has run out
            return
    case = Case.objects.get(pk=r.case_id)
    court = case.holder_unit_id
    if not case.verdict or not case.verdict.get("guilty") or case.verdict.get("penalty") in {"none", "fine"}:
        go(lambda: r.act("close", court), 1, 5)
        return
    if not go(lambda: r.act("deliver_for_execution", court), 1, 4):
        return
    r.seal_execution_documents()  # 监狱法第16条: no intake without them
    if not go(lambda: r.accept(), 0.2, 2):
        return
    for sentence in Sentence.objects.filter(case_id=r.case_id, body__in=["prison", "detention_house"]):
        ends = sentence.term_end
        if ends is not None and ends < r.stop_before.date():  # served: released on the last day
            r.at = max(r.at, datetime.combine(ends, time(9), tzinfo=r.at.tzinfo))
            unit = sentence.executing_unit_id
            if unit is not None and r.at < r.stop_before:
                r.as_unit(unit, partial(execution.release_on_term, party_id=sentence.party_id))
    for supervisee in Supervisee.objects.filter(case_id=r.case_id, reported_at__isnull=True):
        where = r.supervising_unit(supervisee)
        if not go(lambda: r.report(supervisee.party_id, where), 0.5, 4):  # noqa: B023 (called at once)
            return
    for supervisee in Supervisee.objects.filter(case_id=r.case_id, status="supervised"):
        day_after = datetime.combine(supervisee.term_end + timedelta(days=1), time(9), tzinfo=r.at.tzinfo)
        if day_after < r.stop_before:  # the term is over: 解除社区矫正
            r.at = max(r.at, day_after)
            r.as_unit(
                r.supervising_unit(supervisee),
                partial(execution.supervisee_discharge, supervisee_id=supervisee.pk),
            )


def _to_release_on_judgment(case_id: int) -> list[int]:
    """The held defendants a judgment just ordered released (刑诉法第260条)."""
    released = CustodyEvent.objects.filter(case_id=case_id, kind="pronounce", variant="release")
    return list(
        Party.objects.filter(
            pk__in=released.values("party_id"), custody__in=["detained", "arrested"]
        ).values_list("pk", flat=True)
    )


def generate(
    *,
    count: int,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    sealed: int = 0,
) -> int:
    """Generate ``count`` cases across all counties and stages; returns how many were made. The
    instruments of the first ``sealed`` cases are 签发 and sealed as they go (≈ 0.1 s each); the
    others' stay drafts, as a unit's backlog would."""
    rng = random.Random(seed)
    now = now or timezone.now()
    staff = Staff.load()
    counties = []
    for county in COUNTIES:
        region = Region.objects.get(code=county.code)
        stations = Unit.objects.filter(kind=UnitKind.POLICE_STATION, parent__region=region)
        counties.append(
            CountyPlaces(
                county=county,
                towns=list(Region.objects.filter(parent=region).order_by("code")),
                branch=Unit.objects.get(kind=UnitKind.POLICE_BRANCH, region=region),
                stations=[u for u in stations if u.pk in staff.leader],
            )
        )
    targets, weights = zip(*TARGETS, strict=True)
    made = 0
    for i in range(count):
        place = counties[i % len(counties)] if i < len(counties) else rng.choice(counties)
        target = rng.choices(targets, weights=weights)[0]
        if target == "withdrawn":
            case_id = generate_case(
                rng,
                staff,
                target="investigation",
                now=now,
                place=place,
                seal=i < sealed,
            )
            case = Case.objects.filter(pk=case_id).first() if case_id is not None else None
            # only a case still with the police (not waiting on the procuratorate) can be withdrawn
            if (
                case is not None
                and case.stage == "investigation"
                and case.holder_unit_id == case.police_unit_id
            ):
                with servertime.simulated(min(now - timedelta(hours=1), case.updated_at + timedelta(days=3))):
                    services.case_act(
                        user=staff.leader[case.police_unit_id],
                        case_id=case.pk,
                        action="withdraw",
                        reason="经侦查，犯罪嫌疑人行为情节显著轻微，不认为是犯罪",
                    )
        else:
            generate_case(
                rng,
                staff,
                target=target,
                now=now,
                place=place,
                seal=i < sealed,
            )
        made += 1
        if progress:
            progress(made)
    return made


def pending_approvals() -> int:
    return ActionRequest.objects.filter(status="pending").count()


__all__ = ["Stage", "generate"]


def attach_scans(*, count: int, seed: int = 11) -> int:
    """Give ``count`` cases that have reached the procuratorate a scanned volume, uploaded by the
    unit that holds them through the real upload services; OCR runs in the background job queue."""
    from xietong.demo.scans import volume_pdf
    from xietong.dossier import services as dossier

    rng = random.Random(seed)
    staff = Staff.load()
    made = 0
    candidates = Case.objects.filter(
        stage__in=["prosecution_review", "first_instance", "arrest_review", "investigation"]
    ).order_by("id")
    for case in candidates:
        if made >= count:
            break
        handler = staff.handler.get(case.holder_unit_id)
        suspects = list(case.parties.values_list("name", flat=True))
        data = volume_pdf(
            rng=rng,
            title=case.title,
            number=case.number,
            unit=case.police_unit.name,
            facts=case.facts,
            suspects=suspects,
        )
        if data is None or handler is None:
            return made
        upload = dossier.upload_start(
            user=handler, case_id=case.pk, filename=f"{case.number}-卷一.pdf", size=len(data)
        )
        dossier.upload_chunk(user=handler, upload_id=upload.pk, offset=0, data=data)
        dossier.upload_finish(user=handler, upload_id=upload.pk, title="诉讼卷")
        made += 1
    return made
