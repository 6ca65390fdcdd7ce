"""``xietong worker``: background work for production (``XIETONG_INPROCESS_TASKS=0``). Run one on
any number of machines; every job is idempotent and takes its own database lock."""

from __future__ import annotations

import signal
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from xietong import tasks
from xietong.ledger.services import ledger_integrate_all


class Command(BaseCommand):
    help = (
        "后台任务进程：把新的留痕记录并入默克尔树并签名，并按各自的周期运行所有定期任务（规则引擎监督预警、"
        "送达超期、判决到期生效、社区矫正报到与期满提醒、每日羁押合法性核查、统计事实刷新、案例库收录、"
        "留言逾期提醒等）；可在多台机器上同时运行"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=2.0, help="两轮之间的秒数")
        parser.add_argument("--once", action="store_true", help="只运行一轮（每个定期任务各运行一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        last: dict[str, float] = {}
        while not stopping:
            close_old_connections()
            try:
                heads = ledger_integrate_all()
                if heads:
                    self.stdout.write(f"ledger: {heads} tree head(s) signed")
            except Exception as exc:  # the database may be restarting: wait and try again
                self.stderr.write(f"ledger integration failed, retrying: {exc}")
            for name, (job, every) in sorted(tasks.periodic_jobs().items()):
                if time.monotonic() - last.get(name, -1e12) < every or stopping:
                    continue
                try:
                    result = job()
                    last[name] = time.monotonic()
                    if result:
                        self.stdout.write(f"{name}: {result}")
                except Exception as exc:  # one failing job must not stop the others; it runs again
                    self.stderr.write(f"{name} failed, retrying: {exc}")
                finally:
                    close_old_connections()
            if options["once"]:
                break
            time.sleep(options["interval"])
