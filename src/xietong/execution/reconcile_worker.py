"""The second process of the custody reconciliation (``reconcile.find_unlawful``).

Spawned, not forked: a fork copies the locks other threads of the parent hold (a web server's, the
test runner's I/O thread), and the child can hang on one for ever. So this module imports nothing
of Django at load time — the child unpickles :func:`run` before Django is set up — and the child
sets Django up afresh, connected to the parent's database (its settings, which name the test
database under a test run)."""

from __future__ import annotations

from datetime import date
from typing import Any


def run(
    today: date, bounds: tuple[int, int], batch: int, prefilter: bool, out: Any, database: dict[str, Any]
) -> None:
    """Scan one range of persons; send the findings and counts back through ``out``."""
    import django
    from django.conf import settings

    settings.DATABASES["default"] = database  # type: ignore[assignment]  # the parent's, as it was
    django.setup()
    from django.db import connections

    from xietong.execution.reconcile import ScanStats, _scan

    connections.close_all()
    try:
        stats = ScanStats()
        found = list(_scan(today, bounds, batch, prefilter, stats))
        out.send(("ok", found, stats))
    except BaseException as exc:  # report anything to the parent, which raises it
        out.send(("error", f"{type(exc).__name__}: {exc}", None))
    finally:
        out.close()
        connections.close_all()
