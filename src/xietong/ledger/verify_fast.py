"""The PostgreSQL path of ``ledger verify``, built for millions of entries: rows are streamed with
``COPY … TO STDOUT`` (timestamps already formatted by the server, no per-field conversion in Python),
the case chains are checked in parallel worker processes split by case range (chains are independent
by design, ADR 0002), and the Merkle tree is rebuilt level by level in memory.

Pure apart from the psycopg connection parameters it is given, so worker processes never touch the
parent's Django connection."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from xietong.ledger.chain import FORMAT_VERSION, GENESIS, SEPARATOR

_TIMESTAMP = """to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_ESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


@dataclass
class ChainResult:
    entries: int = 0
    cases: int = 0
    problems: list[str] = field(default_factory=list)


def _unescape(value: str) -> str:
    """COPY text format escapes backslash, tab, newline and carriage return."""
    if "\\" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        pair = value[i : i + 2]
        if pair in _ESCAPES:
            out.append(_ESCAPES[pair])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _copy_lines(source: Any, sql: str) -> Iterator[str]:
    """``source``: connection parameters (a worker opens its own connection) or an open psycopg
    connection (inside a transaction, which only that connection can see)."""
    import contextlib

    import psycopg

    opened = psycopg.connect(**source) if isinstance(source, dict) else contextlib.nullcontext(source)
    with opened as conn, conn.cursor() as cur, cur.copy(sql) as copy:
        rest = b""
        for block in copy:
            data = rest + bytes(block)
            lines = data.split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line.decode()
        if rest:
            yield rest.decode()


def check_chains(params: Any, table: str, low: int, high: int) -> ChainResult:
    """Every entry of cases ``low <= case_id < high``: hash recomputed, link and sequence checked."""
    columns = (
        f"id, case_id, seq, {_TIMESTAMP}, actor_id, actor_name, actor_duty, unit_id, unit_name, "
        "action, payload, prev_hash, entry_hash"
    )
    where = f"case_id >= {int(low)} AND case_id < {int(high)}"
    sql = f"COPY (SELECT {columns} FROM {table} WHERE {where} ORDER BY case_id, seq) TO STDOUT"  # noqa: S608
    result = ChainResult()
    problems = result.problems
    current = None
    expected_prev, expected_seq = GENESIS, 1
    sha256 = hashlib.sha256
    sep = SEPARATOR
    for line in _copy_lines(params, sql):
        (
            eid,
            case_id,
            seq,
            at,
            actor_id,
            actor_name,
            duty,
            unit_id,
            unit_name,
            action,
            payload,
            prev,
            stored,
        ) = line.split("\t")
        if case_id != current:
            current, expected_prev, expected_seq = case_id, GENESIS, 1
            result.cases += 1
        result.entries += 1
        if "\\" in line:
            actor_name, duty, unit_name, action, payload = map(
                _unescape, (actor_name, duty, unit_name, action, payload)
            )
        text = sep.join(
            (
                FORMAT_VERSION,
                case_id,
                seq,
                at,
                "" if actor_id == "\\N" else actor_id,
                actor_name,
                duty,
                "" if unit_id == "\\N" else unit_id,
                unit_name,
                action,
                payload,
                prev,
            )
        )
        if int(seq) != expected_seq or prev != expected_prev or sha256(text.encode()).hexdigest() != stored:
            where = f"entry id={eid} (case {case_id} #{seq}, {action})"
            if int(seq) != expected_seq:
                problems.append(f"{where}: sequence gap, expected #{expected_seq}")
            if prev != expected_prev:
                problems.append(f"{where}: prev_hash does not match the previous entry")
            if sha256(text.encode()).hexdigest() != stored:
                problems.append(f"{where}: content does not match its hash")
            if len(problems) >= 20:
                break
        expected_prev, expected_seq = stored, int(seq) + 1
    return result


def case_ranges(params: dict[str, Any], table: str, parts: int) -> list[tuple[int, int]]:
    import psycopg

    with psycopg.connect(**params) as conn:
        row = conn.execute(f"SELECT min(case_id), max(case_id) FROM {table}").fetchone()  # noqa: S608
    if row is None or row[0] is None:
        return []
    low, high = int(row[0]), int(row[1]) + 1
    step = max(1, -(-(high - low) // parts))
    return [(a, min(a + step, high)) for a in range(low, high, step)]


def check_all_chains(params: dict[str, Any], table: str, workers: int | None = None) -> ChainResult:
    """Workers are *spawned*, not forked: the caller may have threads (onnxruntime, a web server)
    whose locks a forked child would inherit held."""
    workers = workers or max(1, os.cpu_count() or 1)
    ranges = case_ranges(params, table, workers)
    total = ChainResult()
    if len(ranges) <= 1:
        parts = [check_chains(params, table, *r) for r in ranges]
    else:
        with ProcessPoolExecutor(max_workers=len(ranges), mp_context=get_context("spawn")) as pool:
            parts = list(
                pool.map(
                    check_chains, [params] * len(ranges), [table] * len(ranges), *zip(*ranges, strict=True)
                )
            )
    for part in parts:  # in case order: the first problem reported is the first bad entry
        total.entries += part.entries
        total.cases += part.cases
        total.problems.extend(part.problems)
    return total


def leaf_hashes(params: Any, leaf_table: str, entry_table: str) -> tuple[list[bytes], list[str]]:
    """Leaf hashes in tree order (from the entries' stored hashes, each already checked against its
    content by the chain pass), and any gap or dangling leaf found."""
    joined = f'{leaf_table} l LEFT JOIN {entry_table} e ON e.id = l.entry_id ORDER BY l."index"'
    sql = f'COPY (SELECT l."index", e.entry_hash FROM {joined}) TO STDOUT'  # noqa: S608
    leaves: list[bytes] = []
    problems: list[str] = []
    sha256 = hashlib.sha256
    for line in _copy_lines(params, sql):
        index, digest = line.split("\t")
        if int(index) != len(leaves):
            problems.append(f"merkle leaf {len(leaves)} missing (next is {index})")
            break
        if digest == "\\N":
            problems.append(f"merkle leaf {index} points to a missing entry")
            break
        leaves.append(sha256(b"\x00" + bytes.fromhex(digest)).digest())
    return leaves, problems


class Levels:
    """A Merkle tree held as its levels of complete-subtree hashes; a ``merkle.NodeStore``."""

    def __init__(self, leaves: list[bytes]):
        sha256 = hashlib.sha256
        self.levels = [leaves]
        level = leaves
        while len(level) > 1:
            level = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
            self.levels.append(level)

    def get(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def get_many(self, keys: Any) -> dict[tuple[int, int], bytes]:
        out = {}
        for level, index in keys:
            if level < len(self.levels) and index < len(self.levels[level]):
                out[(level, index)] = self.levels[level][index]
        return out
