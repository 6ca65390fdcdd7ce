"""The execution side's periodic work (F7, F14): judgments that take effect because the appeal period
ran out, offenders who have not reported, terms about to end. Each step is idempotent (alerts have
keys, the door re-checks the stage under the case lock), so the embedded worker, any number of
``xietong worker`` processes and the pages that call it may all run it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from xietong import servertime
from xietong.cases.models import Clock, ClockStatus
from xietong.cases.procedure import Stage
from xietong.execution.models import Body, Sentence, Supervisee, SuperviseeStatus
from xietong.execution.services import REPORT_DAYS, TERM_END_NOTICE_DAYS
from xietong.supervision.models import Alert
from xietong.supervision.services import alerts_raise_once

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    took_effect: int = 0
    report_overdue: int = 0
    term_ending: int = 0


def judgments_take_effect(now: datetime | None = None) -> int:
    """判决生效 of every first-instance judgment whose appeal period ended with no appeal or protest
    (刑诉法第259条); returns how many took effect."""
    from xietong.cases.services import judgment_effective_auto

    now = now or servertime.now()
    due = (
        Clock.objects.filter(
            rule__in=["appeal_judgment", "appeal_ruling"],
            status=ClockStatus.RUNNING,
            due_at__lte=now,
            case__stage=Stage.APPEAL_PERIOD,
        )
        .values_list("case_id", flat=True)
        .distinct()
    )
    done = 0
    for case_id in list(due[:500]):
        try:
            if judgment_effective_auto(case_id=case_id) is not None:
                done += 1
        except Exception:  # one bad case must not stop the others; it is retried next round
            logger.exception("judgment of case %s could not take effect", case_id)
    return done


def take_effect_if_due(case_id: int, stage: str) -> bool:
    """The same for one case, when someone looks at it: a page never shows a judgment as pending
    whose appeal period is over (the periodic sweep may not have run yet)."""
    from xietong.cases.services import judgment_effective_auto

    if stage != Stage.APPEAL_PERIOD:
        return False
    due = Clock.objects.filter(
        case_id=case_id,
        rule__in=["appeal_judgment", "appeal_ruling"],
        status=ClockStatus.RUNNING,
        due_at__lte=servertime.now(),
    ).exists()
    return due and judgment_effective_auto(case_id=case_id) is not None


def report_overdue(today: date, now: datetime) -> int:
    """社区矫正法第21条: an offender who has not reported within ten days; the corrections unit is
    told (and must find him: 第27条 and 高法解释第543条 make a failure to report a ground for
    revocation)."""
    late = Supervisee.objects.filter(
        status__in=[SuperviseeStatus.NOTIFIED, SuperviseeStatus.AWAITING],
        reported_at__isnull=True,
        report_due__lt=today,
    ).select_related("party", "case", "corrections_unit")
    return alerts_raise_once(
        [
            Alert(
                kind="report_overdue",
                key=f"report:{s.pk}",
                case_id=s.case_id,
                unit_id=s.corrections_unit_id,
                message=(
                    f"{s.case.number} 社区矫正对象{s.party.name}应于{s.report_due:%Y年%m月%d日}前报到，"
                    f"至今未报到（社区矫正法第21条，{REPORT_DAYS}日内）"
                ),
                details={"supervisee": s.pk, "report_due": s.report_due.isoformat()},
                raised_at=now,
            )
            for s in late[:2000]
        ]
    )


def terms_ending(today: date, now: datetime) -> int:
    """A reminder ahead of the end of a term: 解除社区矫正 (社区矫正法第44条) or 刑满释放
    (刑诉法第264条第5款), so nobody is held or supervised a day too long."""
    horizon = today + timedelta(days=TERM_END_NOTICE_DAYS)
    alerts = [
        Alert(
            kind="term_ending",
            key=f"term:{s.pk}:{s.term_end.isoformat()}",
            case_id=s.case_id,
            unit_id=s.office_id or s.corrections_unit_id,
            message=(
                f"{s.case.number} 社区矫正对象{s.party.name}矫正期于{s.term_end:%Y年%m月%d日}届满，"
                "请准备解除矫正（社区矫正法第44条）"
            ),
            details={"supervisee": s.pk, "term_end": s.term_end.isoformat()},
            raised_at=now,
        )
        for s in Supervisee.objects.filter(status=SuperviseeStatus.SUPERVISED, term_end__lte=horizon)
        .select_related("party", "case")
        .order_by("term_end")[:2000]
    ]
    prisoners = (
        Sentence.objects.filter(
            body__in=[Body.PRISON, Body.DETENTION_HOUSE], term_end__lte=horizon, party__custody="serving"
        )
        .exclude(party__custody_events__kind__in=["term_end", "parole", "temporary_release"])
        .select_related("party", "case")
        .order_by("term_end")[:2000]
    )
    alerts += [
        Alert(
            kind="term_ending",
            key=f"release:{s.party_id}:{s.term_end.isoformat()}",
            case_id=s.case_id,
            unit_id=s.executing_unit_id,
            message=(
                f"{s.case.number} 罪犯{s.party.name}刑期于{s.term_end:%Y年%m月%d日}届满，"
                "届满当日应当释放并发给释放证明书（刑事诉讼法第264条第5款）"
            ),
            details={"party": s.party_id, "term_end": s.term_end.isoformat() if s.term_end else None},
            raised_at=now,
        )
        for s in prisoners
        if s.term_end is not None
    ]
    return alerts_raise_once(alerts)


def execution_sweep(now: datetime | None = None) -> SweepResult:
    now = now or servertime.now()
    today = timezone.localdate(now)
    return SweepResult(
        took_effect=judgments_take_effect(now),
        report_overdue=report_overdue(today, now),
        term_ending=terms_ending(today, now),
    )
