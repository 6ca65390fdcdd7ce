"""Reads of 网上案件评查 (F16), each scoped to what the user may see: organisers their campaigns,
reviewers their assignments (and through them, nothing but those case files), handling units the
defects found in their own cases. Also the per-unit results other parts read (``unit_scores``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet

from xietong.cases.selectors import sees_everything
from xietong.errors import NotFound
from xietong.orgs.models import LEADER_DUTIES, Agency, Duty, Unit, User
from xietong.quality import standards
from xietong.quality.models import (
    Campaign,
    CampaignCase,
    CampaignReviewer,
    CampaignStatus,
    Defect,
    DefectStatus,
    Finding,
    ReviewStatus,
)

REVIEWED_AGENCIES = (Agency.POLICE, Agency.PROCURATORATE, Agency.COURT)


def may_organise(user: User) -> bool:
    """组织评查: a leader (分管领导/部门负责人) of a police unit, procuratorate or court, or the
    政法委 and administrators."""
    if not user.is_authenticated or user.unit is None:
        return False
    if sees_everything(user):
        return user.has_duty(*LEADER_DUTIES, Duty.ADMIN, Duty.REVIEWER)
    return user.has_duty(*LEADER_DUTIES) and user.unit.agency in REVIEWED_AGENCIES


def reviewable_units(user: User) -> QuerySet[Unit]:
    """Units whose cases ``user`` may put under review: every police unit, procuratorate and court
    for the 政法委; a leader's own unit and those below it, of his agency, otherwise."""
    qs = Unit.objects.filter(agency__in=REVIEWED_AGENCIES).exclude(kind__in=["detention_house", "prison"])
    if not may_organise(user) or user.unit is None:
        return qs.none()
    if sees_everything(user):
        return qs
    return qs.filter(agency=user.unit.agency, path__startswith=user.unit.path)


def county_of_unit(unit: Unit) -> int | None:
    """The county-level region a unit works in (a town's county), None for city-level units."""
    region = unit.region
    if region.level == "county":
        return region.pk
    if region.level == "town":
        return region.parent_id
    return None


def campaign_manageable(user: User, campaign: Campaign) -> bool:
    """The organiser, a leader of the organising unit, or an administrator."""
    if not user.is_authenticated:
        return False
    if campaign.organiser_id == user.pk or user.has_duty(Duty.ADMIN):
        return True
    return user.unit_id == campaign.organiser_unit_id and user.has_duty(*LEADER_DUTIES)


def campaign_list_visible_to(*, user: User) -> QuerySet[Campaign]:
    """Campaigns the user organises or oversees (his unit's and those below, for a leader; all for
    the 政法委) and those he reviews in."""
    qs = Campaign.objects.select_related("organiser", "organiser_unit")
    if sees_everything(user):
        return qs
    reviewing = Q(reviewers__user=user)
    if user.unit is not None and user.has_duty(*LEADER_DUTIES):
        return qs.filter(reviewing | Q(organiser_unit__path__startswith=user.unit.path)).distinct()
    return qs.filter(reviewing | Q(organiser=user)).distinct()


def campaign_get_visible(*, user: User, campaign_id: int) -> Campaign:
    campaign = campaign_list_visible_to(user=user).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("评查活动不存在或无权查看", code="campaign_not_found")
    return campaign


def campaign_sees_results(user: User, campaign: Campaign) -> bool:
    """Results and every case's defects: the organising side (not a reviewer, who sees his own)."""
    if sees_everything(user) or campaign_manageable(user, campaign):
        return True
    unit = user.unit
    return (
        unit is not None
        and user.has_duty(*LEADER_DUTIES)
        and campaign.organiser_unit.path.startswith(unit.path)
    )


def campaign_reviews(*, campaign: Campaign) -> QuerySet[CampaignCase]:
    return (
        CampaignCase.objects.filter(campaign=campaign)
        .select_related("case", "unit", "reviewer__unit", "case__county")
        .order_by("unit__path", "case__number")
    )


def campaign_reviewers(*, campaign: Campaign) -> list[CampaignReviewer]:
    return list(
        CampaignReviewer.objects.filter(campaign=campaign)
        .select_related("user__unit")
        .order_by("user__unit__path", "user__full_name")
    )


def reviewer_candidates(*, campaign: Campaign) -> QuerySet[User]:
    """People who may be added as reviewers: of the organiser's agency (any, for the 政法委), with a
    duty that reads case files, not yet in the campaign."""
    qs = (
        User.objects.filter(
            is_active=True,
            unit__isnull=False,
            appointments__duty__in=[Duty.REVIEWER, Duty.HANDLER, Duty.DEPT_HEAD, Duty.LEADER],
        )
        .exclude(pk__in=CampaignReviewer.objects.filter(campaign=campaign).values("user_id"))
        .select_related("unit")
        .distinct()
        .order_by("unit__path", "username")
    )
    agency = campaign.organiser_unit.agency
    if agency != Agency.COMMITTEE:
        qs = qs.filter(unit__agency__in=[agency, Agency.COMMITTEE])
    return qs


def assignments_of(*, user: User) -> QuerySet[CampaignCase]:
    """The reviewer's cases in campaigns under way."""
    return (
        CampaignCase.objects.filter(reviewer=user, campaign__status=CampaignStatus.ACTIVE)
        .select_related("campaign", "case", "unit")
        .order_by("status", "campaign_id", "pk")
    )


def feedback_list_for(*, user: User) -> QuerySet[CampaignCase]:
    """Submitted reviews of cases of the user's unit (and the units below, for a leader)."""
    unit = user.unit
    qs = CampaignCase.objects.filter(status=ReviewStatus.SUBMITTED).select_related("campaign", "case", "unit")
    if unit is None:
        return qs.none()
    if user.has_duty(*LEADER_DUTIES):
        return qs.filter(unit__path__startswith=unit.path).order_by("-submitted_at")
    return qs.filter(unit=unit).order_by("-submitted_at")


def feedback_get(*, user: User, review_id: int) -> CampaignCase:
    review = feedback_list_for(user=user).filter(pk=review_id).first()
    if review is None:
        raise NotFound("评查结果不存在或无权查看", code="review_not_found")
    return review


def review_get_for_organiser(*, user: User, review_id: int) -> CampaignCase:
    review = (
        CampaignCase.objects.select_related("campaign__organiser_unit", "case", "unit", "reviewer")
        .filter(pk=review_id)
        .first()
    )
    if review is None or not campaign_sees_results(user, review.campaign):
        raise NotFound("评查案件不存在或无权查看", code="review_not_found")
    return review


def defects_of(*, review: CampaignCase) -> list[Defect]:
    return list(
        Defect.objects.filter(review=review)
        .select_related("crop", "instrument", "answered_by")
        .order_by("pk")
    )


def findings_of(*, review: CampaignCase) -> list[Finding]:
    return list(Finding.objects.filter(review=review).select_related("page__volume").order_by("status", "pk"))


def defect_get_visible(*, user: User, defect_id: int) -> Defect:
    """A defect (and its screenshot) for its reviewer, the campaign's organising side, and — once
    submitted — the handling unit."""
    defect = (
        Defect.objects.select_related("review__campaign__organiser_unit", "review__unit", "crop")
        .filter(pk=defect_id)
        .first()
    )
    if defect is None:
        raise NotFound("评查问题不存在", code="defect_not_found")
    review = defect.review
    if review.reviewer_id == user.pk or campaign_sees_results(user, review.campaign):
        return defect
    if review.status == ReviewStatus.SUBMITTED and feedback_list_for(user=user).filter(pk=review.pk).exists():
        return defect
    raise NotFound("评查问题不存在", code="defect_not_found")


# ---------------------------------------------------------------- results


@dataclass
class UnitResult:
    unit_id: int
    unit: str
    drawn: int = 0
    reviewed: int = 0
    score_total: int = 0
    defects: Counter[str] = field(default_factory=Counter)  # by severity
    items: Counter[str] = field(default_factory=Counter)  # by checklist item code
    rectified: int = 0
    answered: int = 0
    grades: Counter[str] = field(default_factory=Counter)

    @property
    def average_score(self) -> float | None:
        return round(self.score_total / self.reviewed, 1) if self.reviewed else None

    @property
    def defect_total(self) -> int:
        return sum(self.defects.values())

    @property
    def rectified_share(self) -> float | None:
        total = self.defect_total
        return round(100 * self.rectified / total, 1) if total else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "unit": self.unit,
            "drawn": self.drawn,
            "reviewed": self.reviewed,
            "average_score": self.average_score,
            "defects": {s.value: self.defects.get(s.value, 0) for s in standards.Severity},
            "defect_total": self.defect_total,
            "by_item": dict(self.items),
            "rectified": self.rectified,
            "rectified_share": self.rectified_share,
        }


def _results(reviews: QuerySet[CampaignCase]) -> list[UnitResult]:
    by_unit: dict[int, UnitResult] = {}
    rows = list(
        reviews.select_related("unit").only("pk", "unit__name", "unit__path", "status", "score", "grade")
    )
    for r in sorted(rows, key=lambda r: r.unit.path):
        res = by_unit.setdefault(r.unit_id, UnitResult(unit_id=r.unit_id, unit=r.unit.name))
        res.drawn += 1
        if r.status == ReviewStatus.SUBMITTED and r.score is not None:
            res.reviewed += 1
            res.score_total += r.score
            res.grades[r.grade] += 1
    submitted = [r.pk for r in rows if r.status == ReviewStatus.SUBMITTED]
    unit_of = {r.pk: r.unit_id for r in rows}
    for review_id, severity, item, status in Defect.objects.filter(review_id__in=submitted).values_list(
        "review_id", "severity", "item_code", "status"
    ):
        res = by_unit[unit_of[review_id]]
        res.defects[severity] += 1
        res.items[item] += 1
        if status == DefectStatus.RECTIFIED:
            res.rectified += 1
        if status != DefectStatus.OPEN:
            res.answered += 1
    return list(by_unit.values())


def campaign_results(*, campaign: Campaign) -> list[UnitResult]:
    """Per reviewed unit: cases drawn and reviewed, average score, defects by class and by checklist
    item, the share rectified. Only submitted reviews count."""
    return _results(CampaignCase.objects.filter(campaign=campaign))


def item_labels(*, results: Iterable[UnitResult]) -> list[tuple[str, str, int]]:
    """(code, text, count) of every checklist item with a defect in ``results``, most frequent first."""
    counts: Counter[str] = Counter()
    for r in results:
        counts.update(r.items)
    texts: dict[str, str] = {}
    for checklist in standards.CHECKLISTS.values():
        for item in checklist.items:
            texts.setdefault(item.code, item.text)
    return [(code, texts.get(code, code), n) for code, n in counts.most_common()]


def unit_scores(
    *, units: Iterable[Unit | int] | None = None, since: date | datetime | None = None
) -> list[dict[str, Any]]:
    """Per unit over every campaign: reviews submitted (since ``since``), average score, defects by
    class (``flaw``/``irregular``/``error``) and in total, rectified count and share. For the
    leaders' oversight; the caller scopes ``units`` to what its user may see (None: all units)."""
    qs = CampaignCase.objects.filter(status=ReviewStatus.SUBMITTED)
    if units is not None:
        ids = [u.pk if isinstance(u, Unit) else int(u) for u in units]
        qs = qs.filter(unit_id__in=ids)
    if since is not None:
        if isinstance(since, datetime):
            qs = qs.filter(submitted_at__gte=since)
        else:
            qs = qs.filter(submitted_at__date__gte=since)
    out = []
    for r in _results(qs):
        row = r.as_dict()
        row.pop("drawn")
        out.append(row)
    return out
