"""Two-factor devices: one authenticator (TOTP) per person."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TotpDevice(models.Model):
    """A person's authenticator app. The secret is stored encrypted (AES-256-GCM, see
    ``services``); ``last_counter`` is the time step of the last accepted code, so that a code
    seen over someone's shoulder cannot be used a second time."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp")
    secret_sealed = models.BinaryField("密钥（加密）")
    confirmed_at = models.DateTimeField("启用时间", null=True, blank=True)
    last_counter = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "动态口令设备"
        verbose_name_plural = "动态口令设备"

    def __str__(self) -> str:
        return f"{self.user_id} {'已启用' if self.confirmed_at else '待绑定'}"


class AuditKind(models.TextChoices):
    EXPORT = "export", "导出"
    TOTP_FAILURE = "totp_failure", "动态口令错误"
    TOTP_LOCKOUT = "totp_lockout", "动态口令连续错误，强制退出"


class AuditEvent(models.Model):
    """What the ledger does not hold because it is not an act on a case, yet an auditor asks for:
    every export of data out of the platform (reports, spreadsheets, documents) and every failed
    second factor. File views have their own logs (``dossier.PageView``, ``EvidenceView``,
    ``instruments.InstrumentView``, ``library.RecordView``). Rows are only ever added."""

    kind = models.CharField("类别", max_length=20, choices=AuditKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name="用户"
    )
    unit_name = models.CharField("单位", max_length=100, blank=True)
    what = models.CharField("内容", max_length=200)
    case_id = models.BigIntegerField("案件", null=True, blank=True)
    detail = models.JSONField("参数", default=dict, blank=True)
    address = models.GenericIPAddressField("来源地址", null=True, blank=True)
    at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "安全审计事件"
        verbose_name_plural = "安全审计事件"
        indexes = [models.Index(fields=["kind", "at"]), models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.user_id} {self.what} @ {self.at:%Y-%m-%d %H:%M}"
