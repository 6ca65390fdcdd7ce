"""Demo data for 网上案件评查: one campaign of the 市人民检察院 over the county procuratorates,
with cases drawn at random and cross-assigned, and one case reviewed through the real services — a
defect marked on a page of its scanned file (with the screenshot) and the score submitted."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from xietong.dossier.models import Page, Volume, VolumeStatus
from xietong.errors import ValidationFailed
from xietong.orgs.models import Unit, User
from xietong.quality import services
from xietong.quality.models import Campaign, CampaignCase, Finding, FindingStatus

ORGANISER = "city_procu_leader"
REVIEWERS = ("wujiang_procu2", "kunshan_procu2", "gusu_procu2", "changshu_procu2")
NAME = "全市检察机关刑事案件网上交叉评查（演示）"


def seed(*, per_unit: int = 2, seed_value: int = 2026) -> Campaign | None:
    """Create the demo campaign once (None when the org or cases are missing, or it exists)."""
    organiser = User.objects.filter(username=ORGANISER).first()
    if organiser is None or Campaign.objects.filter(name=NAME).exists():
        return None
    units = list(Unit.objects.filter(kind="procuratorate").values_list("pk", flat=True))
    today = timezone.localdate()
    campaign = services.campaign_create(
        user=organiser,
        data=services.CampaignInput(
            name=NAME,
            period_start=date(today.year - 5, 1, 1),
            period_end=today,
            unit_ids=units,
            rules=[],
            per_unit=per_unit,
            seed=seed_value,
            with_file_only=False,
        ),
    )
    for username in REVIEWERS:
        reviewer = User.objects.filter(username=username).first()
        if reviewer is not None:
            services.campaign_reviewer_add(user=organiser, campaign_id=campaign.pk, reviewer_id=reviewer.pk)
    try:
        services.campaign_draw(user=organiser, campaign_id=campaign.pk)
    except ValidationFailed:
        return campaign  # no cases yet: the campaign waits for them
    services.campaign_assign_auto(user=organiser, campaign_id=campaign.pk)
    review_one(campaign)
    return campaign


def _with_pages(review: CampaignCase) -> Page | None:
    """The second page (the 讯问笔录 of the demo scans) of the case's first volume, rendered now if
    the background worker has not done it yet."""
    volume = Volume.objects.filter(case_id=review.case_id).order_by("number").first()
    if volume is None:
        return None
    if volume.status != VolumeStatus.READY:
        from xietong.dossier.services import volume_process

        volume_process(volume_id=volume.pk)
    pages = list(Page.objects.filter(volume=volume).order_by("number")[:2])
    return pages[-1] if pages else None


def review_one(campaign: Campaign) -> CampaignCase | None:
    reviews = list(
        CampaignCase.objects.filter(campaign=campaign, reviewer__isnull=False).select_related("reviewer")
    )
    if not reviews:
        return None
    with_file = [r for r in reviews if Volume.objects.filter(case_id=r.case_id).exists()]
    review = (with_file or reviews)[0]
    reviewer = review.reviewer
    if reviewer is None:
        return None
    page = _with_pages(review) if with_file else None
    services.review_open(user=reviewer, review_id=review.pk)
    if page is not None:
        services.defect_add(
            user=reviewer,
            review_id=review.pk,
            data=services.DefectInput(
                item_code="TY-04",
                severity="irregular",
                comment="讯问笔录末页无犯罪嫌疑人核对意见及签名、捺印，不符合刑事诉讼法第一百二十二条的规定。",
                page_id=page.pk,
                rect=(80, page.height // 2, page.width - 160, page.height // 3),
            ),
        )
    else:
        services.defect_add(
            user=reviewer,
            review_id=review.pk,
            data=services.DefectInput(
                item_code="TY-01", severity="flaw", comment="部分法律文书未及时签发盖章，卷内仅存草稿。"
            ),
        )
    for finding in Finding.objects.filter(review=review, status=FindingStatus.PENDING):
        services.finding_decide(user=reviewer, finding_id=finding.pk, confirm=False)
    services.review_submit(
        user=reviewer,
        review_id=review.pk,
        summary="案件事实清楚，证据基本确实充分，笔录制作存在不规范问题，已反馈承办单位整改。",
    )
    return review
