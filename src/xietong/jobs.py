"""Background jobs on Django's task framework (the ``django-tasks`` backport of Django 6's
``django.tasks``) with its database backend (``django-tasks-db``): the queue is a table in the
platform's own database, so the embedded default needs no extra server and production workers on
many machines claim jobs with ``SELECT … FOR UPDATE SKIP LOCKED``.

What the library lacks and this module adds:
- an in-process worker thread for the embedded default (``XIETONG_INPROCESS_TASKS=1``);
- recovery of jobs whose worker died mid-job (killed, machine lost): they are put back in the queue.
  Every job is written to be idempotent, so running one again finishes it without doing anything
  twice."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)
_thread: threading.Thread | None = None
_lock = threading.Lock()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def requeue_orphans(*, lease: timedelta | None = None, released_by: str = "") -> int:
    """Put back RUNNING jobs whose worker is gone: on this host, a worker whose process no longer
    exists; anywhere, a job running longer than the lease; and the jobs of ``released_by``, a worker
    that lost its database mid-job and so knows it runs none of them now. Returns how many."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    lease = lease or timedelta(seconds=settings.XIETONG_TASK_LEASE_SECONDS)
    host = socket.gethostname()
    requeued = 0
    with transaction.atomic():
        for job in DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            status=TaskResultStatus.RUNNING
        ):
            last = str(job.worker_ids[-1]) if job.worker_ids else ""
            parts = last.split(":")
            dead_here = (
                len(parts) >= 2 and parts[0] == host and parts[1].isdigit() and not _pid_alive(int(parts[1]))
            )
            expired = job.started_at is not None and job.started_at < timezone.now() - lease
            if dead_here or expired or (released_by and last == released_by):
                job.status = TaskResultStatus.READY
                job.save(update_fields=["status"])
                requeued += 1
    if requeued:
        logger.warning("requeued %d job(s) whose worker had gone", requeued)
    return requeued


def start_inprocess_worker() -> None:
    """Start the embedded worker thread once per process (no-op in production mode)."""
    global _thread
    if not settings.XIETONG_INPROCESS_TASKS or "django_tasks_db" not in settings.TASKS["default"]["BACKEND"]:
        return
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread = threading.Thread(target=_run_worker, name="xietong-jobs", daemon=True)
        _thread.start()


def _run_worker() -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    try:
        requeue_orphans()
    except Exception:
        logger.exception("could not requeue orphaned jobs")
    Worker(
        queue_names=["*"],
        interval=1.0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id(),
        excluded_queue_names=[],
    ).run()


def enqueue_on_commit(task: object, *args: object) -> None:
    """Enqueue after the current transaction commits (jobs receive ids, never objects)."""

    def enqueue() -> None:
        task.enqueue(*args)  # type: ignore[attr-defined]
        start_inprocess_worker()

    transaction.on_commit(enqueue)
