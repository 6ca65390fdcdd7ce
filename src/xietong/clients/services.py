"""Writes for system clients: register, rotate, revoke, and the OAuth2 client-credentials grant.
Every change of a client's access leaves a ``ClientAudit`` row in the same transaction."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from xietong.clients import crypto
from xietong.clients.models import (
    AuditAction,
    ClientAudit,
    ClientCredential,
    ClientStatus,
    ClientToken,
    SystemClient,
    sha256_hex,
)
from xietong.errors import NotFound, ValidationFailed
from xietong.orgs.models import Appointment, Duty, Unit, User

# A system acts as a unit's staff, never as a platform administrator or a reviewer of other units.
GRANTABLE_DUTIES = frozenset(
    {Duty.HANDLER, Duty.DEPT_HEAD, Duty.LEADER, Duty.CLERK, Duty.CORRECTIONS_OFFICER}
)


@dataclass(frozen=True)
class Issued:
    """A credential with its secret in clear: returned once, never stored or shown again."""

    client: SystemClient
    credential: ClientCredential
    secret: str


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: ``error`` is the registered code, ``message`` the Chinese text."""

    def __init__(self, error: str, message: str, *, status: int = 400):
        super().__init__(message)
        self.error = error
        self.message = message
        self.status = status


def _credential_new(client: SystemClient) -> Issued:
    raw = crypto.new_secret()
    credential = ClientCredential.objects.create(
        client=client, secret_hash=crypto.hash_secret(raw), secret_sealed=crypto.seal_secret(raw)
    )
    return Issued(client=client, credential=credential, secret=raw)


@transaction.atomic
def client_create(
    *,
    unit: Unit,
    name: str,
    duties: list[str],
    created_by: User | None = None,
    require_signature: bool = False,
) -> Issued:
    """Register an agency system for ``unit``. Its dedicated user has no usable password (it cannot
    log in to the web pages) and holds exactly ``duties``, so what the system may do is what a
    person of that unit with those duties may do."""
    name = name.strip()
    if not name:
        raise ValidationFailed("请填写系统名称", code="client_name_required")
    if not duties:
        raise ValidationFailed("请至少授予一项职责", code="client_duties_required")
    refused = sorted(set(duties) - GRANTABLE_DUTIES)
    if refused:
        raise ValidationFailed(
            "接入系统不能授予这些职责：" + "、".join(refused),
            code="client_duty_not_grantable",
            details={"grantable": sorted(GRANTABLE_DUTIES)},
        )
    client_id = crypto.new_client_id()
    user = User(username=f"sys:{client_id}", full_name=name, unit=unit, title="接入系统")
    user.set_unusable_password()
    user.save()
    Appointment.objects.bulk_create([Appointment(user=user, duty=d) for d in sorted(set(duties))])
    client = SystemClient.objects.create(
        client_id=client_id,
        name=name,
        unit=unit,
        user=user,
        require_signature=require_signature,
        created_by=created_by,
    )
    issued = _credential_new(client)
    ClientAudit.objects.create(
        client=client,
        action=AuditAction.CREATE,
        actor=created_by,
        detail={"unit": unit.code, "duties": sorted(set(duties)), "require_signature": require_signature},
    )
    return issued


def _locked(client_id: str) -> SystemClient:
    client = SystemClient.objects.select_for_update().filter(client_id=client_id).first()
    if client is None:
        raise NotFound("接入系统不存在", code="client_not_found")
    return client


@transaction.atomic
def client_rotate(*, client_id: str, actor: User | None = None, overlap: timedelta | None = None) -> Issued:
    """Issue a new secret. The secrets in use stay valid for ``overlap`` (default
    ``XIETONG_CLIENT_ROTATION_OVERLAP_HOURS``) so the agency can redeploy before the old one stops."""
    client = _locked(client_id)
    if not client.is_active:
        raise ValidationFailed("接入系统已吊销，不能轮换密钥", code="client_revoked")
    now = timezone.now()
    until = now + (overlap if overlap is not None else _overlap())
    live = ClientCredential.objects.filter(client=client, revoked_at__isnull=True)
    live.filter(expires_at__isnull=True).update(expires_at=until)
    live.filter(expires_at__gt=until).update(expires_at=until)
    issued = _credential_new(client)
    ClientAudit.objects.create(
        client=client,
        action=AuditAction.ROTATE,
        actor=actor,
        detail={"new_key": issued.credential.key_id, "old_valid_until": until.isoformat()},
    )
    return issued


def _overlap() -> timedelta:
    return timedelta(hours=settings.XIETONG_CLIENT_ROTATION_OVERLAP_HOURS)


@transaction.atomic
def client_revoke(*, client_id: str, actor: User | None = None, key_id: str = "") -> int:
    """Revoke at once: with ``key_id`` one credential (a leaked secret during an overlap), else the
    whole client — every credential, every token, and its user deactivated. Returns how many
    credentials were revoked."""
    client = _locked(client_id)
    now = timezone.now()
    credentials = ClientCredential.objects.filter(client=client, revoked_at__isnull=True)
    if key_id:
        credentials = credentials.filter(secret_hash__startswith=key_id)
        if len(key_id) < 8 or not credentials.exists():
            raise NotFound("凭据不存在或已吊销", code="credential_not_found")
    ids = list(credentials.values_list("pk", flat=True))
    ClientCredential.objects.filter(pk__in=ids).update(revoked_at=now)
    ClientToken.objects.filter(credential__in=ids, revoked_at__isnull=True).update(revoked_at=now)
    if not key_id:
        ClientToken.objects.filter(credential__client=client, revoked_at__isnull=True).update(revoked_at=now)
        client.status = ClientStatus.REVOKED
        client.save(update_fields=["status"])
        User.objects.filter(pk=client.user_id).update(is_active=False)
    ClientAudit.objects.create(
        client=client,
        action=AuditAction.REVOKE_CREDENTIAL if key_id else AuditAction.REVOKE,
        actor=actor,
        detail={"credentials": len(ids), "key_id": key_id or None},
    )
    return len(ids)


def credential_for_secret(*, client_id: str, secret: str) -> ClientCredential | None:
    """The live credential of an active client whose secret this is, or None."""
    now = timezone.now()
    candidate = (
        ClientCredential.objects.select_related("client", "client__user")
        .filter(secret_hash=crypto.hash_secret(secret), client__client_id=client_id)
        .first()
    )
    if candidate is None or not candidate.is_live(now) or not candidate.client.is_active:
        return None
    # The hash lookup found it; compare again in constant time so the check does not rest on the index.
    if not hmac.compare_digest(candidate.secret_hash, crypto.hash_secret(secret)):
        return None
    return candidate


def client_token_issue(*, client_id: str, secret: str) -> tuple[str, ClientToken]:
    """The client-credentials grant (RFC 6749 §4.4): a bearer token valid for
    ``XIETONG_CLIENT_TOKEN_TTL_SECONDS`` and never beyond the credential that obtained it."""
    if not client_id or not secret:
        raise OAuthError("invalid_client", "缺少 client_id 或 client_secret", status=401)
    credential = credential_for_secret(client_id=client_id, secret=secret)
    if credential is None or not credential.client.user.is_active:
        raise OAuthError("invalid_client", "客户端身份验证失败：标识或密钥错误，或已过期、已吊销", status=401)
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.XIETONG_CLIENT_TOKEN_TTL_SECONDS)
    if credential.expires_at is not None:
        expires_at = min(expires_at, credential.expires_at)
    raw = secrets.token_urlsafe(32)
    token = ClientToken.objects.create(
        credential=credential, token_hash=sha256_hex(raw), expires_at=expires_at
    )
    return raw, token
