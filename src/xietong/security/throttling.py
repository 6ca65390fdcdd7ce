"""API rate limits (DRF throttles), read from settings at request time so that an operator (or a
test) can change them without a restart of the class definitions.

- ``UserRateThrottle``: per signed-in user; an agency system acts through its own user
  (``xietong.clients``), so this is also the per-client limit.
- ``AnonRateThrottle``: per address for calls without credentials.
- ``AuthEndpointThrottle``: per address on the credential exchanges (``/api/v1/auth/token``,
  ``/api/v1/oauth/token``), on top of django-axes' per-username lock-out; chosen by path so that the
  views themselves need no change.

The counters live in Django's cache: per process with the default local-memory cache, shared
between ASGI nodes when ``XIETONG_CACHE_REDIS`` is set. When that Redis is down the limits are not
applied (the request goes on, the outage is logged): refusing every call of every agency because a
counter cannot be read would turn a cache outage into a platform outage.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.request import Request

logger = logging.getLogger(__name__)
_last_warning = 0.0


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
        try:
            return bool(super().allow_request(request, view))  # type: ignore[misc]
        except (OSError, RedisError) as exc:  # the counters' Redis is down: fail open, say so
            _warn_cache_down(exc)
            return True


def _warn_cache_down(exc: BaseException) -> None:
    """Once a minute per process, not once per request."""
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.error("API rate limits not applied: their cache is unavailable (%s)", exc)


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
