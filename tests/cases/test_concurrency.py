"""Two units acting on one case at the same moment: one wins, the other gets 409, the chain holds.
Real threads with their own PostgreSQL connections (row locks are what is under test)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from tests.factories import City, build_city, register_case
from xietong.cases import services
from xietong.cases.models import Case, Transfer
from xietong.errors import Conflict
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at the same instant in threads; return each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _to_appeal_period(city: City) -> int:
    case_id = register_case(city)
    leader = city.u("gusu.police_leader")
    services.case_act(user=leader, case_id=case_id, action="transfer_for_prosecution")
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    services.transfer_accept(user=city.u("gusu.procu"), transfer_id=transfer.pk)
    services.case_act(user=city.u("gusu.procu_leader"), case_id=case_id, action="indict")
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    services.transfer_accept(user=city.u("gusu.judge"), transfer_id=transfer.pk)
    verdict = {"verdict": {"penalty": "fixed_term", "months": 24}}
    services.case_act(user=city.u("gusu.judge"), case_id=case_id, action="pronounce", options=verdict)
    return case_id


def _appeal_or_protest(city: City, case_id: int, version: int) -> list[object]:
    return race(
        lambda: services.case_act(
            user=city.u("gusu.clerk"), case_id=case_id, action="appeal", expected_version=version
        ),
        lambda: services.case_act(
            user=city.u("gusu.procu_leader"),
            case_id=case_id,
            action="protest",
            reason="量刑畸轻",
            expected_version=version,
        ),
    )


def test_appeal_and_protest_at_the_same_moment_one_wins() -> None:
    city = build_city()
    for _ in range(3):
        case_id = _to_appeal_period(city)
        version = Case.objects.get(pk=case_id).version
        results = _appeal_or_protest(city, case_id, version)
        wins = [r for r in results if isinstance(r, services.ActResult)]
        losses = [r for r in results if isinstance(r, Conflict)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert losses[0].status == 409
        assert Transfer.objects.filter(case_id=case_id, status="pending").count() == 1
        assert Case.objects.get(pk=case_id).version == version + 1
    ledger_integrate_all()
    assert ledger_verify().ok


def test_the_same_accept_sent_twice_at_once_is_applied_once() -> None:
    city = build_city()
    case_id = register_case(city)
    services.case_act(user=city.u("gusu.police_leader"), case_id=case_id, action="transfer_for_prosecution")
    transfer = Transfer.objects.get(case_id=case_id)
    procu = city.u("gusu.procu")
    results = race(
        lambda: services.transfer_accept(user=procu, transfer_id=transfer.pk),
        lambda: services.transfer_accept(user=procu, transfer_id=transfer.pk),
    )
    assert sum(isinstance(r, services.ActResult) for r in results) == 1, results
    assert [r.code for r in results if isinstance(r, Conflict)] == ["transfer_decided"], results
    assert LedgerEntry.objects.filter(case_id=case_id, action="accept").count() == 1


def test_many_cases_acted_on_in_parallel_keep_every_chain_intact() -> None:
    city = build_city()
    case_ids = [register_case(city) for _ in range(6)]
    leader = city.u("gusu.police_leader")

    def walk(case_id: int) -> Callable[[], object]:
        def run() -> object:
            party = Case.objects.get(pk=case_id).parties.get()
            services.case_act(user=leader, case_id=case_id, action="bail", party_ids=[party.pk])
            services.case_act(user=leader, case_id=case_id, action="surveil", party_ids=[party.pk])
            return services.case_act(user=leader, case_id=case_id, action="transfer_for_prosecution")

        return run

    results = race(*(walk(c) for c in case_ids))
    assert all(isinstance(r, services.ActResult) for r in results), results
    ledger_integrate_all()
    report = ledger_verify()
    assert report.ok and report.entries == 6 * 4
