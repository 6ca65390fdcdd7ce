"""Publishing to the RabbitMQ server on this machine (127.0.0.1:5672, guest/guest): in order, one
persistent message per event, message id = leaf index, committed per batch. Skipped, saying
so, only when no broker answers."""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import City, register_case
from xietong.feeds import signing
from xietong.feeds.models import DeadLetter, Subscription
from xietong.feeds.services import feeds_deliver_due, subscription_create

AMQP_URL = os.environ.get("XIETONG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not _broker_up(), reason="no RabbitMQ answering on 127.0.0.1:5672"),
]


@pytest.fixture
def queue() -> Iterator[tuple[str, Any]]:
    """A fresh exchange and an exclusive queue bound to all its events."""
    import pika

    exchange = f"xietong.test.{secrets.token_hex(4)}"
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
    name = channel.queue_declare(queue="", exclusive=True).method.queue
    channel.queue_bind(queue=name, exchange=exchange, routing_key="event.#")
    yield exchange, (channel, name)
    channel.exchange_delete(exchange=exchange)
    connection.close()


def _drain(channel: Any, name: str) -> list[tuple[Any, dict[str, Any], Any]]:
    out = []
    while True:
        method, props, body = channel.basic_get(queue=name, auto_ack=True)
        if method is None:
            return out
        out.append((method, json.loads(body), props))


def test_events_are_published_in_order_and_committed(city: City, queue: tuple[str, Any]) -> None:
    exchange, (channel, name) = queue
    sub = subscription_create(
        owner=city.u("gusu.police"),
        name="消息代理",
        kind="broker",
        url=AMQP_URL,
        topic=exchange,
        secret="broker-secret",
        after=-1,
    )
    for _ in range(3):
        register_case(city)
    register_case(city, county="wuzhong")  # not visible to the owner
    assert feeds_deliver_due() == 3
    messages = _drain(channel, name)
    assert [body["id"] for _, body, _ in messages] == [0, 1, 2]
    method, body, props = messages[0]
    assert method.routing_key == "event.register"
    assert props.message_id == "0" and props.delivery_mode == 2
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert signing.verify(
        "broker-secret", timestamp=props.headers["timestamp"], signature=props.headers["signature"], body=raw
    )
    sub.refresh_from_db()
    assert sub.cursor == 3 and sub.last_status == "committed"


def test_an_unreachable_broker_backs_off_then_dead_letters(city: City, settings: object) -> None:
    settings.XIETONG_FEEDS_MAX_ATTEMPTS = 1  # type: ignore[attr-defined]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sub = subscription_create(
        owner=city.u("gusu.police"),
        name="坏代理",
        kind="broker",
        url=f"amqp://guest:guest@127.0.0.1:{port}/%2F",
        after=-1,
    )
    register_case(city)
    assert feeds_deliver_due() == 0
    assert DeadLetter.objects.get(subscription=sub).first_index == 0
    assert Subscription.objects.get(pk=sub.pk).cursor == 0
