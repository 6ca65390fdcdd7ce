"""REST API of the message board (``/api/v1/board/…``). Thin: parse, call one service or selector,
render. Writes accept ``Idempotency-Key``; errors are ``{"code", "message"}`` (``api_errors``).
Attachments come as multipart files named ``attachments`` (citations then as a JSON string)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong import servertime
from xietong.board import selectors, services
from xietong.board.models import Message, Thread
from xietong.board.rules import last_day
from xietong.errors import ValidationFailed
from xietong.idempotency import run_idempotent


def _user(request: Request) -> Any:
    return request.user


def thread_out(t: Thread) -> dict[str, Any]:
    now = servertime.now()
    return {
        "id": t.pk,
        "case_id": t.case_id,
        "case_number": t.case.number,
        "kind": t.kind,
        "kind_label": t.get_kind_display(),
        "subject": t.subject,
        "stage": t.stage or None,
        "instrument_id": t.instrument_id,
        "from_unit": {"id": t.from_unit_id, "name": t.from_unit.name},
        "to_unit": {"id": t.to_unit_id, "name": t.to_unit.name},
        "opened_at": t.opened_at,
        "due_at": t.due_at,
        "due_day": last_day(t.due_at),
        "state": t.state(now),
        "state_label": t.state_label(now),
        "answered_at": t.answered_at,
        "closed_at": t.closed_at,
        "closing_note": t.closing_note,
        "message_count": t.message_count,
    }


def message_out(m: Message) -> dict[str, Any]:
    return {
        "seq": m.seq,
        "author": m.author.full_name,
        "unit": m.unit.name,
        "text": m.text,
        "text_sha256": m.text_sha256,
        "is_answer": m.is_answer,
        "posted_at": m.posted_at,
        "entry_hash": m.entry_hash,
        "attachments": [
            {"id": a.pk, "name": a.name, "sha256": a.blob.sha256, "size": a.blob.size}
            for a in m.attachments.all()
        ],
        "citations": [
            {"page_id": c.page_id, "volume": c.page.volume.number, "page": c.page.number}
            if c.page is not None
            else {"instrument_id": c.instrument_id, "kind": c.instrument.kind if c.instrument else None}
            for c in m.citations.all()
        ],
    }


class CitationIn(serializers.Serializer):
    page_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    volume_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    page = serializers.IntegerField(required=False, allow_null=True, default=None)
    instrument_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class MessageIn(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    citations = serializers.JSONField(required=False, default=None)


class ThreadIn(MessageIn):
    case_id = serializers.IntegerField()
    to_unit_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["objection", "opinion", "question"])
    subject = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    stage = serializers.CharField(required=False, allow_blank=True, default="")
    instrument_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class CloseIn(serializers.Serializer):
    note = serializers.CharField(allow_blank=True)


def _citations(raw: Any) -> list[services.CitationInput]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationFailed("citations 须为数组", code="citation_invalid")
    items = CitationIn(data=raw, many=True)
    items.is_valid(raise_exception=True)
    return [
        services.CitationInput(
            page_id=c["page_id"],
            volume_id=c["volume_id"],
            page_number=c["page"],
            instrument_id=c["instrument_id"],
        )
        for c in items.validated_data
    ]


def _attachments(request: Request) -> list[services.AttachmentInput]:
    return [
        services.AttachmentInput(name=f.name or "", size=f.size or 0, file=f)
        for f in request.FILES.getlist("attachments")
    ]


class ThreadListApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("box", str, enum=list(selectors.BOXES)),
            OpenApiParameter("state", str, enum=["waiting", "overdue", "answered", "closed"]),
            OpenApiParameter("case_id", int),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="留言列表：本单位收到的（in）、发出的（out）或全部（all）",
        operation_id="board_threads_list",
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        case_id = request.query_params.get("case_id", "")
        if case_id:
            if not case_id.isdigit():
                raise ValidationFailed("case_id 须为整数", code="bad_case_id")
            qs = selectors.thread_list_visible_to(user=user).filter(case_id=int(case_id))
            qs = qs.select_related("case", "from_unit", "to_unit").order_by("-last_message_at")
        else:
            box = request.query_params.get("box", "in")
            if box not in selectors.BOXES:
                raise ValidationFailed("box 须为 in、out 或 all", code="bad_box")
            qs = selectors.board_inbox(user=user, box=box, state=request.query_params.get("state", ""))
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response([thread_out(t) for t in page])

    @extend_schema(request=ThreadIn, responses=OpenApiTypes.OBJECT, summary="发起留言（异议、意见、询问）")
    def post(self, request: Request) -> Response:
        def compute() -> Response:
            data = ThreadIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            thread = services.thread_open(
                user=_user(request),
                case_id=v["case_id"],
                to_unit_id=v["to_unit_id"],
                kind=v["kind"],
                text=v["text"],
                subject=v["subject"],
                stage=v["stage"],
                instrument_id=v["instrument_id"],
                citations=_citations(v["citations"]),
                attachments=_attachments(request),
            )
            return Response(
                thread_out(selectors.thread_get_visible(user=_user(request), thread_id=thread.pk)), 201
            )

        return run_idempotent(request, compute)


class ThreadApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="留言详情与全部回复")
    def get(self, request: Request, thread_id: int) -> Response:
        thread = selectors.thread_get_visible(user=_user(request), thread_id=thread_id)
        return Response(
            {**thread_out(thread), "messages": [message_out(m) for m in selectors.messages_of(thread=thread)]}
        )


class MessagePostApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=MessageIn, responses=OpenApiTypes.OBJECT, summary="回复留言（支持 Idempotency-Key）"
    )
    def post(self, request: Request, thread_id: int) -> Response:
        def compute() -> Response:
            data = MessageIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            message = services.message_post(
                user=_user(request),
                thread_id=thread_id,
                text=v["text"],
                citations=_citations(v["citations"]),
                attachments=_attachments(request),
            )
            fresh = selectors.messages_of(thread=message.thread)
            return Response(message_out(next(m for m in fresh if m.pk == message.pk)), 201)

        return run_idempotent(request, compute)


class ThreadCloseApi(APIView):
    @extend_schema(request=CloseIn, responses=OpenApiTypes.OBJECT, summary="关闭留言（发起人或其单位负责人）")
    def post(self, request: Request, thread_id: int) -> Response:
        def compute() -> Response:
            data = CloseIn(data=request.data)
            data.is_valid(raise_exception=True)
            services.thread_close(user=_user(request), thread_id=thread_id, note=data.validated_data["note"])
            return Response(
                thread_out(selectors.thread_get_visible(user=_user(request), thread_id=thread_id))
            )

        return run_idempotent(request, compute)
