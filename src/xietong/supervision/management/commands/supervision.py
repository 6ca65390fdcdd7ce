"""``xietong supervision rules|evaluate|reevaluate``: list the rules in force, evaluate what is stale
(what the worker does), or run the whole ledger through the rules again (after adding a rule)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xietong.supervision import engine


class Command(BaseCommand):
    help = (
        "监督规则引擎：rules 列出在用规则；evaluate 评估有新动态的案件；"
        "reevaluate 用全部（或指定）规则重新评估全部历史"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("what", choices=["rules", "evaluate", "reevaluate"])
        parser.add_argument("--rule", action="append", default=[], help="只用这些规则（可重复）")

    def handle(self, *args: Any, **options: Any) -> None:
        in_force = engine.rules()
        if options["what"] == "rules":
            for r in in_force:
                reads = "、".join(sorted(r.reads)) or "—"
                self.stdout.write(
                    f"{r.code:24} {r.severity:8} {r.title}\n    依据：{r.norm}\n"
                    f"    读取：{reads}{'；期限' if r.clocks else ''}"
                )
            return
        if options["what"] == "evaluate":
            self.stdout.write(str(engine.evaluate_stale()))
            return
        chosen = in_force
        if options["rule"]:
            unknown = sorted(set(options["rule"]) - {r.code for r in in_force})
            if unknown:
                raise CommandError(f"没有这些规则：{'、'.join(unknown)}")
            chosen = tuple(r for r in in_force if r.code in options["rule"])

        def progress(hi: int, top: int, outcome: engine.Outcome, seconds: float) -> None:
            self.stdout.write(
                f"  {min(hi, top):,}/{top:,} 案 · 发现 {outcome.findings:,} · "
                f"新预警 {outcome.raised:,} · {seconds:.0f} s"
            )

        done = engine.reevaluate_all(chosen=chosen, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(f"完成：{done.cases:,} 案，发现 {done.findings:,}，新预警 {done.raised:,}")
        )
