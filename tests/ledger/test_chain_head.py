"""The head of each case's chain (seq and hash of its last entry) kept on the case row: every writer
of the ledger moves it with the entry, the migration fills it in for existing chains, and a stale
head cannot fork a chain."""

from __future__ import annotations

import importlib

import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import City, register_case
from xietong.cases import services
from xietong.cases.models import Case, Transfer
from xietong.ledger.chain import GENESIS
from xietong.ledger.models import LedgerEntry
from xietong.ledger.selectors import stale_chain_heads
from xietong.ledger.services import actor_of, ledger_append, ledger_integrate_all
from xietong.ledger.verify import ledger_verify


def _head(case_id: int) -> tuple[int, str]:
    case = Case.objects.get(pk=case_id)
    return case.ledger_seq, case.ledger_head


def _last(case_id: int) -> tuple[int, str]:
    entry = LedgerEntry.objects.filter(case_id=case_id).order_by("-seq").first()
    return (entry.seq, entry.entry_hash) if entry else (0, GENESIS)


def test_every_kind_of_write_moves_the_head_with_the_entry(city: City) -> None:
    leader, handler = city.u("gusu.police_leader"), city.u("gusu.police")
    case_id = register_case(city)
    assert _head(case_id) == _last(case_id) and _head(case_id)[0] == 1
    party = Case.objects.get(pk=case_id).parties.get()

    services.case_act(user=leader, case_id=case_id, action="detain", party_ids=[party.pk])
    assert _head(case_id) == _last(case_id) == (2, _last(case_id)[1])
    # a handler's request waits for approval (an entry, no act); refused, then asked and approved
    asked = services.case_act(user=handler, case_id=case_id, action="request_arrest", party_ids=[party.pk])
    assert asked.status == "pending_approval" and _head(case_id) == _last(case_id)
    services.request_decide(user=leader, request_id=asked.request.pk, approve=False, reason="再查")  # type: ignore[union-attr]
    assert _head(case_id) == _last(case_id)
    asked = services.case_act(user=handler, case_id=case_id, action="request_arrest", party_ids=[party.pk])
    services.request_decide(user=leader, request_id=asked.request.pk, approve=True)  # type: ignore[union-attr]
    assert _head(case_id) == _last(case_id)
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    services.transfer_return(user=city.u("gusu.procu"), transfer_id=transfer.pk, reason="材料不全")
    assert _head(case_id) == _last(case_id)
    services.case_act(user=leader, case_id=case_id, action="request_arrest", party_ids=[party.pk])
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    result = services.transfer_accept(user=city.u("gusu.procu"), transfer_id=transfer.pk)
    assert _head(case_id) == _last(case_id) == (result.case.ledger_seq, result.entry_hash)  # type: ignore[union-attr]
    # the other writers (dossier, review) append with the case row locked
    with transaction.atomic():
        services._lock_case(case_id)
        entry = ledger_append(
            case_id=case_id,
            actor=actor_of(city.u("gusu.procu"), preferred=["handler"]),
            action="volume_upload",
            payload={"label": "上传卷宗"},
        )
    assert entry is not None and _head(case_id) == (entry.seq, entry.entry_hash) == _last(case_id)
    assert stale_chain_heads() == 0
    ledger_integrate_all()
    assert ledger_verify().ok


def test_with_the_ledger_off_the_head_stays(city: City, settings: object) -> None:
    case_id = register_case(city)
    before = _head(case_id)
    settings.XIETONG_LEDGER_ENABLED = False  # type: ignore[attr-defined]
    result = services.case_act(
        user=city.u("gusu.police_leader"), case_id=case_id, action="transfer_for_prosecution"
    )
    assert result.entry_hash is None and _head(case_id) == before == _last(case_id)
    settings.XIETONG_LEDGER_ENABLED = True  # type: ignore[attr-defined]
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    services.transfer_accept(user=city.u("gusu.procu"), transfer_id=transfer.pk)
    assert _head(case_id) == _last(case_id) == (before[0] + 1, _last(case_id)[1])
    ledger_integrate_all()
    assert ledger_verify().ok


def test_a_stale_head_fails_the_act_instead_of_forking_the_chain(city: City) -> None:
    case_id = register_case(city)
    services.case_act(user=city.u("gusu.police_leader"), case_id=case_id, action="transfer_for_prosecution")
    seq, _hash = _head(case_id)
    Case.objects.filter(pk=case_id).update(ledger_seq=seq - 1, ledger_head=GENESIS)
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    with pytest.raises(IntegrityError), transaction.atomic():
        services.transfer_accept(user=city.u("gusu.procu"), transfer_id=transfer.pk)
    assert LedgerEntry.objects.filter(case_id=case_id).count() == seq
    assert Transfer.objects.get(pk=transfer.pk).status == "pending"  # the whole act rolled back
    assert stale_chain_heads() == 1


def test_the_migration_fills_in_the_heads_of_existing_chains(city: City) -> None:
    acted = register_case(city)
    services.case_act(user=city.u("gusu.police_leader"), case_id=acted, action="transfer_for_prosecution")
    registered = register_case(city)
    Case.objects.update(ledger_seq=0, ledger_head=GENESIS)  # as on a database from before the migration
    assert stale_chain_heads() == 2
    migration = importlib.import_module("xietong.cases.migrations.0003_case_ledger_head")
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL, [migration.GENESIS])
    assert stale_chain_heads() == 0
    assert _head(acted) == _last(acted) and _head(acted)[0] == 2
    assert _head(registered) == _last(registered) and _head(registered)[0] == 1
