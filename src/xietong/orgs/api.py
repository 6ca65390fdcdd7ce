"""Tokens for API clients and the caller's own profile."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.orgs.services import token_issue


class TokenIn(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


def user_out(user: Any) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "unit": user.unit.name if user.unit else None,
        "unit_id": user.unit_id,
        "agency": user.unit.agency if user.unit else None,
        "duties": sorted(user.duty_codes),
    }


class TokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(request=TokenIn, responses=OpenApiTypes.OBJECT, summary="用户名、密码换取访问令牌")
    def post(self, request: Request) -> Response:
        data = TokenIn(data=request.data)
        data.is_valid(raise_exception=True)
        raw, token = token_issue(
            request=request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        return Response(
            {
                "token": raw,
                "token_type": "Bearer",
                "expires_at": token.expires_at,
                "user": user_out(token.user),
            }
        )


class MeApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="当前用户")
    def get(self, request: Request) -> Response:
        return Response(user_out(request.user))
