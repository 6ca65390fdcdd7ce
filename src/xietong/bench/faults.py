"""``xietong bench faults``: fault drills against the production stack (``bench/stack.py``) on a
throwaway PostgreSQL cluster of its own (so that restarting the database disturbs nothing else on
the machine), a throwaway Redis, and — when run as root — files on a small tmpfs that can be filled.

While an agency system keeps reading and filing cases through the API (every filing with an
Idempotency-Key, re-sent with the same key until the platform acknowledges it), each drill breaks
one part and measures how the platform degrades and recovers by itself:

1. ``job-worker``: the job worker is SIGKILLed in the middle of a volume's OCR; a new one is started
   (as systemd's ``Restart=always`` would); the job is put back and finishes, every page once.
2. ``integrator``: ``xietong worker`` is SIGKILLed while it integrates the ledger; restarted, the
   ledger catches up and verifies.
3. ``database``: PostgreSQL stops (immediate shutdown, as a crash) for ``--outage`` seconds and comes
   back; requests in between get 503 ``database_unavailable`` (never a 500), the nodes and workers
   reconnect without a restart, and each acknowledged filing exists exactly once.
4. ``redis``: Redis (the throttles' counters, the channel layer) stops and comes back; the API goes
   on (limits not applied while it is away), nothing fails.
5. ``disk``: the files' disk fills up; an upload is refused with 507 ``storage_full``, nothing of it
   is half-stored, and the same upload resumes and finishes once space is freed.
6. ``slow-clients``: 200 connections that send their request a byte every two seconds, and uploads
   that trickle: the others' p95 is compared with the same requests without them.

Each drill's figures and verdict are printed; the last line is the JSON of all of them.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from xietong.bench.bulk import Write, machine, percentile
from xietong.bench.stack import Process, Stack, free_port

_serial = itertools.count(1)


@dataclass
class Api:
    """An agency system's calls, each re-sent (same Idempotency-Key) while the platform says it is
    temporarily unable: what a well-behaved client does, and what the drills rely on."""

    urls: list[str]
    client_id: str
    secret: str
    token: str = ""
    statuses: Counter[str] = field(default_factory=Counter)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def _url(self, path: str) -> str:
        return random.choice(self.urls) + path  # noqa: S311 (spreading load)

    def login(self) -> None:
        reply = self.http.post(
            self._url("/api/v1/oauth/token"),
            json={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.secret,
            },
        )
        reply.raise_for_status()
        self.token = reply.json()["access_token"]

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        key: str = "",
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        retry_for: float = 0.0,
    ) -> httpx.Response | None:
        """One call; with ``retry_for`` it is re-sent on 503 or a refused connection until then."""
        deadline = time.monotonic() + retry_for
        while True:
            sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
            if key:
                sent["Idempotency-Key"] = key
            try:
                reply = self.http.request(method, self._url(path), json=body, content=content, headers=sent)
                label = str(reply.status_code)
                if reply.status_code >= 400:
                    try:
                        label += " " + str(reply.json().get("code", ""))
                    except ValueError:
                        label += " (not JSON)"
                self.statuses[label] += 1
            except httpx.HTTPError as exc:
                self.statuses[f"connection: {type(exc).__name__}"] += 1
                reply = None
            if reply is not None and reply.status_code not in (502, 503, 504):
                return reply
            if time.monotonic() >= deadline:
                return reply
            time.sleep(0.5)


@dataclass
class Traffic:
    """A background agency system: reads the case list and files a case every few calls."""

    api: Api
    town_id: int
    marker: str
    acks: list[str] = field(default_factory=list)  # idempotency keys the platform acknowledged
    ok_times: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> Traffic:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        for i in itertools.count():
            if self.stop.is_set():
                return
            if i % 4 == 3:
                key = f"drill-{uuid.uuid4()}"
                reply = self.api.call("POST", "/api/v1/cases", body=self.filing(), key=key, retry_for=120)
                if reply is not None and reply.status_code == 201:
                    self.acks.append(key)
            else:
                reply = self.api.call("GET", "/api/v1/cases?limit=5")
            if reply is not None and reply.status_code < 400:
                self.ok_times.append(time.monotonic())
            time.sleep(0.05)

    def filing(self) -> dict[str, Any]:
        return {
            "charge": "盗窃罪",
            "facts": f"{self.marker}{next(_serial)}：犯罪嫌疑人在某小区内盗窃电动自行车一辆。",
            "occurred_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "town_id": self.town_id,
            "place": "某小区",
            "parties": [{"name": "演练某", "gender": "男"}],
        }

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=180)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time without a successful call between ``start`` and ``end`` (seconds)."""
        times = [start, *sorted(t for t in self.ok_times if start <= t <= end), end]
        return max(b - a for a, b in itertools.pairwise(times))


def filings_once(marker: str, acks: list[str]) -> dict[str, Any]:
    """Each acknowledged filing exists exactly once (a re-sent filing made no second case)."""
    from xietong.cases.models import Case

    stored = Case.objects.filter(facts__startswith=marker).count()
    return {"acknowledged": len(acks), "stored": stored, "exactly_once": stored == len(acks)}


# --------------------------------------------------------------------------------------- the drills


def drill_job_worker(stack: Stack, api: Api, case_id: int, pdf: bytes, write: Write) -> dict[str, Any]:
    from django_tasks_db.models import DBTaskResult

    from xietong.dossier.models import Page, Volume

    volume_id = upload(api, case_id, pdf, title="演练卷（作业进程被杀）")
    if volume_id is None:
        return {"passed": False, "why": f"upload failed: {dict(api.statuses)}"}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        volume = Volume.objects.get(pk=volume_id)
        if volume.pages_ocred >= 1 and volume.status != "ready":
            break
        time.sleep(0.1)
    worker = stack.find("jobs:dossier")
    ocred_at_kill = Volume.objects.get(pk=volume_id).pages_ocred
    os.kill(worker.pid, signal.SIGKILL)
    worker.proc.wait()  # type: ignore[union-attr]
    killed_at = time.monotonic()
    running = DBTaskResult.objects.filter(status="RUNNING").count()
    write(f"  job-worker: SIGKILL at page {ocred_at_kill}; jobs left RUNNING: {running}; restarting it")
    stack.start_job_worker("dossier")
    while time.monotonic() < killed_at + 600:
        volume = Volume.objects.get(pk=volume_id)
        if volume.status in ("ready", "failed"):
            break
        time.sleep(0.2)
    recovered = time.monotonic() - killed_at
    pages = list(Page.objects.filter(volume_id=volume_id).values_list("number", flat=True))
    jobs = Counter(DBTaskResult.objects.values_list("status", flat=True))
    passed = (
        volume.status == "ready"
        and volume.pages_ocred == volume.page_count
        and len(pages) == len(set(pages)) == volume.page_count
        and jobs.get("FAILED", 0) == 0
        and jobs.get("RUNNING", 0) == 0
    )
    write(
        f"  job-worker: volume {volume.status} {volume.pages_ocred}/{volume.page_count} pages, "
        f"{len(pages)} page rows, jobs {dict(jobs)}; finished {recovered:.1f} s after the kill → "
        f"{'PASSED' if passed else 'FAILED'}"
    )
    return {
        "passed": passed,
        "pages": volume.page_count,
        "ocred_at_kill": ocred_at_kill,
        "left_running": running,
        "finished_after_s": round(recovered, 1),
        "jobs": dict(jobs),
    }


def drill_integrator(stack: Stack, traffic: Traffic, write: Write) -> dict[str, Any]:
    from xietong.ledger.models import LedgerEntry, MerkleLeaf
    from xietong.ledger.verify import ledger_verify

    time.sleep(3)  # filings accumulate entries for the integrator
    worker = stack.find("worker")
    os.kill(worker.pid, signal.SIGKILL)
    worker.proc.wait()  # type: ignore[union-attr]
    time.sleep(5)
    lag_down = LedgerEntry.objects.count() - MerkleLeaf.objects.count()
    stack.start_worker()
    started = time.monotonic()
    lag = lag_down
    while time.monotonic() - started < 120:
        lag = LedgerEntry.objects.count() - MerkleLeaf.objects.count()
        if lag <= 5:  # traffic keeps adding entries; caught up means a handful at most
            break
        time.sleep(0.5)
    caught_up = time.monotonic() - started
    report = ledger_verify()
    passed = report.ok and lag <= 5
    write(
        f"  integrator: SIGKILLed; {lag_down} entries waited while it was down; caught up in "
        f"{caught_up:.1f} s after the restart; ledger verify {'OK' if report.ok else 'FAILED'} → "
        f"{'PASSED' if passed else 'FAILED'}"
    )
    return {
        "passed": passed,
        "lag_while_down": lag_down,
        "caught_up_s": round(caught_up, 1),
        "verify": report.ok,
    }


def drill_database(
    stack: Stack, traffic: Traffic, cluster: Any, outage: float, write: Write
) -> dict[str, Any]:
    before = Counter(traffic.api.statuses)
    time.sleep(2)
    down_at = time.monotonic()
    cluster.stop()
    write(f"  database: stopped (immediate shutdown); down for {outage:.0f} s")
    time.sleep(outage)
    cluster.start()
    up_at = time.monotonic()
    first_ok = None
    while time.monotonic() - up_at < 120:
        if any(t > up_at for t in traffic.ok_times):
            first_ok = min(t for t in traffic.ok_times if t > up_at) - up_at
            break
        time.sleep(0.1)
    time.sleep(3)
    from django.db import connection

    connection.close()  # this process's own connection died with the server
    during = traffic.api.statuses - before
    server_errors = sum(n for label, n in during.items() if label.startswith("500"))
    alive = {p.name: p.alive() for p in stack.processes if p.name.startswith(("asgi", "worker", "jobs"))}
    passed = first_ok is not None and server_errors == 0 and all(alive.values())
    first = "never" if first_ok is None else f"{first_ok:.2f} s"
    gap = traffic.longest_gap(down_at - 1, time.monotonic())
    write(
        f"  database: answers while down and after: {dict(during)}; first success {first} after it was "
        f"back; longest gap without success {gap:.1f} s; processes alive {sum(alive.values())}/{len(alive)}"
        f" → {'PASSED' if passed else 'FAILED'}"
    )
    return {
        "passed": passed,
        "outage_s": outage,
        "answers": dict(during),
        "first_success_after_up_s": round(first_ok, 2) if first_ok is not None else None,
        "server_errors": server_errors,
    }


def drill_redis(
    stack: Stack, traffic: Traffic, redis: Process, redis_port: int, write: Write
) -> dict[str, Any]:
    before = Counter(traffic.api.statuses)
    ok_before = len(traffic.ok_times)
    redis.proc.terminate()  # type: ignore[union-attr]
    redis.proc.wait()  # type: ignore[union-attr]
    down_at = time.monotonic()
    time.sleep(10)
    during = traffic.api.statuses - before
    served = len(traffic.ok_times) - ok_before
    start_redis(stack, redis_port)
    time.sleep(3)
    failed = sum(n for label, n in during.items() if not label.startswith(("2",)))
    passed = failed == 0 and served > 0
    write(
        f"  redis: down 10 s: {served} calls served, answers {dict(during)}; longest gap "
        f"{traffic.longest_gap(down_at, down_at + 10):.1f} s → {'PASSED' if passed else 'FAILED'}"
    )
    return {"passed": passed, "served_while_down": served, "answers": dict(during)}


def drill_disk(
    stack: Stack, api: Api, case_id: int, pdf: bytes, mount: Path | None, write: Write
) -> dict[str, Any]:
    from xietong.dossier.models import Blob, Upload, Volume

    if mount is None:
        write("  disk: skipped (needs root to mount a small tmpfs for the files)")
        return {"passed": None, "skipped": "needs root"}
    filler = mount / "filler"
    free = shutil.disk_usage(mount).free
    with filler.open("wb") as fh:  # leave less room than the upload needs
        fh.write(b"\0" * max(0, free - len(pdf) // 2))
    blobs_before = Blob.objects.count()
    digest = hashlib.sha256(pdf).hexdigest()
    started = start_upload(api, case_id, pdf, filename="满盘.pdf")
    if started is None or started.status_code != 201:
        return {"passed": False, "why": f"upload could not start: {dict(api.statuses)}"}
    upload_id = started.json()["id"]
    chunk_headers = {"Content-Type": "application/octet-stream", "X-Chunk-SHA256": digest}
    full = api.call("PUT", f"/api/v1/uploads/{upload_id}?offset=0", content=pdf, headers=chunk_headers)
    refused = (full.status_code, full.json()) if full is not None else (None, None)
    received_after = Upload.objects.get(pk=upload_id).received
    blobs_after = Blob.objects.count()
    filler.unlink()
    again = api.call("PUT", f"/api/v1/uploads/{upload_id}?offset=0", content=pdf, headers=chunk_headers)
    finished = api.call(
        "POST",
        f"/api/v1/uploads/{upload_id}/finish",
        body={"title": "满盘后续传"},
        key=f"disk-{uuid.uuid4()}",
    )
    volume_id = finished.json().get("id") if finished is not None and finished.status_code == 201 else None
    deadline = time.monotonic() + 300
    status = ""
    while volume_id and time.monotonic() < deadline:
        status = Volume.objects.get(pk=volume_id).status
        if status in ("ready", "failed"):
            break
        time.sleep(0.3)
    passed = (
        refused[0] == 507
        and (refused[1] or {}).get("code") == "storage_full"
        and received_after == 0
        and blobs_after == blobs_before
        and again is not None
        and again.status_code == 200
        and status == "ready"
    )
    write(
        f"  disk: full → {refused[0]} {refused[1]}; stored after the refusal: received {received_after} "
        f"bytes, blobs +{blobs_after - blobs_before}; after freeing space the same upload resumed "
        f"({again.status_code if again else None}) and its volume is {status or 'missing'} → "
        f"{'PASSED' if passed else 'FAILED'}"
    )
    return {
        "passed": passed,
        "refused": {"status": refused[0], "body": refused[1]},
        "half_stored": received_after != 0 or blobs_after != blobs_before,
        "resumed_volume": status,
    }


def drill_slow_clients(stack: Stack, api: Api, write: Write, *, sockets: int = 200) -> dict[str, Any]:
    def sample(n: int = 150) -> list[float]:
        lat = []
        for i in range(n):
            started = time.perf_counter()
            reply = api.call("GET", "/api/v1/cases?limit=5") if i % 2 else api.call("GET", "/healthz")
            if reply is not None and reply.status_code == 200:
                lat.append((time.perf_counter() - started) * 1000)
        return sorted(lat)

    quiet = sample()
    stop = threading.Event()
    opened: list[socket.socket] = []

    def trickle() -> None:
        hosts = [u.removeprefix("http://").split(":") for u in stack.urls]
        for i in range(sockets):
            host, port = hosts[i % len(hosts)]
            try:
                s = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                continue
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            opened.append(s)
        while not stop.wait(2):
            for s in list(opened):
                try:
                    s.sendall(b"X")
                except OSError:
                    opened.remove(s)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    time.sleep(3)
    held = len(opened)
    loaded = sample()
    still_open = len(opened)
    stop.set()
    thread.join(timeout=10)
    for s in opened:
        s.close()
    q95, l95 = percentile(quiet, 95), percentile(loaded, 95)
    passed = len(loaded) >= 140 and l95 < 500
    write(
        f"  slow clients: {held} connections trickling a byte every 2 s ({still_open} open at the end); "
        f"others' p95 {q95:.1f} ms quiet → {l95:.1f} ms with them ({len(loaded)}/150 answered) → "
        f"{'PASSED' if passed else 'FAILED'}"
    )
    return {
        "passed": passed,
        "slow_connections": held,
        "p95_quiet_ms": round(q95, 1),
        "p95_with_slow_ms": round(l95, 1),
        "answered": len(loaded),
    }


# ------------------------------------------------------------------------------------------ set-up


def start_upload(
    api: Api, case_id: int, data: bytes, *, filename: str, retry_for: float = 0.0
) -> httpx.Response | None:
    return api.call(
        "POST",
        f"/api/v1/cases/{case_id}/uploads",
        body={"filename": filename, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        key=f"up-{uuid.uuid4()}",
        retry_for=retry_for,
    )


def upload(api: Api, case_id: int, data: bytes, *, title: str) -> int | None:
    digest = hashlib.sha256(data).hexdigest()
    started = start_upload(api, case_id, data, filename="演练.pdf", retry_for=60)
    if started is None or started.status_code != 201:
        return None
    upload_id = started.json()["id"]
    headers = {"Content-Type": "application/octet-stream", "X-Chunk-SHA256": digest}
    api.call("PUT", f"/api/v1/uploads/{upload_id}?offset=0", content=data, headers=headers, retry_for=60)
    done = api.call(
        "POST",
        f"/api/v1/uploads/{upload_id}/finish",
        body={"title": title},
        key=f"up-{uuid.uuid4()}",
        retry_for=60,
    )
    return int(done.json()["id"]) if done is not None and done.status_code == 201 else None


def start_redis(stack: Stack, port: int) -> Process:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    process = stack.spawn(
        Process(
            f"redis:{port}",
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stack.workdir / f"redis-{port}.log",
        )
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def seed(write: Write) -> dict[str, Any]:
    from xietong.clients.services import client_create
    from xietong.demo.generator import generate
    from xietong.demo.scans import volume_pdf
    from xietong.demo.units import create_org
    from xietong.ledger.services import ledger_integrate_all
    from xietong.orgs.models import Region, User

    create_org()
    generate(count=12, seed=11)
    ledger_integrate_all()
    police = User.objects.select_related("unit__region").get(username="gusu_police")
    if police.unit is None:
        raise RuntimeError("the demo's gusu_police has no unit")
    issued = client_create(unit=police.unit, name="演练接入系统", duties=["handler", "leader"])
    region = police.unit.region
    county = region if region.level == "county" else region.parent
    town = Region.objects.filter(level="town", parent=county).values_list("pk", flat=True).first()
    pdf = volume_pdf(
        rng=random.Random(3),  # noqa: S311 (bench data)
        title="起诉意见书",
        number="演练",
        unit=police.unit.name,
        facts="犯罪嫌疑人在某小区内盗窃电动自行车一辆。",
        suspects=["演练某"],
    )
    if pdf is None:
        raise RuntimeError("no Chinese font installed: the drills upload a scanned volume (make apt)")
    write(f"seed: 12 cases; system client {issued.client.client_id}; upload {len(pdf) // 1024} KiB")
    if town is None:
        raise RuntimeError("the demo data has no town for gusu's police")
    return {"client": (issued.client.client_id, issued.secret), "town": town, "pdf": pdf}


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from xietong.ledger.verify import ledger_verify
    from xietong.ops.pgcluster import Cluster

    outage = float(options.get("outage") or 8)
    only = set(filter(None, (options.get("drills") or "").split(",")))
    write(f"bench faults: {machine()}")
    pgdata = Path(os.environ["XIETONG_BENCH_PGDATA"])
    cluster = Cluster(pgdata, int(os.environ["XIETONG_BENCH_PGPORT"]), pgdata.parent)
    mount = Path(os.environ["XIETONG_BENCH_TMPFS"]) if os.environ.get("XIETONG_BENCH_TMPFS") else None
    data = seed(write)
    workdir = Path(settings.XIETONG_HOME) / "stack"
    redis_port = free_port()
    stack = Stack(workdir=workdir, nodes=2, redis_url=f"redis://127.0.0.1:{redis_port}/0")
    workdir.mkdir(parents=True, exist_ok=True)
    redis = start_redis(stack, redis_port)
    results: dict[str, Any] = {}
    traffic: Traffic | None = None
    try:
        stack.start()
        api = Api(stack.urls, *data["client"])
        api.login()
        filed = api.call(
            "POST", "/api/v1/cases", body=Traffic(api, data["town"], "演练卷宗案件").filing(), key="seed"
        )
        if filed is None or filed.status_code != 201:
            raise RuntimeError(f"could not file the drills' case: {filed.text if filed else api.statuses}")
        data["case"] = int(filed.json()["case"]["id"])
        traffic = Traffic(Api(stack.urls, *data["client"]), town_id=data["town"], marker="故障演练案件")
        traffic.api.login()
        traffic.start()

        def want(name: str) -> bool:
            return not only or name in only

        if want("job-worker"):
            results["job-worker"] = drill_job_worker(stack, api, data["case"], data["pdf"], write)
        if want("integrator"):
            results["integrator"] = drill_integrator(stack, traffic, write)
        if want("database"):
            results["database"] = drill_database(stack, traffic, cluster, outage, write)
        if want("redis"):
            results["redis"] = drill_redis(stack, traffic, redis, redis_port, write)
        if want("disk"):
            results["disk"] = drill_disk(stack, api, data["case"], data["pdf"], mount, write)
        if want("slow-clients"):
            results["slow-clients"] = drill_slow_clients(stack, api, write)
        traffic.finish()
        once = filings_once("故障演练案件", traffic.acks)
        write(
            f"filings: {once['acknowledged']} acknowledged, {once['stored']} stored → "
            f"{'each exactly once' if once['exactly_once'] else 'MISMATCH'}; "
            f"all answers {dict(traffic.api.statuses)}"
        )
        results["filings"] = {**once, "passed": once["exactly_once"], "answers": dict(traffic.api.statuses)}
    finally:
        if traffic is not None:
            traffic.finish()
        stack.stop()
    report = ledger_verify()
    write(f"ledger verify: {'OK' if report.ok else 'FAILED'} ({report.entries:,} entries)")
    verdicts = {name: r.get("passed") for name, r in results.items()}
    passed = report.ok and all(v is not False for v in verdicts.values())
    write(f"drills: {verdicts} → {'ALL PASSED' if passed else 'FAILED'}")
    slow = results.get("slow-clients", {})
    return {
        "bench": "faults",
        "unit": "drill",
        "figures": results,
        "baseline": {"name": "API p95 without slow clients", "p95_ms": slow.get("p95_quiet_ms")},
        "ratio": {"p95_with_slow_clients": round(slow["p95_with_slow_ms"] / slow["p95_quiet_ms"], 2)}
        if slow.get("p95_quiet_ms")
        else {},
        "target": "every drill: clear messages while broken (never a 500), recovery by itself, nothing "
        "lost or done twice, the ledger verifies",
        "target_met": passed,
        "machine": machine(),
        "ledger_verify": report.ok,
    }


def run_outer(args: list[str], write: Write) -> dict[str, Any]:
    """Make the drills' own PostgreSQL cluster (and, as root, a 64 MiB tmpfs for the files), run
    the drills in a child process on a throwaway database there, and remove both afterwards."""
    from xietong.bench import bulk
    from xietong.ops import pgcluster

    base = pgcluster.workdir()
    cluster = pgcluster.Cluster.init(base, "primary", max_connections="100")
    home = Path(tempfile.mkdtemp(prefix="xietong-faults-home-"))
    mounted = False
    if os.geteuid() == 0:
        mounted = subprocess.call(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(home)]) == 0  # noqa: S603,S607
    try:
        cluster.start()
        env = {
            "XIETONG_BENCH_PGDATA": str(cluster.data),
            "XIETONG_BENCH_PGPORT": str(cluster.port),
            "XIETONG_HOME": str(home),
            **({"XIETONG_BENCH_TMPFS": str(home)} if mounted else {}),
        }
        server = f"postgres://postgres@127.0.0.1:{cluster.port}/"
        return bulk.run_in_throwaway_database(
            bench="faults", args=args, server=server, keep=False, write=write, extra_env=env
        )
    finally:
        cluster.stop()
        if mounted:
            subprocess.call(["umount", str(home)])  # noqa: S603,S607
        shutil.rmtree(home, ignore_errors=True)
        pgcluster.run(["rm", "-rf", str(base)])
