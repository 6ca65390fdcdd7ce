"""``xietong bench NAME``: run one bench and print its figures; the last line of the output is one JSON
object with the results.

``transitions``, ``ledger-verify``, ``pages`` and ``reconcile`` run in a throwaway PostgreSQL database
(created, migrated in a child process, dropped afterwards; see ``bench.bulk``). ``search`` and ``ocr`` run in
this process, as their modules say (``search`` in the configured database, ``ocr`` without one)."""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# name → (module with ``run(options, write) -> dict``, where it runs): "postgresql" in a throwaway
# PostgreSQL database; "database" in a throwaway database, PostgreSQL or, with --sqlite, a SQLite file;
# "none" needs no database. No bench ever writes into the configured database.
BENCHES: dict[str, tuple[str, str]] = {
    "transitions": ("xietong.bench.transitions", "postgresql"),
    "ledger-verify": ("xietong.bench.ledger_verify", "postgresql"),
    "pages": ("xietong.bench.pages", "postgresql"),
    "leaders": ("xietong.bench.leaders", "database"),  # 态势总览 and 监督管理, figures computed and kept
    "search": ("xietong.bench.search", "database"),
    "reader": ("xietong.bench.reader", "database"),
    "ocr": ("xietong.bench.ocr", "none"),
    "seal": ("xietong.bench.seal", "database"),
    "courtroom": ("xietong.bench.courtroom", "database"),
    "reconcile": ("xietong.bench.reconcile", "postgresql"),
    "library": ("xietong.bench.library", "database"),
    "sentencing": ("xietong.bench.sentencing", "none"),
    "similar": ("xietong.bench.similar", "database"),
    "analytics": ("xietong.bench.analytics", "postgresql"),
    "rules": ("xietong.bench.rules", "postgresql"),
    "exchange": ("xietong.bench.exchange", "postgresql"),  # the event feed: webhooks, broker
    "load": ("xietong.bench.load", "postgresql"),  # Locust against the production stack, and a soak
    "faults": ("xietong.bench.faults", "cluster"),  # fault drills, on a PostgreSQL cluster of their own
}

# Options handed on to the child process that runs inside the throwaway database: (dest, flag).
_FORWARDED = (
    ("quick", "--quick"),
    ("seed", "--seed"),
    ("profile", "--profile"),
    ("clients", "--clients"),
    ("seconds", "--seconds"),
    ("cases_per_client", "--cases-per-client"),
    ("entries", "--entries"),
    ("per_case", "--per-case"),
    ("integrate_batch", "--integrate-batch"),
    ("cases", "--cases"),
    ("requests", "--requests"),
    ("templates", "--templates"),
    ("integrate", "--integrate"),
    ("pages", "--pages"),
    ("rounds", "--rounds"),
    ("persons", "--persons"),
    ("planted", "--planted"),
    ("records", "--records"),
    ("import_records", "--import-records"),
    ("baseline_runs", "--baseline-runs"),
    ("baseline_timeout", "--baseline-timeout"),
    ("facts_budget", "--facts-budget"),
    ("live_acts", "--live-acts"),
    ("live_block", "--live-block"),
    ("live_warmup", "--live-warmup"),
    ("live_inline", "--live-inline"),
    ("workers", "--workers"),
    ("import_cases", "--import-cases"),
    ("steps", "--steps"),
    ("soak_minutes", "--soak-minutes"),
    ("soak_users", "--soak-users"),
    ("nodes", "--nodes"),
    ("redis", "--redis"),
    ("outage", "--outage"),
    ("drills", "--drills"),
    ("months", "--months"),
    ("per_month", "--per-month"),
)


class Command(BaseCommand):
    help = (
        "性能基准：transitions（办案操作吞吐）、ledger-verify（账本校验速度）、pages（页面延迟）、"
        "search（全文检索延迟）、ocr（文字识别）、seal（文书盖章与核验）、courtroom（庭审同步显示延迟）、"
        "reconcile（每日羁押依据核查）、rules（异常办案规则引擎）"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", choices=list(BENCHES))
        parser.add_argument("--quick", action="store_true", help="smaller sizes, for a first look")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--profile", action="store_true", help="also measure where the time goes (hot spots)"
        )
        parser.add_argument(
            "--database-url",
            default=None,
            help="PostgreSQL server for the throwaway database (default: the configured one if it is "
            "PostgreSQL, else postgres://postgres@127.0.0.1:5432/)",
        )
        parser.add_argument("--keep", action="store_true", help="keep the throwaway database afterwards")
        parser.add_argument(
            "--sqlite",
            action="store_true",
            help="search, reader, seal, library, similar, leaders: run in a throwaway SQLite file instead",
        )
        group = parser.add_argument_group("transitions")
        group.add_argument("--clients", default=None, help="concurrent clients, e.g. 1,8 (default)")
        group.add_argument("--seconds", type=float, default=None, help="seconds with and without ledger")
        group.add_argument("--cases-per-client", type=int, default=None)
        group = parser.add_argument_group("ledger-verify")
        group.add_argument("--entries", type=int, default=None, help="ledger entries (default 1,000,000)")
        group.add_argument("--per-case", type=int, default=None, help="entries per case (default 10)")
        group.add_argument("--integrate-batch", type=int, default=None)
        group = parser.add_argument_group("pages")
        group.add_argument("--cases", type=int, default=None, help="cases (default 100,000)")
        group.add_argument(
            "--requests", type=int, default=None, help="requests per page (default 200); seal: instruments"
        )
        group.add_argument("--templates", type=int, default=None, help="cases made through the services")
        group.add_argument(
            "--integrate", action="store_true", help="also integrate the ledger into the Merkle tree first"
        )
        group = parser.add_argument_group("search and ocr")
        group.add_argument("--pages", type=int, default=None)
        group.add_argument("--rounds", type=int, default=None)
        group = parser.add_argument_group("reconcile")
        group.add_argument("--persons", type=int, default=None, help="persons (default 1,000,000)")
        group.add_argument("--planted", type=float, default=None, help="share planted (default 0.01)")
        group = parser.add_argument_group("library")
        group.add_argument("--records", type=int, default=None, help="library records (default 100,000)")
        group.add_argument(
            "--import-records", type=int, default=None, help="judgments imported (default 2,000)"
        )
        group = parser.add_argument_group("analytics")
        group.add_argument(
            "--baseline-runs", type=int, default=None, help="runs of each baseline query (default 1)"
        )
        group.add_argument(
            "--baseline-timeout", type=float, default=None, help="seconds a baseline query may take (120)"
        )
        group.add_argument(
            "--facts-budget",
            type=float,
            default=None,
            help="seconds facts_refresh may take for all cases before the bench builds the rest in SQL (900)",
        )
        group = parser.add_argument_group("rules")
        group.add_argument(
            "--live-acts", type=int, default=None, help="acts timed in each live mode (default 1,000)"
        )
        group.add_argument("--live-block", type=int, default=None, help="acts per alternating block (50)")
        group.add_argument("--live-warmup", type=int, default=None, help="untimed acts first (1,300)")
        group.add_argument(
            "--live-inline", type=int, default=None, help="acts timed with the evaluation inline (60)"
        )
        group.add_argument(
            "--workers", type=int, default=None, help="also re-evaluate in this many processes (2)"
        )
        group = parser.add_argument_group("exchange")
        group.add_argument(
            "--import-cases", type=int, default=None, help="standard data packages imported (20,000)"
        )
        group = parser.add_argument_group("load")
        group.add_argument(
            "--steps", default=None, help="users:seconds,… of the ramp (default 20:90,…,200:90)"
        )
        group.add_argument(
            "--soak-minutes", type=float, default=None, help="minutes of the soak (30; 0: none)"
        )
        group.add_argument(
            "--soak-users", type=int, default=None, help="users in the soak (the best held step)"
        )
        group.add_argument("--nodes", type=int, default=None, help="ASGI processes (2)")
        group.add_argument(
            "--redis", default=None, help="Redis for throttles and channels (redis://127.0.0.1:6379/0)"
        )
        group = parser.add_argument_group("faults")
        group.add_argument("--outage", type=float, default=None, help="seconds the database stays down (8)")
        group.add_argument(
            "--drills",
            default=None,
            help="only these drills, comma-separated: job-worker,integrator,database,redis,disk,slow-clients",
        )
        group = parser.add_argument_group("leaders")
        group.add_argument("--months", type=int, default=None, help="months of concluded cases (60)")
        group.add_argument("--per-month", type=int, default=None, help="concluded cases a month (~200)")
        group = parser.add_argument_group("sentencing")
        group.add_argument(
            "--data", default=None, help="directory with cases.jsonl.gz (default: the shared dev set)"
        )
        group.add_argument(
            "--library",
            default=None,
            help="sentencing: extra judgments to learn from (LeCaRD dir; default the shared dev set; none)",
        )
        parser.add_argument("--inner-result", default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        from xietong.bench import bulk

        name = options["name"]
        module, where = BENCHES[name]
        if options["inner_result"]:
            self._inner(module, where, options)
            return
        if where == "none":
            result = importlib.import_module(module).run(options, self.stdout.write)
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        forwarded: list[str] = []
        for dest, flag in _FORWARDED:
            value = options.get(dest)
            if value is True:
                forwarded.append(flag)
            elif value not in (None, False):
                forwarded += [flag, str(value)]
        if where == "cluster":
            from xietong.bench import faults

            try:
                result = faults.run_outer(forwarded, self.stdout.write)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        if where == "database" and options["sqlite"]:
            try:
                result = bulk.run_in_throwaway_sqlite(bench=name, args=forwarded, write=self.stdout.write)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        try:
            result = bulk.run_in_throwaway_database(
                bench=name,
                args=forwarded,
                server=bulk.server_url(options["database_url"]),
                keep=options["keep"],
                write=self.stdout.write,
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _inner(self, module: str, where: str, options: dict[str, Any]) -> None:
        """In the child process, inside the throwaway database."""
        from django.db import connection

        if where == "postgresql" and connection.vendor != "postgresql":
            raise CommandError("this bench runs in a PostgreSQL database")
        call_command("migrate", verbosity=0, interactive=False)
        result = importlib.import_module(module).run(options, self.stdout.write)
        Path(options["inner_result"]).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
