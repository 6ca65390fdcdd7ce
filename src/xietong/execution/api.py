"""REST API of execution and community corrections (F7, F8): where each person of a case is and
under which authority; the corrections unit's offenders, 报到 goes through the case act API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.cases import selectors as case_selectors
from xietong.cases.api import _user
from xietong.execution import selectors, services
from xietong.execution.models import Supervisee
from xietong.idempotency import run_idempotent


def _person(p: selectors.PersonProgress) -> dict[str, Any]:
    return {
        "party_id": p.party.pk,
        "name": p.party.name,
        "state": p.state.value,
        "state_label": p.state_label,
        "where": p.where,
        "authority": p.authority,
        "until": p.until.isoformat() if p.until else None,
        "unlawful": (
            {
                "reason": p.overdue.reason.value,
                "label": p.overdue.reason.label,
                "since": p.overdue.since.isoformat(),
                "article": p.overdue.article,
            }
            if p.overdue
            else None
        ),
        "sentence": (
            {
                "text": p.sentence_label,
                "effective_on": p.sentence.effective_on.isoformat(),
                "term_start": p.sentence.term_start.isoformat() if p.sentence.term_start else None,
                "term_end": p.sentence.term_end.isoformat() if p.sentence.term_end else None,
                "credited_days": p.sentence.credited_days,
                "body": p.sentence.body,
                "executing_unit": p.sentence.executing_unit.name if p.sentence.executing_unit else None,
            }
            if p.sentence
            else None
        ),
        "events": [
            {
                "kind": e.kind,
                "label": e.get_kind_display(),
                "at": e.at.isoformat(),
                "unit": e.unit.name if e.unit else None,
                "until": e.until.isoformat() if e.until else None,
                "note": e.note,
            }
            for e in p.events
        ],
    }


def supervisee_json(s: Supervisee) -> dict[str, Any]:
    return {
        "id": s.pk,
        "case_id": s.case_id,
        "case_number": s.case.number,
        "party_id": s.party_id,
        "name": s.party.name,
        "id_number": s.party.id_number,
        "kind": s.kind,
        "kind_label": s.get_kind_display(),
        "status": s.status,
        "status_label": s.get_status_display(),
        "address": s.address,
        "corrections_unit": s.corrections_unit.name,
        "office": s.office.name if s.office else None,
        "term_start": s.term_start.isoformat(),
        "term_end": s.term_end.isoformat(),
        "report_due": s.report_due.isoformat(),
        "reported_at": s.reported_at.isoformat() if s.reported_at else None,
        "supervisor": (s.supervisor.full_name or s.supervisor.username) if s.supervisor else None,
        "plan": s.plan,
        "conditions": s.conditions,
        "prohibitions": s.prohibitions,
    }


class CaseCustodyApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="人员去向与羁押依据（每人：状态、所在、依据、有效至、羁押变动）",
    )
    def get(self, request: Request, case_id: int) -> Response:
        user = _user(request)
        case = case_selectors.case_get_visible(user=user, case_id=case_id)
        return Response(
            {
                "case_id": case.pk,
                "persons": [_person(p) for p in selectors.case_progress(case=case, user=user)],
            }
        )


class SuperviseeListApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="本单位（社区矫正机构、司法所）的社区矫正对象")
    def get(self, request: Request) -> Response:
        rows = selectors.supervisees_of(_user(request))
        status = request.query_params.get("status", "")
        if status:
            rows = rows.filter(status=status)
        return Response({"results": [supervisee_json(s) for s in rows[:500]]})


class PlanIn(serializers.Serializer):
    supervisor_id = serializers.IntegerField(required=False, allow_null=True)
    plan = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    prohibitions = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class SuperviseePlanApi(APIView):
    @extend_schema(request=PlanIn, responses=OpenApiTypes.OBJECT, summary="矫正小组与矫正方案")
    def post(self, request: Request, supervisee_id: int) -> Response:
        def compute() -> Response:
            data = PlanIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            sv = services.supervisee_update(
                user=_user(request),
                supervisee_id=supervisee_id,
                supervisor_id=v.get("supervisor_id"),
                plan=v.get("plan"),
                prohibitions=v.get("prohibitions"),
            )
            return Response(supervisee_json(sv))

        return run_idempotent(request, compute)


class SuperviseeDischargeApi(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="解除社区矫正（期满）")
    def post(self, request: Request, supervisee_id: int) -> Response:
        def compute() -> Response:
            sv = services.supervisee_discharge(user=_user(request), supervisee_id=supervisee_id)
            return Response(supervisee_json(sv))

        return run_idempotent(request, compute)
