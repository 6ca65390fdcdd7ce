"""``xietong bench ledger-verify``: how fast ``ledger verify`` re-checks a large ledger.

A throwaway database gets ``--entries`` ledger rows (default 1,000,000: 100,000 cases × 10 entries)
written with COPY, each case's chain computed with ``ledger.chain.entry_hash`` as ``ledger_append``
does, interleaved across cases as a live system writes them. The real ``ledger_integrate`` then builds
the Merkle tree and signs tree heads, in the product's batch size. Timed:

* baseline — the generic verifier's query (``ORDER BY case_id, seq``) streamed through Django's
  server-side cursor and ``fetchmany(5000)``, rows only counted;
* ``ledger.verify.ledger_verify()``, three times (the figure is the median run) — every hash
  recomputed, every link checked, the tree rebuilt and every signed head checked; with its phases
  (``VerifyReport.timings``: chains with the leaf table read alongside, then tree and heads) and the
  CPU it took: this process, its worker processes, and the rest of the machine's busy time
  (PostgreSQL's backends, plus whatever other users ran meanwhile).

Sanity: after one row is rewritten behind the triggers' back, verification must fail.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import resource
import time
from typing import Any

from django.db import DatabaseError, connection, transaction

from xietong.bench.bulk import Write, analyze, copy_ledger_entries, cpu_busy_snapshot, machine

TARGET_EPS = 200_000
VERIFY_RUNS = 3  # the figure is the median run: other users share the machine
VERIFY_SQL_COLUMNS = (
    "id, case_id, seq, recorded_at, actor_id, actor_name, actor_duty, unit_id, unit_name, action, "
    "payload, prev_hash, entry_hash"
)


def stream_select() -> int:
    """The baseline: the verifier's query, same cursor and batch size, no hashing."""
    from xietong.ledger.models import LedgerEntry

    sql = f"SELECT {VERIFY_SQL_COLUMNS} FROM {LedgerEntry._meta.db_table} ORDER BY case_id, seq"  # noqa: S608
    count = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(5000)
            if not rows:
                return count
            count += len(rows)


def _own_cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its finished children (the verifier's workers)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def _integrate(batch: int, write: Write) -> tuple[int, float]:
    from xietong.ledger.services import ledger_integrate

    heads, started = 0, time.perf_counter()
    while True:
        t = time.perf_counter()
        head = ledger_integrate(batch_size=batch)
        if head is None:
            return heads, time.perf_counter() - started
        heads += 1
        if heads == 1 or heads % 10 == 0:
            write(
                f"  integrated {head.size:,} entries, tree head #{heads} "
                f"(last batch {time.perf_counter() - t:.2f} s, total {time.perf_counter() - started:.0f} s)"
            )


def _tamper() -> tuple[int, bool]:
    """Rewrite one entry's payload as a DBA could (triggers switched off for the session); returns
    the entry id and whether the append-only trigger refused the plain UPDATE first."""
    from xietong.ledger.models import LedgerEntry

    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        middle = f"SELECT id FROM {table} ORDER BY id OFFSET (SELECT count(*) / 2 FROM {table}) LIMIT 1"  # noqa: S608
        cursor.execute(middle)
        entry_id = int(cursor.fetchone()[0])
    refused = False
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET payload = payload || ' ' WHERE id = %s", [entry_id])  # noqa: S608
    except DatabaseError:
        refused = True
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(f"UPDATE {table} SET payload = payload || ' ' WHERE id = %s", [entry_id])  # noqa: S608
        cursor.execute("SET session_replication_role = DEFAULT")
    return entry_id, refused


def diagnostics(write: Write) -> dict[str, float]:
    """Where the verifier's time goes, as rows/s of variants of its work (``--profile`` only): the
    same query through a plain psycopg cursor (psycopg's own C row loaders instead of Django's), the
    query with ``recorded_at`` formatted by PostgreSQL, and the hashing alone."""
    import psycopg

    from xietong.ledger.chain import entry_hash, timestamp_text
    from xietong.ledger.models import LedgerEntry

    table = LedgerEntry._meta.db_table
    sql = f"SELECT {VERIFY_SQL_COLUMNS} FROM {table} ORDER BY case_id, seq"  # noqa: S608
    as_text = sql.replace(
        "recorded_at,",
        "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),",
        1,
    )
    out: dict[str, float] = {}

    def stream(label: str, query: str, raw: bool) -> None:
        started, n = time.perf_counter(), 0
        if raw:
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            with psycopg.connect(**params) as conn, conn.cursor(name="bench_raw") as cursor:
                cursor.execute(query)
                while rows := cursor.fetchmany(5000):
                    n += len(rows)
        else:
            with connection.chunked_cursor() as cursor:
                cursor.execute(query)
                while rows := cursor.fetchmany(5000):
                    n += len(rows)
        out[label] = n / (time.perf_counter() - started)
        write(f"  {label}: {out[label]:,.0f} rows/s")

    stream("select_plain_psycopg", sql, raw=True)
    stream("select_recorded_at_as_text", as_text, raw=False)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT 200000")
        rows = cursor.fetchall()

    def hash_all(texts: list[str] | None) -> float:
        started = time.perf_counter()
        for k, r in enumerate(rows):
            entry_hash(
                case_id=r[1],
                seq=r[2],
                recorded_at=texts[k] if texts is not None else timestamp_text(r[3]),
                actor_id=r[4],
                actor_name=r[5],
                actor_duty=r[6],
                unit_id=r[7],
                unit_name=r[8],
                action=r[9],
                payload=r[10],
                prev_hash=r[11],
            )
        return len(rows) / (time.perf_counter() - started)

    out["hash_with_timestamp_text"] = hash_all(None)
    out["hash_only"] = hash_all([timestamp_text(r[3]) for r in rows])
    write(
        f"  entry_hash with timestamp_text: {out['hash_with_timestamp_text']:,.0f}/s; "
        f"entry_hash alone: {out['hash_only']:,.0f}/s (one core, {len(rows):,} rows)"
    )
    return {k: round(v) for k, v in out.items()}


def _profile_verify(write: Write, entries: int) -> list[dict[str, Any]]:
    from xietong.ledger.verify import ledger_verify

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    ledger_verify()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    write(
        f"--- cProfile (CPU time) of ledger_verify in this process (not its workers): {total:.2f} s CPU "
        f"for {entries:,} entries ---"
    )
    hot = []
    for (filename, lineno, func), (_cc, nc, tt, ct, _callers) in sorted(
        raw.items(), key=lambda kv: kv[1][2], reverse=True
    )[:15]:
        short = filename.split("site-packages/")[-1].split("/src/")[-1]
        write(f"  own {tt:6.2f} s  cum {ct:6.2f} s  {nc:>9,}x  {short}:{lineno}({func})")
        hot.append({"function": f"{short}:{lineno}({func})", "own_s": round(tt, 3), "cum_s": round(ct, 3)})
    return hot


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from xietong.ledger.verify import VerifyReport, ledger_verify

    quick = bool(options.get("quick"))
    entries = int(options.get("entries") or (100_000 if quick else 1_000_000))
    per_case = int(options.get("per_case") or 10)
    batch = int(options.get("integrate_batch") or 10_000)
    seed = int(options.get("seed") or 2026)
    started = time.perf_counter()
    write(f"bench ledger-verify: {entries:,} entries, {per_case} per case; machine {machine()}")

    t = time.perf_counter()
    made = copy_ledger_entries(entries=entries, per_case=per_case, seed=seed, write=write)
    analyze()
    generate_s = time.perf_counter() - t
    write(
        f"generated {made['entries']:,} entries / {made['cases']:,} cases with COPY in {generate_s:.1f} s "
        f"({made['entries'] / generate_s:,.0f}/s)"
    )
    heads, integrate_s = _integrate(batch, write)
    write(
        f"ledger_integrate(batch_size={batch:,}): {heads} tree heads in {integrate_s:.1f} s "
        f"({made['entries'] / integrate_s if integrate_s else 0:,.0f} entries/s)"
    )
    analyze()

    t = time.perf_counter()
    streamed = stream_select()
    select_s = time.perf_counter() - t
    write(
        f"baseline SELECT stream: {streamed:,} rows in {select_s:.2f} s ({streamed / select_s:,.0f} rows/s)"
    )

    runs: list[tuple[float, VerifyReport, dict[str, float]]] = []
    for attempt in range(VERIFY_RUNS):
        own_before, busy_before, t = _own_cpu(), cpu_busy_snapshot(), time.perf_counter()
        report = ledger_verify()
        seconds = time.perf_counter() - t
        own_after, busy_after = _own_cpu(), cpu_busy_snapshot()
        tick = os.sysconf("SC_CLK_TCK")
        cpu = {
            "parent_s": round(own_after[0] - own_before[0], 2),
            "workers_s": round(own_after[1] - own_before[1], 2),
            "machine_busy_s": round((busy_after[0] - busy_before[0]) / tick, 2),
            "machine_s": round((busy_after[1] - busy_before[1]) / tick, 2),
        }
        # what the machine spent besides this process and its workers: PostgreSQL's backends, and
        # anything other users ran meanwhile
        cpu["postgres_and_others_s"] = round(cpu["machine_busy_s"] - cpu["parent_s"] - cpu["workers_s"], 2)
        runs.append((seconds, report, cpu))
        write(
            f"ledger_verify() run {attempt + 1}: {'OK' if report.ok else 'FAILED'} — {report.entries:,} "
            f"entries, {report.cases:,} cases, {report.leaves:,} leaves, {report.tree_heads} tree heads in "
            f"{seconds:.2f} s ({report.entries / seconds if seconds else 0:,.0f} entries/s); "
            + ", ".join(f"{k} {v:.2f} s" for k, v in report.timings.items())
            + f"; CPU: this process {cpu['parent_s']:.2f} s, workers {cpu['workers_s']:.2f} s, "
            f"PostgreSQL and others {cpu['postgres_and_others_s']:.2f} s; machine busy "
            f"{cpu['machine_busy_s']:.2f} of {cpu['machine_s']:.2f} CPU-s"
        )
        if not report.ok:
            raise RuntimeError(f"verify failed on untouched bench data: {report.problems[:3]}")
    verify_s, report, cpu = sorted(runs, key=lambda r: r[0])[len(runs) // 2]  # the median run
    eps = report.entries / verify_s if verify_s else 0.0
    chains_s, tree_s = report.timings.get("chains", 0.0), report.timings.get("tree", 0.0)
    write(
        f"ledger_verify() median of {len(runs)}: {verify_s:.2f} s ({eps:,.0f} entries/s): chains (with the "
        f"leaf table read alongside) {chains_s:.2f} s, tree and heads {tree_s:.2f} s"
    )

    hot: list[dict[str, Any]] = []
    diag: dict[str, float] = {}
    if options.get("profile"):
        write("diagnostics (rows/s):")
        diag = diagnostics(write)
        hot = _profile_verify(write, report.entries)

    tampered_id, refused = _tamper()
    t = time.perf_counter()
    after = ledger_verify()
    tamper_s = time.perf_counter() - t
    detected = not after.ok and any(f"id={tampered_id} " in p for p in after.problems)
    write(
        f"sanity: plain UPDATE refused by the append-only trigger: {refused}; entry id={tampered_id} "
        f"rewritten with the triggers off → verify {'FAILED as it must' if detected else 'DID NOT NOTICE'}"
        f" ({after.problems[0] if after.problems else 'no problem reported'}) in {tamper_s:.2f} s"
    )
    ratio = eps / (streamed / select_s) if select_s else 0.0
    met = eps >= TARGET_EPS
    write(
        f"verify {eps:,.0f} entries/s vs SELECT {streamed / select_s:,.0f} rows/s: ratio {ratio:.3f}; "
        f"target ≥ {TARGET_EPS:,}/s → {'MET' if met else 'MISSED'}"
    )
    return {
        "bench": "ledger-verify",
        "unit": "entries/s",
        "figures": {
            "entries": report.entries,
            "cases": report.cases,
            "verify_seconds": round(verify_s, 2),
            "verify_eps": round(eps),
            "chains_seconds": round(chains_s, 2),
            "tree_seconds": round(tree_s, 2),
            "runs_seconds": [round(r[0], 2) for r in runs],
            "cpu_seconds": cpu,
        },
        "baseline": {
            "name": "SELECT stream of the same rows (no hashing)",
            "seconds": round(select_s, 2),
            "rows_per_s": round(streamed / select_s) if select_s else 0,
        },
        "ratio": round(ratio, 3),
        "setup": {
            "generate_seconds": round(generate_s, 1),
            "integrate_seconds": round(integrate_s, 1),
            "integrate_eps": round(made["entries"] / integrate_s) if integrate_s else 0,
            "integrate_batch": batch,
            "tree_heads": heads,
        },
        "tamper": {
            "entry_id": tampered_id,
            "trigger_refused_update": refused,
            "verify_failed": detected,
            "problem": after.problems[0] if after.problems else None,
        },
        "target": {"eps_min": TARGET_EPS},
        "target_met": met,
        "hot_spots": hot,
        "diagnostics": diag,
        "machine": machine(),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
