"""Permission-scoped reads (F1): what a user may see is decided by the cases his unit takes or took
part in, by his unit's subtree if he leads it, and everything for the 政法委 and administrators
(seed: 各政法部门负责人还可以通过平台权限, 随时查阅全部或部分刑事案件信息)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from xietong.cases import deadlines
from xietong.cases.clock_levels import Level, clock_level, remaining_text
from xietong.cases.models import (
    ActionRequest,
    Case,
    Clock,
    ClockStatus,
    Participation,
    RequestStatus,
    Transfer,
    TransferStatus,
)
from xietong.cases.procedure import ACTIONS, LEADERS, Action, Stage, actions_for_stage
from xietong.errors import NotFound
from xietong.orgs.models import Agency, Duty, User


def timeline_agency(user: User) -> str | None:
    """Whose internal timeline entries the user sees: his own agency's (None: all, for 政法委/admin)."""
    if sees_everything(user) or user.unit is None:
        return None
    return str(user.unit.agency)


def sees_everything(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.has_duty(Duty.ADMIN):
        return True
    return user.unit is not None and user.unit.agency == Agency.COMMITTEE


def _participation_filter(user: User, case: str = "pk") -> Q:
    """Rows whose case (the column ``case`` of the filtered model) the user's unit took part in."""
    unit = user.unit
    if unit is None:
        return Q(pk__in=[])
    if user.has_duty(*LEADERS):
        units = Participation.objects.filter(case=OuterRef(case), unit__path__startswith=unit.path)
    else:
        units = Participation.objects.filter(case=OuterRef(case), unit=unit)
    return Q(Exists(units))


def of_visible_cases(*, user: User, case: str = "case_id") -> Q:
    """The same visibility as ``case_list_visible_to``, as a filter on rows of another model that
    point to a case (column ``case``): a few rows (running clocks, say) are each checked against
    their own case, instead of listing every visible case first."""
    return Q() if sees_everything(user) else _participation_filter(user, case)


def case_list_visible_to(*, user: User) -> QuerySet[Case]:
    qs = Case.objects.all()
    if sees_everything(user):
        return qs
    return qs.filter(_participation_filter(user))


def case_visible_to(*, user: User, case: Case) -> bool:
    if sees_everything(user):
        return True
    return case_list_visible_to(user=user).filter(pk=case.pk).exists()


def case_get_visible(*, user: User, case_id: int) -> Case:
    case = (
        case_list_visible_to(user=user)
        .select_related(
            "holder_unit",
            "handler",
            "police_unit",
            "procuratorate_unit",
            "court_unit",
            "execution_unit",
            "town",
            "county",
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound("案件不存在或无权查看", code="case_not_found")
    return case


def case_search(*, user: User, query: str = "", stage: str = "", charge: str = "") -> QuerySet[Case]:
    """Search by case number, party name, title or charge, within what the user may see."""
    qs = case_list_visible_to(user=user)
    query = query.strip()
    if query:
        from xietong.cases.models import Party

        named = Party.objects.filter(case=OuterRef("pk"), name__contains=query)
        qs = qs.filter(
            Q(number__icontains=query)
            | Q(title__contains=query)
            | Q(charge__contains=query)
            | Q(Exists(named))
        )
    if stage:
        qs = qs.filter(stage=stage)
    if charge:
        qs = qs.filter(charge__contains=charge)
    return qs.select_related("holder_unit", "county").order_by("-updated_at")


def pending_transfer(*, case: Case) -> Transfer | None:
    return (
        Transfer.objects.filter(case=case, status=TransferStatus.PENDING)
        .select_related("to_unit", "from_unit")
        .first()
    )


def actions_available(*, user: User, case: Case) -> list[Action]:
    """The acts this user may take now on this case (the buttons on the case page)."""
    unit = user.unit
    if unit is None or Stage(case.stage) is None or pending_transfer(case=case):
        return []
    out = []
    custodies: set[str] | None = None
    for action in actions_for_stage(Stage(case.stage)):
        if action.agency != unit.agency or not user.has_duty(*action.duties):
            continue
        if action.unit_kinds and unit.kind not in action.unit_kinds:
            continue
        stage_agency = Stage(case.stage).agency
        if stage_agency == action.agency and case.holder_unit_id != unit.pk:
            continue
        if action.code == "protest" and case.procuratorate_unit_id != unit.pk:
            continue
        if action.code == "offender_report" and not _awaits_report(case, unit.pk):
            continue
        if stage_agency != action.agency and action.per_party and action.custody_from:
            # another agency's act on a person (延长侦查羁押, 释放在押被告人): only when it applies to someone
            if custodies is None:
                custodies = set(case.parties.values_list("custody", flat=True))
            if not custodies & {c.value for c in action.custody_from}:
                continue
        out.append(action)
    return out


def _awaits_report(case: Case, unit_id: int) -> bool:
    from xietong.execution.selectors import awaiting_report

    return awaiting_report(case_id=case.pk, unit_id=unit_id)


@dataclass
class ClockView:
    clock: Clock
    rule: deadlines.Rule
    level: Level
    remaining: str

    @property
    def label(self) -> str:
        return self.rule.label

    @property
    def due_text(self) -> str:
        """Hour limits end at an instant; day and month limits at the end (24时) of the last day."""
        if self.rule.unit == deadlines.PeriodUnit.HOUR:
            return f"{timezone.localtime(self.clock.due_at):%Y-%m-%d %H:%M}"
        return f"{self.clock.due:%Y-%m-%d} 24时"


def clock_view(clock: Clock, now: datetime) -> ClockView:
    rule = deadlines.RULES[clock.rule]
    return ClockView(
        clock=clock,
        rule=rule,
        level=clock_level(now=now, started_at=clock.started_at, due_at=clock.due_at),
        remaining=remaining_text(now=now, due_at=clock.due_at),
    )


def case_clocks(*, case: Case, running_only: bool = True) -> list[ClockView]:
    now = timezone.now()
    qs = Clock.objects.filter(case=case).select_related("party", "unit").order_by("due_at")
    if running_only:
        qs = qs.filter(status=ClockStatus.RUNNING)
    return [clock_view(c, now) for c in qs]


def workbench(*, user: User, limit: int = 50) -> dict[str, Any]:
    """A handler's to-dos: inbox transfers to his unit, approvals waiting for him (leaders), and
    running clocks of cases he handles (or his unit holds), most urgent first."""
    now = timezone.now()
    unit = user.unit
    if unit is None:
        return {"inbox": [], "approvals": [], "clocks": [], "counts": {}}
    inbox = list(
        Transfer.objects.filter(to_unit=unit, status=TransferStatus.PENDING)
        .select_related("case", "from_unit", "sent_by")
        .order_by("sent_at")[:limit]
    )
    approvals: list[ActionRequest] = []
    if user.has_duty(*LEADERS):
        approvals = list(
            ActionRequest.objects.filter(unit=unit, status=RequestStatus.PENDING)
            .select_related("case", "requested_by")
            .order_by("requested_at")[:limit]
        )
    running = Clock.objects.filter(status=ClockStatus.RUNNING, unit=unit)
    if not user.has_duty(*LEADERS):  # a leader watches all his unit's limits; a handler his own cases
        running = running.filter(Q(case__handler=user) | Q(case__handler__isnull=True))
    running = running.select_related("case", "party").order_by("due_at")[:limit]
    views = [clock_view(c, now) for c in running]
    counts = {level.value: sum(1 for v in views if v.level == level) for level in Level}
    return {"inbox": inbox, "approvals": approvals, "clocks": views, "counts": counts}


def action_spec(code: str) -> Action | None:
    return ACTIONS.get(code)
