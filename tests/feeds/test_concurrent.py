"""Concurrent writers, a reader following the cursor and two delivery workers, each thread with its
own database connection: the feed has no gap and no repeat, every case's events keep their order,
and two workers never deliver the same subscription twice."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection

from tests.factories import City, build_city, register_case
from tests.feeds.conftest import Receiver, start, stop
from xietong.cases import services
from xietong.feeds.selectors import event_page
from xietong.feeds.services import feeds_deliver_due, subscription_create
from xietong.ledger.models import LedgerEntry, MerkleLeaf
from xietong.ledger.services import ledger_integrate_all

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_flushable")]


@pytest.fixture(autouse=True)
def _separate_connections() -> None:
    """SQLite's in-memory test database (shared cache) answers a second writer with "table is
    locked" at once instead of waiting: run with a file (XIETONG_TEST_SQLITE=/tmp/x.sqlite3) or on
    PostgreSQL."""
    if connection.vendor == "sqlite" and not connection.settings_dict["TEST"].get("NAME"):
        pytest.skip("needs separate connections: PostgreSQL, or SQLite with XIETONG_TEST_SQLITE=<file>")


WRITERS = 3
CASES_PER_WRITER = 4


def _write(city: City, county: str, errors: list[BaseException]) -> None:
    try:
        for _ in range(CASES_PER_WRITER):
            case_id = register_case(city, county=county)
            services.case_act(
                user=city.u(f"{county}.police_leader"), case_id=case_id, action="transfer_for_prosecution"
            )
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


def test_concurrent_writers_a_cursor_reader_and_two_delivery_workers() -> None:
    city = build_city()
    receiver = start(Receiver(secret="concurrent-secret"))
    subscription_create(
        owner=city.u("committee"), name="政法委数据中心", url=receiver.url, secret=receiver.secret, after=-1
    )
    errors: list[BaseException] = []
    done = threading.Event()
    read: list[dict[str, object]] = []

    def reader() -> None:
        try:
            after = -1
            while True:
                finished = done.is_set()
                ledger_integrate_all()
                page = event_page(user=city.u("committee"), after=after, limit=7)
                read.extend(page.events)
                after = page.next
                if finished and page.caught_up:
                    return
                time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def deliverer() -> None:
        try:
            while not done.is_set():
                close_old_connections()
                feeds_deliver_due()
                time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    counties = ["gusu", "wuzhong", "gusu"]
    writers = [threading.Thread(target=_write, args=(city, counties[i], errors)) for i in range(WRITERS)]
    others = [
        threading.Thread(target=reader),
        threading.Thread(target=deliverer),
        threading.Thread(target=deliverer),
    ]
    for thread in writers + others:
        thread.start()
    for thread in writers:
        thread.join(120)
    done.set()
    for thread in others:
        thread.join(120)
    try:
        assert errors == []
        total = WRITERS * CASES_PER_WRITER * 2
        assert LedgerEntry.objects.count() == total
        ledger_integrate_all()
        # the reader saw every leaf once, in order, with no gap
        assert [e["id"] for e in read] == list(range(total))
        assert [e["id"] for e in read] == list(
            MerkleLeaf.objects.order_by("index").values_list("index", flat=True)
        )
        # each case's events come in its chain's order
        per_case: dict[object, list[object]] = {}
        for event in read:
            per_case.setdefault(event["case_id"], []).append(event["seq"])
        assert all(seqs == sorted(seqs) for seqs in per_case.values())
        # the last events are delivered by a final pass; no batch was delivered twice at once
        feeds_deliver_due()
        assert receiver.order == list(range(total))
        assert receiver.duplicates == 0
    finally:
        stop(receiver)
