"""Reads of the ledger: a case's timeline, proofs and the latest signed tree head."""

from __future__ import annotations

import json
from typing import Any

from xietong.errors import NotFound, ValidationFailed
from xietong.ledger import keys, merkle
from xietong.ledger.models import LedgerEntry, MerkleLeaf, TreeHead
from xietong.ledger.services import DbNodeStore


def case_timeline(*, case_id: int, viewer_agency: str | None = None) -> list[dict[str, Any]]:
    """The case's acts, oldest first: who (person, duty, unit) did what, when, approved by whom.
    Entries an agency marked internal (``"scope": "agency"``, e.g. a prosecutor's review report) are
    left out for viewers of other agencies; ``viewer_agency=None`` shows everything (政法委, tools).
    The chain itself is whole either way: this only chooses what to display."""
    rows = []
    entries = list(LedgerEntry.objects.filter(case_id=case_id).order_by("seq"))
    agency_of: dict[int, str] = {}
    if viewer_agency is not None:
        from xietong.orgs.models import Unit

        unit_ids = {e.unit_id for e in entries if e.unit_id is not None}
        agency_of = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "agency"))
    for entry in entries:
        payload = json.loads(entry.payload)
        if entry_hidden_from(
            payload=payload, entry_agency=agency_of.get(entry.unit_id or 0), viewer_agency=viewer_agency
        ):
            continue
        rows.append(
            {
                "seq": entry.seq,
                "at": entry.recorded_at,
                "actor": entry.actor_name,
                "duty": entry.actor_duty,
                "unit": entry.unit_name,
                "action": entry.action,
                "label": payload.get("label", entry.action),
                "approved_by": payload.get("approved_by"),
                "instrument": payload.get("instrument"),
                "to_unit": payload.get("to_unit"),
                "reason": payload.get("reason"),
                "parties": payload.get("party_names"),
                "entry_hash": entry.entry_hash,
            }
        )
    return rows


def entry_hidden_from(
    *, payload: dict[str, Any], entry_agency: str | None, viewer_agency: str | None
) -> bool:
    """Whether an entry is kept from a viewer of ``viewer_agency`` (None: sees everything): entries
    an agency marked internal (``"scope": "agency"``) are shown to that agency only. The one rule
    for the timeline and the event feed (``feeds``)."""
    return viewer_agency is not None and payload.get("scope") == "agency" and entry_agency != viewer_agency


def tree_head_latest() -> dict[str, Any]:
    head = TreeHead.objects.order_by("-size").first()
    base = {"public_key": keys.public_key_b64(), "key_id": keys.key_id(), "algorithm": "Ed25519"}
    if head is None:
        return {**base, "size": 0, "root_hash": merkle.EMPTY_ROOT.hex(), "signed_at": None, "signature": None}
    return {
        **base,
        "size": head.size,
        "root_hash": head.root_hash,
        "signed_at": head.signed_at,
        "signature": head.signature,
    }


def inclusion_proof_for(*, entry_hash: str, size: int | None = None) -> dict[str, Any]:
    leaf = MerkleLeaf.objects.filter(entry__entry_hash=entry_hash).values_list("index", flat=True).first()
    if leaf is None:
        raise NotFound("该留痕记录不存在或尚未纳入默克尔树", code="entry_not_integrated")
    head = (
        TreeHead.objects.filter(size__gt=leaf, **({"size": size} if size else {})).order_by("-size").first()
    )
    if head is None:
        raise NotFound("没有包含该记录的已签名树头", code="tree_head_not_found")
    proof = merkle.inclusion_proof(DbNodeStore(), int(leaf), head.size)
    return {
        "entry_hash": entry_hash,
        "leaf_index": leaf,
        "leaf_hash": merkle.leaf_hash(bytes.fromhex(entry_hash)).hex(),
        "tree_size": head.size,
        "root_hash": head.root_hash,
        "proof": [p.hex() for p in proof],
    }


def consistency_proof_between(*, old_size: int, new_size: int) -> dict[str, Any]:
    heads = {h.size: h for h in TreeHead.objects.filter(size__in=[old_size, new_size])}
    if old_size not in heads or new_size not in heads or old_size > new_size or old_size <= 0:
        raise ValidationFailed("两个树头大小须为已签名树头，且 first ≤ second", code="bad_tree_sizes")
    proof = merkle.consistency_proof(DbNodeStore(), old_size, new_size)
    return {
        "first": old_size,
        "second": new_size,
        "first_root": heads[old_size].root_hash,
        "second_root": heads[new_size].root_hash,
        "proof": [p.hex() for p in proof],
    }


def stale_chain_heads() -> int:
    """How many cases' rows hold a chain head (``ledger_seq``, ``ledger_head``) other than the seq
    and hash of their last ledger entry (must be 0: the next append would fail on its seq)."""
    from django.apps import apps
    from django.db import connection

    from xietong.ledger.chain import GENESIS

    qn = connection.ops.quote_name
    cases = qn(apps.get_model("cases", "Case")._meta.db_table)
    entries = qn(LedgerEntry._meta.db_table)
    last = f"(SELECT {{}} FROM {entries} e WHERE e.case_id = c.id ORDER BY e.seq DESC LIMIT 1)"  # noqa: S608
    sql = (
        f"SELECT COUNT(*) FROM {cases} c "  # noqa: S608 (names from the models)
        f"WHERE c.ledger_seq <> COALESCE({last.format('e.seq')}, 0) "
        f"OR c.ledger_head <> COALESCE({last.format('e.entry_hash')}, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [GENESIS])
        return int(cursor.fetchone()[0])
