"""``xietong demo load [--cases N]``: the Suzhou demo data set, loaded once."""

from __future__ import annotations

import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from xietong.analytics.services import facts_refresh, population_load, warnings_refresh
from xietong.board.demo import board_demo
from xietong.demo.generator import attach_scans, generate
from xietong.demo.history import generate_history, population_csv
from xietong.demo.units import create_org
from xietong.execution.reconcile import reconcile
from xietong.ledger.services import ledger_integrate_all
from xietong.library import data as library_data
from xietong.library.consistency import consistency_refresh
from xietong.library.importer import library_import
from xietong.library.services import library_collect
from xietong.orgs.models import Unit
from xietong.quality import demo as quality_demo
from xietong.supervision.engine import reevaluate_all

JUDGMENTS = Path(library_data.__path__[0]) / "judgments.jsonl.gz"


class Command(BaseCommand):
    help = "加载苏州演示数据（单位、人员、各阶段案件）；已加载则跳过"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("verb", choices=["load", "cases"])
        parser.add_argument("--cases", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--scans", type=int, default=12, help="上传扫描卷宗的案件数")
        parser.add_argument("--sealed", type=int, default=40, help="文书已签发盖章的案件数（其余为草稿）")
        parser.add_argument("--history-months", type=int, default=60, help="往年办结案件的月数（态势分析用）")
        parser.add_argument("--history-per-month", type=int, default=200, help="往年每月立案数（全市）")

    def handle(self, *args: Any, **options: Any) -> None:
        # The loader only queues background work; the server's worker does it (a worker thread
        # here would die with this command, mid-job).
        with override_settings(XIETONG_INPROCESS_TASKS=False):
            self._load(options)

    def _library(self) -> None:
        """The demo library: real judgments shipped in the repo (LeCaRD, MIT), then the demo's own
        concluded cases, collected as the platform would, and the sentencing check over both."""
        self.stdout.write("正在导入案例库（公开裁判文书 634 篇，LeCaRD，MIT 许可）…")
        run = library_import(
            path=JUDGMENTS,
            collection_name="lecard",
            title="公开裁判文书（LeCaRD）",
            source="LeCaRD (Ma et al., SIGIR 2021), MIT © 2021 myx666；原始文书来自中国裁判文书网",
        )
        collected = library_collect()
        estimated = consistency_refresh()
        self.stdout.write(
            f"案例库：导入 {run.imported} 篇，归集本平台办结案件 {collected} 件，量刑比对 {estimated} 件。"
        )

    def _history(self, options: dict[str, Any], started: float) -> None:
        months = options["history_months"]
        if months <= 0:
            return
        self.stdout.write(f"正在生成往年 {months} 个月的办结案件（批量写入，含完整留痕链）…")

        def progress(done: int, cases: int) -> None:
            sys.stdout.write(f"\r  {done}/{months} 个月，{cases} 件  {time.perf_counter() - started:.0f} 秒")
            sys.stdout.flush()

        generate_history(months=months, per_month=options["history_per_month"], progress=progress)
        sys.stdout.write("\n")

    def _load(self, options: dict[str, Any]) -> None:
        started = time.perf_counter()
        if options["verb"] == "load":
            if Unit.objects.exists():
                self.stdout.write("演示数据已存在，跳过加载。")
                return
            self.stdout.write("正在创建苏州市单位与人员 …")
            create_org()
            population_load(population_csv(2020))
            self._history(options, started)
        total = options["cases"]
        self.stdout.write(f"正在生成 {total} 件案件（经由办案服务逐步办理，写入全程留痕）…")

        def progress(done: int) -> None:
            if done % 25 == 0 or done == total:
                sys.stdout.write(f"\r  {done}/{total} 件  {time.perf_counter() - started:.0f} 秒")
                sys.stdout.flush()

        generate(count=total, seed=options["seed"], progress=progress, sealed=options["sealed"])
        sys.stdout.write("\n")
        scans = attach_scans(count=min(options["scans"], total))
        if scans:
            self.stdout.write(f"已为 {scans} 件案件上传扫描卷宗；服务启动后在后台拆页、识别。")
        board_demo()  # 留言板: an answered objection and a waiting question on a few cases
        heads = ledger_integrate_all()
        checked = reconcile()  # the day's custody check, so 羁押核查 shows what the demo holds
        if checked.flagged:
            self.stdout.write(f"羁押合法性核查：{checked.flagged} 人在押无法律依据（见「羁押核查」）。")
        self._library()
        quality_demo.seed()  # 网上案件评查: one campaign, one case reviewed
        facts = facts_refresh()
        warned = warnings_refresh()
        self.stdout.write(f"态势分析：案件事实 {facts} 件，上月风险预警 {warned} 条。")
        supervised = reevaluate_all()  # the rules engine over every case's history, as after an import
        self.stdout.write(
            f"监督预警：规则引擎评估 {supervised.cases} 件案件，"
            f"发现异常 {supervised.raised} 条（见「监督预警」）。"
        )
        self.stdout.write(
            f"完成：{total} 件案件，默克尔树签名 {heads} 次，用时 {time.perf_counter() - started:.0f} 秒。"
            f"演示密码：{settings.XIETONG_DEMO_PASSWORD}"
        )
