"""The tamper-evident ledger: chains, Merkle tree, signed heads, checkpoints, triggers (F13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from tests.factories import City, register_case
from xietong.cases import services
from xietong.cases.models import Case
from xietong.ledger import merkle
from xietong.ledger.chain import GENESIS, entry_hash, timestamp_text
from xietong.ledger.models import LedgerEntry, TreeHead
from xietong.ledger.services import ledger_integrate, ledger_integrate_all
from xietong.ledger.verify import ledger_verify


def _cases_with_history(city: City, count: int = 3) -> list[int]:
    ids = []
    for _ in range(count):
        case_id = register_case(city)
        party = Case.objects.get(pk=case_id).parties.get()
        services.case_act(
            user=city.u("gusu.police_leader"), case_id=case_id, action="bail", party_ids=[party.pk]
        )
        services.case_act(
            user=city.u("gusu.police_leader"), case_id=case_id, action="transfer_for_prosecution"
        )
        ids.append(case_id)
    return ids


def _without_triggers(sql: str, params: list[object]) -> None:
    """What a DBA could do: switch the append-only triggers off, then rewrite a row."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(sql, params)
            cursor.execute("SET session_replication_role = DEFAULT")
        else:
            for table in ("ledger_ledgerentry", "ledger_treehead", "ledger_merkleleaf", "ledger_merklenode"):
                for op in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
            cursor.execute(sql, params)


def test_each_case_has_its_own_chain_and_verify_passes(city: City) -> None:
    first, second = _cases_with_history(city, 2)
    chain = list(LedgerEntry.objects.filter(case_id=first).order_by("seq"))
    assert [e.seq for e in chain] == [1, 2, 3]
    assert chain[0].prev_hash == GENESIS and chain[1].prev_hash == chain[0].entry_hash
    assert LedgerEntry.objects.get(case_id=second, seq=1).prev_hash == GENESIS
    recomputed = entry_hash(
        case_id=chain[0].case_id,
        seq=1,
        recorded_at=timestamp_text(chain[0].recorded_at),
        actor_id=chain[0].actor_id,
        actor_name=chain[0].actor_name,
        actor_duty=chain[0].actor_duty,
        unit_id=chain[0].unit_id,
        unit_name=chain[0].unit_name,
        action=chain[0].action,
        payload=chain[0].payload,
        prev_hash=GENESIS,
    )
    assert recomputed == chain[0].entry_hash
    ledger_integrate_all()
    report = ledger_verify()
    assert report.ok, report.problems
    assert (report.entries, report.cases, report.leaves) == (6, 2, 6)


def test_triggers_reject_update_and_delete(city: City) -> None:
    _cases_with_history(city, 1)
    ledger_integrate_all()
    entry = LedgerEntry.objects.first()
    assert entry is not None
    for statement in (
        ("UPDATE ledger_ledgerentry SET action = 'forged' WHERE id = %s", [entry.pk]),
        ("DELETE FROM ledger_ledgerentry WHERE id = %s", [entry.pk]),
        ("UPDATE ledger_treehead SET root_hash = 'x'", []),
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(*statement)
    assert LedgerEntry.objects.get(pk=entry.pk).action == entry.action


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "withdraw"),
        ("actor_name", "别人"),
        ("payload", '{"label":"改过"}'),
        ("unit_name", "另一单位"),
    ],
)
def test_verify_names_the_first_row_changed_in_sql(city: City, column: str, value: str) -> None:
    case_id = _cases_with_history(city, 2)[0]
    ledger_integrate_all()
    victim = LedgerEntry.objects.get(case_id=case_id, seq=2)
    _without_triggers(f"UPDATE ledger_ledgerentry SET {column} = %s WHERE id = %s", [value, victim.pk])  # noqa: S608
    report = ledger_verify()
    assert not report.ok
    assert report.problems[0].startswith(f"entry id={victim.pk} (case {case_id} #2")
    with pytest.raises(CommandError, match=f"entry id={victim.pk}"):
        call_command("ledger", "verify")


def test_deleted_row_breaks_the_chain(city: City) -> None:
    case_id = _cases_with_history(city, 1)[0]
    victim = LedgerEntry.objects.get(case_id=case_id, seq=2)
    _without_triggers("DELETE FROM ledger_ledgerentry WHERE id = %s", [victim.pk])
    report = ledger_verify()
    assert not report.ok and "sequence gap" in report.problems[0]


def test_checkpoint_catches_a_full_recomputed_rewrite(city: City, tmp_path: Path) -> None:
    case_id = _cases_with_history(city, 2)[0]
    checkpoint = tmp_path / "checkpoint.json"
    call_command("ledger", "checkpoint", str(checkpoint))
    call_command("ledger", "verify", "--checkpoint", str(checkpoint))

    # A DBA rewrites an old entry and recomputes every hash after it in the chain, then rebuilds
    # the Merkle tree and tree heads (but cannot sign with the ledger key, which is not in the DB).
    entries = list(LedgerEntry.objects.filter(case_id=case_id).order_by("seq"))
    prev = GENESIS
    for index, entry in enumerate(entries):
        action = "withdraw" if index == 1 else entry.action
        new_hash = entry_hash(
            case_id=entry.case_id,
            seq=entry.seq,
            recorded_at=timestamp_text(entry.recorded_at),
            actor_id=entry.actor_id,
            actor_name=entry.actor_name,
            actor_duty=entry.actor_duty,
            unit_id=entry.unit_id,
            unit_name=entry.unit_name,
            action=action,
            payload=entry.payload,
            prev_hash=prev,
        )
        _without_triggers(
            "UPDATE ledger_ledgerentry SET action = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
            [action, prev, new_hash, entry.pk],
        )
        prev = new_hash
    _without_triggers("DELETE FROM ledger_treehead", [])
    _without_triggers("DELETE FROM ledger_merkleleaf", [])
    _without_triggers("DELETE FROM ledger_merklenode", [])
    report = ledger_verify()
    assert report.ok  # the chains alone are consistent again: this is why checkpoints exist
    ledger_integrate_all()  # the forger re-signs with the server's key: still caught by the checkpoint
    with pytest.raises(CommandError, match="does not extend checkpoint"):
        call_command("ledger", "verify", "--checkpoint", str(checkpoint))


def test_checkpoint_file_errors_are_clear(db: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match="无法读取检查点文件"):
        call_command("ledger", "verify", "--checkpoint", str(bad))
    with pytest.raises(CommandError, match="无法读取检查点文件"):
        call_command("ledger", "verify", "--checkpoint", str(tmp_path / "missing.json"))


def test_integration_signs_heads_that_grow_consistently(city: City) -> None:
    _cases_with_history(city, 1)
    first = ledger_integrate()
    _cases_with_history(city, 1)
    second = ledger_integrate()
    assert first is not None and second is not None and (first.size, second.size) == (3, 6)
    assert ledger_integrate() is None
    client = APIClient()
    head = client.get("/api/v1/ledger/tree-head").json()
    assert head["size"] == 6 and head["algorithm"] == "Ed25519"
    consistency = client.get("/api/v1/ledger/proofs/consistency?first=3&second=6").json()
    assert merkle.verify_consistency(
        3,
        6,
        bytes.fromhex(first.root_hash),
        bytes.fromhex(second.root_hash),
        [bytes.fromhex(p) for p in consistency["proof"]],
    )
    assert client.get("/api/v1/ledger/proofs/consistency?first=2&second=6").status_code == 400


def test_inclusion_proof_over_the_api_verifies_offline(city: City) -> None:
    _cases_with_history(city, 2)
    ledger_integrate_all()
    entry = LedgerEntry.objects.order_by("id")[3]
    client = APIClient()
    client.force_authenticate(city.u("gusu.police"))
    proof = client.get(f"/api/v1/ledger/proofs/inclusion?entry_hash={entry.entry_hash}").json()
    head = TreeHead.objects.order_by("-size").first()
    assert head is not None and proof["tree_size"] == head.size
    assert merkle.verify_inclusion(
        merkle.leaf_hash(bytes.fromhex(entry.entry_hash)),
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(p) for p in proof["proof"]],
        bytes.fromhex(head.root_hash),
    )
    missing = client.get(f"/api/v1/ledger/proofs/inclusion?entry_hash={'0' * 64}")
    assert missing.status_code == 404 and missing.json()["code"] == "entry_not_integrated"


def test_checkpoint_json_carries_the_public_key(city: City, tmp_path: Path) -> None:
    _cases_with_history(city, 1)
    path = tmp_path / "cp.json"
    call_command("ledger", "checkpoint", str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["size"] == 3 and len(data["signature"]) == 128 and data["public_key"]
