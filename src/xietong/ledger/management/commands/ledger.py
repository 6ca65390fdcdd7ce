"""``xietong ledger verify|checkpoint|integrate``."""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xietong.ledger.selectors import tree_head_latest
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify, load_checkpoint


class Command(BaseCommand):
    help = "全程留痕账本：校验（verify）、导出签名检查点（checkpoint）、并入默克尔树（integrate）"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        verify = sub.add_parser("verify", help="重算每条哈希链与默克尔树，失败时退出码非零")
        verify.add_argument("--checkpoint", type=Path, help="检查当前账本仍然延续此签名检查点")
        checkpoint = sub.add_parser("checkpoint", help="导出当前签名树头到文件")
        checkpoint.add_argument("path", type=Path)
        sub.add_parser("integrate", help="把尚未并入的记录并入默克尔树并签名")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "integrate":
            heads = ledger_integrate_all()
            self.stdout.write(f"integrated; {heads} new tree head(s); size={tree_head_latest()['size']}")
        elif verb == "checkpoint":
            ledger_integrate_all()
            head = tree_head_latest()
            options["path"].write_text(json.dumps(head, ensure_ascii=False, indent=2), encoding="utf-8")
            self.stdout.write(f"checkpoint size={head['size']} root={head['root_hash']} → {options['path']}")
        else:
            checkpoint = None
            if options.get("checkpoint"):
                try:
                    checkpoint = load_checkpoint(options["checkpoint"])
                except (OSError, ValueError) as exc:
                    raise CommandError(f"无法读取检查点文件：{exc}") from exc
            started = time.perf_counter()
            report = ledger_verify(checkpoint=checkpoint)
            elapsed = time.perf_counter() - started
            self.stdout.write(
                f"entries={report.entries} cases={report.cases} leaves={report.leaves} "
                f"tree_heads={report.tree_heads} seconds={elapsed:.2f}"
            )
            if report.checkpoint:
                self.stdout.write(f"checkpoint: {json.dumps(report.checkpoint)}")
            if not report.ok:
                for problem in report.problems:
                    self.stderr.write(f"FAIL {problem}")
                raise CommandError(f"ledger verify failed: {report.problems[0]}")
            self.stdout.write(self.style.SUCCESS("OK: ledger verified"))
