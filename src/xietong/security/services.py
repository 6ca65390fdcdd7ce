"""Two-factor sign-in: enrolment and verification of a TOTP authenticator; and the security audit
log of exports and failed second factors (``audit_record``).

Who needs it: a person holding any duty of ``XIETONG_2FA_DUTIES`` (by default the duties that may
seal instruments or approve them: 承办人, 书记员, 社区矫正工作人员, 部门负责人, 分管领导, and 系统管理员),
when ``XIETONG_2FA_ENFORCED`` is on (production). The demo and the tests run with it off, so their
logins stay one step.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from xietong.errors import NotAllowed, ValidationFailed
from xietong.keywrap import KeyWrap
from xietong.orgs.models import User
from xietong.security import totp
from xietong.security.models import AuditEvent, TotpDevice

ISSUER = "协同平台"


_WRAP = KeyWrap("XIETONG_2FA_KEK", salt=b"xietong-totp-kek", aad=b"xietong-totp-secret")


def _seal(secret: str) -> bytes:
    return _WRAP.seal(secret.encode())


def _open(blob: bytes | memoryview) -> str:
    return _WRAP.open(blob).decode()


def two_factor_required(user: User) -> bool:
    """Whether this person must pass the second step (enforcement on and a duty that needs it)."""
    if not getattr(settings, "XIETONG_2FA_ENFORCED", False):
        return False
    duties: list[str] = getattr(settings, "XIETONG_2FA_DUTIES", [])
    return user.has_duty(*duties)


def device_confirmed(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


@transaction.atomic
def totp_enrol_start(*, user: User) -> tuple[str, str]:
    """A new, unconfirmed secret for ``user`` (replacing an unconfirmed one): ``(secret, uri)``.
    A confirmed device is not replaced here: losing a phone is an administrator's reset."""
    if device_confirmed(user):
        raise NotAllowed("已绑定动态口令设备；如需更换请联系系统管理员", code="totp_already_enrolled")
    secret = totp.secret_new()
    TotpDevice.objects.update_or_create(
        user=user, defaults={"secret_sealed": _seal(secret), "confirmed_at": None, "last_counter": -1}
    )
    return secret, totp.provisioning_uri(secret, account=user.username, issuer=ISSUER)


def totp_pending_secret(*, user: User) -> str | None:
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    return _open(device.secret_sealed) if device else None


@transaction.atomic
def totp_verify(*, user: User, code: str, now: float | None = None) -> None:
    """Checks a code (enrolling the device on its first good code). The device row is locked so
    that one code cannot pass twice in two concurrent requests."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise NotAllowed("尚未绑定动态口令设备", code="totp_not_enrolled")
    counter = totp.match(
        _open(device.secret_sealed), code, time.time() if now is None else now, after=device.last_counter
    )
    if counter is None:
        raise ValidationFailed("动态口令错误或已使用，请输入验证器中当前的6位数字", code="totp_invalid")
    device.last_counter = counter
    fields = ["last_counter"]
    if device.confirmed_at is None:
        device.confirmed_at = timezone.now()
        fields.append("confirmed_at")
    device.save(update_fields=fields)


@transaction.atomic
def totp_reset(*, admin: User, user_id: int) -> None:
    """An administrator removes a person's device (a lost phone); the next sign-in enrols again."""
    if not admin.has_duty("admin"):
        raise NotAllowed("只有系统管理员可以重置动态口令", code="duty_required")
    TotpDevice.objects.filter(user_id=user_id).delete()


def audit_record(
    request: HttpRequest | None,
    *,
    kind: str,
    what: str,
    user: User | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """One row of the security audit log (exports, failed second factors): who, from where, what,
    when. Written outside the caller's transaction's fate only in the sense that callers write it
    before they answer; an export that fails to render is not logged as exported."""
    who = user if user is not None else getattr(request, "user", None)
    person = who if isinstance(who, User) else None
    return AuditEvent.objects.create(
        kind=kind,
        user=person,
        unit_name=person.unit.name if person is not None and person.unit is not None else "",
        what=what[:200],
        case_id=case_id,
        detail=detail or {},
        address=(request.META.get("REMOTE_ADDR") or None) if request is not None else None,
        at=timezone.now(),
    )
