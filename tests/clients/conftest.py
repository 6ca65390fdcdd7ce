from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from xietong.clients.crypto import sign


def token_for(client_id: str, secret: str) -> str:
    response = APIClient().post(
        "/api/v1/oauth/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def api_as(client_id: str, secret: str) -> APIClient:
    """An API client holding an OAuth access token of the system client."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(client_id, secret)}")
    return api


def signed_headers(
    client_id: str, secret: str, method: str, path: str, body: bytes = b"", *, at: int | None = None
) -> dict[str, str]:
    stamp = str(at if at is not None else int(timezone.now().timestamp()))
    return {
        "HTTP_X_XIETONG_CLIENT": client_id,
        "HTTP_X_XIETONG_TIMESTAMP": stamp,
        "HTTP_X_XIETONG_SIGNATURE": sign(secret=secret, timestamp=stamp, method=method, path=path, body=body),
    }


def json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()
