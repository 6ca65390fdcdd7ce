"""``ledger verify`` at scale: on PostgreSQL it takes the fast path (``ledger.verify_fast``: canonical
text assembled by the server, hashes, links and sequence numbers checked in batches, worker
processes, the tree rebuilt from numpy-laid levels). Every test here runs on both databases and
expects the same findings, so the fast path must catch exactly what the generic one catches."""

from __future__ import annotations

import hashlib
import itertools
import os
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection

from tests.ledger.test_ledger import _without_triggers
from xietong.ledger import merkle, verify_fast
from xietong.ledger.chain import entry_hash, timestamp_text
from xietong.ledger.models import LedgerEntry, TreeHead
from xietong.ledger.services import Actor, ledger_append, ledger_integrate, ledger_integrate_all
from xietong.ledger.verify import VerifyReport, ledger_verify, verify_chains, verify_tree

ODD_TEXT = 'back\\slash\ttab\nnew line\r\x1fseparator "quoted" 引号“”'
PEOPLE = [
    Actor(user_id=7, name="张三", duty="侦查员", unit_id=3, unit_name="姑苏分局"),
    Actor(user_id=None, name="系统", duty="", unit_id=None, unit_name=""),
    Actor(user_id=8, name=ODD_TEXT, duty="法官", unit_id=None, unit_name=ODD_TEXT),
]


def _ledger(cases: int = 6, per_case: int = 4, integrate: bool = True) -> None:
    """Entries round by round across cases (as a live system writes them), integrated in two batches."""
    for seq in range(per_case):
        for case_id in range(1, cases + 1):
            ledger_append(
                case_id=case_id,
                actor=PEOPLE[(case_id + seq) % len(PEOPLE)],
                action=f"act{seq}",
                payload={"n": seq, "note": ODD_TEXT if case_id == 2 else "普通", "list": [1, None]},
            )
    if integrate:
        ledger_integrate(batch_size=cases * per_case // 2)
        ledger_integrate_all()


def _entry(case_id: int, seq: int) -> LedgerEntry:
    return LedgerEntry.objects.get(case_id=case_id, seq=seq)


def _rehash(entry: LedgerEntry, **changes: object) -> str:
    """The hash a forger would store after changing ``changes`` (no secret is needed for that)."""
    fields = {
        "case_id": entry.case_id,
        "seq": entry.seq,
        "recorded_at": timestamp_text(entry.recorded_at),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_duty": entry.actor_duty,
        "unit_id": entry.unit_id,
        "unit_name": entry.unit_name,
        "action": entry.action,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
    }
    fields.update(changes)
    return entry_hash(**fields)  # type: ignore[arg-type]


def _generic() -> VerifyReport:
    """The generic (SQLite) path, run on whatever database the test has."""
    report = VerifyReport()
    hashes = verify_chains(report)
    if report.ok:
        verify_tree(report, hashes)
    return report


def _problems() -> list[str]:
    report = ledger_verify()
    assert report.problems[:3] == _generic().problems[:3]
    return report.problems


@pytest.mark.parametrize("libpq", ["17 or later", "16"])
def test_clean_ledger_with_odd_text_and_null_ids_verifies(
    db: None, libpq: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if libpq == "16":  # no chunked rows: a server-side cursor instead
        monkeypatch.setattr(psycopg.pq, "version", lambda: 160000)
    _ledger()
    ledger_append(case_id=99, actor=PEOPLE[1], action="late", payload={})  # not yet in the tree
    report = ledger_verify()
    assert report.ok, report.problems
    assert (report.entries, report.cases, report.leaves, report.tree_heads) == (25, 7, 24, 2)
    generic = _generic()
    assert (generic.entries, generic.cases, generic.leaves) == (25, 7, 24)


@pytest.mark.postgres_only
def test_another_client_encoding_is_set_aside_and_restored(db: None) -> None:
    """The canonical text is hashed as UTF-8 bytes, whatever the caller's connection was set to."""
    _ledger()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET client_encoding TO 'SQL_ASCII'")
        try:
            chains = verify_fast.check_chains(connection.connection, "ledger_ledgerentry")
            assert connection.connection.info.encoding == "ascii"
        finally:
            cursor.execute("SET client_encoding TO 'UTF8'")
    assert (chains.entries, chains.cases, chains.problems, len(chains.leaves)) == (24, 6, [], 24 * 32)


def test_rewritten_stored_hash_is_named(db: None) -> None:
    _ledger()
    victim = _entry(3, 2)
    forged = hashlib.sha256(b"another entry").hexdigest()
    _without_triggers("UPDATE ledger_ledgerentry SET entry_hash = %s WHERE id = %s", [forged, victim.pk])
    problems = _problems()
    assert problems[0] == f"entry id={victim.pk} (case 3 #2, act1): content does not match its hash"
    after = _entry(3, 3)
    assert f"entry id={after.pk} (case 3 #3, act2): prev_hash does not match the previous entry" in problems


def test_broken_prev_link_is_caught_even_with_a_recomputed_hash(db: None) -> None:
    _ledger()
    victim, other = _entry(4, 3), _entry(5, 2)
    new_hash = _rehash(victim, prev_hash=other.entry_hash)
    _without_triggers(
        "UPDATE ledger_ledgerentry SET prev_hash = %s, entry_hash = %s WHERE id = %s",
        [other.entry_hash, new_hash, victim.pk],
    )
    problems = _problems()
    where = f"entry id={victim.pk} (case 4 #3, act2)"
    assert problems[0] == f"{where}: prev_hash does not match the previous entry"
    assert not any("content does not match" in p for p in problems)


@pytest.mark.parametrize(
    ("case_id", "seq", "prev"),
    [
        (2, 1, "1" * 64),  # a case must start from GENESIS
        (2, 3, "upper"),  # the right hash in capitals is not the stored hash
        (2, 3, "short"),  # 63 characters
    ],
)
def test_prev_hash_must_be_exactly_the_previous_stored_hash(
    db: None, case_id: int, seq: int, prev: str
) -> None:
    _ledger()
    victim = _entry(case_id, seq)
    value = {"upper": victim.prev_hash.upper(), "short": victim.prev_hash[:63]}.get(prev, prev)
    _without_triggers(
        "UPDATE ledger_ledgerentry SET prev_hash = %s, entry_hash = %s WHERE id = %s",
        [value, _rehash(victim, prev_hash=value), victim.pk],
    )
    problems = _problems()
    assert problems[0] == (
        f"entry id={victim.pk} (case {case_id} #{seq}, act{seq - 1}): "
        "prev_hash does not match the previous entry"
    )


def test_stored_hash_in_capitals_does_not_match(db: None) -> None:
    _ledger()
    victim = _entry(6, 4)  # the last of its chain: no later link to give it away
    _without_triggers(
        "UPDATE ledger_ledgerentry SET entry_hash = upper(entry_hash) WHERE id = %s", [victim.pk]
    )
    assert _problems()[0] == f"entry id={victim.pk} (case 6 #4, act3): content does not match its hash"


def test_renumbered_entry_is_a_sequence_gap(db: None) -> None:
    _ledger()
    victim = _entry(1, 4)
    _without_triggers(
        "UPDATE ledger_ledgerentry SET seq = 6, entry_hash = %s WHERE id = %s",
        [_rehash(victim, seq=6), victim.pk],
    )
    assert _problems() == [f"entry id={victim.pk} (case 1 #6, act3): sequence gap, expected #4"]


def test_entries_moved_to_another_case_break_both_chains(db: None) -> None:
    _ledger()
    victim = _entry(5, 1)
    _without_triggers(
        "UPDATE ledger_ledgerentry SET case_id = 77, entry_hash = %s WHERE id = %s",
        [_rehash(victim, case_id=77), victim.pk],
    )
    problems = _problems()
    assert problems[0].startswith(f"entry id={_entry(5, 2).pk} (case 5 #2, act1): sequence gap, expected #1")


def test_wrong_tree_head_is_caught(db: None) -> None:
    _ledger()
    head = TreeHead.objects.order_by("size").first()
    assert head is not None
    _without_triggers(
        "UPDATE ledger_treehead SET root_hash = %s WHERE id = %s", [merkle.EMPTY_ROOT.hex(), head.pk]
    )
    assert _problems() == [
        f"tree head size={head.size}: root does not match the entries",
        f"tree head size={head.size}: signature invalid",
    ]


def test_forged_signature_is_caught(db: None) -> None:
    _ledger()
    head = TreeHead.objects.order_by("-size").first()
    assert head is not None
    _without_triggers("UPDATE ledger_treehead SET signature = %s WHERE id = %s", ["00" * 64, head.pk])
    assert _problems() == [f"tree head size={head.size}: signature invalid"]


def test_missing_leaf_is_caught(db: None) -> None:
    _ledger()
    _without_triggers('DELETE FROM ledger_merkleleaf WHERE "index" = 5', [])
    assert _problems() == ["merkle leaf 5 missing (next is 6)"]


def test_leaf_moved_to_another_entry_changes_the_roots(db: None) -> None:
    _ledger()
    late = ledger_append(case_id=50, actor=PEOPLE[0], action="late", payload={})
    assert late is not None
    _without_triggers('UPDATE ledger_merkleleaf SET entry_id = %s WHERE "index" = 0', [late.pk])
    problems = _problems()
    assert problems and all(p.endswith("root does not match the entries") for p in problems)


def test_levels_store_agrees_with_the_reference_tree() -> None:
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(37)]
    leaves = [merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]
    store = verify_fast.Levels(b"".join(leaves))
    reference = merkle.MemoryNodeStore(merkle.new_nodes_for_append(merkle.MemoryNodeStore(), 0, leaves))
    for size in (1, 2, 5, 16, 36, 37):
        assert merkle.tree_root(store, size) == merkle.tree_root(reference, size)
    assert merkle.consistency_proof(store, 5, 37) == merkle.consistency_proof(reference, 5, 37)
    assert store.get_many([(0, 36), (0, 37), (5, 0), (5, 1), (6, 0)]).keys() == {(0, 36), (5, 0)}
    with pytest.raises(KeyError):
        store.get(0, 37)
    assert verify_fast.Levels(b"").levels == [b""]


@pytest.mark.parametrize("count", [8, 9, 31, 32, 33, 100, 255, 1000, 1025])
def test_levels_built_in_two_parts_equal_the_levels_built_in_one(
    count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an executor, the right part's lower levels are built elsewhere (a worker process in
    ``ledger verify``; a thread here) and joined to the left part's at a power-of-two boundary."""
    monkeypatch.setattr(verify_fast, "PARALLEL_TREE_MIN", 8)
    leaves = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(count))
    with ThreadPoolExecutor(1) as executor:
        split = verify_fast.Levels(leaves, executor)
    assert split.levels == verify_fast.Levels(leaves).levels
    assert [len(level) // 32 for level in split.levels][-1] == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_worker_processes_check_every_range_and_name_the_bad_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside a transaction the chains go to spawned worker processes, one case range each."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(verify_fast, "PARALLEL_FROM_BYTES", 0)  # a worker even for a small table
    _ledger(cases=10)
    assert not connection.in_atomic_block
    report = ledger_verify()
    assert report.ok, report.problems
    assert (report.entries, report.cases, report.leaves, report.tree_heads) == (40, 10, 40, 2)
    assert verify_fast.case_ranges(_params(), "ledger_ledgerentry", 2) == [(1, 6), (6, 11)]

    first, second = _entry(2, 3), _entry(9, 2)  # one in each worker's range
    for victim in (second, first):
        _without_triggers("UPDATE ledger_ledgerentry SET payload = payload || ' ' WHERE id = %s", [victim.pk])
    report = ledger_verify()
    assert [p for p in report.problems if "content" in p] == [
        f"entry id={first.pk} (case 2 #3, act2): content does not match its hash",
        f"entry id={second.pk} (case 9 #2, act1): content does not match its hash",
    ]


@pytest.mark.postgres_only
@pytest.mark.parametrize("sampled", [True, False])
def test_case_ranges_cover_every_case_once(db: None, monkeypatch: pytest.MonkeyPatch, sampled: bool) -> None:
    """Split at the quantiles of a sample of the table's pages (here all of them) or, for a small
    table, at equal widths: either way the ranges are adjacent, ascending and cover every case."""
    monkeypatch.setattr(verify_fast, "PARALLEL_FROM_BYTES", 0)
    if sampled:
        monkeypatch.setattr(verify_fast, "SAMPLE_FROM_ROWS", 0)
        monkeypatch.setattr(verify_fast, "SAMPLE_ROWS", 10**9)
    _ledger(cases=40, per_case=2, integrate=False)
    _ledger(cases=3, per_case=30, integrate=False)  # old cases with long chains: a skewed table
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_ledgerentry")
    for parts in (1, 2, 3, 7):
        ranges = verify_fast.case_ranges(connection.connection, "ledger_ledgerentry", parts)
        assert ranges[0][0] == 1 and ranges[-1][1] == 41 and 1 <= len(ranges) <= parts
        assert all(low < high for low, high in ranges)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    halves = verify_fast.case_ranges(connection.connection, "ledger_ledgerentry", 2)
    # 170 entries: cases 1-3 hold 32 each, so the median entry belongs to case 3
    assert halves == ([(1, 3), (3, 41)] if sampled else [(1, 21), (21, 41)])
    monkeypatch.setattr(verify_fast, "PARALLEL_FROM_BYTES", 96 << 20)
    assert verify_fast.case_ranges(connection.connection, "ledger_ledgerentry", 2) == [(1, 41)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_every_part_sees_one_snapshot_while_the_ledger_grows() -> None:
    """Entries appended and integrated (with a new signed head) after the verifier's snapshot are
    invisible to the workers and to the leaf and head reads alike: no leaf or head can name an
    entry that the chain pass did not see."""
    _ledger(cases=4)
    with verify_fast.snapshot(_params()) as (conn, snapshot):
        ledger_append(case_id=1, actor=PEOPLE[0], action="later", payload={})
        ledger_integrate_all()
        chains = verify_fast.check_chains(_params(), "ledger_ledgerentry", snapshot=snapshot)
        leaf_entry, _ = verify_fast.leaf_entries(conn, "ledger_merkleleaf")
        heads = verify_fast.tree_heads(conn, "ledger_treehead")
    assert (chains.entries, len(leaf_entry), len(heads)) == (16, 16, 2)
    assert verify_fast.place_leaves(leaf_entry, chains)[1] == []
    report = ledger_verify()
    assert report.ok and (report.entries, report.leaves, report.tree_heads) == (17, 17, 3)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_worker_processes_on_an_empty_ledger() -> None:
    report = ledger_verify()
    assert report.ok and (report.entries, report.leaves, report.tree_heads) == (0, 0, 0)


def _params() -> dict[str, object]:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return params
