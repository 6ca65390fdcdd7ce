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

from xietong.execution.apps import RECONCILE_SECONDS, SWEEP_SECONDS
from xietong.execution.reconcile import reconcile
from xietong.execution.sweeps import execution_sweep
from xietong.ledger.services import ledger_integrate_all
from xietong.supervision.services import service_overdue_sweep


class Command(BaseCommand):
    help = (
        "后台任务进程：把新的留痕记录并入默克尔树并签名、发现送达超期、判决到期生效、"
        "社区矫正报到与期满提醒、每日羁押合法性核查（可在多台机器上同时运行）"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=2.0, help="两轮之间的秒数")
        parser.add_argument("--once", action="store_true", help="只运行一轮")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        last_sweep = last_reconcile = -1e12
        while not stopping:
            close_old_connections()
            try:
                heads = ledger_integrate_all()
                if heads:
                    self.stdout.write(f"ledger: {heads} tree head(s) signed")
                raised = service_overdue_sweep()
                if raised:
                    self.stdout.write(f"supervision: {raised} missed service deadline(s)")
                if time.monotonic() - last_sweep >= SWEEP_SECONDS:
                    swept = execution_sweep()
                    last_sweep = time.monotonic()
                    if swept.took_effect or swept.report_overdue or swept.term_ending:
                        self.stdout.write(f"execution: {swept}")
                if time.monotonic() - last_reconcile >= RECONCILE_SECONDS:
                    found = reconcile()
                    last_reconcile = time.monotonic()
                    self.stdout.write(f"custody reconciliation: {found}")
            except Exception as exc:  # the database may be restarting: wait and try again
                self.stderr.write(f"ledger integration failed, retrying: {exc}")
            if options["once"]:
                break
            time.sleep(options["interval"])
