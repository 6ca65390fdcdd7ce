"""``ledger verify``: re-check every case chain, the Merkle tree and every signed tree head, and
optionally that the log still extends an exported checkpoint. Reads with a raw cursor in one ordered
pass, because verification must scale to millions of entries."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connection

from xietong.ledger import keys, merkle
from xietong.ledger.chain import GENESIS, entry_hash, timestamp_text
from xietong.ledger.models import LedgerEntry, MerkleLeaf, TreeHead


@dataclass
class VerifyReport:
    entries: int = 0
    cases: int = 0
    leaves: int = 0
    tree_heads: int = 0
    problems: list[str] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (PostgreSQL path)

    @property
    def ok(self) -> bool:
        return not self.problems


def _as_text(value: Any) -> str:
    if isinstance(value, datetime):
        return timestamp_text(value if value.tzinfo else value.replace(tzinfo=UTC))
    # SQLite hands back Django's stored text "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC.
    return timestamp_text(datetime.fromisoformat(str(value)).replace(tzinfo=UTC))


def _rows(sql: str) -> Iterator[tuple[Any, ...]]:
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(5000)
            if not rows:
                return
            yield from rows


def verify_chains(report: VerifyReport) -> dict[int, str]:
    """Every entry's hash recomputed, every link checked; returns entry id → hash for the tree."""
    table = LedgerEntry._meta.db_table
    columns = (
        "id, case_id, seq, recorded_at, actor_id, actor_name, actor_duty, unit_id, unit_name, action, "
        "payload, prev_hash, entry_hash"
    )
    sql = f"SELECT {columns} FROM {table} ORDER BY case_id, seq"  # noqa: S608 (names from the model)
    hashes: dict[int, str] = {}
    current_case: int | None = None
    expected_prev, expected_seq = GENESIS, 1
    for row in _rows(sql):
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
        ) = row
        if case_id != current_case:
            current_case, expected_prev, expected_seq = case_id, GENESIS, 1
            report.cases += 1
        report.entries += 1
        where = f"entry id={eid} (case {case_id} #{seq}, {action})"
        if seq != expected_seq:
            report.problems.append(f"{where}: sequence gap, expected #{expected_seq}")
        if prev != expected_prev:
            report.problems.append(f"{where}: prev_hash does not match the previous entry")
        recomputed = entry_hash(
            case_id=case_id,
            seq=seq,
            recorded_at=_as_text(at),
            actor_id=actor_id,
            actor_name=actor_name,
            actor_duty=duty,
            unit_id=unit_id,
            unit_name=unit_name,
            action=action,
            payload=payload,
            prev_hash=prev,
        )
        if recomputed != stored:
            report.problems.append(f"{where}: content does not match its hash")
        hashes[eid] = stored
        expected_prev, expected_seq = stored, seq + 1
        if len(report.problems) >= 20:
            break
    return hashes


def verify_tree(report: VerifyReport, hashes: dict[int, str]) -> merkle.MemoryNodeStore:
    """Rebuild the tree from the verified entries and check every signed head against it."""
    store = merkle.MemoryNodeStore()
    leaf_hashes: list[bytes] = []
    sql = 'SELECT "index", entry_id FROM ' + MerkleLeaf._meta.db_table + " ORDER BY 1"  # noqa: S608
    for index, entry_id in _rows(sql):
        if index != len(leaf_hashes):
            report.problems.append(f"merkle leaf {len(leaf_hashes)} missing (next is {index})")
            return store
        digest = hashes.get(entry_id)
        if digest is None:
            report.problems.append(f"merkle leaf {index} points to a missing entry id={entry_id}")
            return store
        leaf_hashes.append(merkle.leaf_hash(bytes.fromhex(digest)))
    report.leaves = len(leaf_hashes)
    store.put_many(merkle.new_nodes_for_append(store, 0, leaf_hashes))
    _verify_heads(report, store)
    return store


def load_checkpoint(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for key in ("size", "root_hash", "signed_at", "signature", "public_key"):
        if key not in data:
            raise ValueError(f"checkpoint lacks {key!r}")
    return data


def verify_checkpoint(report: VerifyReport, store: merkle.NodeStore, checkpoint: dict[str, Any]) -> None:
    """The current log must extend the checkpoint: the root over its first ``size`` leaves, rebuilt
    from today's entries, must equal the signed root in the file. A rewrite of any earlier row, even
    with every hash recomputed, changes that root."""
    import base64

    size, root = int(checkpoint["size"]), str(checkpoint["root_hash"])
    raw_public = base64.b64decode(checkpoint["public_key"])
    result: dict[str, Any] = {"size": size, "root_hash": root}
    if not keys.verify_tree_head(size, root, checkpoint["signed_at"], checkpoint["signature"], raw_public):
        report.problems.append("checkpoint signature invalid")
    elif size > report.leaves:
        report.problems.append(
            f"checkpoint size={size} but the log has only {report.leaves} leaves (truncated?)"
        )
    else:
        rebuilt = merkle.tree_root(store, size).hex()
        if rebuilt != root:
            report.problems.append(
                f"log does not extend checkpoint: root over first {size} leaves is {rebuilt}"
            )
        else:
            proof = merkle.consistency_proof(store, size, report.leaves)
            latest = merkle.tree_root(store, report.leaves)
            result["consistent"] = merkle.verify_consistency(
                size, report.leaves, bytes.fromhex(root), latest, proof
            )
            result["proof_length"] = len(proof)
    report.checkpoint = result


def _verify_heads(
    report: VerifyReport, store: Any, heads: list[tuple[int, str, str, str]] | None = None
) -> None:
    public = keys.public_key_bytes()
    if heads is None:
        heads = list(
            TreeHead.objects.order_by("size").values_list("size", "root_hash", "signed_at", "signature")
        )
    for size, root_hash, signed_at, signature in heads:
        report.tree_heads += 1
        if size > report.leaves:
            report.problems.append(f"tree head size={size} is beyond the {report.leaves} leaves")
            continue
        if merkle.tree_root(store, size).hex() != root_hash:
            report.problems.append(f"tree head size={size}: root does not match the entries")
        if not keys.verify_tree_head(size, root_hash, signed_at, signature, public):
            report.problems.append(f"tree head size={size}: signature invalid")


def _verify_postgresql(report: VerifyReport, checkpoint: dict[str, Any] | None) -> None:
    """Chains in this process and worker processes, all in one snapshot, while this process reads
    the leaf table and the tree heads; then the tree. Inside an open transaction, whose rows only
    the caller's connection sees, all of it on that connection, in this process."""
    from xietong.ledger import verify_fast

    entries_table, leaf_table = LedgerEntry._meta.db_table, MerkleLeaf._meta.db_table
    started = time.perf_counter()
    connection.ensure_connection()
    with contextlib.ExitStack() as stack:
        pool = None
        if connection.in_atomic_block:
            conn: Any = connection.connection
            chains = verify_fast.check_chains(conn, entries_table)
            heads = None
        else:
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            conn, snapshot = stack.enter_context(verify_fast.snapshot(params))
            ranges = verify_fast.case_ranges(conn, entries_table)
            pool = stack.enter_context(verify_fast.ChainPool(conn, params, entries_table, ranges, snapshot))
        leaf_entry, leaf_problems = verify_fast.leaf_entries(conn, leaf_table)
        if pool is not None:
            heads = verify_fast.tree_heads(conn, TreeHead._meta.db_table)
            chains = pool.result()
        report.timings["chains"] = time.perf_counter() - started
        report.entries, report.cases = chains.entries, chains.cases
        report.problems.extend(p[3] for p in chains.problems[:20])
        if not report.ok:
            return
        report.problems.extend(leaf_problems)
        if not report.ok:
            return
        started = time.perf_counter()
        leaves, problems = verify_fast.place_leaves(leaf_entry, chains)
        report.problems.extend(problems)
        if not report.ok:
            return
        report.leaves = len(leaves) // 32
        store = verify_fast.Levels(leaves, pool.executor if pool else None)
    _verify_heads(report, store, heads)
    if report.ok and checkpoint is not None:
        verify_checkpoint(report, store, checkpoint)
    report.timings["tree"] = time.perf_counter() - started


def ledger_verify(*, checkpoint: dict[str, Any] | None = None) -> VerifyReport:
    report = VerifyReport()
    if connection.vendor == "postgresql":
        _verify_postgresql(report, checkpoint)
        return report
    hashes = verify_chains(report)
    if report.ok:
        store = verify_tree(report, hashes)
        if report.ok and checkpoint is not None:
            verify_checkpoint(report, store, checkpoint)
    return report
