"""网上案件评查 (F16): review campaigns, the cases they draw, the reviewers' defects with their
screenshots, the machine's pre-screening suggestions, and the handling units' answers.

Rows are written by ``quality.services`` only; submitting a review and answering a defect are also
entries in the case's ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xietong.cases.models import Case
from xietong.dossier.models import Blob, Page
from xietong.instruments.models import Instrument
from xietong.orgs.models import Unit
from xietong.quality.standards import SEVERITY_CHOICES


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "筹备中"
    ACTIVE = "active", "评查中"
    CLOSED = "closed", "已结束"


class Campaign(models.Model):
    """评查活动: which units' cases of which period, drawn by which rule, reviewed by whom."""

    name = models.CharField("活动名称", max_length=100)
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organiser_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField("立案日期自")
    period_end = models.DateField("立案日期至")
    units = models.ManyToManyField(Unit, related_name="+", verbose_name="被评查单位")
    rules = models.JSONField("抽查规则", default=list, blank=True)  # codes of ``quality.draw.RULES``
    per_unit = models.PositiveSmallIntegerField("每单位抽取件数", default=5)  # 0: every candidate
    seed = models.PositiveIntegerField("随机种子", default=1)
    with_file_only = models.BooleanField("仅抽取有电子卷宗的案件", default=True)
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    created_at = models.DateTimeField()
    drawn_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "评查活动"
        verbose_name_plural = "评查活动"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignReviewer(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="uniq_campaign_reviewer")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.user_id}"


class ReviewStatus(models.TextChoices):
    UNASSIGNED = "unassigned", "待分配"
    ASSIGNED = "assigned", "待评查"
    SUBMITTED = "submitted", "已评查"


class CampaignCase(models.Model):
    """A case drawn into a campaign, as the work of ``unit``; the reviewer's access to its file."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cases")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="quality_reviews")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    drawn_because = models.CharField("抽取依据", max_length=100)
    checklist = models.CharField("评查标准", max_length=30)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.UNASSIGNED)
    assigned_at = models.DateTimeField(null=True, blank=True)
    prescreened_at = models.DateTimeField(null=True, blank=True)
    deduction = models.PositiveSmallIntegerField("扣分", default=0)
    adjustment = models.SmallIntegerField("调整分", default=0)
    adjustment_reason = models.CharField("调整理由", max_length=300, blank=True)
    score = models.PositiveSmallIntegerField("得分", null=True, blank=True)
    grade = models.CharField("评定等次", max_length=10, blank=True)
    summary = models.TextField("评查意见", blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "unit", "case"]
        constraints = [models.UniqueConstraint(fields=["campaign", "case"], name="uniq_campaign_case")]
        indexes = [models.Index(fields=["unit", "status"]), models.Index(fields=["reviewer", "status"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.case_id}"


class DefectStatus(models.TextChoices):
    OPEN = "open", "待反馈"
    EXPLAINED = "explained", "已说明"
    RECTIFIED = "rectified", "已整改"


class Defect(models.Model):
    """A defect the reviewer found: the checklist item and its norm, its class and points, where it
    is (page and rectangle in image pixels, with the cropped screenshot; or an instrument), and the
    handling unit's answer."""

    review = models.ForeignKey(CampaignCase, on_delete=models.CASCADE, related_name="defects")
    item_code = models.CharField("评查项目", max_length=10)
    item_text = models.CharField(max_length=200)
    citation = models.CharField("依据", max_length=200)
    severity = models.CharField("问题性质", max_length=10, choices=SEVERITY_CHOICES)
    points = models.PositiveSmallIntegerField("扣分")
    comment = models.TextField("评查意见")
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    volume_number = models.PositiveSmallIntegerField(null=True, blank=True)
    page_number = models.PositiveIntegerField(null=True, blank=True)
    document = models.CharField("所在文书", max_length=200, blank=True)
    rect = models.JSONField("区域", null=True, blank=True)  # [x, y, w, h] in page image pixels
    crop = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(
        Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_finding = models.BooleanField("来自机器预审", default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DefectStatus.choices, default=DefectStatus.OPEN)
    answer = models.TextField("反馈", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.item_code} {self.get_severity_display()}"


class FindingStatus(models.TextChoices):
    PENDING = "pending", "待确认"
    CONFIRMED = "confirmed", "已确认"
    DISMISSED = "dismissed", "已排除"


class Finding(models.Model):
    """A machine pre-screening suggestion (``quality.prescreen``), confirmed or dismissed by the
    reviewer; a confirmed one became ``defect``."""

    review = models.ForeignKey(CampaignCase, on_delete=models.CASCADE, related_name="findings")
    key = models.CharField(max_length=80)
    topic = models.CharField(max_length=20)
    item_code = models.CharField(max_length=10)
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES)
    message = models.CharField(max_length=300)
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(
        Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=FindingStatus.choices, default=FindingStatus.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    defect = models.OneToOneField(Defect, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["review", "pk"]
        constraints = [models.UniqueConstraint(fields=["review", "key"], name="uniq_finding_key")]

    def __str__(self) -> str:
        return self.message
