"""REST API for cases, inbox, approvals, workbench and the deadline calculator. Thin: parse, call
one service or selector, render."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.cases import deadlines, selectors, services
from xietong.cases.clocks import compute, holiday_calendar
from xietong.cases.models import ActionRequest, Case, Party, Transfer
from xietong.cases.procedure import ACTIONS, Stage
from xietong.errors import ValidationFailed
from xietong.idempotency import run_idempotent
from xietong.ledger.selectors import case_timeline


def _user(request: Request) -> Any:
    return request.user


def party_out(p: Party) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "gender": p.gender,
        "id_number": p.id_number,
        "birth_date": p.birth_date,
        "custody": p.custody,
        "custody_label": p.get_custody_display(),
        "custody_since": p.custody_since,
    }


def case_brief(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "charge": case.charge,
        "stage": case.stage,
        "stage_label": Stage(case.stage).label,
        "holder_unit": case.holder_unit.name,
        "version": case.version,
        "updated_at": case.updated_at,
    }


def transfer_out(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.pk,
        "case_id": t.case_id,
        "action": t.action,
        "action_label": ACTIONS[t.action].label,
        "from_unit": t.from_unit.name,
        "to_unit": t.to_unit.name,
        "status": t.status,
        "sent_at": t.sent_at,
        "decided_at": t.decided_at,
        "reason": t.reason,
    }


def request_out(r: ActionRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "case_id": r.case_id,
        "action": r.action,
        "action_label": ACTIONS[r.action].label,
        "requested_by": r.requested_by.full_name,
        "requested_at": r.requested_at,
        "status": r.status,
        "reason": r.reason,
    }


def result_out(result: services.ActResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "action": result.action,
        "case": case_brief(result.case) if result.case else None,
        "request_id": result.request.pk if result.request else None,
        "transfer": transfer_out(result.transfer) if result.transfer else None,
        "instrument": (
            {"id": result.instrument.pk, "kind": result.instrument.kind, "status": result.instrument.status}
            if result.instrument
            else None
        ),
        "entry_hash": result.entry_hash,
        "messages": result.messages,
    }


def case_detail(user: Any, case: Case) -> dict[str, Any]:
    pending = selectors.pending_transfer(case=case)
    return {
        **case_brief(case),
        "facts": case.facts,
        "occurred_at": case.occurred_at,
        "place": case.place,
        "town": case.town.name,
        "county": case.county.name,
        "police_unit": case.police_unit.name,
        "procuratorate_unit": case.procuratorate_unit.name if case.procuratorate_unit else None,
        "court_unit": case.court_unit.name if case.court_unit else None,
        "execution_unit": case.execution_unit.name if case.execution_unit else None,
        "handler": case.handler.full_name if case.handler else None,
        "plea": case.plea,
        "trial_procedure": case.trial_procedure,
        "supplementary_count": case.supplementary_count,
        "verdict": case.verdict,
        "parties": [party_out(p) for p in case.parties.all()],
        "pending_transfer": transfer_out(pending) if pending else None,
        "clocks": [
            {
                "rule": v.clock.rule,
                "label": v.rule.label,
                "party": v.clock.party.name if v.clock.party else None,
                "started_at": v.clock.started_at,
                "due": v.clock.due,
                "due_at": v.clock.due_at,
                "level": v.level.value,
                "level_label": v.level.label,
                "articles": list(v.rule.articles),
            }
            for v in selectors.case_clocks(case=case)
        ],
        "actions": [
            {"code": a.code, "label": a.label, "per_party": a.per_party, "needs_reason": a.needs_reason}
            for a in selectors.actions_available(user=user, case=case)
        ],
        "instruments": [
            {
                "id": i.pk,
                "kind": i.kind,
                "status": i.status,
                "number": i.number,
                "issued_at": i.issued_at,
                "sealed_at": i.sealed_at,
                "claimed_date": i.claimed_date,
            }
            for i in case.instruments.all()
        ],
    }


class PartyIn(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    gender = serializers.ChoiceField(choices=["男", "女"])
    id_number = serializers.CharField(max_length=18, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RegisterIn(serializers.Serializer):
    charge = serializers.CharField(max_length=100)
    facts = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    town_id = serializers.IntegerField()
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    plea = serializers.BooleanField(required=False, default=False)
    fast_track = serializers.BooleanField(required=False, default=False)
    parties = PartyIn(many=True)
    claimed_date = serializers.DateField(required=False, allow_null=True, default=None)


class ActIn(serializers.Serializer):
    party_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    claimed_date = serializers.DateField(required=False, allow_null=True, default=None)
    options = serializers.DictField(required=False, default=dict)
    expected_version = serializers.IntegerField(required=False, allow_null=True, default=None)


class CaseListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("stage", str),
            OpenApiParameter("charge", str),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="案件列表与检索（案件编号、当事人姓名、罪名）",
        operation_id="cases_list",
    )
    def get(self, request: Request) -> Response:
        qs = selectors.case_search(
            user=_user(request),
            query=request.query_params.get("q", ""),
            stage=request.query_params.get("stage", ""),
            charge=request.query_params.get("charge", ""),
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response([case_brief(c) for c in page])

    @extend_schema(request=RegisterIn, responses=OpenApiTypes.OBJECT, summary="立案")
    def post(self, request: Request) -> Response:
        def compute() -> Response:
            data = RegisterIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            result = services.case_register(
                user=_user(request),
                data=services.RegisterInput(
                    charge=v["charge"],
                    facts=v["facts"],
                    occurred_at=v["occurred_at"],
                    town_id=v["town_id"],
                    place=v["place"],
                    title=v["title"],
                    plea=v["plea"],
                    fast_track=v["fast_track"],
                    parties=[services.PartyInput(**p) for p in v["parties"]],
                ),
                claimed_date=v["claimed_date"],
            )
            return Response(result_out(result), status=201 if result.status == "done" else 202)

        return run_idempotent(request, compute)


class CaseDetailApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="案件详情：当事人、阶段、期限、可办操作")
    def get(self, request: Request, case_id: int) -> Response:
        case = selectors.case_get_visible(user=_user(request), case_id=case_id)
        return Response(case_detail(_user(request), case))


class CaseTimelineApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="办案轨迹（全程留痕）")
    def get(self, request: Request, case_id: int) -> Response:
        case = selectors.case_get_visible(user=_user(request), case_id=case_id)
        entries = case_timeline(case_id=case.pk, viewer_agency=selectors.timeline_agency(_user(request)))
        return Response({"case_id": case.pk, "entries": entries})


class CaseActApi(APIView):
    @extend_schema(
        request=ActIn, responses=OpenApiTypes.OBJECT, summary="办理一项流程操作（支持 Idempotency-Key）"
    )
    def post(self, request: Request, case_id: int, action: str) -> Response:
        def compute() -> Response:
            data = ActIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            result = services.case_act(
                user=_user(request),
                case_id=case_id,
                action=action,
                party_ids=v["party_ids"] or None,
                reason=v["reason"],
                claimed_date=v["claimed_date"],
                options=v["options"],
                expected_version=v["expected_version"],
            )
            return Response(result_out(result), status=200 if result.status == "done" else 202)

        return run_idempotent(request, compute)


class InboxApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="待受理的移送（本单位收件箱）")
    def get(self, request: Request) -> Response:
        board = selectors.workbench(user=_user(request))
        return Response({"results": [transfer_out(t) for t in board["inbox"]]})


class TransferDecideIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    options = serializers.DictField(required=False, default=dict)


class TransferAcceptApi(APIView):
    @extend_schema(request=TransferDecideIn, responses=OpenApiTypes.OBJECT, summary="受理移送")
    def post(self, request: Request, transfer_id: int) -> Response:
        def compute() -> Response:
            data = TransferDecideIn(data=request.data)
            data.is_valid(raise_exception=True)
            result = services.transfer_accept(
                user=_user(request), transfer_id=transfer_id, options=data.validated_data["options"]
            )
            return Response(result_out(result))

        return run_idempotent(request, compute)


class TransferReturnApi(APIView):
    @extend_schema(request=TransferDecideIn, responses=OpenApiTypes.OBJECT, summary="退回移送（须说明理由）")
    def post(self, request: Request, transfer_id: int) -> Response:
        def compute() -> Response:
            data = TransferDecideIn(data=request.data)
            data.is_valid(raise_exception=True)
            result = services.transfer_return(
                user=_user(request), transfer_id=transfer_id, reason=data.validated_data["reason"]
            )
            return Response(result_out(result))

        return run_idempotent(request, compute)


class ApprovalListApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="待审批事项（负责人）")
    def get(self, request: Request) -> Response:
        board = selectors.workbench(user=_user(request))
        return Response({"results": [request_out(r) for r in board["approvals"]]})


class ApprovalDecideIn(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ApprovalDecideApi(APIView):
    @extend_schema(request=ApprovalDecideIn, responses=OpenApiTypes.OBJECT, summary="审批：批准或不批准")
    def post(self, request: Request, request_id: int) -> Response:
        def compute() -> Response:
            data = ApprovalDecideIn(data=request.data)
            data.is_valid(raise_exception=True)
            result = services.request_decide(
                user=_user(request),
                request_id=request_id,
                approve=data.validated_data["approve"],
                reason=data.validated_data["reason"],
            )
            return Response(result_out(result))

        return run_idempotent(request, compute)


class WorkbenchApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="工作台：待办、审批、期限（提醒/预警/超期）")
    def get(self, request: Request) -> Response:
        board = selectors.workbench(user=_user(request))
        return Response(
            {
                "inbox": [transfer_out(t) for t in board["inbox"]],
                "approvals": [request_out(r) for r in board["approvals"]],
                "clocks": [
                    {
                        "case_id": v.clock.case_id,
                        "case_number": v.clock.case.number,
                        "rule": v.clock.rule,
                        "label": v.rule.label,
                        "party": v.clock.party.name if v.clock.party else None,
                        "due": v.clock.due,
                        "due_at": v.clock.due_at,
                        "level": v.level.value,
                        "level_label": v.level.label,
                    }
                    for v in board["clocks"]
                ],
                "counts": board["counts"],
            }
        )


def parse_deadline_query(params: Any) -> tuple[str, datetime, bool]:
    rule = params.get("rule", "")
    if rule not in deadlines.RULES:
        raise ValidationFailed(
            "未知的期限规则代码", code="unknown_rule", details={"rules": sorted(deadlines.RULES)}
        )
    raw_start = params.get("start", "")
    try:
        start = datetime.fromisoformat(raw_start)
    except ValueError as exc:
        raise ValidationFailed(
            "起算时间须为 ISO-8601 格式，如 2026-03-01T22:00:00+08:00", code="bad_start"
        ) from exc
    if timezone.is_naive(start):
        start = timezone.make_aware(start)  # a bare local time is read as Asia/Shanghai
    custody_raw = str(params.get("in_custody", "false")).lower()
    if custody_raw not in {"true", "false", "1", "0"}:
        raise ValidationFailed("in_custody 须为 true 或 false", code="bad_in_custody")
    return rule, start, custody_raw in {"true", "1"}


class DeadlineComputeApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        parameters=[
            OpenApiParameter("rule", str, required=True),
            OpenApiParameter("start", str, required=True, description="ISO-8601"),
            OpenApiParameter("in_custody", bool),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="法定期限计算（无需登录）",
    )
    def get(self, request: Request) -> Response:
        rule, start, in_custody = parse_deadline_query(request.query_params)
        return Response(compute(rule, start, in_custody=in_custody).as_dict())


class DeadlineRulesApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="全部期限规则")
    def get(self, request: Request) -> Response:
        holiday_calendar()
        return Response(
            {
                "rules": [
                    {
                        "code": r.code,
                        "row": r.row,
                        "label": r.label,
                        "period": r.period_text,
                        "trigger": r.trigger,
                        "articles": list(r.articles),
                        "status": r.status,
                        "note": r.note,
                    }
                    for r in deadlines.RULES.values()
                ]
            }
        )
