"""``xietong job-worker`` and ``jobs.requeue_orphans``: a job whose worker died or lost its database
goes back in the queue; one whose worker is alive and working does not."""

from __future__ import annotations

import io
import os
import socket
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from xietong import jobs


def _running(worker_id: str, *, started_minutes_ago: int = 1) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="xietong.dossier.tasks.volume_process_task",
        queue_name="dossier",
        backend_name="default",
        run_after=now,
        started_at=now - timedelta(minutes=started_minutes_ago),
        worker_ids=[worker_id],
    )


def _dead_pid() -> int:
    pid = 2**22 - 7
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid -= 1


@pytest.mark.django_db
def test_jobs_of_a_dead_or_released_worker_go_back_and_a_living_ones_stay() -> None:
    host = socket.gethostname()
    dead = _running(f"{host}:{_dead_pid()}:1")
    alive = _running(f"{host}:{os.getpid()}:1")
    released = _running(f"{host}:{os.getpid()}:2")
    elsewhere_stale = _running("other-host:123:1", started_minutes_ago=120)
    elsewhere_fresh = _running("other-host:124:1")

    assert jobs.requeue_orphans(lease=timedelta(minutes=60), released_by=f"{host}:{os.getpid()}:2") == 3

    status = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert (
        status[dead.pk] == "READY"
        and status[released.pk] == "READY"
        and status[elsewhere_stale.pk] == "READY"
    )
    assert status[alive.pk] == "RUNNING" and status[elsewhere_fresh.pk] == "RUNNING"


@pytest.mark.django_db
def test_the_job_worker_waits_out_a_lost_database_and_puts_back_the_job_it_held() -> None:
    """The library's loop lets a database error end the process; ours says so, waits, puts back the
    job it was running, and carries on."""
    from django_tasks_db.management.commands.db_worker import Worker

    calls = {"run": 0}
    requeues: list[str] = []

    def run(self: Worker) -> None:
        calls["run"] += 1
        if calls["run"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        self.running = False

    def requeue(*, released_by: str = "", lease: object = None) -> int:
        requeues.append(released_by)
        return 0

    err = io.StringIO()
    with (
        mock.patch.object(Worker, "run", run),
        mock.patch.object(Worker, "configure_signals"),  # not in the test process
        mock.patch.object(jobs, "requeue_orphans", side_effect=requeue),
    ):
        call_command("job-worker", "--queue-name", "dossier", "--retry", "0", stderr=err)
    assert calls["run"] == 2
    assert "数据库不可用" in err.getvalue()
    assert requeues[0] == "" and requeues[1] == jobs.worker_id()
