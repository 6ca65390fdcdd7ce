"""Review reports (审查逮捕意见书, 审查起诉审查报告, blank) written beside the case file, in versions (F4).

Rows are written by ``review.services`` only.

Versions. Every save that changes the content makes a new ``ReportVersion``; a version is never
overwritten, with one deliberate exception that keeps autosave from burying the history under
hundreds of versions: **coalescing**. An autosave whose content changed goes *into* the head version
instead of making a new one when that head is itself an autosave by the same person that was first
saved less than ``COALESCE_WINDOW`` (2 minutes) ago. So a head autosave version stays provisional for
at most 2 minutes from its first save, and each version covers at most 2 minutes of typing; once the
window has passed, once anything follows it, and always for manual saves (保存版本) and the first,
prefilled version, it is frozen. ``saves`` counts the autosaves a version took in, and ``saved_at`` is
the last of them (``created_at`` the first). An autosave that changes nothing writes nothing.

``Report.current_version`` is the head's number and ``Report.revision`` counts every write, coalesced
autosaves included: a client sends both back with its next save, so two windows editing the same
version cannot silently overwrite each other (409).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models

from xietong.cases.models import Case
from xietong.orgs.models import Unit
from xietong.review.templates_catalog import KIND_LABELS, Kind

COALESCE_WINDOW = timedelta(minutes=2)


class ReportKind(models.TextChoices):
    ARREST_REVIEW = Kind.ARREST_REVIEW.value, KIND_LABELS[Kind.ARREST_REVIEW]
    PROSECUTION_REVIEW = Kind.PROSECUTION_REVIEW.value, KIND_LABELS[Kind.PROSECUTION_REVIEW]
    BLANK = Kind.BLANK.value, KIND_LABELS[Kind.BLANK]


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    FINAL = "final", "已定稿"


class Report(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField("报告类型", max_length=30, choices=ReportKind.choices)
    title = models.CharField("标题", max_length=200)  # the head version's title, for lists
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    current_version = models.PositiveIntegerField("当前版本", default=1)
    revision = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    final_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审查报告"
        verbose_name_plural = "审查报告"
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["case", "unit"])]

    def __str__(self) -> str:
        return f"{self.title}（第{self.current_version}版）"

    @property
    def is_final(self) -> bool:
        return self.status == ReportStatus.FINAL


class ReportVersion(models.Model):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("版本")
    body = models.JSONField()  # review.document format
    sha256 = models.CharField(max_length=64)  # of document.canonical_json(body)
    created_at = models.DateTimeField()
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    autosave = models.BooleanField(default=False)
    saves = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "报告版本"
        verbose_name_plural = "报告版本"
        ordering = ["report", "-number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="uniq_report_version")]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"
