"""Killing the delivery worker (``xietong feeds deliver --loop``, a real process) with SIGKILL while
a POST is in flight: no event is lost — another worker re-sends the batch after the lease, the
receiver drops the duplicates by id, and everything arrives once, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import build_city, register_case
from tests.feeds.conftest import Receiver, start, stop
from xietong.feeds.models import Subscription
from xietong.feeds.services import subscription_create
from xietong.ledger.models import MerkleLeaf

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_flushable")]


def _database_url() -> str | None:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    name = db["TEST"].get("NAME")
    return f"sqlite:///{name}" if name else None


def _worker(settings: object) -> subprocess.Popen[bytes]:
    url = _database_url()
    assert url is not None
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "XIETONG_INPROCESS_TASKS": "0",
        "XIETONG_FEEDS_TIMEOUT_SECONDS": "5",
        "XIETONG_LEDGER_KEY_FILE": str(settings.XIETONG_LEDGER_KEY_FILE),  # type: ignore[attr-defined]
    }
    return subprocess.Popen(
        [sys.executable, "-m", "xietong", "feeds", "deliver", "--loop", "--interval", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_mid_delivery_loses_no_event(settings: object) -> None:
    if _database_url() is None:
        pytest.skip("a worker process needs the database on disk: PostgreSQL, or XIETONG_TEST_SQLITE=<file>")
    city = build_city()
    receiver = start(Receiver(secret="kill-test-secret", delay=3.0))
    sub = subscription_create(
        owner=city.u("gusu.police"), name="公安业务系统", url=receiver.url, secret=receiver.secret, after=-1
    )
    for _ in range(3):
        register_case(city)
    first = _worker(settings)
    second: subprocess.Popen[bytes] | None = None
    try:
        # the batch has reached the receiver, which has not answered yet: kill the worker now
        assert _wait(lambda: len(receiver.requests) >= 1, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        sub.refresh_from_db()
        assert sub.cursor == -1 and sub.leased_until is not None  # the delivery was never recorded
        receiver.delay = 0.0
        for _ in range(2):
            register_case(city)
        # as if the lease had run out (it would, 20 s after the claim)
        Subscription.objects.filter(pk=sub.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
        second = _worker(settings)
        assert _wait(lambda: len(receiver.order) >= 5, 60)
        assert _wait(lambda: Subscription.objects.get(pk=sub.pk).cursor == 4, 30)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        stop(receiver)
    leaves = list(MerkleLeaf.objects.order_by("index").values_list("index", flat=True))
    assert receiver.order == leaves == [0, 1, 2, 3, 4]
    assert receiver.duplicates == 3  # the killed worker's batch, sent again
    assert receiver.bad_signatures == 0
