"""Who may read, write and start a report, and the reads themselves.

A review report is the reviewing unit's internal work paper: its own unit reads and writes it, a
leader reads those of his unit's subtree, the 政法委 and administrators read all (as they see every
case, F1). The case must be visible first: a case the user may not see is a 404 whatever the report,
so its existence does not leak; a visible case's report the user may not read is a 403.
"""

from __future__ import annotations

from django.db.models import QuerySet

from xietong.cases.models import Case
from xietong.cases.procedure import HANDLERS, LEADERS, Stage
from xietong.cases.selectors import case_get_visible, sees_everything
from xietong.errors import NotAllowed, NotFound
from xietong.orgs.models import Agency, User
from xietong.review.models import Report, ReportKind, ReportVersion

REVIEW_KINDS = frozenset({ReportKind.ARREST_REVIEW, ReportKind.PROSECUTION_REVIEW})


def may_read(user: User, report: Report) -> bool:
    if sees_everything(user):
        return True
    unit = user.unit
    if unit is None:
        return False
    if unit.pk == report.unit_id:
        return True
    return user.has_duty(*LEADERS) and report.unit.path.startswith(unit.path)


def may_edit(user: User, report: Report) -> bool:
    return user.unit_id == report.unit_id and user.has_duty(*HANDLERS)


def create_refusal(user: User, case: Case, kind: str) -> NotAllowed | None:
    """Why ``user`` may not start a ``kind`` report on the (visible) ``case``, or None if he may:
    the unit that holds the case writes its reports, with a handler's duty; the two review
    reports are the procuratorate's."""
    unit = user.unit
    if unit is None or unit.pk != case.holder_unit_id:
        return NotAllowed("只有当前办理单位可以新建审查报告", code="not_holder")
    if not user.has_duty(*HANDLERS):
        return NotAllowed("您的职责不能撰写审查报告", code="duty_forbidden")
    if kind in REVIEW_KINDS and unit.agency != Agency.PROCURATORATE:
        return NotAllowed(f"「{ReportKind(kind).label}」由检察机关撰写", code="kind_forbidden")
    return None


def kinds_for(user: User, case: Case) -> list[tuple[str, str]]:
    """The report kinds ``user`` may start on ``case``, the one fitting the stage first."""
    allowed = [(k.value, str(k.label)) for k in ReportKind if create_refusal(user, case, k) is None]
    preferred = {
        Stage.ARREST_REVIEW: ReportKind.ARREST_REVIEW,
        Stage.PROSECUTION_REVIEW: ReportKind.PROSECUTION_REVIEW,
    }.get(Stage(case.stage))
    return sorted(allowed, key=lambda kv: kv[0] != preferred)


def report_get_visible(*, user: User, report_id: int, case_id: int | None = None) -> Report:
    report = Report.objects.select_related("case", "author", "unit").filter(pk=report_id).first()
    if report is None or (case_id is not None and report.case_id != case_id):
        raise NotFound("报告不存在", code="report_not_found")
    case_get_visible(user=user, case_id=report.case_id)  # NotFound when the case is not visible
    if not may_read(user, report):
        raise NotAllowed("审查报告仅限撰写单位查看", code="report_forbidden")
    return report


def reports_of_case(*, user: User, case: Case) -> list[Report]:
    """The reports of a (visible) case that ``user`` may read, newest first."""
    qs: QuerySet[Report] = Report.objects.filter(case=case).select_related("author", "unit")
    return [r for r in qs.order_by("-updated_at") if may_read(user, r)]


def version_get(*, report: Report, number: int | None = None) -> ReportVersion:
    version = (
        ReportVersion.objects.select_related("saved_by")
        .filter(report=report, number=number or report.current_version)
        .first()
    )
    if version is None:
        raise NotFound("该版本不存在", code="version_not_found")
    return version


def versions_of(*, report: Report) -> list[ReportVersion]:
    return list(
        ReportVersion.objects.filter(report=report)
        .select_related("saved_by")
        .defer("body")
        .order_by("-number")
    )
