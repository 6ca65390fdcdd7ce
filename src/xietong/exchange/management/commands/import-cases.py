"""``xietong import-cases FILE|DIR [--files DIR] [--dry-run] [--report FILE]``: standard data
packages into cases, resumable, with a validation report (docs/exchange.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xietong.exchange.importer import BATCH, Progress, cases_import, write_report


class Command(BaseCommand):
    help = "导入标准数据包（文件或目录；可中断后续传；输出校验报告）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help=".jsonl / .jsonl.gz 文件或其目录")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--report", type=Path, help="校验报告（JSON）写到此文件")
        parser.add_argument(
            "--files", type=Path, help="文件目录（export-cases --with-files 所写，blobs/<前两位>/<sha256>）"
        )
        parser.add_argument("--batch", type=int, default=BATCH, help="每批案件数（一批一个事务）")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.exists():
            raise CommandError(f"找不到 {path}")
        files_dir: Path | None = options["files"]
        if files_dir is not None and not files_dir.is_dir():
            raise CommandError(f"找不到文件目录 {files_dir}")

        def progress(p: Progress) -> None:
            self.stderr.write(
                f"\r{Path(p.file).name}: 第 {p.lines} 行  导入 {p.imported}  跳过 {p.skipped}  "
                f"拒绝 {p.rejected}  {p.rate:,.0f} 行/秒",
                ending="",
            )

        results = cases_import(
            path=path,
            dry_run=options["dry_run"],
            batch=options["batch"],
            on_progress=progress,
            files_dir=files_dir,
        )
        self.stderr.write("")
        for r in results:
            self.stdout.write(
                f"{r.file}: {r.lines} 行，导入 {r.imported}，跳过 {r.skipped}，"
                f"拒绝 {r.rejected}（{r.status}）"
            )
        if options["report"]:
            write_report(options["report"], results, dry_run=options["dry_run"])
            self.stdout.write(f"校验报告 → {options['report']}")
        if any(r.rejected for r in results):
            self.stdout.write("有数据包被拒绝，原因见校验报告（--report）")
        if any(r.notes for r in results):
            self.stdout.write("部分案件已导入但缺文件或文号，见校验报告的 problems（--report）")
