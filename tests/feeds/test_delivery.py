"""Push delivery to a real local HTTP receiver: order, signatures, backoff, dead letters and replay,
a receiver that was down, a crash between the POST and the commit, two workers."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import City, register_case
from tests.feeds.conftest import Receiver, start, stop
from xietong.feeds import services, signing
from xietong.feeds.models import DeadLetter, Subscription
from xietong.feeds.services import feeds_deliver_due, subscription_create
from xietong.ledger.models import MerkleLeaf
from xietong.ledger.services import ledger_integrate_all

pytestmark = pytest.mark.django_db


def _subscribe(city: City, receiver: Receiver, who: str = "gusu.police", **kw: object) -> Subscription:
    return subscription_create(
        owner=city.u(who),
        name="公安业务系统",
        url=receiver.url,
        secret=receiver.secret,
        after=-1,
        **kw,  # type: ignore[arg-type]
    )


def _make_due(sub: Subscription) -> None:
    Subscription.objects.filter(pk=sub.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def _all_leaves() -> list[int]:
    return list(MerkleLeaf.objects.order_by("index").values_list("index", flat=True))


def test_webhook_receives_every_visible_event_in_order_signed(city: City, receiver: Receiver) -> None:
    sub = _subscribe(city, receiver)
    for _ in range(3):
        register_case(city)
    register_case(city, county="wuzhong")  # not visible to gusu's police
    # the loop integrates by itself: no ledger.integrate run is needed first
    assert feeds_deliver_due() == 3
    assert len(receiver.order) == 3 and receiver.order == sorted(receiver.order)
    assert receiver.bad_signatures == 0 and receiver.duplicates == 0
    body = receiver.requests[0]
    assert body["subscription"] == sub.pk and body["tree_head"]["size"] == 4
    assert body["next"] == 3  # the wuzhong case's leaf is stepped over
    sub.refresh_from_db()
    assert sub.cursor == 3 and sub.delivered_count == 3 and sub.failures == 0
    assert sub.last_status == "HTTP 200" and sub.leased_until is None
    # nothing new: nothing sent
    assert feeds_deliver_due() == 0 and len(receiver.requests) == 1


def test_batches_hold_at_most_the_configured_number(city: City, receiver: Receiver, settings: object) -> None:
    settings.XIETONG_FEEDS_BATCH = 2  # type: ignore[attr-defined]
    _subscribe(city, receiver)
    for _ in range(5):
        register_case(city)
    assert feeds_deliver_due() == 5
    assert [len(r["events"]) for r in receiver.requests] == [2, 2, 1]
    assert receiver.order == [0, 1, 2, 3, 4]


def test_a_failure_backs_off_then_the_retry_delivers(city: City, receiver: Receiver) -> None:
    sub = _subscribe(city, receiver)
    register_case(city)
    receiver.fail_next = 2
    # first attempt: 503 → backoff
    before = timezone.now()
    assert feeds_deliver_due() == 0
    sub.refresh_from_db()
    assert sub.failures == 1 and sub.cursor == -1 and sub.last_status == "failed"
    assert "503" in sub.last_error
    assert timedelta(seconds=0.4) <= sub.next_attempt_at - before <= timedelta(seconds=1.5)
    # not due yet: nothing is tried
    assert feeds_deliver_due() == 0 and receiver.fail_next == 1
    _make_due(sub)
    assert feeds_deliver_due() == 0
    sub.refresh_from_db()
    assert sub.failures == 2
    assert timedelta(seconds=0.9) <= sub.next_attempt_at - timezone.now() <= timedelta(seconds=2.5)
    _make_due(sub)
    assert feeds_deliver_due() == 1
    sub.refresh_from_db()
    assert sub.failures == 0 and sub.cursor == 0 and sub.first_failed_at is None
    assert receiver.order == [0]


def test_backoff_is_capped_and_jittered(settings: object) -> None:
    settings.XIETONG_FEEDS_BACKOFF_CAP_SECONDS = 600  # type: ignore[attr-defined]
    delays = [services._backoff(30) for _ in range(50)]
    assert all(300 <= d <= 600 for d in delays)
    assert len(set(delays)) > 1
    assert 4 <= services._backoff(4) <= 8


def test_after_the_retries_the_batch_is_a_dead_letter_and_delivery_goes_on(
    city: City, receiver: Receiver, settings: object
) -> None:
    settings.XIETONG_FEEDS_MAX_ATTEMPTS = 3  # type: ignore[attr-defined]
    sub = _subscribe(city, receiver)
    register_case(city)
    register_case(city)
    receiver.status = 500
    for _ in range(3):
        _make_due(sub)
        feeds_deliver_due()
    letter = DeadLetter.objects.get()
    assert (letter.first_index, letter.last_index, letter.attempts) == (0, 1, 3)
    assert [e["id"] for e in letter.events] == [0, 1] and "500" in letter.last_error
    sub.refresh_from_db()
    assert sub.cursor == 1 and sub.failures == 0 and sub.last_status == "dead_letter"
    # the receiver comes back: new events flow, the dead ones wait for an operator
    receiver.status = 200
    register_case(city)
    _make_due(sub)
    assert feeds_deliver_due() == 1
    assert receiver.order == [2]
    # replay by the operator's command: the old events arrive, signed
    call_command("feeds", "replay")
    letter.refresh_from_db()
    assert letter.replayed_at is not None and letter.attempts == 4
    assert sorted(receiver.order) == [0, 1, 2] and receiver.bad_signatures == 0
    assert receiver.requests[-1]["replay"] == letter.pk


def test_max_age_also_sends_a_batch_to_the_dead_letters(
    city: City, receiver: Receiver, settings: object
) -> None:
    settings.XIETONG_FEEDS_MAX_AGE_SECONDS = 60  # type: ignore[attr-defined]
    sub = _subscribe(city, receiver)
    register_case(city)
    receiver.status = 500
    feeds_deliver_due()
    Subscription.objects.filter(pk=sub.pk).update(first_failed_at=timezone.now() - timedelta(minutes=2))
    _make_due(sub)
    feeds_deliver_due()
    assert DeadLetter.objects.filter(subscription=sub).count() == 1


def test_dead_letters_api_lists_and_replays_for_the_owner_only(
    city: City, receiver: Receiver, settings: object
) -> None:
    settings.XIETONG_FEEDS_MAX_ATTEMPTS = 1  # type: ignore[attr-defined]
    _subscribe(city, receiver)
    register_case(city)
    receiver.status = 500
    feeds_deliver_due()
    letter = DeadLetter.objects.get()
    owner, other = APIClient(), APIClient()
    owner.force_authenticate(city.u("gusu.police"))
    other.force_authenticate(city.u("wuzhong.police"))
    assert [d["id"] for d in owner.get("/api/v1/feeds/dead-letters").json()["results"]] == [letter.pk]
    assert other.get("/api/v1/feeds/dead-letters").json()["results"] == []
    refused = other.post(f"/api/v1/feeds/dead-letters/{letter.pk}/replay")
    assert refused.status_code == 404 and refused.json()["code"] == "dead_letter_not_found"
    failed = owner.post(f"/api/v1/feeds/dead-letters/{letter.pk}/replay")
    assert failed.status_code == 502 and failed.json()["code"] == "dead_letter_replay_failed"
    receiver.status = 200
    done = owner.post(f"/api/v1/feeds/dead-letters/{letter.pk}/replay")
    assert done.status_code == 200 and done.json()["replayed_at"]
    again = owner.post(f"/api/v1/feeds/dead-letters/{letter.pk}/replay")
    assert again.status_code == 403 and again.json()["code"] == "dead_letter_replayed"
    assert receiver.order == [0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_subscriber_down_for_a_while_catches_up_in_order(city: City, settings: object) -> None:
    settings.XIETONG_FEEDS_BATCH = 4  # type: ignore[attr-defined]
    port = _free_port()
    receiver = start(Receiver(secret="s3cret-s3cret"), port=port)
    sub = _subscribe(city, receiver)
    register_case(city)
    assert feeds_deliver_due() == 1
    stop(receiver)  # the subscriber goes down
    for _ in range(9):
        register_case(city)
    for _ in range(3):
        _make_due(sub)
        assert feeds_deliver_due() == 0
    sub.refresh_from_db()
    assert sub.failures == 3 and sub.cursor == 0
    back = start(Receiver(secret="s3cret-s3cret", seen=dict(receiver.seen), order=list(receiver.order)), port)
    try:
        _make_due(sub)
        assert feeds_deliver_due() == 9
        assert back.order == _all_leaves() == list(range(10))
        assert back.duplicates == 0
    finally:
        stop(back)


def test_a_crash_between_post_and_commit_resends_and_the_receiver_dedupes(
    city: City, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = _subscribe(city, receiver)
    register_case(city)
    register_case(city)
    real = services._record_success

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("worker killed after the POST")

    monkeypatch.setattr(services, "_record_success", crash)
    with pytest.raises(SystemExit):
        feeds_deliver_due()
    assert receiver.order == [0, 1]
    sub.refresh_from_db()
    assert sub.cursor == -1 and sub.leased_until is not None  # nothing recorded; the lease is held
    monkeypatch.setattr(services, "_record_success", real)
    # another worker cannot take it while the lease runs ...
    assert feeds_deliver_due() == 0
    # ... and takes it over when the lease has expired: the batch is sent again
    Subscription.objects.filter(pk=sub.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert feeds_deliver_due() == 2
    assert len(receiver.requests) == 2 and receiver.duplicates == 2
    assert receiver.order == [0, 1]
    sub.refresh_from_db()
    assert sub.cursor == 1


def test_a_claimed_subscription_is_not_claimed_by_a_second_worker(city: City, receiver: Receiver) -> None:
    sub = _subscribe(city, receiver)
    register_case(city)
    ledger_integrate_all()
    first = services._claim(timezone.now(), 10)
    second = services._claim(timezone.now(), 10)
    assert [c.pk for c in first] == [sub.pk] and second == []
    # a worker that lost its lease does not move the cursor
    Subscription.objects.filter(pk=sub.pk).update(lease_token="someone-else")
    services.deliver_claimed(sub.pk, first[0].token)
    sub.refresh_from_db()
    assert sub.cursor == -1


def test_a_paused_subscription_is_not_delivered(city: City, receiver: Receiver) -> None:
    sub = _subscribe(city, receiver)
    register_case(city)
    services.subscription_set_status(user=city.u("gusu.police"), subscription_id=sub.pk, status="paused")
    assert feeds_deliver_due() == 0
    services.subscription_set_status(user=city.u("gusu.police"), subscription_id=sub.pk, status="active")
    assert feeds_deliver_due() == 1


def test_a_new_subscription_starts_now_unless_told_otherwise(city: City, receiver: Receiver) -> None:
    register_case(city)
    ledger_integrate_all()
    sub = subscription_create(owner=city.u("gusu.police"), name="从现在起", url=receiver.url)
    assert sub.cursor == 0 and len(sub.secret) >= 32
    register_case(city)
    assert feeds_deliver_due() == 0  # our receiver checks our fixed secret: this one differs
    assert receiver.bad_signatures == 1


def test_signature_verification() -> None:
    body = b'{"events":[]}'
    now = int(time.time())
    sig = signing.sign("k", now, body)
    assert sig.startswith("v1=") and len(sig) == 3 + 64
    assert signing.verify("k", timestamp=str(now), signature=sig, body=body)
    assert signing.verify("k", timestamp=now, signature=f"v1=00, {sig}", body=body)  # rotation
    assert not signing.verify("other", timestamp=now, signature=sig, body=body)
    assert not signing.verify("k", timestamp=now, signature=sig, body=body + b" ")
    assert not signing.verify("k", timestamp=now + 1, signature=sig, body=body)
    assert not signing.verify("k", timestamp=now, signature=sig, body=body, now=now + 301)
    assert not signing.verify("k", timestamp="soon", signature=sig, body=body)
    assert not signing.verify("k", timestamp=None, signature=sig, body=body)


def test_subscriptions_api(city: City, receiver: Receiver) -> None:
    client = APIClient()
    client.force_authenticate(city.u("gusu.police"))
    created = client.post(
        "/api/v1/feeds/subscriptions",
        {"name": "公安业务系统", "url": receiver.url, "after": -1, "actions": ["register"]},
        format="json",
    )
    assert created.status_code == 201
    sub = created.json()
    assert sub["secret"] and sub["cursor"] == -1 and sub["actions"] == ["register"]
    listed = client.get("/api/v1/feeds/subscriptions").json()["results"]
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
    patched = client.patch(f"/api/v1/feeds/subscriptions/{sub['id']}", {"status": "paused", "after": 5})
    assert patched.json()["status"] == "paused" and patched.json()["cursor"] == 5
    other = APIClient()
    other.force_authenticate(city.u("wuzhong.police"))
    assert other.get(f"/api/v1/feeds/subscriptions/{sub['id']}").json()["code"] == "subscription_not_found"
    assert other.delete(f"/api/v1/feeds/subscriptions/{sub['id']}").status_code == 404
    bad = client.post("/api/v1/feeds/subscriptions", {"name": "x", "url": "ftp://h/"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "bad_url"
    assert client.delete(f"/api/v1/feeds/subscriptions/{sub['id']}").status_code == 204
    assert not Subscription.objects.exists()


def test_only_the_allowed_hosts_may_receive_when_a_list_is_set(city: City, settings: Any) -> None:
    from xietong.errors import ValidationFailed

    settings.XIETONG_FEEDS_ALLOWED_HOSTS = ["gaj.suzhou.gov.cn"]
    owner = city.u("gusu.police")
    ok = subscription_create(owner=owner, name="市局", url="https://jz.gaj.suzhou.gov.cn/hook")
    assert ok.pk
    for url in ("http://127.0.0.1:8080/hook", "https://evilgaj.suzhou.gov.cn.example.com/x"):
        with pytest.raises(ValidationFailed) as refused:
            subscription_create(owner=owner, name="内网", url=url)
        assert refused.value.code == "url_not_allowed"
