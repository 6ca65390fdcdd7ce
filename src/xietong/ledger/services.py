"""Writes to the ledger: appending an entry (inside the caller's transaction) and integrating
entries into the signed global Merkle tree (in the background, in batches)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from xietong import events, fastsql, servertime
from xietong.ledger import keys, merkle
from xietong.ledger.chain import GENESIS, canonical_payload, entry_hash, timestamp_text
from xietong.ledger.models import LedgerEntry, MerkleLeaf, MerkleNode, TreeHead

# Arbitrary constant naming the integrator's PostgreSQL advisory lock.
_INTEGRATOR_LOCK = 0x58544C47


@dataclass(frozen=True)
class Actor:
    """Who acts and in what capacity; copied into the entry so the trail outlives staff changes."""

    user_id: int | None
    name: str
    duty: str
    unit_id: int | None
    unit_name: str


def actor_of(user: Any, *, preferred: Sequence[str]) -> Actor:
    """The ``Actor`` for an act by ``user``: his capacity is the first duty of ``preferred`` that he
    holds (all his duties when none), his unit the one he belongs to."""
    from xietong.orgs.models import Duty

    held = [d for d in preferred if user.has_duty(d)]
    unit = user.unit
    return Actor(
        user_id=user.pk,
        name=user.full_name or user.username,
        duty=str(Duty(held[0]).label) if held else user.duty_labels,
        unit_id=unit.pk if unit else None,
        unit_name=unit.name if unit else "",
    )


def ledger_entry(
    *, case_id: int, head: tuple[int, str], actor: Actor, action: str, payload: dict[str, Any]
) -> LedgerEntry | None:
    """The next entry of ``case_id``'s chain after ``head`` (the seq and hash of its last entry, as
    kept on the locked case row), hashed but not yet written; None when ledger writing is off.
    For a caller that writes the case row anyway (the door of ``cases.services``): it sets the
    case's ``ledger_seq``/``ledger_head`` to the entry's ``seq``/``entry_hash`` in its own UPDATE
    and then ``ledger_insert``s the entry, in the transaction that holds the row lock."""
    if not settings.XIETONG_LEDGER_ENABLED:
        return None
    now = servertime.now()
    entry = LedgerEntry(
        case_id=case_id,
        seq=head[0] + 1,
        recorded_at=now,
        actor_id=actor.user_id,
        actor_name=actor.name,
        actor_duty=actor.duty,
        unit_id=actor.unit_id,
        unit_name=actor.unit_name,
        action=action,
        payload=canonical_payload(payload),
        prev_hash=head[1],
    )
    entry.entry_hash = entry_hash(
        case_id=case_id,
        seq=entry.seq,
        recorded_at=timestamp_text(now),
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        actor_duty=entry.actor_duty,
        unit_id=entry.unit_id,
        unit_name=entry.unit_name,
        action=action,
        payload=entry.payload,
        prev_hash=entry.prev_hash,
    )
    return entry


def ledger_insert(entry: LedgerEntry) -> LedgerEntry:
    """Write an entry made by ``ledger_entry`` (one INSERT)."""
    fastsql.insert([entry])
    return entry


def ledger_append(*, case_id: int, actor: Actor, action: str, payload: dict[str, Any]) -> LedgerEntry | None:
    """Append one entry to ``case_id``'s chain. The caller must hold the case row lock
    (``select_for_update``) and an open transaction, so that the entry commits or rolls back with
    the act it records and two acts on one case cannot fork its chain. The chain's head is read
    from the case row and moved there."""
    if not settings.XIETONG_LEDGER_ENABLED:
        return None
    case_table = _case_table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ledger_seq, ledger_head FROM {case_table} WHERE id = %s",  # noqa: S608
            [case_id],
        )
        row = cursor.fetchone()
    if row is not None:
        head = (int(row[0]), str(row[1]))
    else:  # no such case row: the chain alone says where it ends
        last = (
            LedgerEntry.objects.filter(case_id=case_id)
            .order_by("-seq")
            .values_list("seq", "entry_hash")
            .first()
        )
        head = (last[0], last[1]) if last else (0, GENESIS)
    entry = ledger_entry(case_id=case_id, head=head, actor=actor, action=action, payload=payload)
    if entry is None:
        return None
    ledger_insert(entry)
    # after commit, to whoever follows cases' histories (the rules engine, the event feed): every
    # act of every app passes here, the door's or not
    events.publish_on_commit("ledger.appended", case_id=case_id, action=action)
    if row is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {case_table} SET ledger_seq = %s, ledger_head = %s WHERE id = %s",  # noqa: S608
                [entry.seq, entry.entry_hash, case_id],
            )
    return entry


def _case_table() -> str:
    from django.apps import apps

    return str(connection.ops.quote_name(apps.get_model("cases", "Case")._meta.db_table))


class DbNodeStore:
    """``merkle.NodeStore`` over the MerkleNode table, with an in-memory overlay for nodes
    computed in the current batch."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], bytes] = {}

    def add(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        for level, index, digest in nodes:
            self._cache[(level, index)] = digest

    def get(self, level: int, index: int) -> bytes:
        return self.get_many([(level, index)])[(level, index)]

    def get_many(self, keys_: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        found = {k: self._cache[k] for k in keys_ if k in self._cache}
        missing = [k for k in keys_ if k not in found]
        if missing:
            from django.db.models import Q

            query = Q()
            for level, index in missing:
                query |= Q(level=level, index=index)
            for level, index, digest in MerkleNode.objects.filter(query).values_list(
                "level", "index", "hash"
            ):
                found[(level, index)] = bytes(digest)
                self._cache[(level, index)] = bytes(digest)
        return found  # absent keys are omitted, as ``merkle.NodeStore`` specifies


def _lock_integrator() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_INTEGRATOR_LOCK])
    # SQLite: the IMMEDIATE transaction already holds the database's single write lock.


def current_size() -> int:
    head = TreeHead.objects.order_by("-size").values_list("size", flat=True).first()
    return int(head or 0)


@transaction.atomic
def ledger_integrate(*, batch_size: int = 10_000) -> TreeHead | None:
    """Add up to ``batch_size`` not-yet-integrated entries to the Merkle tree, in commit order of
    discovery, and sign the new tree head. Idempotent: safe to run from any number of workers."""
    _lock_integrator()
    size = current_size()
    pending = list(
        LedgerEntry.objects.filter(leaf__isnull=True)
        .order_by("id")
        .values_list("id", "entry_hash")[:batch_size]
    )
    if not pending:
        return None
    store = DbNodeStore()
    leaf_hashes = [merkle.leaf_hash(bytes.fromhex(h)) for _, h in pending]
    nodes = merkle.new_nodes_for_append(store, size, leaf_hashes)
    store.add(nodes)
    MerkleLeaf.objects.bulk_create(
        [MerkleLeaf(index=size + i, entry_id=eid) for i, (eid, _) in enumerate(pending)]
    )
    MerkleNode.objects.bulk_create(
        [MerkleNode(level=lv, index=ix, hash=h) for lv, ix, h in nodes], batch_size=5000
    )
    new_size = size + len(pending)
    root = merkle.tree_root(store, new_size).hex()
    signed_at = timestamp_text(servertime.now())
    return TreeHead.objects.create(
        size=new_size,
        root_hash=root,
        signed_at=signed_at,
        signature=keys.sign_tree_head(new_size, root, signed_at),
        key_id=keys.key_id(),
    )


def ledger_integrate_all() -> int:
    """Integrate until nothing is pending; returns the number of tree heads signed."""
    heads = 0
    while ledger_integrate() is not None:
        heads += 1
    return heads
