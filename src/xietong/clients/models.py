"""Agency business systems registered as API clients (F8): the client, its secrets, the short-lived
access tokens it obtains, and an audit of who registered, rotated or revoked it.

A client acts through a dedicated ``User`` of its unit with the duties it was granted, so every
existing permission check (visibility by unit, agency of the act, holder unit, duty) applies to it
unchanged; the one-to-one link from ``SystemClient.user`` is what marks that user as a system."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import models
from django.utils import timezone

from xietong.orgs.models import Unit, User


def sha256_hex(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ClientStatus(models.TextChoices):
    ACTIVE = "active", "启用"
    REVOKED = "revoked", "已吊销"


class SystemClient(models.Model):
    """An agency's own business system (公安警综平台, 检察业务应用系统 …) registered for one unit."""

    client_id = models.CharField("客户端标识", max_length=40, unique=True)
    name = models.CharField("系统名称", max_length=100)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="system_clients")
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="system_client")
    status = models.CharField("状态", max_length=10, choices=ClientStatus.choices, default="active")
    require_signature = models.BooleanField("必须签名请求", default=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "接入系统"
        verbose_name_plural = "接入系统"
        ordering = ["client_id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.client_id}）"

    @property
    def is_active(self) -> bool:
        return self.status == ClientStatus.ACTIVE


class ClientCredential(models.Model):
    """One secret of a client. ``secret_hash`` (SHA-256) answers the OAuth token request without
    keeping the secret in clear; ``secret_sealed`` (AES-256-GCM under ``XIETONG_CLIENT_KEK``) exists
    only because checking an HMAC request signature needs the secret itself. After a rotation the old
    credential keeps working until ``expires_at`` (the overlap), so systems can be redeployed
    without downtime; revocation sets ``revoked_at`` and takes effect at once."""

    client = models.ForeignKey(SystemClient, on_delete=models.CASCADE, related_name="credentials")
    secret_hash = models.CharField(max_length=64, unique=True)
    secret_sealed = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "接入凭据"
        verbose_name_plural = "接入凭据"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key_id}"

    @property
    def key_id(self) -> str:
        """A short public handle to name one credential in listings and in ``revoke --credential``."""
        return self.secret_hash[:12]

    def is_live(self, now: datetime | None = None) -> bool:
        at = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


class ClientToken(models.Model):
    """A short-lived bearer token from ``POST /api/v1/oauth/token``. Tied to the credential that
    obtained it, so revoking or expiring that credential ends its tokens too."""

    credential = models.ForeignKey(ClientCredential, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "接入访问令牌"
        verbose_name_plural = "接入访问令牌"

    def __str__(self) -> str:
        return f"client-token:{self.credential_id}:{self.token_hash[:8]}"


class AuditAction(models.TextChoices):
    CREATE = "create", "登记"
    ROTATE = "rotate", "轮换密钥"
    REVOKE = "revoke", "吊销"
    REVOKE_CREDENTIAL = "revoke_credential", "吊销单个凭据"


class ClientAudit(models.Model):
    """Who registered, rotated or revoked a client, and when. The ledger is per case, so changes to
    a client's access are kept here; rows are only ever added."""

    client = models.ForeignKey(SystemClient, on_delete=models.PROTECT, related_name="audit")
    action = models.CharField("操作", max_length=20, choices=AuditAction.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="操作人"
    )
    at = models.DateTimeField(auto_now_add=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "接入审计"
        verbose_name_plural = "接入审计"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.client_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
