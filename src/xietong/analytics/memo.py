"""Figures over the analytics facts, computed once and shared until the facts change.

The leaders' pages (态势总览, 监督管理) group every fact they may see several times over; on a city's
five years of cases that is most of their time, and under load the oversight page was the slowest
page of all, growing with the data (docs/benchmarks.md, ``load``). Their figures change only when
the facts do, so each is kept in the cache (Redis in production, shared by every node) under its
inputs and the *facts generation*, a token that every write of facts renews (``facts_changed``).

While cases are being handled the facts are refreshed every few seconds, and recomputing on each
renewal would save little. A figure is therefore reused for ``XIETONG_FACTS_MEMO_SECONDS`` (30 s)
even across renewals: a leader's totals may trail the newest act by that much, as they already trail
it by the refresher's few seconds. 0 makes every renewal count at once (the tests' setting).

The cache is an accelerator, never a dependency: when it fails (Redis down) the figure is computed
as if nothing were cached (as the throttles fail open).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

T = TypeVar("T")
log = logging.getLogger(__name__)

GENERATION_KEY = "analytics:facts-generation"
KEEP_SECONDS = 3600  # an entry outlives its generation by at most this much in the cache


def facts_changed() -> None:
    """Call after writing facts (or anything the figures read, such as population): figures computed
    before are stale once older than ``XIETONG_FACTS_MEMO_SECONDS``."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:  # the cache is optional: see the module docstring
        log.warning("facts generation not renewed: cache unavailable", exc_info=True)


def _generation() -> str | None:
    token = cache.get(GENERATION_KEY)
    if token is None:  # first use, or the cache was emptied: start a generation everyone shares
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        token = cache.get(GENERATION_KEY)
    return str(token) if token is not None else None


def memo(name: str, inputs: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or its value for the same ``name`` and ``inputs`` (their ``repr``: pass plain
    values, such as the visible unit ids and the query's parameters) if the facts have not changed
    since, or it is younger than ``XIETONG_FACTS_MEMO_SECONDS``."""
    key = f"analytics:memo:{name}:{hashlib.sha256(repr(inputs).encode()).hexdigest()[:32]}"
    try:
        generation = _generation()
        hit = cache.get(key)
    except Exception:
        log.warning("figure %s computed without the cache: cache unavailable", name, exc_info=True)
        return compute()
    now = time.time()
    if hit is not None:
        made_in, made_at, value = hit
        if made_in == generation or now - made_at < settings.XIETONG_FACTS_MEMO_SECONDS:
            return value
    value = compute()
    try:
        cache.set(key, (generation, now, value), KEEP_SECONDS)
    except Exception:
        log.warning("figure %s not kept: cache unavailable", name, exc_info=True)
    return value
