"""The courtroom's WebSocket protocol through Channels' own test communicator (in-memory layer):
catch-up on connect, the presenter's display reaching every screen, out-of-turn and forged messages
refused and logged without disturbing the others, the public screen never showing an item not yet
presented, one-time screen codes, and a leader's advice reaching only his officer."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from tests.factories import City, register_case
from xietong.cases import services as case_services
from xietong.cases.models import Transfer
from xietong.courtroom import services
from xietong.courtroom.models import EventKind, Hearing, HearingEvent
from xietong.courtroom.routing import websocket_urlpatterns
from xietong.dossier.models import Blob, Page, Volume
from xietong.orgs.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_flushable")]
APP = URLRouter(websocket_urlpatterns)


def _in_trial(city: City) -> tuple[int, list[int]]:
    case_id = register_case(city)
    case_services.case_act(
        user=city.u("gusu.police_leader"), case_id=case_id, action="transfer_for_prosecution"
    )
    for who, options in (("gusu.procu", {}), ("gusu.judge", {"procedure": "ordinary"})):
        if who == "gusu.judge":
            case_services.case_act(user=city.u("gusu.procu_leader"), case_id=case_id, action="indict")
        t = Transfer.objects.get(case_id=case_id, status="pending")
        case_services.transfer_accept(user=city.u(who), transfer_id=t.pk, options=options)
    blob = Blob.objects.create(sha256="0" * 64, size=1, content_type="image/png", created_at=timezone.now())
    volume = Volume.objects.create(
        case_id=case_id,
        number=1,
        title="证据卷",
        source=blob,
        source_name="v.pdf",
        uploaded_by=city.u("gusu.police"),
        uploaded_at=timezone.now(),
    )
    pages = [
        Page.objects.create(volume=volume, number=n, image=blob, thumb=blob, width=1240, height=1754).pk
        for n in (1, 2)
    ]
    return case_id, pages


async def _connect(hearing_id: int, user: User | None = None, code: str = "") -> WebsocketCommunicator:
    path = f"/ws/hearings/{hearing_id}/" + (f"?code={code}" if code else "")
    comm = WebsocketCommunicator(APP, path)
    if user is not None:
        comm.scope["user"] = user
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _next(comm: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        message = await comm.receive_json_from(timeout=3)
        if message["type"] == kind:
            return message


@pytest.mark.anyio
async def test_presenter_drives_every_screen_and_the_public_screen_sees_only_presented_items(
    city: City,
) -> None:
    case_id, pages = await database_sync_to_async(_in_trial)(city)
    judge, procu, leader = city.u("gusu.judge"), city.u("gusu.procu"), city.u("gusu.procu_leader")
    hearing = await database_sync_to_async(services.hearing_open)(user=judge, case_id=case_id)
    code = await database_sync_to_async(services.screen_code_issue)(
        user=judge, hearing_id=hearing.pk, role="public"
    )

    bench = await _connect(hearing.pk, judge)
    assert (await _next(bench, "hello"))["role"] == "presiding"
    prosecutor = await _connect(hearing.pk, procu)
    assert (await _next(prosecutor, "hello"))["role"] == "prosecutor"
    screen = await _connect(hearing.pk, code=code)
    assert (await _next(screen, "hello"))["role"] == "public"
    remote = await _connect(hearing.pk, leader)
    assert (await _next(remote, "hello"))["role"] == "leader"

    # out of turn: refused to the sender only, logged; nobody else receives anything
    await prosecutor.send_json_to({"type": "display", "state": {"item": f"page:{pages[0]}"}})
    refused = await _next(prosecutor, "error")
    assert refused["code"] == "out_of_turn"
    assert await bench.receive_nothing(timeout=0.2)

    await bench.send_json_to({"type": "turn", "role": "prosecutor"})
    for comm in (bench, prosecutor, screen, remote):
        assert (await _next(comm, "state"))["presenter"] == "prosecutor"
    state = {"item": f"page:{pages[0]}", "zoom": 1.5, "highlight": [0.1, 0.2, 0.5, 0.1]}
    await prosecutor.send_json_to({"type": "display", "state": state, "purpose": "证明被告人到过现场"})
    for comm in (bench, prosecutor, screen, remote):
        shown = await _next(comm, "state")
        assert shown["state"]["item"] == f"page:{pages[0]}" and shown["state"]["highlight"] == [
            0.1,
            0.2,
            0.5,
            0.1,
        ]

    # a reconnecting screen catches up at once (with a new code: the old one was used)
    await screen.disconnect()
    reused = await _connect(hearing.pk, code=code)
    assert (await _next(reused, "error"))["code"] == "bad_screen_code"
    code2 = await database_sync_to_async(services.screen_code_issue)(
        user=judge, hearing_id=hearing.pk, role="public"
    )
    screen = await _connect(hearing.pk, code=code2)
    assert (await _next(screen, "hello"))["state"]["zoom"] == 1.5

    # a forged message and an item of another case: refused, others unaffected
    while not await screen.receive_nothing(timeout=0.1):
        await screen.receive_json_from()
    await prosecutor.send_json_to({"type": "sudo", "payload": "x"})
    assert (await _next(prosecutor, "error"))["code"] == "bad_message"
    await prosecutor.send_json_to({"type": "display", "state": {"item": "page:999999"}})
    assert (await _next(prosecutor, "error"))["code"] == "foreign_item"
    assert await screen.receive_nothing(timeout=0.2)

    # 质证 and 认证 are recorded and seen by all
    await prosecutor.send_json_to(
        {
            "type": "cross",
            "item": f"page:{pages[0]}",
            "opinions": {"authenticity": "agree", "legality": "agree", "relevance": "agree"},
        }
    )
    presented = await _next(remote, "event")  # the 举证 itself came first
    assert presented["kind"] == "present" and presented["data"]["purpose"] == "证明被告人到过现场"
    assert (await _next(remote, "event"))["kind"] == "cross"
    await bench.send_json_to({"type": "ruling", "item": f"page:{pages[0]}", "admitted": True})
    ruling = await _next(screen, "event")
    ruling = ruling if ruling["kind"] == "ruling" else await _next(screen, "event")
    assert ruling["kind"] == "ruling" and ruling["data"]["admitted"] is True

    # the leader's advice reaches his officer only
    for comm in (bench, screen):
        while not await comm.receive_nothing(timeout=0.1):
            await comm.receive_json_from()
    await remote.send_json_to({"type": "advice", "officer": procu.pk, "text": "注意被告人前后供述的矛盾"})
    assert (await _next(remote, "advice_sent"))["id"]
    advice = await _next(prosecutor, "advice")
    assert advice["text"] == "注意被告人前后供述的矛盾"
    assert await bench.receive_nothing(timeout=0.2) and await screen.receive_nothing(timeout=0.2)
    await prosecutor.send_json_to({"type": "ack", "id": advice["id"]})
    assert (await _next(prosecutor, "ack_ok"))["id"] == advice["id"]

    for comm in (bench, prosecutor, screen, remote, reused):
        await comm.disconnect()
    kinds = await database_sync_to_async(
        lambda: list(HearingEvent.objects.filter(hearing=hearing).values_list("kind", flat=True))
    )()
    assert kinds.count(EventKind.REFUSED) == 3 and EventKind.PRESENT in kinds and EventKind.RULING in kinds


@pytest.mark.anyio
async def test_outsiders_and_expired_codes_cannot_join(city: City) -> None:
    case_id, _ = await database_sync_to_async(_in_trial)(city)
    hearing = await database_sync_to_async(services.hearing_open)(user=city.u("gusu.judge"), case_id=case_id)
    comm = WebsocketCommunicator(APP, f"/ws/hearings/{hearing.pk}/")
    comm.scope["user"] = city.u("wuzhong.procu")
    connected, _ = await comm.connect()
    assert connected
    assert (await comm.receive_json_from())["code"] == "not_a_participant"
    assert (await comm.receive_output())["type"] == "websocket.close"
    code = await database_sync_to_async(services.screen_code_issue)(
        user=city.u("gusu.judge"), hearing_id=hearing.pk, role="public"
    )
    await database_sync_to_async(
        lambda: Hearing.objects.get(pk=hearing.pk).codes.update(expires_at=timezone.now())
    )()
    expired = WebsocketCommunicator(APP, f"/ws/hearings/{hearing.pk}/?code={code}")
    await expired.connect()
    assert (await expired.receive_json_from())["code"] == "bad_screen_code"
    # each refused socket ends as a browser's would: its consumer finishes, closing its connection
    for refused in (comm, expired):
        await refused.disconnect()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
