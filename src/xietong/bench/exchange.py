"""``xietong bench exchange``: the event feed (issue 10, part 3) in a throwaway PostgreSQL database.

1. *Backlog*: N events (real ledger entries of real cases, integrated) delivered to 10 webhook
   subscribers, each its own local HTTP receiver (aiohttp, in a separate process, checking every
   HMAC signature and deduping by event id): event deliveries per second.
2. *Baseline*, same run: a bare HTTP POST loop sending the same bodies to the same receivers (no
   database, no cursor, no signing).
3. *Broker*: the same N events published to RabbitMQ by one broker subscription (one persistent
   message per event, one AMQP transaction per batch), counted in a bound queue.
4. *Live*: a writer appends events at a steady rate (one transaction per act, the case row locked,
   as the door does) while ``xietong feeds deliver --loop`` runs as its own process — it integrates
   and delivers; end-to-end latency = receipt at the receiver − the entry's ``recorded_at``.

Targets: ≥ 1,000 events/s delivered, p95 < 1 s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from xietong.bench.bulk import Write, machine, percentile

SUBSCRIBERS = 10
TARGET_RATE = 1000.0
TARGET_P95_S = 1.0
TARGET_IMPORT_PER_S = 500.0  # cases a second from the standard data package, files excluded
AMQP_URL = os.environ.get("XIETONG_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
SECRET = "bench-exchange-secret"  # noqa: S105 (the receivers' test secret)


# ---------------------------------------------------------------- the receivers (own process)


def _receivers_main(ports: list[int]) -> None:
    """10 webhook receivers in one asyncio process: verify, dedupe, record latency."""
    import asyncio

    from aiohttp import web

    from xietong.feeds import signing

    stats: dict[int, dict[str, Any]] = {}

    def fresh() -> dict[str, Any]:
        return {
            "events": 0,
            "duplicates": 0,
            "bad": 0,
            "out_of_order": 0,
            "last": -1,
            "lat": [],
            "seen": set(),
        }

    async def hook(request: web.Request) -> web.Response:
        port = request.app["port"]
        body = await request.read()
        now = time.time()
        st = stats[port]
        if request.headers.get("X-Bench-Bare") is None and not signing.verify(
            SECRET,
            timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
            signature=request.headers.get(signing.SIGNATURE_HEADER),
            body=body,
        ):
            st["bad"] += 1
            return web.Response(status=401)
        for event in json.loads(body)["events"]:
            if event["id"] in st["seen"]:
                st["duplicates"] += 1
                continue
            st["seen"].add(event["id"])
            if event["id"] < st["last"]:
                st["out_of_order"] += 1
            st["last"] = event["id"]
            st["events"] += 1
            st["lat"].append(now - datetime.fromisoformat(event["recorded_at"]).timestamp())
        return web.Response(status=200)

    async def control(request: web.Request) -> web.Response:
        port = request.app["port"]
        st = stats[port]
        out = {k: v for k, v in st.items() if k not in {"seen"}}
        if request.query.get("reset"):
            stats[port] = fresh()
        return web.json_response(out)

    async def main() -> None:
        runners = []
        for port in ports:
            stats[port] = fresh()
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app["port"] = port
            app.router.add_post("/hook", hook)
            app.router.add_get("/stats", control)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            runners.append(runner)
        print("ready", flush=True)  # noqa: T201 (the parent waits for this line)
        await asyncio.Event().wait()

    asyncio.run(main())


def _free_ports(n: int) -> list[int]:
    import socket

    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def _stats(ports: list[int], *, reset: bool = False) -> list[dict[str, Any]]:
    import httpx

    return [
        httpx.get(f"http://127.0.0.1:{p}/stats", params={"reset": "1"} if reset else None, timeout=30).json()
        for p in ports
    ]


# ---------------------------------------------------------------- data


def _cases(count: int) -> tuple[Any, list[int]]:
    from django.utils import timezone

    from xietong.cases import services as cases
    from xietong.demo.units import create_org
    from xietong.orgs.models import Region, User

    create_org()
    leader = User.objects.get(username="gusu_police_leader")
    town = Region.objects.filter(parent=leader.unit.region, level="town").first() if leader.unit else None
    if town is None:
        raise RuntimeError("the demo org has no towns")
    ids = []
    for i in range(count):
        filed = cases.case_register(
            user=leader,
            data=cases.RegisterInput(
                charge="盗窃罪",
                facts=f"事件流基准用案件{i}。",
                occurred_at=timezone.now() - timedelta(days=3),
                town_id=town.pk,
                parties=[cases.PartyInput(name=f"基准{i}", gender="男")],
            ),
        )
        if filed.case is None:
            raise RuntimeError("filing a bench case failed")
        ids.append(filed.case.pk)
    return leader, ids


def _append(leader: Any, case_ids: list[int], n: int, *, per_tx: int = 1, rate: float | None = None) -> float:
    """Append ``n`` entries round-robin over the cases, ``per_tx`` per transaction (each locking
    its case row, as the door does); paced at ``rate`` per second if given. Returns the seconds."""
    from django.db import transaction

    from xietong.cases.models import Case
    from xietong.ledger.services import actor_of, ledger_append

    actor = actor_of(leader, preferred=["leader"])
    start = time.perf_counter()
    done = 0
    while done < n:
        with transaction.atomic():
            for _ in range(min(per_tx, n - done)):
                case_id = case_ids[done % len(case_ids)]
                Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).get()
                ledger_append(
                    case_id=case_id,
                    actor=actor,
                    action="interrogate",
                    payload={"label": "讯问", "bench": done, "party_names": ["基准"]},
                )
                done += 1
        if rate:
            ahead = done / rate - (time.perf_counter() - start)
            if ahead > 0:
                time.sleep(ahead)
    return time.perf_counter() - start


# ---------------------------------------------------------------- run


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    import httpx

    from xietong.feeds.models import Subscription
    from xietong.feeds.services import feeds_deliver_due, subscription_create
    from xietong.feeds.transport import body_of
    from xietong.ledger.services import ledger_integrate_all

    quick = bool(options.get("quick"))
    backlog = options.get("entries") or (5_000 if quick else 20_000)
    live_seconds = float(options.get("seconds") or (5 if quick else 15))
    live_rate = 300.0
    result: dict[str, Any] = {"bench": "exchange", "machine": machine(), "subscribers": SUBSCRIBERS}

    ports = _free_ports(SUBSCRIBERS)
    receivers = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-c",
            f"from xietong.bench.exchange import _receivers_main; _receivers_main({ports!r})",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        if receivers.stdout is None or receivers.stdout.readline().strip() != "ready":
            raise RuntimeError("the receivers did not start")
        leader, case_ids = _cases(20)
        police = leader.unit.members.get(username="gusu_police")

        # 1. backlog
        seconds = _append(leader, case_ids, backlog, per_tx=50)
        ledger_integrate_all()
        write(f"backlog: {backlog} events written in {seconds:.1f} s and integrated")
        for i, port in enumerate(ports):
            subscription_create(
                owner=police,
                name=f"基准订阅{i}",
                url=f"http://127.0.0.1:{port}/hook",
                secret=SECRET,
                after=-1,
            )
        _stats(ports, reset=True)
        start = time.perf_counter()
        delivered = 0
        while True:
            sent = feeds_deliver_due()
            delivered += sent
            if not sent:
                break
        seconds = time.perf_counter() - start
        stats = _stats(ports, reset=True)
        received = sum(s["events"] for s in stats)
        rate = received / seconds
        result["webhooks"] = {
            "events": backlog,
            "deliveries": received,
            "seconds": round(seconds, 2),
            "events_per_s": round(rate),
            "per_subscriber_events_per_s": round(rate / SUBSCRIBERS),
            "duplicates": sum(s["duplicates"] for s in stats),
            "out_of_order": sum(s["out_of_order"] for s in stats),
            "bad_signatures": sum(s["bad"] for s in stats),
        }
        write(
            f"webhooks: {received} deliveries ({backlog} events × {SUBSCRIBERS}) in {seconds:.2f} s → "
            f"{rate:,.0f} events/s; duplicates {result['webhooks']['duplicates']}, "
            f"out of order {result['webhooks']['out_of_order']}, "
            f"bad signatures {result['webhooks']['bad_signatures']}"
        )

        # 2. baseline: the same bodies, a bare POST loop
        from xietong.feeds.selectors import event_page

        bodies = []
        after = -1
        while True:
            page = event_page(user=police, after=after, limit=500, with_tree_head=False)
            if not page.events:
                break
            bodies.append(body_of({"subscription": 0, "events": page.events, "next": page.next}))
            after = page.next
        client = httpx.Client(timeout=30)
        start = time.perf_counter()
        for port in ports:
            for body in bodies:
                client.post(f"http://127.0.0.1:{port}/hook", content=body, headers={"X-Bench-Bare": "1"})
        bare_seconds = time.perf_counter() - start
        client.close()
        stats = _stats(ports, reset=True)
        bare_rate = sum(s["events"] for s in stats) / bare_seconds
        result["baseline_bare_post"] = {"seconds": round(bare_seconds, 2), "events_per_s": round(bare_rate)}
        result["webhooks"]["vs_bare"] = round(rate / bare_rate, 2) if bare_rate else None
        write(
            f"baseline (bare POST loop, same bodies): {bare_rate:,.0f} events/s "
            f"→ the feed reaches {rate / bare_rate:.0%} of it"
        )

        # 3. broker
        result["broker"] = _broker(police, backlog, write)

        # 4. live: a writer at a steady rate, `xietong feeds deliver --loop` in its own process
        Subscription.objects.filter(kind="broker").update(status="paused")
        env = {**os.environ, "XIETONG_INPROCESS_TASKS": "0"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "xietong", "feeds", "deliver", "--loop", "--interval", "0.05"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(2)
        _stats(ports, reset=True)
        total = int(live_rate * live_seconds)
        # four acts per transaction: one writer thread cannot commit hundreds a second on two loaded
        # cores, and the feed does not care how the entries were grouped
        written = _append(leader, case_ids, total, per_tx=4, rate=live_rate)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stats = _stats(ports)
            if all(s["events"] >= total for s in stats):
                break
            time.sleep(0.2)
        lat = [x for s in stats for x in s["lat"]]
        got = sum(s["events"] for s in stats)
        result["live"] = {
            "written": total,
            "write_rate_per_s": round(total / written),
            "deliveries": got,
            "expected": total * SUBSCRIBERS,
            "delivered_per_s": round(got / written),
            "latency_p50_ms": round(percentile(lat, 50) * 1000),
            "latency_p95_ms": round(percentile(lat, 95) * 1000),
            "latency_p99_ms": round(percentile(lat, 99) * 1000),
            "latency_max_ms": round(max(lat) * 1000) if lat else None,
            "out_of_order": sum(s["out_of_order"] for s in stats),
            "duplicates": sum(s["duplicates"] for s in stats),
        }
        live = result["live"]
        write(
            f"live: {total} events at {live['write_rate_per_s']}/s × {SUBSCRIBERS} subscribers, "
            f"{got}/{total * SUBSCRIBERS} delivered; latency p50 {live['latency_p50_ms']} ms, "
            f"p95 {live['latency_p95_ms']} ms, p99 {live['latency_p99_ms']} ms"
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        receivers.terminate()
        receivers.wait(30)

    # 5. bulk import of standard data packages (``xietong import-cases``), files excluded
    result["import"] = _bulk_import(int(options.get("import_cases") or (2_000 if quick else 20_000)), write)
    result["targets"] = {
        "events_per_s": TARGET_RATE,
        "p95_ms": TARGET_P95_S * 1000,
        "import_per_s": TARGET_IMPORT_PER_S,
        "met": bool(
            result["webhooks"]["events_per_s"] >= TARGET_RATE
            and result["live"]["latency_p95_ms"] <= TARGET_P95_S * 1000
            and (result["broker"].get("events_per_s") or 0) >= TARGET_RATE
            and result["import"]["cases_per_s"] >= TARGET_IMPORT_PER_S
        ),
    }
    return result


def _bulk_import(count: int, write: Write) -> dict[str, Any]:
    """``count`` synthetic packages (valid chains, this city's units and towns) imported as
    ``xietong import-cases`` does it; the baseline reads and parses the same file and nothing else."""
    import tempfile
    from pathlib import Path

    from xietong.exchange.importer import cases_import
    from xietong.exchange.sample import sample_file

    with tempfile.TemporaryDirectory() as tmp:
        path = sample_file(Path(tmp) / "packages.jsonl", count, start_id=900_000)
        start = time.perf_counter()
        with path.open(encoding="utf-8") as handle:
            parsed = sum(1 for line in handle if json.loads(line))
        bare = time.perf_counter() - start
        start = time.perf_counter()
        (done,) = cases_import(path=path)
        seconds = time.perf_counter() - start
    rate = done.imported / seconds if seconds else 0.0
    bare_rate = parsed / bare if bare else 0.0
    write(
        f"import: {done.imported:,} cases from {count:,} packages in {seconds:.1f} s → {rate:,.0f} cases/s "
        f"(rejected {done.rejected}); baseline (read and parse the file only) {bare_rate:,.0f}/s"
    )
    return {
        "packages": count,
        "imported": done.imported,
        "rejected": done.rejected,
        "seconds": round(seconds, 2),
        "cases_per_s": round(rate),
        "baseline_parse_per_s": round(bare_rate),
        "ratio_to_baseline": round(rate / bare_rate, 4) if bare_rate else None,
        "target_per_s": TARGET_IMPORT_PER_S,
    }


def _broker(owner: Any, backlog: int, write: Write) -> dict[str, Any]:
    import secrets

    from xietong.feeds.services import feeds_deliver_due, subscription_create

    try:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    except Exception as exc:  # no broker on this machine: say so in the figures
        write(f"broker: skipped ({exc})")
        return {"skipped": str(exc)}
    exchange = f"xietong.bench.{secrets.token_hex(4)}"
    channel = connection.channel()
    channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare(queue="", exclusive=True).method.queue
    channel.queue_bind(queue=queue, exchange=exchange, routing_key="event.#")
    subscription_create(
        owner=owner, name="基准消息代理", kind="broker", url=AMQP_URL, topic=exchange, after=-1
    )
    start = time.perf_counter()
    while feeds_deliver_due():
        pass
    seconds = time.perf_counter() - start
    count = channel.queue_declare(queue=queue, passive=True).method.message_count
    channel.exchange_delete(exchange=exchange)
    connection.close()
    rate = count / seconds if seconds else 0.0
    write(
        f"broker: {count}/{backlog} events published (committed per batch) in {seconds:.2f} s "
        f"→ {rate:,.0f} events/s"
    )
    return {"events": backlog, "in_queue": count, "seconds": round(seconds, 2), "events_per_s": round(rate)}
