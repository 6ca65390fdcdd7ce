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
    TIME_BORROWING = "time_borrowing", "互借办案时间"
    INSTRUMENT_CHANGED = "instrument_changed", "随意撤回、更正文书"
    CUSTODY_OVERDUE = "custody_overdue", "超期羁押"
    CLOCK_OVERDUE = "clock_overdue", "办案期限超期"
    BOARD_UNANSWERED = "board_unanswered", "留言逾期未答复"


class Severity(models.TextChoices):
    NOTICE = "notice", "提示"
    WARNING = "warning", "警示"
    SERIOUS = "serious", "严重"


class AlertStatus(models.TextChoices):
    OPEN = "open", "待处理"
    ACKNOWLEDGED = "acknowledged", "已知悉"
    EXPLAINED = "explained", "已说明"
    RECTIFIED = "rectified", "已整改"


class Alert(models.Model):
    kind = models.CharField("类型", max_length=20, choices=AlertKind.choices, db_index=True)
    # The rule of ``supervision.rules`` that raised it ("" for alerts the services raise themselves).
    rule = models.CharField("规则", max_length=40, blank=True, db_index=True)
    severity = models.CharField("等级", max_length=10, choices=Severity.choices, default=Severity.WARNING)
    status = models.CharField(
        "处理状态", max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The unit that supervises the acting one (the procuratorate of the county for police and courts,
    # art. 8 刑诉法 法律监督); its leaders see the alert besides the acting unit's own.
    supervisor_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
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


class ResponseKind(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "知悉"
    EXPLAIN = "explain", "说明情况"
    RECTIFY = "rectify", "整改完毕"


class AlertResponse(models.Model):
    """What the handler or his leader did about an alert; each one is also a ledger entry of the case."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("处理", max_length=15, choices=ResponseKind.choices)
    note = models.TextField("说明", blank=True)
    at = models.DateTimeField("时间（服务器）")

    class Meta:
        verbose_name = "预警处理"
        verbose_name_plural = "预警处理"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.alert_id}:{self.kind}"


class CaseEvaluation(models.Model):
    """How far the rules engine has read a case: the ledger head it last evaluated. A case whose head
    moved past it is evaluated again (every act moves the head, so nothing is missed even when the
    event that asked for it was lost); ``dirty`` is the fast path an act sets after it commits."""

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE, related_name="+")
    ledger_seq = models.PositiveIntegerField(default=0)
    dirty = models.BooleanField(default=True)
    evaluated_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = "规则评估进度"
        verbose_name_plural = "规则评估进度"
        indexes = [models.Index(fields=["case"], condition=models.Q(dirty=True), name="evaluation_dirty")]

    def __str__(self) -> str:
        return f"{self.case_id}@{self.ledger_seq}"
