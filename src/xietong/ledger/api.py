"""Public verification endpoints: anyone holding a signed tree head can check a proof offline."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.errors import ValidationFailed
from xietong.ledger.selectors import consistency_proof_between, inclusion_proof_for, tree_head_latest


class TreeHeadApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="最新签名树头与公钥（Ed25519）")
    def get(self, request: Request) -> Response:
        return Response(tree_head_latest())


class InclusionProofApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("entry_hash", str, required=True), OpenApiParameter("tree_size", int)],
        responses=OpenApiTypes.OBJECT,
        summary="留痕记录的包含证明（RFC 6962）",
    )
    def get(self, request: Request) -> Response:
        entry_hash = request.query_params.get("entry_hash", "")
        size = request.query_params.get("tree_size")
        if len(entry_hash) != 64:
            raise ValidationFailed("entry_hash 须为64位十六进制", code="bad_entry_hash")
        try:
            tree_size = int(size) if size else None
        except ValueError as exc:
            raise ValidationFailed("tree_size 须为整数", code="bad_tree_size") from exc
        if tree_size is not None and not 0 <= tree_size < 2**63:
            raise ValidationFailed("tree_size 须为非负整数", code="bad_tree_size")
        return Response(inclusion_proof_for(entry_hash=entry_hash, size=tree_size))


class ConsistencyProofApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        parameters=[
            OpenApiParameter("first", int, required=True),
            OpenApiParameter("second", int, required=True),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="两个树头之间的一致性证明（RFC 6962）",
    )
    def get(self, request: Request) -> Response:
        try:
            first = int(request.query_params.get("first", ""))
            second = int(request.query_params.get("second", ""))
        except ValueError as exc:
            raise ValidationFailed("first、second 须为整数", code="bad_tree_sizes") from exc
        if not (0 <= first < 2**63 and 0 <= second < 2**63):
            raise ValidationFailed("first、second 须为非负整数", code="bad_tree_sizes")
        return Response(consistency_proof_between(old_size=first, new_size=second))
