"""The alerts socket: a new alert reaches the handler, the supervising procuratorate's leader and
政法委. Transactional, as the courtroom's socket tests: the consumer reads the database from another
thread, which must see committed rows."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection

from tests.factories import City
from tests.supervision.test_services_and_views import planted
from xietong.supervision import live

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_flushable")]


def test_a_new_alert_reaches_the_socket_of_the_handler_and_the_supervisor(city: City) -> None:
    from xietong.supervision.consumers import AlertsConsumer

    alert = planted(city)

    async def listen(user: object) -> dict[str, object]:
        communicator = WebsocketCommunicator(AlertsConsumer.as_asgi(), "/ws/alerts/")
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        assert connected
        layer = get_channel_layer()
        paths = {alert.unit_id: alert.unit.path, alert.supervisor_unit_id: alert.supervisor_unit.path}
        for group in live.groups_for(alert, paths):
            await layer.group_send(group, live.as_message(alert))
        message = await communicator.receive_json_from(timeout=3)
        await communicator.disconnect()
        return message

    for name in ("gusu.police", "gusu.procu_leader", "committee"):
        got = async_to_sync(listen)(city.u(name))
        assert got["id"] == alert.pk and got["severity"] == "warning"


def test_push_sends_a_committed_alert_to_every_group_that_must_see_it(city: City) -> None:
    """``live.push`` as a worker calls it after its batch commits (sync code, its own event loop):
    the handler's socket and 政法委's each receive the alert once per group they joined."""
    from asgiref.sync import sync_to_async

    from xietong.supervision.consumers import AlertsConsumer

    alert = planted(city)

    def worker_push() -> None:  # in a thread of its own, as the worker's: its connection closed after
        try:
            live.push([alert])
        finally:
            connection.close()

    async def listen(user: object) -> list[dict[str, object]]:
        communicator = WebsocketCommunicator(AlertsConsumer.as_asgi(), "/ws/alerts/")
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        assert connected
        await sync_to_async(worker_push, thread_sensitive=False)()
        received = [await communicator.receive_json_from(timeout=3)]
        while not await communicator.receive_nothing(timeout=0.2):
            received.append(await communicator.receive_json_from(timeout=1))
        await communicator.disconnect()
        return received

    for name in ("gusu.police", "committee"):
        got = async_to_sync(listen)(city.u(name))
        assert {m["id"] for m in got} == {alert.pk}, got
        assert got[0]["url"] == f"/supervision/alerts/{alert.pk}/"
