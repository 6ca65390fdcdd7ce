"""Writes for units and people: the only place tokens and appointments are created."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from xietong.errors import NotAllowed
from xietong.orgs.models import ApiToken, Appointment, Region, Unit, User


def token_issue(*, request: HttpRequest | None, username: str, password: str) -> tuple[str, ApiToken]:
    """Exchange a username and password for a bearer token. Failures count toward the same lock-out
    as the login page (django-axes), so the API is no way around it."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise NotAllowed("用户名或密码错误，或账号已被锁定", code="invalid_credentials")
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(raw),
        expires_at=timezone.now() + timedelta(hours=settings.XIETONG_TOKEN_TTL_HOURS),
    )
    return raw, token


@transaction.atomic
def unit_create(*, code: str, name: str, kind: str, region: Region, parent: Unit | None = None) -> Unit:
    unit = Unit(code=code, name=name, kind=kind, region=region, parent=parent)
    unit.level = (
        region.level if region.level != "town" or kind in {"police_station", "justice_office"} else "town"
    )
    unit.save()
    return unit


@transaction.atomic
def user_create(
    *, username: str, full_name: str, unit: Unit | None, duties: list[str], password: str, title: str = ""
) -> User:
    user = User(username=username, full_name=full_name, unit=unit, title=title)
    user.set_password(password)
    user.is_staff = "admin" in duties
    user.is_superuser = "admin" in duties
    user.save()
    Appointment.objects.bulk_create([Appointment(user=user, duty=d) for d in duties])
    return user
