"""Checks that a procedure row names in ``guards``, beyond stage, agency and duty. Each returns
None when the act may go ahead, or raises a ``DomainError`` whose message says why not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xietong import fastsql
from xietong.cases.models import Case, Clock, ClockStatus, Party, Transfer, TransferStatus
from xietong.cases.procedure import Verdict
from xietong.errors import Conflict, NotAllowed, ValidationFailed
from xietong.orgs.models import User


@dataclass
class ActContext:
    case: Case
    user: User
    now: datetime
    parties: list[Party]
    options: dict[str, Any] = field(default_factory=dict)


def _supplementary_under_limit(ctx: ActContext) -> None:
    # 刑事诉讼法第175条第3款: 补充侦查以二次为限.
    if ctx.case.supplementary_count >= 2:
        raise Conflict(
            "退回补充侦查以二次为限（刑事诉讼法第175条），本案已退回二次", code="supplementary_limit"
        )


def _remand_under_limit(ctx: ActContext) -> None:
    # 刑事诉讼法第236条第2款: 发回重审以一次为限 (事实不清、证据不足).
    if ctx.case.remand_count >= 1:
        raise Conflict("因事实不清、证据不足发回重审以一次为限（刑事诉讼法第236条）", code="remand_limit")


def _appeal_clock(ctx: ActContext) -> Clock | None:
    return (
        Clock.objects.filter(case=ctx.case, rule__in=["appeal_judgment", "appeal_ruling"])
        .order_by("-id")
        .first()
    )


def _within_appeal_period(ctx: ActContext) -> None:
    clock = _appeal_clock(ctx)
    if clock is None or clock.status != ClockStatus.RUNNING or ctx.now > clock.due_at:
        raise Conflict("上诉、抗诉期限已届满（刑事诉讼法第230条）", code="appeal_period_over")


def _appeal_period_expired(ctx: ActContext) -> None:
    clock = _appeal_clock(ctx)
    if clock is not None and ctx.now <= clock.due_at:
        due = clock.due.isoformat()
        raise Conflict(
            f"上诉、抗诉期限至{due}届满，届满前判决尚未生效（刑事诉讼法第259条）",
            code="appeal_period_running",
        )


def _verdict_given(ctx: ActContext) -> None:
    raw = ctx.options.get("verdict")
    if not isinstance(raw, dict):
        raise ValidationFailed("请填写裁判结果", code="verdict_required")
    penalty = raw.get("penalty")
    if penalty not in {"none", "fine", "control", "criminal_detention", "fixed_term", "life"}:
        raise ValidationFailed("刑种无效", code="verdict_invalid")
    try:
        months = int(raw.get("months") or 0)
        probation = int(raw.get("probation_months") or 0)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("刑期须为整数月", code="verdict_invalid") from exc
    guilty = bool(raw.get("guilty", True))
    limits = {"control": (3, 24), "criminal_detention": (1, 6), "fixed_term": (6, 300)}  # 刑法第38、42、45条
    if guilty and penalty in limits:
        low, high = limits[penalty]
        if not low <= months <= high:
            raise ValidationFailed(f"该刑种刑期应在{low}至{high}个月之间", code="verdict_invalid")
    if probation and penalty not in {"criminal_detention", "fixed_term"}:
        raise ValidationFailed("只有拘役、三年以下有期徒刑可以宣告缓刑（刑法第72条）", code="verdict_invalid")
    if probation and penalty == "fixed_term" and months > 36:
        raise ValidationFailed("只有拘役、三年以下有期徒刑可以宣告缓刑（刑法第72条）", code="verdict_invalid")
    from xietong.execution.sentences import ImpossibleSentence, check_verdict

    try:
        check_verdict(Verdict(guilty=guilty, penalty=penalty, months=months, probation_months=probation))
    except ImpossibleSentence as exc:
        raise ValidationFailed(str(exc), code="verdict_invalid") from exc
    ctx.options["verdict"] = {
        "guilty": guilty,
        "penalty": penalty if guilty else "none",
        "months": months if guilty else 0,
        "probation_months": probation if guilty else 0,
        "charges": [str(c) for c in raw.get("charges") or [ctx.case.charge]],
    }
    prohibitions = str(raw.get("prohibitions") or "").strip()[:500]
    if prohibitions:
        if not (guilty and (penalty == "control" or probation)):
            raise ValidationFailed(
                "禁止令只适用于判处管制或宣告缓刑的（刑法第38条、第72条）", code="verdict_invalid"
            )
        ctx.options["verdict"]["prohibitions"] = prohibitions


def _verdict(ctx: ActContext) -> Verdict | None:
    return Verdict(**ctx.case.verdict) if ctx.case.verdict else None


def _punishment_to_execute(ctx: ActContext) -> None:
    verdict = _verdict(ctx)
    if verdict is None or not (verdict.custodial or verdict.community):
        raise Conflict("本案判决无需交付执行，请办理结案", code="nothing_to_execute")


def _nothing_to_execute(ctx: ActContext) -> None:
    verdict = _verdict(ctx)
    if verdict is not None and (verdict.custodial or verdict.community):
        raise Conflict("本案判处刑罚需交付执行，不能直接结案", code="execution_required")


def _holds_case(ctx: ActContext) -> None:
    if ctx.user.unit_id != ctx.case.holder_unit_id:
        raise NotAllowed("本案不在本单位办理", code="not_holder")


def _prosecuted_this_case(ctx: ActContext) -> None:
    if ctx.user.unit_id != ctx.case.procuratorate_unit_id:
        raise NotAllowed("只有提起公诉的人民检察院可以抗诉", code="not_prosecutor")


def _arrest_request_pending_for_selected(ctx: ActContext) -> None:
    found = fastsql.fetch_models(
        Transfer,
        "WHERE {t}.case_id = %s AND {t}.action = %s AND {t}.status = %s ORDER BY {t}.id DESC LIMIT 1",
        [ctx.case.pk, "request_arrest", TransferStatus.ACCEPTED.value],
    )
    requested = set(found[0].party_ids) if found else set()
    outside = [p.name for p in ctx.parties if p.pk not in requested]
    if outside:
        raise Conflict(f"{'、'.join(outside)}不在提请批准逮捕的人员之列", code="not_requested")


def _may_register_report(ctx: ActContext) -> None:
    from xietong.execution.services import check_report

    check_report(user=ctx.user, case=ctx.case, parties=ctx.parties)


def _custody_extension_allowed(ctx: ActContext) -> None:
    from xietong.execution.services import check_extension

    check_extension(parties=ctx.parties, at=ctx.now)


GUARDS: dict[str, Callable[[ActContext], None]] = {
    "custody_extension_allowed": _custody_extension_allowed,
    "may_register_report": _may_register_report,
    "supplementary_under_limit": _supplementary_under_limit,
    "remand_under_limit": _remand_under_limit,
    "within_appeal_period": _within_appeal_period,
    "appeal_period_expired": _appeal_period_expired,
    "verdict_given": _verdict_given,
    "punishment_to_execute": _punishment_to_execute,
    "nothing_to_execute": _nothing_to_execute,
    "holds_case": _holds_case,
    "prosecuted_this_case": _prosecuted_this_case,
    "arrest_request_pending_for_selected": _arrest_request_pending_for_selected,
}


def _verdict_of(case: Case) -> Verdict | None:
    return Verdict(**case.verdict) if case.verdict else None


def _detained(parties: list[Party]) -> bool:
    return any(p.custody in {"detained", "arrested"} for p in parties)


def _fast(case: Case) -> bool:
    return case.fast_track and case.plea


Condition = Callable[[Case, list[Party]], bool]
CONDITIONS: dict[str, Condition] = {
    "any_selected_detained": lambda case, parties: _detained(parties),
    "none_selected_detained": lambda case, parties: not _detained(parties),
    "fast_track": lambda case, parties: _fast(case),
    "not_fast_track": lambda case, parties: not _fast(case),
    "procedure_ordinary": lambda case, parties: case.trial_procedure in {"", "ordinary"},
    "procedure_summary": lambda case, parties: case.trial_procedure == "summary",
    "procedure_fast": lambda case, parties: case.trial_procedure == "fast",
    "custodial_sentence": lambda case, parties: bool((v := _verdict_of(case)) and v.custodial),
    "community_sentence": lambda case, parties: bool((v := _verdict_of(case)) and v.community),
}


def clock_condition(name: str | None, *, case: Case, parties: list[Party]) -> bool:
    """Conditions on ``ClockStart`` rows: which variant of a limit applies."""
    return name is None or CONDITIONS[name](case, parties)
