"""Authentication of agency systems: OAuth2 client-credentials bearer tokens and HMAC-signed
requests (``X-Xietong-Client``, ``X-Xietong-Timestamp``, ``X-Xietong-Signature``).

It runs first among ``DEFAULT_AUTHENTICATION_CLASSES`` and answers only for what is its own (a
token from ``/api/v1/oauth/token`` or signature headers); anything else falls through to the
personal tokens and the session, untouched. A replay of a signed write inside the time window is
stopped by ``Idempotency-Key`` rather than a nonce table."""

from __future__ import annotations

import hmac
import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.request import RawPostDataException
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from xietong.clients import crypto, selectors
from xietong.clients.models import ClientToken, SystemClient
from xietong.orgs.models import User

CLIENT_HEADER = "X-Xietong-Client"
TIMESTAMP_HEADER = "X-Xietong-Timestamp"
SIGNATURE_HEADER = "X-Xietong-Signature"
# Chunks of a case file are 8 MB; a signed body is read into memory to be hashed, so bound it.
MAX_SIGNED_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class SignedRequest:
    """``request.auth`` of a request authenticated by its signature."""

    client: SystemClient
    token: ClientToken | None = None


def _fail(message: str, code: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(message, code=code)


def _body(request: HttpRequest) -> bytes:
    """The raw body, kept readable for the parsers afterwards. Django's ``request.body`` refuses
    anything over DATA_UPLOAD_MAX_MEMORY_SIZE, which case-file chunks exceed, so large bodies are
    read here the same way Django does it (``_body`` + a fresh stream), under a higher bound."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_SIGNED_BODY:
        raise _fail("签名请求的内容过大", "signature_body_too_large")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        if limit is None or length <= limit or hasattr(request, "_body"):
            return request.body
        data = request.read()
    except RawPostDataException as exc:
        raise _fail("请求内容已被读取，无法校验签名", "signature_invalid") from exc
    request._body = data
    request._stream = io.BytesIO(data)
    return data


def verify_signature(request: Request) -> SystemClient:
    """The client whose live secret signed this request; raises 401 ``signature_stale`` or
    ``signature_invalid`` otherwise."""
    client_id = request.headers.get(CLIENT_HEADER, "").strip()
    stamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    signature = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    if not (client_id and stamp and signature):
        raise _fail(
            f"签名请求须同时提供 {CLIENT_HEADER}、{TIMESTAMP_HEADER}、{SIGNATURE_HEADER}",
            "signature_invalid",
        )
    if not stamp.isdigit() or len(stamp) > 12:
        raise _fail("时间戳须为 Unix 秒数", "signature_invalid")
    skew = abs(timezone.now().timestamp() - int(stamp))
    if skew > settings.XIETONG_SIGNATURE_WINDOW_SECONDS:
        raise _fail("签名已过期（请求时间与服务器时间相差过大），请校准时钟后重试", "signature_stale")
    django_request = request._request
    body = _body(django_request)
    client, credentials = selectors.client_live_credentials(client_id=client_id)
    path = django_request.get_full_path()
    for credential in credentials:
        expected = crypto.sign(
            secret=crypto.unseal_secret(bytes(credential.secret_sealed)),
            timestamp=stamp,
            method=django_request.method or "",
            path=path,
            body=body,
        )
        if hmac.compare_digest(expected, signature):
            assert client is not None  # noqa: S101 (credentials come only with a client)
            return client
    raise _fail("签名无效", "signature_invalid")


def _bearer(request: Request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1").split()
    if len(header) == 2 and header[0] == "Bearer":
        return header[1]
    return None


class SystemClientAuthentication(authentication.BaseAuthentication):
    """Authenticates an agency system as its dedicated user; returns None for anything else."""

    def authenticate(self, request: Request) -> tuple[User, ClientToken | SignedRequest] | None:
        raw = _bearer(request)
        token = selectors.client_token_live(raw=raw) if raw else None
        signed = any(h in request.headers for h in (CLIENT_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER))
        if signed:
            client = verify_signature(request)
            if raw and (token is None or token.credential.client_id != client.pk):
                raise _fail("令牌与签名的接入系统不一致，或令牌已失效", "token_mismatch")
            return client.user, SignedRequest(client=client, token=token)
        if token is None:
            return None
        client = token.credential.client
        if client.require_signature:
            raise _fail("该接入系统须对请求签名（X-Xietong-Signature）", "signature_required")
        return client.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="xietong"'


class SystemClientScheme(OpenApiAuthenticationExtension):
    """Documents both ways in OpenAPI: the OAuth2 token, or the three signature headers."""

    target_class = "xietong.clients.authentication.SystemClientAuthentication"
    name = ["clientCredentials", "xietongClient", "xietongTimestamp", "xietongSignature"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "oauth2",
                "description": "接入系统：client_id + client_secret 换取短期令牌",
                "flows": {"clientCredentials": {"tokenUrl": "/api/v1/oauth/token", "scopes": {}}},
            },
            {"type": "apiKey", "in": "header", "name": CLIENT_HEADER, "description": "接入系统标识"},
            {"type": "apiKey", "in": "header", "name": TIMESTAMP_HEADER, "description": "Unix 秒"},
            {
                "type": "apiKey",
                "in": "header",
                "name": SIGNATURE_HEADER,
                "description": "HMAC-SHA256(secret, ts\\nMETHOD\\npath?query\\nsha256hex(body))，十六进制",
            },
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [
            {"clientCredentials": []},
            {"xietongClient": [], "xietongTimestamp": [], "xietongSignature": []},
        ]
