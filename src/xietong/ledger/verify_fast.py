"""The PostgreSQL path of ``ledger verify``, built for millions of entries.

* The server only *assembles* each entry's canonical text (``concat_ws`` of its fields in the order of
  ``ledger.chain``, the timestamp formatted by ``to_char``): no hashing is left to the database being
  verified. Rows come in binary, in the table's physical order (no ``ORDER BY``: the server does not
  sort), streamed in chunks so that the server assembles the next rows while Python hashes.
* Python re-hashes every text and checks it against the stored hash a batch at a time, with C-level
  loops (``map``) and one comparison per batch; at the end it sorts ``(case_id, seq)`` with numpy and
  checks every chain link (``prev_hash``), every sequence number and every case start at once. The
  details (which entry, what is wrong) are worked out only for the rows that fail.
* The chains are split by case-id range (chains are independent by design, ADR 0002) over this
  process and spawned worker processes, one per core in all, each with its own connection in one
  exported snapshot; each also computes its entries' Merkle leaf hashes (``0x00 || hash``, from the
  digests it has just checked). While the workers start, this process reads the leaf table (entry
  id per leaf index, one aggregated row) and the tree heads.
* Then it places the leaf hashes and rebuilds the tree level by level in memory, the lower levels
  of its right part in a worker.

Pure apart from the psycopg connection parameters it is given, so worker processes never touch the
parent's Django connection."""

from __future__ import annotations

import binascii
import contextlib
import gc
import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice, pairwise
from multiprocessing import get_context
from operator import methodcaller
from typing import Any

import numpy as np

from xietong.ledger.chain import FORMAT_VERSION, GENESIS

HASH_HEX = 64
BATCH = 10_000
MAX_PROBLEMS = 20
_TIMESTAMP = """to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
# ``ledger.chain.entry_hash``'s canonical form, assembled by the server: the fields in the same order,
# joined by the unit separator, NULL as the empty string (concat_ws would skip a NULL).
_CANONICAL = (
    f"concat_ws(E'\\x1f', '{FORMAT_VERSION}', case_id, seq, {_TIMESTAMP}, "
    "coalesce(actor_id::text, ''), coalesce(actor_name, ''), coalesce(actor_duty, ''), "
    "coalesce(unit_id::text, ''), coalesce(unit_name, ''), coalesce(action, ''), "
    "coalesce(payload, ''), coalesce(prev_hash, ''))"
)
_GENESIS_ROW = np.frombuffer(GENESIS.encode(), np.uint64)
_BAD_HEX = b"!" * HASH_HEX  # stands for a hash column that is not 64 characters: never equal to one
_digest = methodcaller("digest")
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = 1


@dataclass
class ChainResult:
    """One case range's outcome. ``problems`` are ``(case_id, seq, kind, text)``, so that sorting them
    gives case order; ``ids`` (ascending) and ``leaves`` (a 32-byte leaf hash per id, in the same
    order) feed the Merkle tree and are left empty once a problem is found."""

    entries: int = 0
    cases: int = 0
    problems: list[tuple[int, int, int, str]] = field(default_factory=list)
    ids: Any = None
    leaves: bytes = b""


@contextlib.contextmanager
def _connection(source: Any, snapshot: str | None = None) -> Iterator[Any]:
    """``source``: connection parameters (a worker opens its own connection, in ``snapshot`` when
    given) or an open psycopg connection (inside a transaction, which only that connection can see)."""
    if not isinstance(source, dict):
        yield source
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(**source) as conn:
        if snapshot is not None:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        conn.execute("SET jit = off")  # one pass of a simple expression per row: no use compiling it
        yield conn


@contextlib.contextmanager
def snapshot(params: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """A connection in a read-only REPEATABLE READ transaction, and the id of its exported snapshot:
    the workers import it, so every part of the verification sees the same ledger while the live
    system goes on appending and integrating (else a leaf or a tree head could name an entry that
    a worker's earlier snapshot lacks)."""
    import psycopg

    with psycopg.connect(**params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        conn.execute("SET jit = off")
        yield conn, str(row[0] if row else "")


def _fixed_width(values: tuple[str, ...]) -> bytes:
    """The hash columns of a batch as one bytes object of exactly 64 bytes per row; a value that is
    not 64 ASCII characters becomes ``_BAD_HEX``, which matches nothing."""
    data = "".join(values).encode()
    if len(data) == HASH_HEX * len(values) and set(map(len, values)) == {HASH_HEX}:
        return data
    return b"".join(
        v.encode() if len(v) == HASH_HEX and len(v.encode()) == HASH_HEX else _BAD_HEX for v in values
    )


def _batches(conn: Any, sql: str, params: tuple[Any, ...]) -> Iterator[list[tuple[Any, ...]]]:
    """The query's rows in lists of ``BATCH``, binary. With libpq 17 or later the server streams the
    whole result without waiting for the client (chunked rows), so it assembles the next rows while
    this process hashes; otherwise through a server-side cursor, one round trip per batch."""
    import psycopg

    if psycopg.pq.version() >= 170000:
        with psycopg.Cursor(conn) as cur:  # not the connection's factory: Django's is text-only
            rows = cur.stream(sql, params, binary=True, size=BATCH)
            while batch := list(islice(rows, BATCH)):
                yield batch
        return
    with conn.cursor(name="xietong_ledger_verify", binary=True) as cur:
        cur.execute(sql, params)
        while batch := cur.fetchmany(BATCH):
            yield batch


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Millions of short-lived row tuples, no reference cycles: the cyclic collector would only
    rescan them (a fifth of the CPU time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_chains(
    source: Any, table: str, low: int | None = None, high: int | None = None, snapshot: str | None = None
) -> ChainResult:
    """Every entry of cases ``low <= case_id < high`` (all without bounds): content re-hashed against
    its stored hash, sequence and ``prev_hash`` link checked, leaf hash computed."""
    with _no_gc():
        return _check_chains(source, table, low, high, snapshot)


def _chain_query(table: str, low: int | None, high: int | None) -> tuple[str, tuple[Any, ...]]:
    columns = f"textsend({_CANONICAL}), coalesce(prev_hash, ''), coalesce(entry_hash, ''), id, case_id, seq"
    where, params = ("WHERE case_id >= %s AND case_id < %s", (low, high)) if low is not None else ("", ())
    return f"SELECT {columns} FROM {table} {where}", params  # noqa: S608


@contextlib.contextmanager
def _utf8(conn: Any) -> Iterator[None]:
    """The client encoding UTF-8 meanwhile (Django's, and so the workers', already is): the canonical
    text is taken as the server sends it (``textsend``, no conversion), and the hashes as ``str``."""
    previous = conn.info.parameter_status("client_encoding")
    if previous in ("UTF8", None):
        yield
        return
    conn.execute("SET client_encoding TO 'UTF8'")
    try:
        yield
    finally:
        conn.execute("SELECT set_config('client_encoding', %s, false)", (previous,))


def _check_chains(
    source: Any, table: str, low: int | None, high: int | None, snapshot: str | None
) -> ChainResult:
    sha256 = hashlib.sha256
    hexlify = binascii.hexlify
    leaf_prefix = _LEAF_PREFIX.__add__
    ids_parts, case_parts, seq_parts, prev_parts, stored_parts, leaf_parts = [], [], [], [], [], []
    content_bad: list[np.ndarray] = []
    any_content_bad = False
    sql, params = _chain_query(table, low, high)
    with _connection(source, snapshot) as conn, _utf8(conn):
        for rows in _batches(conn, sql, params):
            texts, prevs, stored, ids, cases, seqs = zip(*rows, strict=True)
            digests = list(map(_digest, map(sha256, texts)))
            # one comparison for the batch; every stored hash 64 characters, so none straddles two
            stored_joined = "".join(stored).encode()
            if hexlify(b"".join(digests)) == stored_joined and set(map(len, stored)) == {HASH_HEX}:
                content_bad.append(np.zeros(len(rows), bool))
                stored_parts.append(stored_joined)
                if not any_content_bad:
                    leaf_parts.append(b"".join(map(_digest, map(sha256, map(leaf_prefix, digests)))))
            else:
                any_content_bad = True
                content_bad.append(np.fromiter(map(str.__ne__, map(bytes.hex, digests), stored), bool))
                stored_parts.append(_fixed_width(stored))
            prev_parts.append(_fixed_width(prevs))
            ids_parts.append(np.array(ids, np.int64))
            case_parts.append(np.array(cases, np.int64))
            seq_parts.append(np.array(seqs, np.int64))
        if not ids_parts:
            return ChainResult(ids=np.zeros(0, np.int64))
        ids_all = np.concatenate(ids_parts)
        result = ChainResult(entries=len(ids_all))
        case_ids = np.concatenate(case_parts)
        order = np.lexsort((np.concatenate(seq_parts), case_ids))
        case_ids = case_ids[order]
        seq = np.concatenate(seq_parts)[order]
        prev = np.frombuffer(b"".join(prev_parts), np.uint64).reshape(-1, HASH_HEX // 8)[order]
        stored_rows = np.frombuffer(b"".join(stored_parts), np.uint64).reshape(-1, HASH_HEX // 8)[order]
        bad_content = np.concatenate(content_bad)[order]
        # In (case_id, seq) order: a case starts at #1 after GENESIS; every later entry follows its
        # predecessor by one and links to its stored hash.
        first = np.ones(len(seq), bool)
        first[1:] = case_ids[1:] != case_ids[:-1]
        result.cases = int(first.sum())
        expected_seq = np.ones(len(seq), np.int64)
        expected_seq[1:] = np.where(first[1:], 1, seq[:-1] + 1)
        expected_prev = np.empty_like(prev)
        expected_prev[1:] = stored_rows[:-1]
        expected_prev[first] = _GENESIS_ROW
        bad_seq = seq != expected_seq
        bad_prev = (prev != expected_prev).any(axis=1)
        bad = np.flatnonzero(bad_seq | bad_prev | bad_content)[:MAX_PROBLEMS]
        if len(bad):
            bad_ids = [int(ids_all[order[i]]) for i in bad]
            with conn.cursor() as cur:
                cur.execute(f"SELECT id, action FROM {table} WHERE id = ANY(%s)", (bad_ids,))  # noqa: S608
                actions = dict(cur.fetchall())
            for i, eid in zip(bad, bad_ids, strict=True):
                case_id, number = int(case_ids[i]), int(seq[i])
                where = f"entry id={eid} (case {case_id} #{number}, {actions.get(eid, '?')})"
                if bad_seq[i]:
                    result.problems.append(
                        (case_id, number, 0, f"{where}: sequence gap, expected #{expected_seq[i]}")
                    )
                if bad_prev[i]:
                    result.problems.append(
                        (case_id, number, 1, f"{where}: prev_hash does not match the previous entry")
                    )
                if bad_content[i]:
                    result.problems.append((case_id, number, 2, f"{where}: content does not match its hash"))
            result.ids = np.zeros(0, np.int64)
            return result
    by_id = np.argsort(ids_all, kind="stable")
    result.ids = ids_all[by_id]
    result.leaves = np.frombuffer(b"".join(leaf_parts), np.uint8).reshape(-1, 32)[by_id].tobytes()
    return result


SAMPLE_ROWS = 20_000  # how many entries' case ids to sample
SAMPLE_FROM_ROWS = 80_000  # below that the split hardly matters: equal widths
PARALLEL_FROM_BYTES = 96 << 20  # a smaller table (≈ 170,000 entries) is checked sooner than a worker starts


def case_ranges(source: Any, table: str, parts: int | None = None) -> list[tuple[int, int]]:
    """``parts`` (one per core by default; one for a small table) ranges ``[low, high)`` over the case
    ids holding about as many entries each: split at the quantiles of a sample of the table's pages
    (old cases have more entries than new ones), or at equal widths when the table is too small to
    sample."""
    parts = parts or max(1, os.cpu_count() or 1)
    estimate = "(SELECT reltuples FROM pg_class WHERE oid = %s::regclass), pg_relation_size(%s::regclass)"
    sql = f"SELECT min(case_id), max(case_id), {estimate} FROM {table}"  # noqa: S608
    with _connection(source) as conn, conn.cursor() as cur:
        cur.execute(sql, (table, table))
        row = cur.fetchone()
        if row is None or row[0] is None:
            return []
        low, high, rows = int(row[0]), int(row[1]) + 1, float(row[2] or 0)
        if int(row[3] or 0) < PARALLEL_FROM_BYTES:
            parts = 1
        sample: list[int] = []
        if parts > 1 and rows >= SAMPLE_FROM_ROWS:
            pages = f"SELECT case_id FROM {table} TABLESAMPLE SYSTEM (%s) REPEATABLE (0)"  # noqa: S608
            cur.execute(pages, (min(100.0, 100.0 * SAMPLE_ROWS / rows),))
            sample = sorted(int(r[0]) for r in cur.fetchall())
    if len(sample) >= 50 * parts:
        cuts = sorted({sample[len(sample) * k // parts] for k in range(1, parts)} - {low})
    else:
        step = max(1, -(-(high - low) // parts))
        cuts = list(range(low + step, high, step))
    return list(pairwise([low, *cuts, high]))


def merge(parts: list[ChainResult]) -> ChainResult:
    """The case ranges' results as one: problems in case order (the first is the first bad entry)."""
    total = ChainResult()
    for part in parts:
        total.entries += part.entries
        total.cases += part.cases
        total.problems.extend(part.problems)
    total.problems.sort()
    if not total.problems:
        ids = [p.ids for p in parts]
        total.ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        total.leaves = b"".join(p.leaves for p in parts)
        if len(parts) > 1:  # each part is sorted by id; merge them
            order = np.argsort(total.ids, kind="stable")
            total.ids = total.ids[order]
            total.leaves = np.frombuffer(total.leaves, np.uint8).reshape(-1, 32)[order].tobytes()
    return total


class ChainPool:
    """``check_chains`` over case ranges: the first on ``conn`` in this process (when ``result`` is
    called), the others in worker processes started at once, in the exported ``snapshot``; they
    then build part of the tree (``Levels``). Workers are *spawned*, not forked: the caller may have
    threads (onnxruntime, a web server) whose locks a forked child would inherit held. A context
    manager: leaving it stops the workers."""

    def __init__(
        self, conn: Any, params: dict[str, Any], table: str, ranges: list[tuple[int, int]], snapshot: str
    ):
        self.executor: ProcessPoolExecutor | None = None
        self._futures: list[Future[ChainResult]] = []
        self._inline = [(conn, table, *r) for r in ranges[:1]]
        if len(ranges) > 1:
            self.executor = ProcessPoolExecutor(max_workers=len(ranges) - 1, mp_context=get_context("spawn"))
            self._futures = [
                self.executor.submit(check_chains, params, table, *r, snapshot) for r in ranges[1:]
            ]

    def __enter__(self) -> ChainPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def result(self) -> ChainResult:
        parts = [check_chains(*args) for args in self._inline]
        parts += [f.result() for f in self._futures]  # in case order
        return merge(parts)


def leaf_entries(source: Any, leaf_table: str) -> tuple[Any, list[str]]:
    """The entry id of every Merkle leaf, in leaf order (one aggregated row: no per-row transfer),
    and any gap found in the leaf indexes."""
    agg = 'string_agg(int8send("index") || int8send(entry_id), \'\'::bytea ORDER BY "index")'
    sql = f"SELECT count(*), coalesce({agg}, ''::bytea) FROM {leaf_table}"  # noqa: S608
    import psycopg

    with _connection(source) as conn, psycopg.Cursor(conn) as cur:  # Django's cursor factory is text-only
        cur.execute(sql, binary=True)
        row = cur.fetchone()
    count, data = (int(row[0]), bytes(row[1])) if row else (0, b"")
    pairs = np.frombuffer(data, ">i8").reshape(-1, 2)
    if len(pairs) != count:
        return np.zeros(0, np.int64), ["merkle leaf table has a leaf without an entry id"]
    indexes = pairs[:, 0]
    gaps = np.flatnonzero(indexes != np.arange(len(indexes)))
    if len(gaps):
        at = int(gaps[0])
        return np.zeros(0, np.int64), [f"merkle leaf {at} missing (next is {int(indexes[at])})"]
    return pairs[:, 1].astype(np.int64), []


def tree_heads(conn: Any, head_table: str) -> list[tuple[int, str, str, str]]:
    """``(size, root_hash, signed_at, signature)`` of every signed tree head, smallest first."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT size, root_hash, signed_at, signature FROM {head_table} ORDER BY size")  # noqa: S608
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in cur.fetchall()]


def place_leaves(leaf_entry: Any, chains: ChainResult) -> tuple[bytes, list[str]]:
    """The leaf hashes in tree order: each leaf's entry looked up among the verified entries."""
    if len(leaf_entry) == 0:
        return b"", []
    ids = chains.ids
    if len(ids) == 0:
        return b"", [f"merkle leaf 0 points to a missing entry id={int(leaf_entry[0])}"]
    pos = np.minimum(np.searchsorted(ids, leaf_entry), len(ids) - 1)
    missing = np.flatnonzero(ids[pos] != leaf_entry)
    if len(missing):
        at = int(missing[0])
        return b"", [f"merkle leaf {at} points to a missing entry id={int(leaf_entry[at])}"]
    return np.frombuffer(chains.leaves, np.uint8).reshape(-1, 32)[pos].tobytes(), []


def _hash_records(data: bytes, count: int, size: int) -> bytes:
    """SHA-256 of each ``size``-byte record of ``data``, concatenated."""
    cut = map(slice, range(0, count * size, size), range(size, count * size + 1, size))
    return b"".join(map(_digest, map(hashlib.sha256, map(data.__getitem__, cut))))


def _parents(level: bytes, count: int) -> bytes:
    """The ``count`` parent nodes of a level: ``0x01 || left || right`` laid out by numpy, hashed."""
    pairs = np.empty((count, 65), np.uint8)
    pairs[:, 0] = _NODE_PREFIX
    pairs[:, 1:] = np.frombuffer(level, np.uint8, count=count * 64).reshape(count, 64)
    return _hash_records(pairs.tobytes(), count, 65)


def subtree_levels(leaves: bytes, top: int | None = None) -> list[bytes]:
    """Levels ``0..top`` (each 32 bytes per node) of the tree over ``leaves``, counted from 0; up to
    the single root when ``top`` is None. A run of leaves starting at a multiple of ``2**top`` of a
    larger tree gives exactly that tree's nodes over them, up to level ``top``."""
    levels = [leaves]
    n = len(leaves) // 32
    while (n > 1) if top is None else (len(levels) <= top):
        n //= 2
        levels.append(_parents(levels[-1], n))
    return levels


PARALLEL_TREE_MIN = 1 << 16


class Levels:
    """A Merkle tree held as its levels of complete-subtree hashes (each level one bytes object, 32
    bytes per node); a ``merkle.NodeStore``. With an ``executor``, a worker builds the lower levels
    of the right part while this process builds the left part's."""

    def __init__(self, leaves: bytes, executor: Executor | None = None):
        n = len(leaves) // 32
        if executor is None or n < PARALLEL_TREE_MIN:
            self.levels = subtree_levels(leaves)
            return
        top = max(1, (n // 2).bit_length() - 4)  # split near the middle, at a multiple of 2**top
        split = ((n // 2 + (1 << (top - 1))) >> top) << top
        right = executor.submit(subtree_levels, leaves[split * 32 :], top)
        left = subtree_levels(leaves[: split * 32], top)
        lower = [a + b for a, b in zip(left, right.result(), strict=True)]
        self.levels = lower[:top] + subtree_levels(lower[top])

    def get(self, level: int, index: int) -> bytes:
        if not (0 <= level < len(self.levels) and 0 <= index < len(self.levels[level]) // 32):
            raise KeyError((level, index))
        return self.levels[level][index * 32 : (index + 1) * 32]

    def get_many(self, keys: Any) -> dict[tuple[int, int], bytes]:
        out = {}
        for level, index in keys:
            with contextlib.suppress(KeyError):
                out[(level, index)] = self.get(level, index)
        return out
