"""``xietong library import FILE.jsonl [--collection NAME]`` and ``xietong library collect``."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xietong.library.importer import Progress, library_import
from xietong.library.models import ImportRun
from xietong.library.services import library_collect


class Command(BaseCommand):
    help = "案例库：导入历史裁判文书（import），归集本平台办结案件（collect）"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        imp = sub.add_parser("import", help="导入 JSON Lines 文件（可为 .gz）；中断后再次运行从断点继续")
        imp.add_argument("file", type=Path)
        imp.add_argument("--collection", default="", help="案例集标识（默认：文件名）")
        imp.add_argument("--title", default="", help="案例集标题")
        imp.add_argument("--source", default="", help="来源与许可说明")
        imp.add_argument("--workers", type=int, default=None, help="并行处理进程数（默认：CPU 数，最多 4）")
        sub.add_parser("collect", help="把已办结（判决生效、不起诉、撤销）的本平台案件归入案例库")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "collect":
            self.stdout.write(f"归集 {library_collect()} 件")
            return
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        name = options["collection"] or path.name.split(".")[0].lower().replace("_", "-")[:60]
        started = time.perf_counter()

        def progress(p: Progress) -> None:
            self.stdout.write(
                f"\r已处理 {p.lines} 行：新增 {p.imported}，更新 {p.updated}，未变 {p.unchanged}，"
                f"无效 {p.invalid}（{p.rate:.0f} 行/秒）",
                ending="",
            )
            self.stdout.flush()

        try:
            run: ImportRun = library_import(
                path=path,
                collection_name=name,
                title=options["title"],
                source=options["source"],
                workers=options["workers"],
                on_progress=progress,
            )
        except UnicodeDecodeError as exc:
            raise CommandError(f"文件不是 UTF-8 编码：{exc}") from exc
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        seconds = time.perf_counter() - started
        self.stdout.write("")
        self.stdout.write(
            f"导入完成：案例集 {name}，共 {run.position} 行；新增 {run.imported}，更新 {run.updated}，"
            f"未变 {run.unchanged}，无效 {run.invalid}；用时 {seconds:.1f} 秒"
        )
        if run.problems:
            self.stdout.write("校验报告（前 20 条）：")
            for problem in run.problems[:20]:
                self.stdout.write(f"  第 {problem['line']} 行 [{problem['code']}] {problem['message']}")
