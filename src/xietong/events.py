"""Domain events: an explicit dispatcher run after commit (no Django signals for business rules).

Downstream apps (ledger integration now; supervision, library, analytics, exchange later) subscribe
in their ``AppConfig.ready``. Handlers receive ids, never model instances, so the same handler can
run in a worker on another machine."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)
Handler = Callable[..., None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str, handler: Handler) -> None:
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def publish_on_commit(event: str, **data: Any) -> None:
    def dispatch() -> None:
        for handler in list(_subscribers.get(event, ())):
            try:
                handler(**data)
            except Exception:  # one failing subscriber must not hide the event from the others
                logger.exception("event handler %s failed for %s", handler, event)

    transaction.on_commit(dispatch)
