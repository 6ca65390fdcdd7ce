"""``xietong job-worker``: the job worker for production (django-tasks-db's ``db_worker`` loop, which
claims jobs with ``SELECT … FOR UPDATE SKIP LOCKED``), with what running it for real needs and the
library's command lacks:

- its worker id is ``host:pid:…`` (``jobs.worker_id``), so ``jobs.requeue_orphans`` can tell a job
  whose process died on this machine from one that is still running (``db_worker`` draws a random id);
- at start it puts back the jobs of dead workers of this machine (a worker killed mid-job, a machine
  rebooted), before it claims new ones;
- it survives a database that restarts or fails over: the library's loop lets the error end the
  process; here the worker says so, waits, and carries on — the job it held is put back by the next
  requeue (at start, or every minute by ``xietong worker``), and every job is idempotent.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections

from xietong import jobs


class Command(BaseCommand):
    help = (
        "后台作业进程（卷宗拆分、OCR 等）：可在多台机器上运行；启动时收回本机已退出进程留下的作业；"
        "数据库重启后自动恢复"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--queue-name", default="*", help="处理的队列，逗号分隔；* 为全部（默认）")
        parser.add_argument("--interval", type=float, default=1.0, help="队列为空时两次查看之间的秒数")
        parser.add_argument("--retry", type=float, default=5.0, help="数据库不可用时重试的间隔（秒）")

    def handle(self, *args: Any, **options: Any) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        queues = [q.strip() for q in options["queue_name"].split(",") if q.strip()] or ["*"]
        worker = Worker(
            queue_names=queues,
            interval=options["interval"],
            batch=False,
            backend_name="default",
            startup_delay=True,
            max_tasks=None,
            worker_id=jobs.worker_id(),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        released = ""  # after losing the database: the jobs this worker held, to put back
        requeue = True
        while worker.running:
            try:
                if requeue:
                    jobs.requeue_orphans(released_by=released)
                    requeue = False
                worker.run()
            except (OperationalError, InterfaceError, DatabaseError) as exc:
                self.stderr.write(f"数据库不可用，{options['retry']:.0f} 秒后重试：{exc}".strip())
                close_old_connections()
                time.sleep(options["retry"])
                released, requeue = worker.worker_id, True  # the job it held when the database went
