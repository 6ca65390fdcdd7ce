"""The courtroom's WebSocket (Django Channels): every screen of a hearing joins its group; a
participant's action goes through ``courtroom.services`` and, if accepted, the new display state is
broadcast to the group, each screen filtering it for its role (the public screen never shows an item
not yet presented). A refused action is answered to its sender alone. A leader's advice travels on a
group that only his officer's screens join."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from xietong.courtroom import services
from xietong.courtroom.models import Hearing, Role
from xietong.errors import DomainError


def _group(hearing_id: int) -> str:
    return f"hearing-{hearing_id}"


def _officer_group(hearing_id: int, user_id: int) -> str:
    return f"hearing-{hearing_id}-officer-{user_id}"


def _public_state(hearing: Hearing) -> dict[str, Any]:
    return {
        "version": hearing.version,
        "presenter": hearing.presenter,
        "status": hearing.status,
        "state": services.with_image(hearing.pk, hearing.state),
        "presented": list(hearing.presented),
    }


class HearingConsumer(AsyncJsonWebsocketConsumer):
    seat: services.Seat | None = None

    @property
    def joined(self) -> services.Seat:
        if self.seat is None:  # messages only arrive after connect() has seated the screen
            raise services.NotAllowed("未加入庭审", code="not_joined")
        return self.seat

    async def connect(self) -> None:
        hearing_id = int(self.scope["url_route"]["kwargs"]["hearing_id"])
        query = parse_qs(self.scope.get("query_string", b"").decode())
        code = (query.get("code") or [""])[0]
        screen = (query.get("screen") or [""])[0]
        try:
            seat, hello = await self._join(hearing_id, code, screen)
        except DomainError as exc:
            await self.accept()
            await self.send_json({"type": "error", **exc.as_dict()})
            await self.close(code=4403)
            return
        self.seat = seat
        await self.channel_layer.group_add(_group(hearing_id), self.channel_name)
        if seat.role == Role.PROSECUTOR and seat.user_id:
            await self.channel_layer.group_add(_officer_group(hearing_id, seat.user_id), self.channel_name)
        await self.accept()
        await self.send_json(hello)  # a screen that (re)connects catches up at once

    @database_sync_to_async
    def _join(self, hearing_id: int, code: str, screen: str) -> tuple[services.Seat, dict[str, Any]]:
        hearing = (
            Hearing.objects.select_related("case", "case__procuratorate_unit").filter(pk=hearing_id).first()
        )
        if hearing is None:
            raise services.NotFound("庭审不存在", code="hearing_not_found")
        user = self.scope.get("user")
        role: str | None
        token = ""
        if code:  # a courtroom screen pairs once, then reconnects with the token it is given
            role, user_id = services.screen_code_use(hearing_id=hearing_id, code=code), None
            token = services.screen_token_issue(hearing_id=hearing_id, role=role)
        elif screen:
            role, user_id = services.screen_token_check(hearing_id=hearing_id, token=screen), None
        else:
            role = services.role_of(user, hearing) if user is not None else None
            user_id = user.pk if user is not None and user.is_authenticated else None
        if role is None:
            raise services.NotAllowed("您不能进入该庭审", code="not_a_participant")
        seat = services.Seat(hearing_id=hearing_id, role=role, user_id=user_id)
        hello = {**services.snapshot(hearing, role), "type": "hello", "role": role}
        if token:
            hello["screen_token"] = token
        return seat, hello

    async def disconnect(self, code: int) -> None:
        if self.seat is not None:
            await self.channel_layer.group_discard(_group(self.seat.hearing_id), self.channel_name)
            if self.seat.user_id:
                group = _officer_group(self.seat.hearing_id, self.seat.user_id)
                await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.seat is None:
            return
        try:
            await self._handle(content)
        except DomainError as exc:
            await self.send_json(
                {
                    "type": "error",
                    "ref": content.get("ref") if isinstance(content, dict) else None,
                    **exc.as_dict(),
                }
            )

    async def _handle(self, content: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await database_sync_to_async(self._forged)(content)
        kind = content["type"]
        seat = self.joined
        if kind == "display":
            purpose = str(content.get("purpose") or "")
            hearing = await database_sync_to_async(services.display)(
                seat=seat, raw=content.get("state"), purpose=purpose
            )
            await self._broadcast(hearing)
            if getattr(hearing, "newly_presented", False):
                await self._event("present", seat.role, hearing.state["item"], {"purpose": purpose[:500]})
        elif kind == "status":
            hearing = await database_sync_to_async(services.hearing_status)(
                seat=seat, status=str(content.get("status"))
            )
            await self._broadcast(hearing)
        elif kind == "turn":
            hearing = await database_sync_to_async(services.turn_grant)(
                seat=seat, role=str(content.get("role"))
            )
            await self._broadcast(hearing)
        elif kind == "cross":
            event = await database_sync_to_async(services.cross_examine)(
                seat=seat,
                item=str(content.get("item")),
                opinions=content.get("opinions") if isinstance(content.get("opinions"), dict) else {},
                reasons=str(content.get("reasons") or ""),
            )
            await self._event(event.kind, event.role, event.item, event.data)
        elif kind == "note":
            event = await database_sync_to_async(services.note_add)(
                seat=seat, text=str(content.get("text") or "")
            )
            await self._event(event.kind, event.role, event.item, event.data)
        elif kind == "ruling":
            event = await database_sync_to_async(services.rule)(
                seat=seat,
                item=str(content.get("item")),
                admitted=bool(content.get("admitted")),
                reason=str(content.get("reason") or ""),
            )
            await self._event(event.kind, event.role, event.item, event.data)
        elif kind == "advice":
            advice = await database_sync_to_async(self._advice)(content)
            await self.channel_layer.group_send(
                _officer_group(seat.hearing_id, advice.officer_id),
                {
                    "type": "hearing.advice",
                    "advice": {"id": advice.pk, "text": advice.text, "sent_at": advice.sent_at.isoformat()},
                },
            )
            await self.send_json({"type": "advice_sent", "id": advice.pk})
        elif kind == "ack":
            await database_sync_to_async(self._ack)(content)
            await self.send_json({"type": "ack_ok", "id": content.get("id")})
        else:
            await database_sync_to_async(self._forged)(content)

    def _forged(self, content: Any) -> None:
        services._refuse(self.joined, "bad_message", "无法识别的消息", {"raw": str(content)[:500]})

    def _advice(self, content: dict[str, Any]) -> Any:
        from xietong.orgs.models import User

        user = self.scope.get("user")
        if not isinstance(user, User):
            raise services.NotAllowed("只有检察机关领导可以远程指挥", code="not_leader")
        return services.advice_send(
            leader=user,
            hearing_id=self.seat.hearing_id if self.seat else 0,
            officer_id=int(content.get("officer") or 0),
            text=str(content.get("text") or ""),
        )

    def _ack(self, content: dict[str, Any]) -> None:
        from xietong.orgs.models import User

        user = self.scope.get("user")
        if not isinstance(user, User):
            raise services.NotFound("指导意见不存在", code="advice_not_found")
        services.advice_acknowledge(officer=user, advice_id=int(content.get("id") or 0))

    async def _broadcast(self, hearing: Hearing) -> None:
        await self.channel_layer.group_send(
            _group(hearing.pk), {"type": "hearing.state", **_public_state(hearing)}
        )

    async def _event(self, kind: str, role: str, item: str, data: dict[str, Any]) -> None:
        await self.channel_layer.group_send(
            _group(self.joined.hearing_id),
            {"type": "hearing.event", "event": {"kind": kind, "role": role, "item": item, "data": data}},
        )

    # ---- group messages → this screen

    async def hearing_state(self, message: dict[str, Any]) -> None:
        state = message["state"]
        if (
            self.joined.role in {Role.PUBLIC, Role.DEFENDANT}
            and state.get("item") not in message["presented"]
        ):
            state = {}
        await self.send_json(
            {
                "type": "state",
                "version": message["version"],
                "presenter": message["presenter"],
                "status": message["status"],
                "state": state,
            }
        )

    async def hearing_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "event", **message["event"]})

    async def hearing_advice(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "advice", **message["advice"]})


class EchoConsumer(AsyncJsonWebsocketConsumer):
    """The bare stack for ``bench courtroom``: daphne, Channels routing and JSON framing, each message
    straight back to its sender — no database, no checks, no channel layer."""

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json(content)
