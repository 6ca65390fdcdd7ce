"""Background work. Embedded: one in-process worker thread with coalescing (a burst of acts makes
one ledger integration, not one per act). Production sets ``XIETONG_INPROCESS_TASKS=0`` and runs
``xietong worker`` on any number of machines; the jobs are idempotent and lock in the database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)
_pending: set[str] = set()
_lock = threading.Lock()
_wakeup = threading.Event()
_jobs: dict[str, Callable[[], object]] = {}
_thread: threading.Thread | None = None
_periodic: dict[str, float] = {}  # name -> seconds between runs
_ticker: threading.Thread | None = None


def register(name: str, job: Callable[[], object]) -> None:
    _jobs[name] = job


def _run() -> None:
    while True:
        _wakeup.wait()
        with _lock:
            names = sorted(_pending)
            _pending.clear()
            _wakeup.clear()
        for name in names:
            try:
                close_old_connections()
                _jobs[name]()
            except Exception:
                logger.exception("background job %s failed; it runs again on the next act", name)
            finally:
                close_old_connections()


def request(name: str) -> None:
    """Ask for ``name`` to run soon. No-op when background work runs in separate workers."""
    global _thread
    if not settings.XIETONG_INPROCESS_TASKS:
        return
    with _lock:
        _pending.add(name)
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="xietong-tasks", daemon=True)
            _thread.start()
    _wakeup.set()


def register_periodic(name: str, job: Callable[[], object], *, every: float) -> None:
    """A job the embedded worker runs at start and then every ``every`` seconds (production: the
    ``xietong worker`` loop runs it)."""
    register(name, job)
    _periodic[name] = every


def periodic_jobs() -> dict[str, tuple[Callable[[], object], float]]:
    """Every periodic job with its interval, for ``xietong worker`` (production)."""
    return {name: (_jobs[name], every) for name, every in _periodic.items()}


def start_periodic() -> None:
    """Start the ticker that requests the periodic jobs (embedded mode only; once per process)."""
    global _ticker
    if not settings.XIETONG_INPROCESS_TASKS or not _periodic:
        return
    with _lock:
        if _ticker is not None and _ticker.is_alive():
            return
        _ticker = threading.Thread(target=_tick, name="xietong-ticker", daemon=True)
        _ticker.start()


def _tick() -> None:
    last: dict[str, float] = {}
    while True:
        now = time.monotonic()
        for name, every in list(_periodic.items()):
            if now - last.get(name, -every) >= every:
                last[name] = now
                request(name)
        time.sleep(5)
