"""REST API of the event feed: pull (``GET /api/v1/events``), subscriptions for push (webhooks and
the broker) and the dead letters. Thin: parse, call one selector or service, render."""

from __future__ import annotations

import re
import time
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.errors import DomainError, ValidationFailed
from xietong.feeds import selectors, services
from xietong.feeds.models import DeadLetter, Subscription, SubscriptionKind, SubscriptionStatus

MAX_WAIT_SECONDS = 25.0
MAX_ID = 2**62  # beyond any leaf index or case id; keeps a huge number from overflowing the database
_ACTION = re.compile(r"^[a-z_:]{1,40}$")
POLL_SECONDS = 0.2


class ReplayFailed(DomainError):
    """The receiver did not take the replayed dead letter (502); the letter keeps the error."""

    status = 502
    code = "dead_letter_replay_failed"


def _int_param(params: Any, name: str, default: int, *, low: int, high: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{name} 须为整数", code=f"bad_{name}") from exc
    if value < low or (high is not None and value > high):
        span = f"{low}～{high}" if high is not None else f"不小于 {low}"
        raise ValidationFailed(f"{name} 须在 {span} 之间", code=f"bad_{name}")
    return value


def _list_param(params: Any, name: str) -> list[str]:
    return [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]


class EventListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="游标：返回默克尔叶序号大于它的事件；首次为 -1"),
            OpenApiParameter("limit", int, description="每页条数，1～1000，默认 100"),
            OpenApiParameter("wait", int, description="长轮询：无新事件时最多等待的秒数（0～25）"),
            OpenApiParameter("action", str, description="只要这些操作（可重复或逗号分隔）"),
            OpenApiParameter("case_id", int, description="只要这些案件（可重复或逗号分隔）"),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="事件流：本单位可见案件的全部留痕事件，按默克尔叶序号排序（游标分页）",
        operation_id="events_list",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        after = _int_param(params, "after", -1, low=-1, high=MAX_ID)
        limit = _int_param(params, "limit", 100, low=1, high=selectors.MAX_LIMIT)
        wait = _int_param(params, "wait", 0, low=0, high=int(MAX_WAIT_SECONDS))
        actions = _list_param(params, "action")
        if not all(_ACTION.match(a) for a in actions):
            raise ValidationFailed("action 须为操作代码（小写字母、下划线）", code="bad_action")
        try:
            case_ids = [int(c) for c in _list_param(params, "case_id")]
        except ValueError as exc:
            raise ValidationFailed("case_id 须为整数", code="bad_case_id") from exc
        if not all(0 < c < MAX_ID for c in case_ids):
            raise ValidationFailed("case_id 超出范围", code="bad_case_id")
        deadline = time.monotonic() + wait
        while True:
            page = selectors.event_page(
                user=request.user,  # type: ignore[arg-type]
                after=after,
                limit=limit,
                actions=actions or None,
                case_ids=case_ids or None,
            )
            if page.events or not page.caught_up or time.monotonic() >= deadline:
                break
            after = page.next
            time.sleep(POLL_SECONDS)
            services.integrate_pending()
        return Response(
            {
                "events": page.events,
                "next": page.next,
                "tail": page.tail,
                "caught_up": page.caught_up,
                "tree_head": page.tree_head,
            }
        )


def subscription_out(sub: Subscription, *, with_secret: bool = False) -> dict[str, Any]:
    out = {
        "id": sub.pk,
        "name": sub.name,
        "kind": sub.kind,
        "url": sub.url,
        "topic": sub.topic,
        "actions": sub.actions,
        "case_ids": sub.case_ids,
        "cursor": sub.cursor,
        "status": sub.status,
        "failures": sub.failures,
        "next_attempt_at": sub.next_attempt_at,
        "last_attempt_at": sub.last_attempt_at,
        "last_status": sub.last_status,
        "last_error": sub.last_error,
        "delivered_count": sub.delivered_count,
        "created_at": sub.created_at,
    }
    if with_secret:
        out["secret"] = sub.secret
    return out


class SubscriptionIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=SubscriptionKind.values, default=SubscriptionKind.WEBHOOK)
    url = serializers.CharField(max_length=500)
    topic = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    secret = serializers.CharField(max_length=128, required=False, allow_null=True, default=None)
    actions = serializers.ListField(
        child=serializers.RegexField(_ACTION.pattern, max_length=40),
        required=False,
        default=list,
        max_length=100,
    )
    case_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=1000,
    )
    after = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=-1, max_value=MAX_ID
    )


class SubscriptionPatchIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=SubscriptionStatus.values, required=False)
    after = serializers.IntegerField(required=False, min_value=-1, max_value=MAX_ID)


class SubscriptionListApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT, summary="本用户的事件订阅", operation_id="feeds_subscriptions_list"
    )
    def get(self, request: Request) -> Response:
        subs = selectors.subscription_list_for(user=request.user)  # type: ignore[arg-type]
        return Response({"results": [subscription_out(s) for s in subs]})

    @extend_schema(
        request=SubscriptionIn,
        responses=OpenApiTypes.OBJECT,
        summary="新建事件订阅（网络回调或消息代理）；签名密钥只在此时返回一次",
    )
    def post(self, request: Request) -> Response:
        data = SubscriptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        sub = services.subscription_create(owner=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(subscription_out(sub, with_secret=True), status=201)


class SubscriptionApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT, summary="事件订阅详情", operation_id="feeds_subscription_get"
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        sub = services._own(request.user, subscription_id)  # type: ignore[arg-type]
        return Response(subscription_out(sub))

    @extend_schema(
        request=SubscriptionPatchIn, responses=OpenApiTypes.OBJECT, summary="暂停、恢复订阅，或移动游标"
    )
    def patch(self, request: Request, subscription_id: int) -> Response:
        data = SubscriptionPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        user: Any = request.user
        sub = services._own(user, subscription_id)
        if "after" in data.validated_data:
            sub = services.subscription_rewind(
                user=user, subscription_id=sub.pk, after=data.validated_data["after"]
            )
        if "status" in data.validated_data:
            sub = services.subscription_set_status(
                user=user, subscription_id=sub.pk, status=data.validated_data["status"]
            )
        return Response(subscription_out(sub))

    @extend_schema(responses={204: None}, summary="删除订阅")
    def delete(self, request: Request, subscription_id: int) -> Response:
        services.subscription_delete(user=request.user, subscription_id=subscription_id)  # type: ignore[arg-type]
        return Response(status=204)


def dead_letter_out(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.pk,
        "subscription": letter.subscription_id,
        "first_index": letter.first_index,
        "last_index": letter.last_index,
        "event_count": len(letter.events),
        "attempts": letter.attempts,
        "last_error": letter.last_error,
        "created_at": letter.created_at,
        "replayed_at": letter.replayed_at,
        "replay_error": letter.replay_error,
    }


class DeadLetterListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("pending", bool, description="只列出尚未重放成功的")],
        responses=OpenApiTypes.OBJECT,
        summary="死信：多次投递失败后搁置的事件批次",
    )
    def get(self, request: Request) -> Response:
        pending = str(request.query_params.get("pending", "")).lower() in {"1", "true"}
        letters = selectors.dead_letter_list(user=request.user, pending_only=pending)[:200]  # type: ignore[arg-type]
        return Response({"results": [dead_letter_out(x) for x in letters]})


class DeadLetterReplayApi(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="重放一条死信")
    def post(self, request: Request, dead_letter_id: int) -> Response:
        letter = services.dead_letter_replay(user=request.user, dead_letter_id=dead_letter_id)  # type: ignore[arg-type]
        if letter.replayed_at is None:
            raise ReplayFailed(f"重放失败：{letter.replay_error}", details=dead_letter_out(letter))
        return Response(dead_letter_out(letter))
