"""Signed requests: HMAC over timestamp, method, path and body; stale and wrong signatures are
refused with stable codes, and a client marked ``require_signature`` cannot go without."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from tests.clients.conftest import json_body, signed_headers, token_for
from tests.factories import City, system_client
from xietong.cases.models import Case
from xietong.clients import services


def _register_payload(city: City) -> dict[str, Any]:
    return {
        "charge": "诈骗罪",
        "facts": "犯罪嫌疑人冒充客服骗取被害人人民币五万元。",
        "occurred_at": "2026-11-01T10:00:00+08:00",
        "town_id": city.counties["gusu"].towns[0].pk,
        "parties": [{"name": "李四", "gender": "男", "address": "江苏省苏州市姑苏区姑苏区街道1幸福路8号"}],
    }


def _post_signed(
    client_id: str, secret: str, path: str, body: bytes, *, send: bytes | None = None, **extra: Any
) -> Any:
    headers = signed_headers(client_id, secret, "POST", path, body)
    headers.update(extra)
    return APIClient().generic(
        "POST", path, send if send is not None else body, content_type="application/json", **headers
    )


def test_a_signed_get_with_a_query_string_is_accepted(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    path = "/api/v1/cases?stage=investigation&q=%E5%BC%A0"
    response = APIClient().get(path, **signed_headers(client_id, secret, "GET", path))
    assert response.status_code == 200, response.content


def test_a_signed_write_goes_through_the_same_door(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    response = _post_signed(client_id, secret, "/api/v1/cases", json_body(_register_payload(city)))
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["case"]["id"])
    assert case.holder_unit == city.counties["gusu"].police


def test_a_stale_signature_is_refused(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    old = int(timezone.now().timestamp()) - 301
    response = APIClient().get(
        "/api/v1/cases", **signed_headers(client_id, secret, "GET", "/api/v1/cases", at=old)
    )
    assert response.status_code == 401 and response.json()["code"] == "signature_stale"
    future = int(timezone.now().timestamp()) + 301
    response = APIClient().get(
        "/api/v1/cases", **signed_headers(client_id, secret, "GET", "/api/v1/cases", at=future)
    )
    assert response.status_code == 401 and response.json()["code"] == "signature_stale"


def test_a_wrong_secret_path_or_method_is_refused(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    for headers in (
        signed_headers(client_id, "not-the-secret", "GET", "/api/v1/cases"),
        signed_headers(client_id, secret, "GET", "/api/v1/inbox"),
        signed_headers(client_id, secret, "POST", "/api/v1/cases"),
        {**signed_headers(client_id, secret, "GET", "/api/v1/cases"), "HTTP_X_XIETONG_TIMESTAMP": "abc"},
        {"HTTP_X_XIETONG_CLIENT": client_id},
    ):
        response = APIClient().get("/api/v1/cases", **headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "signature_invalid"


def test_a_tampered_body_is_refused_and_nothing_is_written(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    body = json_body(_register_payload(city))
    tampered = body.replace("五万".encode(), "五百".encode())
    response = _post_signed(client_id, secret, "/api/v1/cases", body, send=tampered)
    assert response.status_code == 401 and response.json()["code"] == "signature_invalid"
    assert Case.objects.count() == 0


def test_a_client_that_must_sign_cannot_use_its_token_alone(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police, require_signature=True)
    token = token_for(client_id, secret)
    bare = APIClient()
    bare.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    refused = bare.get("/api/v1/cases")
    assert refused.status_code == 401 and refused.json()["code"] == "signature_required"
    signed = bare.get("/api/v1/cases", **signed_headers(client_id, secret, "GET", "/api/v1/cases"))
    assert signed.status_code == 200
    alone = APIClient().get("/api/v1/cases", **signed_headers(client_id, secret, "GET", "/api/v1/cases"))
    assert alone.status_code == 200


def test_a_token_of_another_client_does_not_go_with_a_signature(city: City) -> None:
    one_id, one_secret = system_client(city.counties["gusu"].police)
    two_id, two_secret = system_client(city.counties["wuzhong"].police)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(two_id, two_secret)}")
    response = api.get("/api/v1/cases", **signed_headers(one_id, one_secret, "GET", "/api/v1/cases"))
    assert response.status_code == 401 and response.json()["code"] == "token_mismatch"


def test_the_old_secret_signs_during_the_overlap_and_not_after_revocation(city: City) -> None:
    client_id, old = system_client(city.counties["gusu"].police)
    services.client_rotate(client_id=client_id)
    path = "/api/v1/cases"
    assert APIClient().get(path, **signed_headers(client_id, old, "GET", path)).status_code == 200
    services.client_revoke(client_id=client_id)
    response = APIClient().get(path, **signed_headers(client_id, old, "GET", path))
    assert response.status_code == 401 and response.json()["code"] == "signature_invalid"


def test_personal_tokens_and_sessions_are_untouched(city: City) -> None:
    from tests.api.test_api import client_for

    assert client_for(city, "gusu.police").get("/api/v1/cases").status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.get("/api/v1/cases").json()["code"] == "authentication_failed"


def test_the_schema_documents_both_ways_in(city: City) -> None:
    schema = APIClient().get("/api/schema/?format=json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["clientCredentials"]["flows"]["clientCredentials"]["tokenUrl"] == "/api/v1/oauth/token"
    assert schemes["xietongSignature"]["name"] == "X-Xietong-Signature"
    security = schema["paths"]["/api/v1/cases"]["get"]["security"]
    assert {"xietongClient": [], "xietongTimestamp": [], "xietongSignature": []} in security
    assert schema["paths"]["/api/v1/oauth/token"]["post"].get("security") in ([], [{}], None)


def test_a_signed_chunk_larger_than_djangos_memory_limit_still_reaches_the_parser(
    city: City, settings: Any, tmp_path: Any
) -> None:
    import hashlib
    import os

    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"
    from tests.factories import register_case

    case_id = register_case(city, "gusu")
    client_id, secret = system_client(city.counties["gusu"].police, require_signature=True)
    chunk = os.urandom(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    start = json_body({"filename": "卷一.pdf", "size": len(chunk)})
    started = _post_signed(client_id, secret, f"/api/v1/cases/{case_id}/uploads", start)
    assert started.status_code == 201, started.content
    path = f"/api/v1/uploads/{started.json()['id']}?offset=0"
    response = APIClient().generic(
        "PUT",
        path,
        chunk,
        content_type="application/octet-stream",
        HTTP_X_CHUNK_SHA256=hashlib.sha256(chunk).hexdigest(),
        **signed_headers(client_id, secret, "PUT", path, chunk),
    )
    assert response.status_code == 200, response.content
    assert response.json()["received"] == len(chunk)
