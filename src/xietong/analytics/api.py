"""REST API of 大数据分析研判: the figures of any filtered set of the caller's visible cases (summary,
trend, one grouping) and the risk warnings, for the integrations a 政法委 dashboard or a report tool
needs. Bad filters answer 400 with the stable code ``bad_filter``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.analytics import selectors
from xietong.analytics.selectors import DIMENSIONS, Filters
from xietong.errors import ValidationFailed

_FILTER_PARAMS = [
    OpenApiParameter("date_from", str, description="立案日期起（2025-01-01 或 2025-01）"),
    OpenApiParameter("date_to", str, description="立案日期止"),
    OpenApiParameter("county", int, description="区县（行政区划 id）"),
    OpenApiParameter("town", int, description="镇（街道）（行政区划 id）"),
    OpenApiParameter("charge", str, description="罪名"),
    OpenApiParameter("stage", str, description="阶段代码"),
    OpenApiParameter(
        "outcome", str, description="pending / convicted / acquitted / not_prosecuted / withdrawn"
    ),
    OpenApiParameter("unit", int, description="经办单位 id"),
    OpenApiParameter("amount_min", int, description="涉案金额下限（元）"),
    OpenApiParameter("amount_max", int, description="涉案金额上限（元）"),
    OpenApiParameter("custody", str, description="1：曾羁押；0：未羁押"),
    OpenApiParameter("text", str, description="案名或案情包含"),
]


class FiguresApi(APIView):
    @extend_schema(
        summary="统计数字（本人可见案件）",
        parameters=[
            *_FILTER_PARAMS,
            OpenApiParameter("group", str, description="分组维度：" + "、".join(DIMENSIONS)),
            OpenApiParameter("period", str, description="趋势周期：month（默认）/ quarter / year"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        filters = Filters.parse(request.query_params)
        group = request.query_params.get("group", "")
        if group and group not in DIMENSIONS:
            raise ValidationFailed("不能按这个维度分组", code="bad_filter")
        facts = filters.apply(selectors.facts_visible_to(user=request.user))  # type: ignore[arg-type]
        body: dict[str, Any] = {
            "filters": filters.as_params(),
            "summary": selectors.summary(facts),
            "trend": selectors.trend(facts, period=request.query_params.get("period", "month")),
        }
        if group:
            body["groups"] = selectors.grouped(facts, group)
        return Response(body)


class WarningsApi(APIView):
    @extend_schema(summary="风险预警（本人可见范围，最新在前）", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        warnings = selectors.warnings_visible_to(user=request.user)[:200]  # type: ignore[arg-type]
        return Response(
            [
                {
                    "id": w.pk,
                    "region": w.region.name,
                    "region_code": w.region.code,
                    "charge": w.charge,
                    "month": w.month.isoformat()[:7],
                    "observed": w.observed,
                    "expected": round(w.expected, 2),
                    "threshold": round(w.threshold, 2),
                    "p_value": w.p_value,
                    "reason": w.reason,
                    "status": w.status,
                    "evidence": w.evidence,
                }
                for w in warnings
            ]
        )
