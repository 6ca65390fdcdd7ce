"""The server's clock. Every time that matters is taken here, never from the client.

``simulated(moment)`` exists for the demo and bench generators only: they replay years of case
history through the real services, and each act must carry the time it notionally happened. It is
a context variable, so it cannot leak across threads or requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_simulated: ContextVar[datetime | None] = ContextVar("xietong_simulated_now", default=None)


def now() -> datetime:
    return _simulated.get() or timezone.now()


@contextmanager
def simulated(moment: datetime) -> Iterator[None]:
    token = _simulated.set(moment)
    try:
        yield
    finally:
        _simulated.reset(token)
