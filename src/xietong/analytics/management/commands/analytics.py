"""``xietong analytics refresh|warnings|population FILE.csv``: the facts layer, the monthly warnings,
and the statistics bureau's population figures."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xietong.analytics.services import facts_refresh, population_load, stale_case_ids, warnings_refresh
from xietong.errors import ValidationFailed


class Command(BaseCommand):
    help = "态势分析：刷新案件事实（refresh）、研判风险预警（warnings）、导入常住人口（population）"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("refresh", help="重新提取有变动案件的统计事实")
        warn = sub.add_parser("warnings", help="按月研判各镇（街道）、各区县、各罪名的异常上升")
        warn.add_argument("--month", default="", help="研判的月份，如 2026-10（默认：上月）")
        pop = sub.add_parser("population", help="导入常住人口 CSV：区划代码,年份,常住人口[,来源]")
        pop.add_argument("file", type=Path)
        pop.add_argument("--source", default="", help="来源说明（文件中未写时使用）")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        verb = options["verb"]
        if verb == "refresh":
            stale = stale_case_ids().count()
            self.stdout.write(f"待刷新 {stale} 件 …")
            done = facts_refresh()
            self.stdout.write(f"已刷新 {done} 件案件事实，用时 {time.perf_counter() - started:.1f} 秒")
        elif verb == "warnings":
            month = None
            if options["month"]:
                try:
                    month = date.fromisoformat(options["month"][:7] + "-01")
                except ValueError as exc:
                    raise CommandError("月份格式应为 2026-10") from exc
            self.stdout.write(f"风险预警 {warnings_refresh(month=month)} 条")
        else:
            path: Path = options["file"]
            if not path.is_file():
                raise CommandError(f"文件不存在：{path}")
            try:
                count = population_load(path.read_text(encoding="utf-8-sig"), source=options["source"])
            except (ValidationFailed, UnicodeDecodeError) as exc:
                raise CommandError(getattr(exc, "message", "文件应为 UTF-8 编码的 CSV")) from exc
            self.stdout.write(f"已导入 {count} 条常住人口")
