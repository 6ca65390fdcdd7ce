"""API rate limits (DRF throttles), read from settings at request time so that an operator (or a
test) can change them without a restart of the class definitions.

- ``UserRateThrottle``: per signed-in user; an agency system acts through its own user
  (``xietong.clients``), so this is also the per-client limit.
- ``AnonRateThrottle``: per address for calls without credentials.
- ``AuthEndpointThrottle``: per address on the credential exchanges (``/api/v1/auth/token``,
  ``/api/v1/oauth/token``), on top of django-axes' per-username lock-out; chosen by path so that the
  views themselves need no change.

The counters live in Django's cache: per process with the default local-memory cache, shared
between ASGI nodes when ``XIETONG_CACHE_REDIS`` is set.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import throttling
from rest_framework.request import Request


class _SettingsRate:
    """Reads the rate of ``scope`` from ``XIETONG_API_RATES`` at each request (``None`` or missing:
    unlimited). DRF's classes read it once, at construction, from their class attribute."""

    scope: str
    rate: str | None
    num_requests: int
    duration: int

    def __init__(self) -> None:
        pass

    def get_rate(self) -> str | None:
        rates: dict[str, str | None] = getattr(settings, "XIETONG_API_RATES", {})
        return rates.get(self.scope)

    def allow_request(self, request: Request, view: Any) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[attr-defined]
        return bool(super().allow_request(request, view))  # type: ignore[misc]


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    scope = "user"


class AnonRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    scope = "anon"


class AuthEndpointThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    scope = "auth"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        paths: list[str] = getattr(settings, "XIETONG_AUTH_THROTTLE_PATHS", [])
        if request.path not in paths:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
