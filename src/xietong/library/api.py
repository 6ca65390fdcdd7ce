"""REST API of the case library (F9, F10): similar cases for pasted facts or a platform case, search
with facets, one record. Similar cases answer ``[{"id", "score", "why"}, …]`` in rank order, the
id being the record's external id exactly as imported."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.cases import selectors as case_selectors
from xietong.cases.api import _user
from xietong.errors import ValidationFailed
from xietong.library import selectors, services
from xietong.library.models import Record

MAX_TEXT = 50_000


class SimilarIn(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT, trim_whitespace=True)
    case_id = serializers.IntegerField(required=False, min_value=1)
    k = serializers.IntegerField(required=False, min_value=1, max_value=200, default=30)
    collection = serializers.SlugField(required=False, allow_blank=True, max_length=60)
    passages = serializers.IntegerField(required=False, min_value=0, max_value=10, default=0)


def _similar(request: Request, data: dict[str, Any]) -> Response:
    payload = SimilarIn(data=data)
    payload.is_valid(raise_exception=True)
    v = payload.validated_data
    text = v.get("text") or ""
    exclude: tuple[str, ...] = ()
    if v.get("case_id"):
        case = case_selectors.case_get_visible(user=_user(request), case_id=v["case_id"])
        text = text or case.facts
        exclude = (case.number,)
    else:
        _user(request)
    if not text.strip():
        raise ValidationFailed("请提供案件事实（text）或平台案件（case_id）", code="text_required")
    found = selectors.similar_cases(
        text=text, k=v["k"], collection=v.get("collection") or "", exclude_ids=exclude, passages=v["passages"]
    )
    return Response([{"id": s.record.external_id, "score": s.score, "why": s.why} for s in found])


_SIMILAR_PARAMS = [
    OpenApiParameter("text", str, description="案件事实（长文本请用 POST）"),
    OpenApiParameter("case_id", int, description="或：平台案件编号（以其简要案情检索，并排除其本身）"),
    OpenApiParameter("k", int, description="返回条数，默认 30，最多 200"),
    OpenApiParameter("collection", str, description="只在该案例集中检索"),
    OpenApiParameter("passages", int, description="前几条附带关键段落对照（默认 0）"),
]


class SimilarApi(APIView):
    @extend_schema(
        parameters=_SIMILAR_PARAMS,
        responses=OpenApiTypes.OBJECT,
        summary="类案检索（按相似度排序，附匹配理由）",
    )
    def get(self, request: Request) -> Response:
        return _similar(request, request.query_params.dict())

    @extend_schema(
        request=SimilarIn, responses=OpenApiTypes.OBJECT, summary="类案检索（长文本事实以 JSON 提交）"
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationFailed("请求体应为 JSON 对象", code="invalid")
        return _similar(request, request.data)


def record_json(record: Record, *, original: bool) -> dict[str, Any]:
    published = record.published or {}
    return {
        "id": record.external_id,
        "record_id": record.pk,
        "collection": record.collection.name,
        "title": record.title if original else published.get("title", record.title),
        "document_name": record.document_name if original else published.get("document_name", ""),
        "court": record.court,
        "region": record.region,
        "year": record.year,
        "charges": record.charges,
        "articles": record.articles,
        "circumstances": record.circumstances,
        "penalty": {
            "kind": record.penalty_kind,
            "months": record.months,
            "probation_months": record.probation_months,
            "label": record.penalty_label,
        },
        "money_yuan": record.money_yuan,
        "drug_grams": record.drug_grams,
        "facts": record.facts if original else published.get("facts", ""),
        "reasoning": record.reasoning if original else published.get("reasoning", ""),
        "judgment": record.judgment if original else published.get("judgment", ""),
        "original": original,
        "version": record.version,
        "case_id": record.case_id if original else None,
    }


class SearchIn(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=500)
    collection = serializers.SlugField(required=False, allow_blank=True, max_length=60)
    charge = serializers.CharField(required=False, allow_blank=True, max_length=60)
    article = serializers.CharField(required=False, allow_blank=True, max_length=60)
    circumstance = serializers.CharField(required=False, allow_blank=True, max_length=30)
    penalty_kind = serializers.CharField(required=False, allow_blank=True, max_length=30)
    months_min = serializers.IntegerField(required=False, min_value=0, max_value=600)
    months_max = serializers.IntegerField(required=False, min_value=0, max_value=600)
    year_from = serializers.IntegerField(required=False, min_value=1949, max_value=2100)
    year_to = serializers.IntegerField(required=False, min_value=1949, max_value=2100)
    court = serializers.CharField(required=False, allow_blank=True, max_length=100)
    region = serializers.CharField(required=False, allow_blank=True, max_length=50)
    page = serializers.IntegerField(required=False, min_value=1, max_value=10_000, default=1)


def filters_from(data: dict[str, Any]) -> tuple[selectors.Filters, int]:
    payload = SearchIn(data=data)
    payload.is_valid(raise_exception=True)
    v = dict(payload.validated_data)
    page = v.pop("page", 1)
    return selectors.Filters(**v), page


class RecordSearchApi(APIView):
    @extend_schema(
        parameters=[SearchIn], responses=OpenApiTypes.OBJECT, summary="案例库检索（全文 + 筛选 + 分面计数）"
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        filters, page = filters_from(request.query_params.dict())
        result = selectors.library_search(filters=filters, page=page)
        return Response(
            {
                "total": result.total,
                "milliseconds": round(result.milliseconds, 1),
                "facets": {
                    k: [{"value": v, "count": c} for v, c in rows] for k, rows in result.facets.items()
                },
                "results": [
                    {**record_json(r, original=False), "score": round(result.scores.get(r.pk, 0.0), 3)}
                    | (
                        {}
                        if not selectors.may_read_original(user=user, record=r)
                        else {"original_available": True}
                    )
                    for r in result.records
                ],
            }
        )


class RecordApi(APIView):
    @extend_schema(
        operation_id="v1_library_record_retrieve",  # distinct from the search's (check --deploy)
        responses=OpenApiTypes.OBJECT,
        summary="案例详情（无权查看原文者得到脱敏文本）",
    )
    def get(self, request: Request, record_id: int) -> Response:
        user = _user(request)
        record = selectors.record_get(record_id=record_id)
        original = request.query_params.get("original") == "1" and selectors.may_read_original(
            user=user, record=record
        )
        services.record_view_log(user=user, record=record, original=original)
        return Response(record_json(record, original=original))
