"""``xietong bench transitions``: state changes per second through the one door, with 1 and N clients,
with the ledger and with ledger writing switched off (the baseline), in the same run.

Each client is an OS process with its own database connection (forked after ``django.setup()``; on 2
cores processes beat threads under the GIL). Client *i* works in county *i* of the Suzhou org on its own
cases, which it walks round a loop of real acts (11 service calls a lap, one of them ``transfer_accept``)::

    刑事拘留 → 送看守所 → 通知家属 → 讯问 → 提请批准逮捕 → (检察院) 受理 → 批准逮捕 → 通知家属（逮捕）
    → 讯问 → 送达执行回执 → 释放 → 刑事拘留 …

so every call goes through the full door: row lock, visibility, guards, custody, clocks, 文号 counters,
transfers, participations and (unless switched off) the ledger. Ledger integration into the Merkle tree
is background work in production (``xietong worker``); it is timed separately after the phases.

With the ledger and without it are measured by the same client processes in alternating slices of one
second (``XIETONG_LEDGER_ENABLED`` switched in each client before each call), ``--seconds`` of each, so
that whatever else the machine does at the time weighs on both figures alike; the ratio is their
quotient. Each figure also says where a call's time goes: the client's own CPU, its PostgreSQL
backend's CPU (from /proc), and the time spent waiting on SQL round trips.
"""

from __future__ import annotations

import contextlib
import cProfile
import multiprocessing
import os
import pstats
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from xietong.bench.bulk import Write, cpu_busy_snapshot, machine, percentile

CYCLE = (
    "detain",
    "deliver_to_jail",
    "notify_detention",
    "interrogate",
    "request_arrest",
    "accept",
    "approve_arrest",
    "notify_arrest",
    "interrogate",
    "return_arrest_receipt",
    "release",
)
TARGET_RATIO = 0.7
TARGET_TPS = 300


@dataclass
class Walk:
    """One case's place in the loop."""

    case_id: int
    party_id: int
    step: int = 0
    transfer_id: int | None = None


@dataclass
class Crew:
    """Who acts in one county: the police branch's leader (acts without a 呈请), the procuratorate's
    handler (accepts the transfer) and its leader (decides on the arrest)."""

    police: Any
    procu: Any
    procu_leader: Any

    @classmethod
    def load(cls, slug: str) -> Crew:
        from xietong.orgs.models import User

        def user(name: str) -> User:
            return User.objects.select_related("unit__region").get(username=f"{slug}_{name}")

        return cls(police=user("police_leader"), procu=user("procu"), procu_leader=user("procu_leader"))


def county_slugs() -> list[str]:
    from xietong.demo.units import COUNTY_SLUG

    return list(COUNTY_SLUG.values())


def step(crew: Crew, walk: Walk) -> str:
    """One service call: the next act of the loop on ``walk``'s case."""
    from xietong.cases import services
    from xietong.cases.procedure import ACTIONS

    action = CYCLE[walk.step]
    if action == "accept":
        if walk.transfer_id is None:
            raise RuntimeError(f"case {walk.case_id}: no transfer to accept")
        services.transfer_accept(user=crew.procu, transfer_id=walk.transfer_id)
    else:
        spec = ACTIONS[action]
        result = services.case_act(
            user=crew.procu_leader if spec.agency == "procuratorate" else crew.police,
            case_id=walk.case_id,
            action=action,
            party_ids=[walk.party_id] if spec.per_party else None,
            reason="经审查，不需要继续羁押" if spec.needs_reason else "",
        )
        if result.status != "done":
            raise RuntimeError(f"{action}: {result.status}")
        if result.transfer is not None:
            walk.transfer_id = result.transfer.pk
    walk.step = (walk.step + 1) % len(CYCLE)
    return action


def _register(slug: str, count: int, seed: int) -> list[Walk]:
    import random

    from xietong.cases import services
    from xietong.demo.people import fictitious_name
    from xietong.orgs.models import Region

    rng = random.Random(seed)  # noqa: S311 (bench data, not security)
    crew = Crew.load(slug)
    towns = list(Region.objects.filter(parent=crew.police.unit.region, level="town").order_by("code"))
    walks = []
    for i in range(count):
        name, gender = fictitious_name(rng)
        result = services.case_register(
            user=crew.police,
            data=services.RegisterInput(
                charge="盗窃罪",
                facts=f"犯罪嫌疑人{name}在{towns[i % len(towns)].name}某小区盗窃电动自行车一辆，价值三千元。",
                occurred_at=timezone.now() - timedelta(days=2, hours=i),
                town_id=towns[i % len(towns)].pk,
                place="某小区",
                parties=[services.PartyInput(name=name, gender=gender)],
            ),
        )
        if result.case is None:
            raise RuntimeError(f"registering as {crew.police.username}: {result.status}")
        walks.append(Walk(case_id=result.case.pk, party_id=result.case.parties.get().pk))
    return walks


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``; 0 when unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ processes


def _setup_worker(slug: str, count: int, seed: int, queue: Any) -> None:
    """Register the client's cases, then move case j on by j steps (mod the lap), so that calls in
    turn are of every kind: any second of the run, with or without ledger, sees the whole mix."""
    connections.close_all()
    try:
        walks = _register(slug, count, seed)
        crew = Crew.load(slug)
        for j, walk in enumerate(walks):
            for _ in range(j % len(CYCLE)):
                step(crew, walk)
        queue.put((slug, walks, None))
    except Exception:
        queue.put((slug, [], traceback.format_exc()))
    finally:
        connections.close_all()


# Product functions timed with --profile (inclusive CPU and wall time per call of the door). Cheap
# wrappers, unlike cProfile, which inflates Django's many small calls about fivefold.
TIMED = (
    ("xietong.cases.services", "_lock_case"),
    ("xietong.cases.services", "_lock_transfer"),
    ("xietong.cases.services", "_can_see"),
    ("xietong.cases.services", "_parties_and_pending"),
    ("xietong.cases.services", "_check_may_act"),
    ("xietong.cases.services", "_select_parties"),
    ("xietong.cases.services", "_apply"),
    ("xietong.cases.services", "_set_custody"),
    ("xietong.cases.services", "_issue_instrument"),
    ("xietong.cases.services", "_start_clocks"),
    ("xietong.cases.services", "_participate"),
    ("xietong.cases.services", "resolve_target"),
    ("xietong.cases.services", "_case_entry"),
    ("xietong.cases.services", "_write_case"),
    ("xietong.cases.services", "ledger_append"),
    ("xietong.cases.services", "ledger_insert"),
    ("xietong.cases.services", "_after_commit"),
    ("xietong.cases.clocks", "clocks_start"),
    ("xietong.cases.clocks", "clocks_stop"),
    ("xietong.cases.clocks", "clocks_stop_all"),
    ("xietong.cases.clocks", "clocks_follow_custody"),
    ("xietong.cases.models", "Case.save"),
    ("xietong.cases.models", "Clock.save"),
    ("xietong.cases.models", "Instrument.save"),
    ("xietong.cases.models", "Transfer.save"),
)


def install_timers(current: list[Any]) -> list[str]:
    """Wrap the TIMED functions that exist; each call adds (CPU s, wall s, calls) to
    ``current[0].funcs[name]``. Returns the names wrapped."""
    import functools
    import importlib

    wrapped = []
    for module_name, dotted in TIMED:
        owner: Any = importlib.import_module(module_name)
        *path, attr = dotted.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        original = getattr(owner, attr, None) if owner is not None else None
        if not callable(original):
            continue

        def make(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
            @functools.wraps(fn)
            def timed_call(*args: Any, **kwargs: Any) -> Any:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    cell = current[0].funcs.setdefault(name, [0.0, 0.0, 0])
                    cell[0] += time.process_time() - cpu0
                    cell[1] += time.perf_counter() - wall0
                    cell[2] += 1

            return timed_call

        setattr(owner, attr, make(original, dotted))
        wrapped.append(dotted)
    return wrapped


@dataclass
class _Tally:
    """One client's measurements for one mode (ledger on or off)."""

    ops: int = 0
    client_cpu: float = 0.0
    backend_cpu: float = 0.0
    db_seconds: float = 0.0
    queries: int = 0
    latencies: list[float] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)
    funcs: dict[str, list[float]] = field(default_factory=dict)


def _client_worker(
    index: int,
    slug: str,
    walks: list[Walk],
    mode: Any,
    barrier: Any,
    queue: Any,
    timers: bool,
) -> None:
    """Act until ``mode`` turns negative; before each call, switch ledger writing to ``mode``
    (1 on, 0 off) and book the call's time, CPU and SQL under that mode."""
    connections.close_all()  # never share the parent's socket
    out: dict[str, Any] = {"index": index, "error": None}
    tallies = {1: _Tally(), 0: _Tally()}
    current = [tallies[1]]

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            current[0].db_seconds += time.perf_counter() - started
            current[0].queries += 1

    try:
        crew = Crew.load(slug)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = int(cursor.fetchone()[0])
        for walk in walks[: len(CYCLE)]:  # warm-up: one call of each kind, not measured
            step(crew, walk)
        if timers:
            install_timers(current)
        barrier.wait(timeout=300)
        i = 0
        with connection.execute_wrapper(timed):
            while (m := mode.value) >= 0:
                settings.XIETONG_LEDGER_ENABLED = bool(m)
                tally = current[0] = tallies[m]
                pg0, cpu0, began = _proc_cpu(backend), time.process_time(), time.perf_counter()
                tally.actions[step(crew, walks[i % len(walks)])] += 1
                tally.latencies.append(time.perf_counter() - began)
                tally.client_cpu += time.process_time() - cpu0
                tally.backend_cpu += _proc_cpu(backend) - pg0
                tally.ops += 1
                i += 1
        out.update(tallies=tallies, walks=walks)
    except Exception:
        out["error"] = traceback.format_exc()
        with contextlib.suppress(Exception):  # the barrier may be broken already
            barrier.abort()
    finally:
        connections.close_all()
    queue.put(out)


def _summary(tallies: list[_Tally], wall: float, jiffies: list[float]) -> dict[str, Any]:
    ops = sum(t.ops for t in tallies)
    latencies = [x for t in tallies for x in t.latencies]
    per_op = 1000 / ops if ops else 0.0
    tick = os.sysconf("SC_CLK_TCK")
    busy = jiffies[0] / jiffies[1] if jiffies[1] else 0.0
    ours = sum(t.client_cpu + t.backend_cpu for t in tallies)
    others = max(0.0, jiffies[0] / tick - ours) / (jiffies[1] / tick) if jiffies[1] else 0.0
    actions: Counter[str] = Counter()
    funcs: dict[str, list[float]] = {}
    for t in tallies:
        actions.update(t.actions)
        for name, (cpu, wall_s, calls) in t.funcs.items():
            cell = funcs.setdefault(name, [0.0, 0.0, 0])
            cell[0] += cpu
            cell[1] += wall_s
            cell[2] += calls
    return {
        "ops": ops,
        "seconds": round(wall, 2),
        "tps": round(ops / wall, 1) if wall else 0.0,
        "latency_ms_p50": round(percentile(latencies, 50) * 1000, 2),
        "latency_ms_p95": round(percentile(latencies, 95) * 1000, 2),
        # where a call's time goes, summed over the clients, per call (ms)
        "client_cpu_ms_per_op": round(sum(t.client_cpu for t in tallies) * per_op, 2),
        "postgres_backend_cpu_ms_per_op": round(sum(t.backend_cpu for t in tallies) * per_op, 2),
        "db_roundtrip_ms_per_op": round(sum(t.db_seconds for t in tallies) * per_op, 2),
        "queries_per_op": round(sum(t.queries for t in tallies) / ops, 1) if ops else 0.0,
        # the rate if every core ran only these calls: what the CPU a call costs allows
        "cpu_bound_tps": round((os.cpu_count() or 1) * ops / ours, 1) if ours else 0.0,
        "machine_cpu_busy": round(busy, 3),
        # CPU used meanwhile by everything but the bench clients and their backends (other users,
        # PostgreSQL's background writers), as a share of the machine
        "other_cpu_share": round(others, 3),
        "actions": dict(actions),
        "functions": {
            name: {
                "cpu_ms_per_call": round(cpu * per_op, 3),
                "wall_ms_per_call": round(wall_s * per_op, 3),
                "calls_per_call": round(calls / ops, 2) if ops else 0.0,
            }
            for name, (cpu, wall_s, calls) in sorted(funcs.items(), key=lambda kv: -kv[1][0])
        },
    }


def _phase(
    ctx: Any,
    crews: list[str],
    walks: dict[int, list[Walk]],
    clients: int,
    seconds: float,
    slice_s: float,
    timers: bool,
) -> dict[str, Any]:
    """``clients`` processes act for ``seconds`` with the ledger on and ``seconds`` with it off, in
    alternating slices of ``slice_s``, so that whatever else the machine does hits both alike."""
    barrier = ctx.Barrier(clients + 1)
    queue = ctx.Queue()
    mode = ctx.RawValue("i", 1)
    procs = [
        ctx.Process(
            target=_client_worker,
            args=(i, crews[i], walks[i], mode, barrier, queue, timers),
            daemon=True,
        )
        for i in range(clients)
    ]
    connections.close_all()
    for proc in procs:
        proc.start()
    wall = {1: 0.0, 0: 0.0}
    busy = {1: [0.0, 0.0], 0: [0.0, 0.0]}
    slices = max(2, 2 * round(seconds / slice_s))
    try:
        barrier.wait(timeout=300)
        for k in range(slices):
            m = 1 if k % 2 == 0 else 0
            mode.value = m
            t0, b0 = time.perf_counter(), cpu_busy_snapshot()
            time.sleep(max(0.0, seconds * 2 / slices))
            b1 = cpu_busy_snapshot()
            wall[m] += time.perf_counter() - t0
            busy[m][0] += b1[0] - b0[0]
            busy[m][1] += b1[1] - b0[1]
    except Exception:  # noqa: S110 (a client failed; its error is reported below)
        pass
    mode.value = -1
    results = [queue.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    errors = [r["error"] for r in results if r["error"]]
    if errors:
        raise RuntimeError("a bench client failed:\n" + errors[0])
    for r in results:
        walks[r["index"]] = r["walks"]
    out: dict[str, Any] = {"clients": clients, "slices": slices, "loadavg_1m": round(os.getloadavg()[0], 2)}
    for m, key in ((1, "with_ledger"), (0, "without_ledger")):
        out[key] = _summary([r["tallies"][m] for r in results], wall[m], busy[m])
    return out


def _queries_per_action(slug: str) -> dict[str, int]:
    """One lap on a fresh case in this process, counting the SQL statements of each call."""
    from django.test.utils import CaptureQueriesContext

    crew = Crew.load(slug)
    walk = _register(slug, 1, seed=99)[0]
    counts: dict[str, int] = {}
    for _ in CYCLE:
        with CaptureQueriesContext(connection) as captured:
            action = step(crew, walk)
        key = action if action not in counts else f"{action}#2"
        counts[key] = len(captured)
    return counts


def print_functions(result: dict[str, Any], write: Write) -> None:
    on, off = result["with_ledger"]["functions"], result["without_ledger"]["functions"]
    write(
        f"time inside product functions, {result['clients']} client(s) (inclusive; ms per call of the door; "
        "ledger on | off):"
    )
    for name, cell in on.items():
        other = off.get(name, {"cpu_ms_per_call": 0.0, "wall_ms_per_call": 0.0})
        write(
            f"  {name:<32} CPU {cell['cpu_ms_per_call']:6.2f} | {other['cpu_ms_per_call']:6.2f}   "
            f"wall {cell['wall_ms_per_call']:6.2f} | {other['wall_ms_per_call']:6.2f}   "
            f"{cell['calls_per_call']:.2f}x"
        )


def cprofile_sample(slug: str, laps: int, write: Write) -> list[dict[str, Any]]:
    """cProfile (CPU time) of ``laps`` laps on fresh cases in this process, ledger on. Deterministic
    profiling inflates Django's many small calls (about fivefold here), so read shares, not ms."""
    walks = _register(slug, 4, seed=77)
    crew = Crew.load(slug)
    for i in range(len(CYCLE)):
        step(crew, walks[i % len(walks)])
    profiler = cProfile.Profile(time.process_time)
    calls = laps * len(CYCLE)
    profiler.enable()
    for i in range(calls):
        step(crew, walks[i % len(walks)])
    profiler.disable()
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())

    def name(key: tuple[str, int, str]) -> str:
        filename, lineno, func = key
        for marker in ("site-packages/", "/src/"):
            if marker in filename:
                filename = filename.split(marker, 1)[1]
        return f"{filename}:{lineno}({func})"

    def area(filename: str) -> str:
        if "/xietong/" in filename:
            return "xietong (own code)"
        if "django/db/models/sql" in filename or "django/db/models/expressions" in filename:
            return "Django ORM: building and compiling SQL"
        if "django/db/models" in filename:
            return "Django ORM: querysets, model instances"
        if "django/db/backends" in filename:
            return "Django database backend"
        if "psycopg" in filename:
            return "psycopg (driver)"
        if "django" in filename:
            return "Django, other"
        return "Python stdlib and builtins"

    areas: Counter[str] = Counter()
    for key, value in raw.items():
        areas[area(key[0])] += value[2]
    write(f"--- cProfile (CPU, own time by area) of {calls} calls in one process, ledger on ---")
    for label, own in areas.most_common():
        write(f"  {own / total:6.1%}  {label}")
    write("own time, top 12:")
    for key, (_cc, nc, tt, _ct, _callers) in sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:12]:
        write(f"  {tt / total:6.1%}  {nc / calls:7.1f}x per call  {name(key)}")
    return [{"area": label, "share": round(own / total, 3)} for label, own in areas.most_common()]


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from xietong.demo.units import create_org
    from xietong.ledger.services import ledger_integrate_all
    from xietong.ledger.verify import ledger_verify

    quick = bool(options.get("quick"))
    clients_list = [int(x) for x in str(options.get("clients") or "1,8").split(",") if x.strip()]
    seconds = float(options.get("seconds") or (3 if quick else 10))
    slice_s = min(1.0, seconds / 2)
    per_client = int(options.get("cases_per_client") or 40)
    seed = int(options.get("seed") or 2026)
    profile = bool(options.get("profile"))
    slugs = county_slugs()
    most = max(clients_list)
    crews = [slugs[i % len(slugs)] for i in range(most)]
    write(
        f"bench transitions: clients {clients_list}, {seconds:g} s per phase, {per_client} cases per client; "
        f"machine {machine()}"
    )
    started = time.perf_counter()
    create_org()
    ctx = multiprocessing.get_context("fork")
    connections.close_all()
    queue = ctx.Queue()
    setup = [
        ctx.Process(target=_setup_worker, args=(slug, per_client, seed + i, queue), daemon=True)
        for i, slug in enumerate(crews)
    ]
    for proc in setup:
        proc.start()
    registered = {}
    for _ in setup:
        slug, walks, error = queue.get(timeout=900)
        if error:
            raise RuntimeError(f"registering cases failed:\n{error}")
        registered[slug] = walks
    for proc in setup:
        proc.join()
    walks = {i: registered[slug] for i, slug in enumerate(crews)}
    write(
        f"setup: org and {per_client * most} cases registered through the door in "
        f"{time.perf_counter() - started:.1f} s"
    )

    phases: list[dict[str, Any]] = []
    ratios: dict[str, Any] = {}
    hot: dict[str, Any] = {}
    for clients in clients_list:
        result = _phase(ctx, crews, walks, clients, seconds, slice_s, profile)
        phases.append(result)
        on, off = result["with_ledger"], result["without_ledger"]
        for label, r in (("on ", on), ("off", off)):
            write(
                f"clients={clients:<2} ledger={label} {r['tps']:>7.1f} transitions/s  "
                f"p50 {r['latency_ms_p50']:.1f} ms  p95 {r['latency_ms_p95']:.1f} ms  "
                f"per call: client CPU {r['client_cpu_ms_per_op']:.2f} ms, postgres CPU "
                f"{r['postgres_backend_cpu_ms_per_op']:.2f} ms, {r['queries_per_op']:.1f} queries "
                f"({r['db_roundtrip_ms_per_op']:.2f} ms waiting on them); machine CPU busy "
                f"{r['machine_cpu_busy']:.0%}, of which others {r['other_cpu_share']:.0%}; "
                f"CPU-bound ceiling {r['cpu_bound_tps']:.0f}/s"
            )
        ratio = on["tps"] / off["tps"] if off["tps"] else 0.0
        ratios[str(clients)] = {
            "with_ledger_tps": on["tps"],
            "without_ledger_tps": off["tps"],
            "ratio": round(ratio, 3),
        }
        write(
            f"clients={clients}: with ledger {on['tps']:.1f}/s, without {off['tps']:.1f}/s, "
            f"ratio {ratio:.3f} (target ≥ {TARGET_RATIO}); {result['slices']} alternating slices"
        )
        if profile:
            print_functions(result, write)

    if profile:
        hot["cprofile_areas"] = cprofile_sample(crews[0], laps=20, write=write)
    queries = _queries_per_action(crews[0])
    write(f"SQL statements per call (one lap, ledger on): {queries}")
    pending = _pending_entries()
    t = time.perf_counter()
    heads = ledger_integrate_all()
    integrate_s = time.perf_counter() - t
    t = time.perf_counter()
    report = ledger_verify()
    verify_s = time.perf_counter() - t
    write(
        f"ledger after the run: integrated {pending:,} entries in {integrate_s:.2f} s "
        f"({pending / integrate_s if integrate_s else 0:,.0f}/s, {heads} tree heads); verify "
        f"{'OK' if report.ok else 'FAILED'} over {report.entries:,} entries / {report.cases:,} cases "
        f"in {verify_s:.2f} s"
    )
    if not report.ok:
        raise RuntimeError(f"ledger verify failed after concurrent acts: {report.problems[:3]}")

    top = str(most)
    tps_top = ratios[top]["with_ledger_tps"]
    ratio_top = ratios[top]["ratio"]
    ratio_ok = all(r["ratio"] >= TARGET_RATIO for r in ratios.values())
    tps_ok = "8" in ratios and ratios["8"]["with_ledger_tps"] >= TARGET_TPS
    met = ratio_ok and tps_ok
    write(
        f"target: ratio ≥ {TARGET_RATIO} at every client count → {'met' if ratio_ok else 'MISSED'}; "
        f"≥ {TARGET_TPS} transitions/s with 8 clients → "
        + ("met" if tps_ok else "MISSED" if "8" in ratios else "not measured (no 8-client phase)")
        + f" ({tps_top:.1f}/s with {most} client(s), ratio {ratio_top:.3f})"
    )
    return {
        "bench": "transitions",
        "unit": "transitions/s",
        "figures": {
            "tps_with_ledger": tps_top,
            "clients": most,
            "cpu_bound_tps_with_ledger": phases[-1]["with_ledger"]["cpu_bound_tps"],
            "other_cpu_share": phases[-1]["with_ledger"]["other_cpu_share"],
        },
        "baseline": {"name": "ledger writing switched off", "tps": ratios[top]["without_ledger_tps"]},
        "ratio": ratio_top,
        "by_clients": ratios,
        "phases": phases,
        "queries_per_call": queries,
        "ledger": {
            "integrated_entries": pending,
            "integrate_seconds": round(integrate_s, 2),
            "verify_ok": report.ok,
            "verify_entries": report.entries,
        },
        "target": {"ratio_min": TARGET_RATIO, "tps_min_8_clients": TARGET_TPS},
        "target_met": met,
        "target_checks": {"ratio": ratio_ok, "tps_8_clients": tps_ok if "8" in ratios else None},
        "profiled": profile,
        "hot_spots": hot,
        "settings": {
            "seconds_per_mode": seconds,
            "slice_seconds": slice_s,
            "cases_per_client": per_client,
            "cycle": list(CYCLE),
        },
        "machine": machine(),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def _pending_entries() -> int:
    from xietong.ledger.models import LedgerEntry

    return LedgerEntry.objects.filter(leaf__isnull=True).count()
