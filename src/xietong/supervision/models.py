"""Supervision alerts (F14): what the platform noticed that a supervisor must look at — an attempt
to backdate or alter a sealed instrument, a seal used for another unit, a missed statutory limit."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xietong.cases.models import Case
from xietong.orgs.models import Unit


class AlertKind(models.TextChoices):
    BACKDATE = "backdate", "倒签日期"
    ALTER_SEALED = "alter_sealed", "篡改已盖章文书"
    FOREIGN_SEAL = "foreign_seal", "冒用他单位印章"
    TAMPERED_COPY = "tampered_copy", "验证发现被改动的文书"
    SERVICE_OVERDUE = "service_overdue", "送达超期"
    CUSTODY_UNLAWFUL = "custody_unlawful", "羁押无法律依据"
    REPORT_OVERDUE = "report_overdue", "社区矫正对象逾期未报到"
    TERM_ENDING = "term_ending", "刑期、矫正期即将届满"
    HANDOFF_REFUSED = "handoff_refused", "交付执行异常"


class Alert(models.Model):
    kind = models.CharField("类型", max_length=20, choices=AlertKind.choices, db_index=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.CharField("说明", max_length=500)
    details = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField("发现时间（服务器）", db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # For alerts raised by a sweep (one per missed clock): raising twice is a no-op.
    key = models.CharField(max_length=60, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = "监督预警"
        verbose_name_plural = "监督预警"
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"
