"""``xietong bench pages``: p50/p95 latency of the workbench (``/``) and the case page
(``/cases/<id>/``) over HTTP, against ``daphne`` serving a database with ``--cases`` cases (default
100,000), with ``/healthz`` (one ``SELECT 1``) as the baseline measured in the same run.

The cases: a few hundred made through the door by the demo generator, then copied in bulk to the
requested number (``bulk.clone_cases``; see that module for why bench data may bypass the door). The
ledger is integrated and ``ledger verify`` must pass before any page is timed. The users are real
demo users logged in over HTTP with the demo password; for each role the busiest one is chosen (most
running clocks, pending transfers and approvals on the workbench). Requests are sequential and
interleaved (healthz, workbench, case page, …) so that a slow phase of the machine hits all three.
"""

from __future__ import annotations

import random
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q

from xietong.bench.bulk import Write, analyze, check_references, clone_cases, machine, percentile

TARGET_P95_MS = 150.0
ROLES = ("police_leader", "police", "procu", "procu_leader", "judge")


@dataclass
class Persona:
    username: str
    role: str
    workload: dict[str, int]
    case_ids: list[int] = field(default_factory=list)


def _workload(username: str) -> dict[str, int]:
    """What this user's workbench lists (before its 50-row limits)."""
    from xietong.cases.models import ActionRequest, Clock, Transfer
    from xietong.cases.procedure import LEADERS
    from xietong.orgs.models import User

    user = User.objects.select_related("unit").get(username=username)
    unit = user.unit
    running = Clock.objects.filter(status="running", unit=unit)
    if not user.has_duty(*LEADERS):
        running = running.filter(Q(case__handler=user) | Q(case__handler__isnull=True))
    return {
        "inbox": Transfer.objects.filter(to_unit=unit, status="pending").count(),
        "approvals": ActionRequest.objects.filter(unit=unit, status="pending").count()
        if user.has_duty(*LEADERS)
        else 0,
        "running_clocks": running.count(),
        "cases_of_unit": unit.participations.count() if unit else 0,
    }


def pick_personas(rng: random.Random, per_user_cases: int) -> list[Persona]:
    """For each role, the county whose user has the most on the workbench."""
    from xietong.cases.models import Participation
    from xietong.demo.units import COUNTY_SLUG
    from xietong.orgs.models import User

    personas = []
    for role in ROLES:
        names = [f"{slug}_{role}" for slug in COUNTY_SLUG.values()]
        present = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        loads = {name: _workload(name) for name in names if name in present}
        if not loads:
            continue
        users = {u.username: u for u in User.objects.filter(username__in=list(loads)).select_related("unit")}
        cases_of = {
            name: list(
                Participation.objects.filter(unit=users[name].unit)
                .values_list("case_id", flat=True)
                .order_by("case_id")
            )
            for name in loads
        }
        # prefer a workbench with every kind of work on it, then the most of it, then the most cases
        best = max(
            (n for n in loads if cases_of[n]),
            key=lambda n: (
                (loads[n]["inbox"] > 0) + (loads[n]["approvals"] > 0),
                loads[n]["running_clocks"] + loads[n]["inbox"] + loads[n]["approvals"],
                len(cases_of[n]),
            ),
            default=None,
        )
        if best is None:
            continue
        case_ids = cases_of[best]
        sample = rng.sample(case_ids, min(per_user_cases, len(case_ids))) if case_ids else []
        personas.append(Persona(username=best, role=role, workload=loads[best], case_ids=sample))
    return personas


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    daphne = Path(sys.executable).with_name("daphne")
    cmd = [str(daphne), "-b", "127.0.0.1", "-p", str(port), "xietong.asgi:application"]
    log = log_path.open("wb")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 (our venv's daphne)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne exited with status {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("daphne did not answer /healthz in time")


def login(base: str, username: str, password: str) -> Any:
    import httpx

    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    page = client.get("/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or not match:
        raise RuntimeError(f"login page: HTTP {page.status_code}")
    answer = client.post(
        "/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)},
        headers={"Referer": f"{base}/login/"},
    )
    if answer.status_code != 302 or "sessionid" not in client.cookies:
        raise RuntimeError(f"login as {username} failed: HTTP {answer.status_code}")
    return client


def _timed_get(client: Any, path: str, bucket: list[float], errors: list[str]) -> None:
    began = time.perf_counter()
    response = client.get(path)
    _ = response.content
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        errors.append(f"GET {path}: HTTP {response.status_code}")
    bucket.append(elapsed * 1000)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "mean_ms": round(sum(values) / len(values), 1) if values else 0.0,
        "max_ms": round(max(values), 1) if values else 0.0,
        "n": len(values),
    }


def queries_per_page(personas: list[Persona]) -> dict[str, dict[str, Any]]:
    """SQL statements and their time for one workbench and one case page per user, in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from xietong.orgs.models import User

    out: dict[str, dict[str, Any]] = {}
    for persona in personas:
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(username=persona.username))
        row: dict[str, Any] = {}
        for label, path in (("workbench", "/"), ("case", f"/cases/{persona.case_ids[0]}/")):
            client.get(path)  # warm
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                status = client.get(path).status_code
                elapsed = (time.perf_counter() - began) * 1000
            sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
            row[label] = {
                "status": status,
                "queries": len(captured),
                "sql_ms": round(sql_ms, 1),
                "total_ms": round(elapsed, 1),
            }
        out[persona.username] = row
    return out


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from xietong.demo.generator import generate
    from xietong.demo.units import create_org
    from xietong.ledger.services import ledger_integrate
    from xietong.ledger.verify import ledger_verify

    quick = bool(options.get("quick"))
    total = int(options.get("cases") or (10_000 if quick else 100_000))
    requests = int(options.get("requests") or (50 if quick else 200))
    templates = int(options.get("templates") or min(200, max(5, total // 100)))
    templates = min(templates, total)
    batch = int(options.get("integrate_batch") or 10_000)
    integrate = bool(options.get("integrate"))
    seed = int(options.get("seed") or 2026)
    rng = random.Random(seed)  # noqa: S311 (bench data, not security)
    started = time.perf_counter()
    write(
        f"bench pages: {total:,} cases ({templates} through the door), {requests} requests per page; "
        f"{machine()}"
    )

    create_org()
    t = time.perf_counter()
    generate(count=templates, seed=seed)
    door_s = time.perf_counter() - t
    write(
        f"templates: {templates} cases through the services in {door_s:.1f} s "
        f"({templates / door_s:.1f} cases/s)"
    )
    t = time.perf_counter()
    rows = clone_cases(total=total, seed=seed, spread_days=60, chunk=5000, write=write)
    analyze()
    clone_s = time.perf_counter() - t
    dangling = {name: n for name, n in check_references().items() if n}
    write(f"bulk: {rows} in {clone_s:.1f} s; dangling references: {dangling or 'none'}")
    if dangling:
        raise RuntimeError(f"bulk data has dangling references: {dangling}")

    t = time.perf_counter()
    heads = 0
    while integrate and ledger_integrate(batch_size=batch) is not None:
        heads += 1
        if heads % 20 == 0:
            write(f"  integrating: {heads} tree heads ({time.perf_counter() - t:.0f} s)")
    integrate_s = time.perf_counter() - t
    t = time.perf_counter()
    report = ledger_verify()
    verify_s = time.perf_counter() - t
    integrated = f"integrated in {integrate_s:.1f} s ({heads} tree heads)" if integrate else "not integrated"
    write(
        f"ledger: {integrated}; verify {'OK' if report.ok else 'FAILED'}: {report.entries:,} entries, "
        f"{report.cases:,} cases, {report.leaves:,} leaves in {verify_s:.1f} s"
    )
    if not report.ok:
        raise RuntimeError(f"ledger verify failed on the bench data: {report.problems[:3]}")
    analyze()

    personas = pick_personas(rng, per_user_cases=max(requests, 20))
    for p in personas:
        write(f"user {p.username} ({p.role}): {p.workload}")
    sql = queries_per_page(personas)
    for username, row in sql.items():
        write(
            f"  in-process {username}: workbench {row['workbench']['queries']} queries "
            f"{row['workbench']['sql_ms']} ms SQL / {row['workbench']['total_ms']} ms; case page "
            f"{row['case']['queries']} queries {row['case']['sql_ms']} ms SQL / {row['case']['total_ms']} ms"
        )

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(settings.XIETONG_HOME) / f"bench-daphne-{port}.log"
    server = start_server(port, log_path)
    lat: dict[str, list[float]] = {"healthz": [], "workbench": [], "case": []}
    errors: list[str] = []
    failure: Exception | None = None
    try:
        wait_ready(base, server)
        clients = [login(base, p.username, settings.XIETONG_DEMO_PASSWORD) for p in personas]
        for client, persona in zip(clients, personas, strict=True):  # warm-up, not measured
            for path in ("/healthz", "/", f"/cases/{persona.case_ids[-1]}/"):
                client.get(path)
        for i in range(requests):
            k = i % len(personas)
            client, persona = clients[k], personas[k]
            case_id = persona.case_ids[(i // len(personas)) % len(persona.case_ids)]
            _timed_get(client, "/healthz", lat["healthz"], errors)
            _timed_get(client, "/", lat["workbench"], errors)
            _timed_get(client, f"/cases/{case_id}/", lat["case"], errors)
        for client in clients:
            client.close()
    except Exception as exc:
        failure = exc
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
    log_path.unlink(missing_ok=True)
    if failure is not None:
        raise RuntimeError(f"{failure}\nserver log:\n{tail}") from failure
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}\nserver log:\n{tail}")

    figures = {name: _summary(values) for name, values in lat.items()}
    for name, s in figures.items():
        write(
            f"{name:<10} p50 {s['p50_ms']:7.1f} ms  p95 {s['p95_ms']:7.1f} ms  "
            f"mean {s['mean_ms']:7.1f} ms  (n={s['n']})"
        )
    base_p95 = figures["healthz"]["p95_ms"] or 1.0
    met = figures["workbench"]["p95_ms"] < TARGET_P95_MS and figures["case"]["p95_ms"] < TARGET_P95_MS
    write(
        f"ratio to /healthz p95: workbench {figures['workbench']['p95_ms'] / base_p95:.1f}×, case page "
        f"{figures['case']['p95_ms'] / base_p95:.1f}×; target p95 < {TARGET_P95_MS:.0f} ms → "
        f"{'MET' if met else 'MISSED'}"
    )
    return {
        "bench": "pages",
        "unit": "ms",
        "figures": {"workbench": figures["workbench"], "case": figures["case"]},
        "baseline": {"name": "/healthz", **figures["healthz"]},
        "ratio": {
            "workbench_p95": round(figures["workbench"]["p95_ms"] / base_p95, 2),
            "case_p95": round(figures["case"]["p95_ms"] / base_p95, 2),
        },
        "users": [{"username": p.username, "role": p.role, **p.workload} for p in personas],
        "queries_per_page": sql,
        "data": {
            "cases": total,
            "templates_through_door": templates,
            "door_seconds": round(door_s, 1),
            "bulk_rows": rows,
            "bulk_seconds": round(clone_s, 1),
            "integrated": integrate,
            "integrate_seconds": round(integrate_s, 1),
            "ledger_entries": report.entries,
            "verify_ok": report.ok,
            "verify_seconds": round(verify_s, 1),
        },
        "target": {"p95_ms_max": TARGET_P95_MS},
        "target_met": met,
        "machine": machine(),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
