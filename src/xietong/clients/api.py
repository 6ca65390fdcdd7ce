"""``POST /api/v1/oauth/token``: the OAuth2 client-credentials grant for agency systems. Errors
follow RFC 6749 §5.2 (``error``, ``error_description``) and also carry the platform's
``code``/``message`` so one client library can read every error body."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.clients.services import OAuthError, client_token_issue


class OAuthTokenIn(serializers.Serializer):
    grant_type = serializers.CharField()
    client_id = serializers.CharField(required=False)
    client_secret = serializers.CharField(required=False)
    scope = serializers.CharField(required=False)


def _error(exc: OAuthError) -> Response:
    response = Response(
        {
            "error": exc.error,
            "error_description": exc.message,
            "code": exc.error,
            "message": exc.message,
        },
        status=exc.status,
    )
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="xietong"'
    response["Cache-Control"] = "no-store"
    return response


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "HTTP Basic 凭据格式错误", status=401) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "HTTP Basic 凭据格式错误", status=401)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    return unquote(client_id), unquote(secret)


class OAuthTokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    @extend_schema(
        request={
            "application/x-www-form-urlencoded": OAuthTokenIn,
            "application/json": OAuthTokenIn,
        },
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="invalid_request / unsupported_grant_type"),
            401: OpenApiResponse(OpenApiTypes.OBJECT, description="invalid_client"),
        },
        summary="接入系统以 client_id、client_secret 换取访问令牌（OAuth2 client_credentials）",
        auth=[],
    )
    def post(self, request: Request) -> Response:
        try:
            return self._issue(request)
        except OAuthError as exc:
            return _error(exc)

    def _issue(self, request: Request) -> Response:
        try:
            data = request.data if hasattr(request.data, "get") else {}
        except (exceptions.ParseError, exceptions.UnsupportedMediaType) as exc:
            raise OAuthError("invalid_request", "请求内容无法解析（应为表单或 JSON）") from exc
        grant_type = str(data.get("grant_type") or "")
        if not grant_type:
            raise OAuthError("invalid_request", "缺少 grant_type")
        if grant_type != "client_credentials":
            raise OAuthError("unsupported_grant_type", "仅支持 grant_type=client_credentials")
        basic = _basic(request)
        body_id, body_secret = str(data.get("client_id") or ""), str(data.get("client_secret") or "")
        if basic and (body_id or body_secret):
            raise OAuthError("invalid_request", "客户端凭据只能用一种方式提交（HTTP Basic 或表单）")
        client_id, secret = basic or (body_id, body_secret)
        raw, token = client_token_issue(client_id=client_id, secret=secret)
        expires_in = max(0, round((token.expires_at - timezone.now()).total_seconds()))
        response = Response({"access_token": raw, "token_type": "Bearer", "expires_in": expires_in})
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response
