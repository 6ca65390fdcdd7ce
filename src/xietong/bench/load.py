"""``xietong bench load``: Locust users (``bench/locustfile.py``: police handlers and leaders,
prosecutors, judges, city leaders, agency systems over the API) against the production stack on this
machine (``bench/stack.py``: ``--nodes`` daphne processes, ``xietong worker``, a job worker per queue,
PostgreSQL, Redis), in two parts:

1. **Ramp**: the users rise in steps (``--steps``); for each step the requests per second, p50/p95
   and errors. The throughput *held* is the best step with p95 < 500 ms and no error.
2. **Soak** (``--soak-minutes``, default 30) at the users of that step: errors, p95 per five
   minutes, each process's resident memory sampled every 10 s (its growth over the soak's second
   half, by least squares), and afterwards *no lost job*: the job queues drain with no failure,
   every write the platform acknowledged is in the ledger (each act by case and action; each filing
   as an approval request; each uploaded volume with every page read by OCR), and ``ledger verify``
   passes.

The baseline measured in the same run is ``/healthz`` (one ``SELECT 1``) through the same nodes.
The data: ``demo load`` (the make-demo data set: Suzhou's units and users, ``--cases`` cases in every
stage, scanned volumes, five years of history); the job queue is drained before the ramp starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command

from xietong.bench.bulk import Write, machine, percentile
from xietong.bench.stack import Stack

TARGET_P95_MS = 500.0
GROWTH_LIMIT_MIB_H = 50.0  # 25 MiB over a 30-minute soak's second half: a leak, not noise
DEFAULT_STEPS = "40:90,70:90,100:90,130:90,160:90,200:90"
QUICK_STEPS = "10:30,30:30"
PREFIXES = (
    "gusu",
    "huqiu",
    "wuzhong",
    "xiangcheng",
    "wujiang",
    "sip",
    "changshu",
    "zjg",
    "kunshan",
    "taicang",
)
TARGET = (
    f"throughput held at p95 < {TARGET_P95_MS:.0f} ms; a soak with no error, no process growing by "
    f"{GROWTH_LIMIT_MIB_H:.0f} MiB/h or more in its second half, no lost job or write"
)
SETTLE_S = 15.0  # seconds at the start of each step left out (users still arriving and signing in)


def build_plan(workdir: Path, write: Write) -> dict[str, Any]:
    """Who the simulated users are and what each may open: per district the demo accounts, the
    cases each sees, the volumes with their pages, the towns, and two agency systems registered now."""
    from xietong.cases.selectors import case_list_visible_to
    from xietong.clients.services import client_create
    from xietong.demo.scans import volume_pdf
    from xietong.dossier.models import Volume
    from xietong.orgs.models import Region, User

    districts: list[dict[str, Any]] = []
    for prefix in PREFIXES:
        users = {
            u.username: u
            for u in User.objects.filter(username__startswith=f"{prefix}_").select_related("unit")
        }
        need = {k: f"{prefix}_{k}" for k in ("police", "police_leader", "procu", "procu_leader", "judge")}
        if any(name not in users for name in need.values()):
            continue
        cases: dict[str, list[int]] = {}
        volumes: dict[str, list[tuple[int, list[int]]]] = {}
        for key, username in need.items():
            visible = case_list_visible_to(user=users[username]).order_by("-pk").values_list("pk", flat=True)
            cases[key] = list(visible[:300])
            shelf = Volume.objects.filter(case_id__in=cases[key], status="ready").prefetch_related("pages")[
                :20
            ]
            volumes[key] = [(v.pk, [p.pk for p in list(v.pages.all())[:5]]) for v in shelf]
        police_unit = users[need["police"]].unit
        procu_unit = users[need["procu"]].unit
        if police_unit is None or procu_unit is None:
            continue
        clients = {}
        for side, unit in (("police", police_unit), ("procu", procu_unit)):
            issued = client_create(unit=unit, name=f"{unit.name}压测接入系统", duties=["handler", "leader"])
            clients[side] = [issued.client.client_id, issued.secret]
        county = police_unit.region if police_unit.region.level == "county" else police_unit.region.parent
        towns = list(Region.objects.filter(level="town", parent=county).values_list("pk", flat=True))
        districts.append(
            {
                "prefix": prefix,
                **need,
                "leader": "committee",
                "cases": cases,
                "volumes": volumes,
                "towns": towns,
                "clients": clients,
            }
        )
    if not districts:
        raise RuntimeError("no demo districts found: did demo load run?")
    import random

    pdf = volume_pdf(
        rng=random.Random(7),  # noqa: S311 (bench data)
        title="起诉意见书",
        number="苏公(压测)字〔2026〕1号",
        unit="苏州市公安局姑苏分局",
        facts="犯罪嫌疑人在某小区内盗窃电动自行车一辆，价值人民币三千元。",
        suspects=["压测某"],
    )
    pdf_path = workdir / "upload.pdf"
    if pdf:
        pdf_path.write_bytes(pdf)
    plan = {
        "password": settings.XIETONG_DEMO_PASSWORD,
        "districts": districts,
        "pdf": str(pdf_path) if pdf else "",
    }
    write(
        f"plan: {len(districts)} districts; per district "
        f"{sum(len(v) for v in districts[0]['cases'].values())} "
        f"case views, {sum(len(v) for v in districts[0]['volumes'].values())} volumes; upload "
        f"{len(pdf or b'') // 1024} KiB"
    )
    return plan


def queue_state() -> dict[str, int]:
    from django_tasks_db.models import DBTaskResult

    counts: dict[str, int] = defaultdict(int)
    for status in DBTaskResult.objects.values_list("status", flat=True):
        counts[str(status)] += 1
    return dict(counts)


def wait_drained(write: Write, *, timeout: float, label: str) -> dict[str, Any]:
    """Wait until no job is READY or RUNNING and every ledger entry is in the Merkle tree."""
    from xietong.ledger.models import LedgerEntry, MerkleLeaf

    started = time.monotonic()
    while True:
        state = queue_state()
        pending = state.get("READY", 0) + state.get("RUNNING", 0)
        lag = LedgerEntry.objects.count() - MerkleLeaf.objects.count()
        if pending == 0 and lag == 0:
            break
        if time.monotonic() - started > timeout:
            write(f"  {label}: not drained after {timeout:.0f} s: jobs {state}, ledger lag {lag}")
            break
        time.sleep(2)
    seconds = time.monotonic() - started
    write(f"  {label}: drained in {seconds:.0f} s; jobs {state}; ledger lag {lag}")
    return {"seconds": round(seconds, 1), "jobs": state, "ledger_lag": lag}


def run_locust(
    *, plan_path: Path, hosts: list[str], steps: str, log_path: Path, workdir: Path, seed: int
) -> int:
    locustfile = Path(__file__).with_name("locustfile.py")
    locust = str(Path(sys.executable).with_name("locust"))
    env = {
        **os.environ,
        "XIETONG_LOAD_PLAN": str(plan_path),
        "XIETONG_LOAD_HOSTS": ",".join(hosts),
        "XIETONG_LOAD_LOG": str(log_path),
        "XIETONG_LOAD_STEPS": steps,
        "XIETONG_LOAD_SEED": str(seed),
    }
    cmd = [
        locust,
        "-f",
        str(locustfile),
        "--headless",
        "--host",
        hosts[0],
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    with (workdir / "locust.log").open("ab") as out:
        return subprocess.call(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)  # noqa: S603


def read_log(path: Path, write: Write) -> tuple[list[tuple[float, str, float, int, int]], list[list[str]]]:
    requests: list[tuple[float, str, float, int, int]] = []
    acks: list[list[str]] = []
    failures: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if parts[0] == "ack":
            acks.append(parts[1:])
        elif len(parts) >= 5:
            requests.append((float(parts[0]), parts[1], float(parts[2]), int(parts[3]), int(parts[4])))
            if len(parts) > 5 and parts[5] and parts[5] not in failures:
                failures.append(parts[5])
    for why in failures[:5]:
        write(f"  failure: {why}")
    return requests, acks


def window(requests: list[tuple[float, str, float, int, int]], start: float, end: float) -> dict[str, Any]:
    inside = [r for r in requests if start <= r[0] < end]
    times = sorted(r[2] for r in inside)
    failed = [r for r in inside if not r[3]]
    seconds = max(end - start, 1e-9)
    by_name: dict[str, list[float]] = defaultdict(list)
    for r in inside:
        by_name[r[1]].append(r[2])
    return {
        "requests": len(inside),
        "rps": round(len(inside) / seconds, 1),
        "p50_ms": round(percentile(times, 50), 1) if times else None,
        "p95_ms": round(percentile(times, 95), 1) if times else None,
        "p99_ms": round(percentile(times, 99), 1) if times else None,
        "errors": len(failed),
        "error_statuses": sorted({r[4] for r in failed}),
        "errors_by": dict(Counter(f"{r[1]} {r[4]}" for r in failed).most_common(5)),
        "slowest_p95": sorted(
            ((name, round(percentile(sorted(v), 95), 1)) for name, v in by_name.items() if len(v) >= 5),
            key=lambda item: -item[1],
        )[:4],
    }


def parse_steps(steps: str) -> list[tuple[int, int]]:
    return [(int(u), int(s)) for u, s in (part.split(":") for part in steps.split(",") if part)]


def memory_growth(stack: Stack, since: float) -> dict[str, dict[str, float]]:
    """Per process: RSS at the start and end of the window and the least-squares slope (MiB/hour)."""
    figures = {}
    for process in stack.processes:
        points = [(t, kib / 1024) for t, kib in process.rss if t >= since]
        if len(points) < 3:
            continue
        n = len(points)
        mean_t = sum(t for t, _ in points) / n
        mean_m = sum(m for _, m in points) / n
        var = sum((t - mean_t) ** 2 for t, _ in points) or 1e-9
        slope = sum((t - mean_t) * (m - mean_m) for t, m in points) / var * 3600
        figures[process.name] = {
            "start_mib": round(points[0][1], 1),
            "end_mib": round(points[-1][1], 1),
            "max_mib": round(max(m for _, m in points), 1),
            "slope_mib_per_hour": round(slope, 1),
        }
    return figures


def soak_problems(soak: dict[str, Any]) -> list[str]:
    """What keeps the soak from meeting its target (nothing when no soak was run)."""
    if not soak:
        return []
    problems = []
    if soak["whole"]["errors"]:
        problems.append(f"{soak['whole']['errors']} errors")
    grown = [name for name, g in soak["memory"].items() if g["slope_mib_per_hour"] >= GROWTH_LIMIT_MIB_H]
    if grown:
        problems.append(f"memory growth in {', '.join(grown)}")
    if soak["writes"]["lost"]:
        problems.append("lost writes or jobs")
    dead = [name for name, alive in soak["processes_alive"].items() if not alive]
    if dead:
        problems.append(f"processes died: {', '.join(dead)}")
    return problems


def check_acks(acks: list[list[str]], since: Any) -> dict[str, Any]:
    """Every acknowledged write is in the platform: acts in the ledger (by case and action, counted),
    filings as approval requests, volumes with every page through OCR."""
    from xietong.cases.models import ActionRequest
    from xietong.dossier.models import Volume
    from xietong.ledger.models import LedgerEntry

    acted: dict[tuple[int, str], int] = defaultdict(int)
    volumes: list[int] = []
    filings = approvals = 0
    for kind, *fields in acks:
        if kind == "act":
            acted[(int(fields[0]), fields[1])] += 1
        elif kind == "volume":
            volumes.append(int(fields[1]))
        elif kind == "filing":
            filings += 1
        elif kind == "approval":
            approvals += 1
    in_ledger: dict[tuple[int, str], int] = defaultdict(int)
    case_ids = sorted({case for case, _ in acted})
    for start in range(0, len(case_ids), 1000):
        for case_id, action in LedgerEntry.objects.filter(
            case_id__in=case_ids[start : start + 1000]
        ).values_list("case_id", "action"):
            in_ledger[(case_id, action)] += 1
    missing_acts = {f"{c}:{a}": n - in_ledger[(c, a)] for (c, a), n in acted.items() if in_ledger[(c, a)] < n}
    requests = ActionRequest.objects.filter(requested_at__gte=since, action="register").count()
    ready = Volume.objects.filter(pk__in=volumes, status="ready").values_list(
        "pk", "page_count", "pages_ocred"
    )
    unfinished = sorted(set(volumes) - {pk for pk, count, ocred in ready if ocred == count and count > 0})
    return {
        "acts_acknowledged": sum(acted.values()),
        "acts_missing": missing_acts,
        "filings_acknowledged": filings,
        "filing_requests_stored": requests,
        "approvals_acknowledged": approvals,
        "volumes_acknowledged": len(volumes),
        "volumes_unfinished": unfinished,
        "lost": bool(missing_acts or unfinished or requests < filings),
    }


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from django.utils import timezone

    from xietong.ledger.verify import ledger_verify

    quick = bool(options.get("quick"))
    cases = int(options.get("cases") or (60 if quick else 300))
    steps = options.get("steps") or (QUICK_STEPS if quick else DEFAULT_STEPS)
    soak_minutes = (
        float(options["soak_minutes"])
        if options.get("soak_minutes") is not None
        else (1.0 if quick else 30.0)
    )
    nodes = int(options.get("nodes") or 2)
    seed = int(options.get("seed") or 2026)
    write(f"bench load: {nodes} ASGI nodes, steps {steps}, soak {soak_minutes:g} min; {machine()}")

    t = time.perf_counter()
    history = ["--history-months", "6"] if quick else []
    call_command("demo", "load", "--cases", str(cases), *history, verbosity=0)
    write(f"data: demo load --cases {cases} in {time.perf_counter() - t:.0f} s")
    workdir = Path(tempfile.mkdtemp(prefix="xietong-load-"))
    stack = Stack(
        workdir=workdir,
        nodes=nodes,
        redis_url=options.get("redis") or "redis://127.0.0.1:6379/0",
        # every simulated user of a district shares one demo account: lift the per-account limits
        extra_env={"XIETONG_API_RATE_USER": "1000000/min", "XIETONG_API_RATE_AUTH": "100000/min"},
    )
    result: dict[str, Any] = {"bench": "load", "nodes": nodes, "cases": cases, "ramp": [], "soak": {}}
    baseline: dict[str, float] = {}
    best: dict[str, Any] | None = None
    try:
        stack.start()
        write(f"stack: {', '.join(f'{p.name} (pid {p.pid})' for p in stack.processes)}")
        result["drain_before"] = wait_drained(write, timeout=1800, label="jobs from demo load")
        plan = build_plan(workdir, write)  # after the drain: the scanned volumes are read by now
        plan_path = workdir / "plan.json"
        plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")

        # the baseline: /healthz through the same nodes, under no load
        import httpx

        lat = []
        with httpx.Client() as http:
            for i in range(200):
                started = time.perf_counter()
                http.get(stack.urls[i % len(stack.urls)] + "/healthz").raise_for_status()
                lat.append((time.perf_counter() - started) * 1000)
        lat.sort()
        baseline = {"p50_ms": round(percentile(lat, 50), 2), "p95_ms": round(percentile(lat, 95), 2)}
        write(f"baseline /healthz: p50 {baseline['p50_ms']} ms, p95 {baseline['p95_ms']} ms")

        # 1. ramp
        since = timezone.now()  # every write of the ramp and the soak is checked afterwards
        ramp_log = workdir / "ramp.tsv"
        began = time.time()
        code = run_locust(
            plan_path=plan_path, hosts=stack.urls, steps=steps, log_path=ramp_log, workdir=workdir, seed=seed
        )
        requests, ramp_acks = read_log(ramp_log, write)
        rows = []
        offset = began
        for users, seconds in parse_steps(steps):
            row = {"users": users, **window(requests, offset + SETTLE_S, offset + seconds)}
            rows.append(row)
            offset += seconds
            write(
                f"  {users:4d} users: {row['rps']:6.1f} req/s  p50 {row['p50_ms']} ms  "
                f"p95 {row['p95_ms']} ms  "
                f"errors {row['errors']} {row['errors_by'] or ''}  slowest {row['slowest_p95']}"
            )
        held = [
            r for r in rows if r["p95_ms"] is not None and r["p95_ms"] < TARGET_P95_MS and r["errors"] == 0
        ]
        best = max(held, key=lambda r: r["rps"]) if held else None
        write(
            f"held at p95 < {TARGET_P95_MS:.0f} ms: "
            + (f"{best['rps']} req/s with {best['users']} users" if best else "no step")
            + f" (locust exit {code})"
        )
        result["ramp"] = rows

        # 2. soak
        soak: dict[str, Any] = {}
        if soak_minutes > 0 and best:
            soak_users = int(options.get("soak_users") or best["users"])
            soak_s = int(soak_minutes * 60)
            soak_log = workdir / "soak.tsv"
            write(f"soak: {soak_users} users for {soak_minutes:g} min")
            began = time.time()
            mono = time.monotonic()
            run_locust(
                plan_path=plan_path,
                hosts=stack.urls,
                steps=f"{soak_users}:{soak_s}",
                log_path=soak_log,
                workdir=workdir,
                seed=seed + 1,
            )
            requests, soak_acks = read_log(soak_log, write)
            slices = []
            edge = began + SETTLE_S
            span = max(60.0, min(300.0, soak_s / 6))
            while edge < began + soak_s - 1:
                slices.append(window(requests, edge, min(edge + span, began + soak_s)))
                edge += span
            for i, s in enumerate(slices):
                write(
                    f"  {i * span / 60:5.1f} min: {s['rps']} req/s p95 {s['p95_ms']} ms errors {s['errors']}"
                )
            whole = window(requests, began + SETTLE_S, began + soak_s)
            growth = memory_growth(stack, since=mono + soak_s / 2)
            for name, g in growth.items():
                write(
                    f"  memory {name}: {g['start_mib']} → {g['end_mib']} MiB (max {g['max_mib']}), "
                    f"second half {g['slope_mib_per_hour']:+.1f} MiB/h"
                )
            drained = wait_drained(write, timeout=1800, label="after the soak")
            lost = check_acks(ramp_acks + soak_acks, since=since)
            write(f"  acknowledged writes: {json.dumps(lost, ensure_ascii=False)[:600]}")
            alive = {p.name: p.alive() for p in stack.processes}
            soak = {
                "users": soak_users,
                "minutes": soak_minutes,
                "whole": whole,
                "slices": slices,
                "memory": growth,
                "drained": drained,
                "writes": lost,
                "processes_alive": alive,
            }
        result["soak"] = soak
    finally:
        stack.stop()
    report = ledger_verify()
    write(f"ledger verify: {'OK' if report.ok else 'FAILED'} ({report.entries:,} entries)")
    soak = result["soak"]
    problems = ([] if best else ["no step held"]) + soak_problems(soak) + ([] if report.ok else ["ledger"])
    met = not problems
    write(f"target: {TARGET} → {'MET' if met else 'MISSED: ' + '; '.join(problems)}")
    result.update(
        {
            "unit": "req/s",
            "figures": {"held": best, "ramp": result.pop("ramp"), "soak": result.pop("soak")},
            "baseline": {"name": "/healthz", **baseline},
            "ratio": {"held_p95_to_healthz_p95": round((best["p95_ms"] or 0) / (baseline["p95_ms"] or 1), 1)}
            if best
            else {},
            "target": TARGET,
            "target_met": met,
            "problems": problems,
            "machine": machine(),
            "ledger_verify": report.ok,
        }
    )
    if not options.get("keep"):
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        result["workdir"] = str(workdir)
    return result
