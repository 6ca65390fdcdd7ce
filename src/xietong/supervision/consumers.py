"""The alerts socket: a signed-in browser joins the groups of what it may see (``live``) and receives
each new alert as JSON. It only listens; answering an alert goes through the page and the service."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from xietong.cases.selectors import sees_everything
from xietong.orgs.models import LEADER_DUTIES, User
from xietong.supervision import live


class AlertsConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = await self._groups(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    @database_sync_to_async
    def _groups(self, user: User) -> list[str]:
        user = User.objects.select_related("unit").get(pk=user.pk)
        if sees_everything(user):
            return [live.EVERYONE]
        groups = [live.user_group(user.pk)]
        if user.unit_id and user.has_duty(*LEADER_DUTIES):
            groups.append(live.unit_group(user.unit_id))
        return groups

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def alert_new(self, event: dict[str, Any]) -> None:
        await self.send_json(event["alert"])
