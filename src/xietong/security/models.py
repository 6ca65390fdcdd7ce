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
