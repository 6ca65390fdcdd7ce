"""``xietong restore SRC [--force]``: rebuild the platform from a backup and prove it whole."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xietong.ops.restore import RestoreError, restore_run


class Command(BaseCommand):
    help = "从备份恢复数据库、卷宗文件与账本，随后校验账本与每个文件的哈希"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("src", type=Path, help="备份目录或 .tar 归档")
        parser.add_argument("--force", action="store_true", help="目标数据库非空时仍然覆盖（清空后恢复）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = restore_run(options["src"], force=options["force"], progress=self.stdout.write)
        except RestoreError as exc:
            raise CommandError(f"恢复失败：{exc}") from exc
        summary = (
            f"账本记录 {report.ledger_entries} 条、签名树头 {report.tree_heads} 个；"
            f"备份清单文件 {report.files_checked} 个、"
            f"数据库引用文件 {report.referenced_checked} 个已核对哈希；"
            f"用时 {report.seconds:.1f} 秒"
        )
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"失败：{problem}")
            raise CommandError(f"恢复后校验未通过（{len(report.problems)} 项问题）。{summary}")
        self.stdout.write(self.style.SUCCESS(f"恢复成功，账本与文件校验全部通过。{summary}"))
