"""``xietong reconcile [--date YYYY-MM-DD]``: the daily custody reconciliation (``execution.reconcile``).
Run it once a day (cron, a systemd timer); it is idempotent, so running it again is harmless."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xietong.execution.custody import Reason
from xietong.execution.reconcile import reconcile


class Command(BaseCommand):
    help = "每日羁押依据核查：在押但已无法律依据的人员，向责任单位和政法委发出红色预警"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--date", default=None, help="核查日期 YYYY-MM-DD（默认：今天，北京时间）")
        parser.add_argument("--workers", type=int, default=None, help="进程数（默认：PostgreSQL 上 2 个）")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"日期格式应为 YYYY-MM-DD：{options['date']}") from exc
        result = reconcile(today, workers=options["workers"])
        self.stdout.write(
            f"核查日期 {result.today:%Y-%m-%d}：核查 {result.persons:,} 人（羁押变动 {result.events:,} 条），"
            f"发现在押无法律依据 {result.flagged:,} 人；新增预警 {result.raised:,} 条，"
            f"重新打开 {result.reopened:,} 条，解除 {result.resolved:,} 条；"
            f"用时 {result.seconds:.1f} 秒（扫描 {result.scan_seconds:.1f} 秒，{result.workers} 个进程）"
        )
        for reason, count in sorted(result.by_reason.items()):
            self.stdout.write(f"  {Reason(reason).label}：{count:,} 人")
        if result.flagged:
            warning = f"有 {result.flagged:,} 人在押无法律依据，请在监督预警中处理"
            self.stdout.write(self.style.WARNING(warning))
        else:
            self.stdout.write(self.style.SUCCESS("未发现在押无法律依据的人员"))
