"""``xietong export-cases [--case ID ...] [--county CODE] [--since DATE] --out FILE.jsonl.gz
[--with-files DIR]``: cases as standard data packages (docs/exchange.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xietong.exchange.exporter import DEFAULT_SYSTEM, cases_export


class Command(BaseCommand):
    help = "导出案件为标准数据包（JSON Lines，每行一个案件）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", type=int, action="append", dest="cases", help="案件 id（可重复）")
        parser.add_argument("--county", help="区县区划代码")
        parser.add_argument("--since", type=date.fromisoformat, help="此日期（含）以后有更新的案件")
        parser.add_argument("--out", type=Path, required=True, help="输出文件 .jsonl 或 .jsonl.gz")
        parser.add_argument("--with-files", type=Path, dest="files", help="同时把文件字节按哈希写入此目录")
        parser.add_argument("--system", default=DEFAULT_SYSTEM, help="来源系统名称（写入 source.system）")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(count: int) -> None:
            self.stderr.write(f"\r已导出 {count} 件", ending="")

        count = cases_export(
            out=options["out"],
            case_ids=options["cases"],
            county_code=options["county"],
            since=options["since"],
            files_dir=options["files"],
            system=options["system"],
            on_progress=progress,
        )
        self.stderr.write("")
        self.stdout.write(f"导出 {count} 件 → {options['out']}")
