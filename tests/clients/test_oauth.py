"""The client-credentials grant: tokens, RFC 6749 errors, rotation overlap, revocation, audit."""

from __future__ import annotations

import base64
from datetime import timedelta

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.clients.conftest import api_as, token_for
from tests.factories import City, system_client
from xietong.clients import services
from xietong.clients.models import ClientAudit, ClientCredential, SystemClient


def _grant(**data: str) -> dict:
    response = APIClient().post("/api/v1/oauth/token", data)
    return {"status": response.status_code, **response.json(), "headers": response}


def test_a_token_acts_as_the_clients_own_user_of_its_unit(city: City) -> None:
    unit = city.counties["gusu"].police
    client_id, secret = system_client(unit, ["handler", "leader"])
    response = APIClient().post(
        "/api/v1/oauth/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert response["Cache-Control"] == "no-store"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    me = api.get("/api/v1/me").json()
    assert me["unit_id"] == unit.pk and me["duties"] == ["handler", "leader"]
    assert me["username"] == f"sys:{client_id}"


def test_http_basic_is_accepted(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = APIClient().post(
        "/api/v1/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content


def test_wrong_secret_unknown_client_and_bad_grants_get_rfc6749_errors(city: City) -> None:
    client_id, _ = system_client(city.counties["gusu"].police)
    wrong = _grant(grant_type="client_credentials", client_id=client_id, client_secret="nope")
    assert (wrong["status"], wrong["error"], wrong["code"]) == (401, "invalid_client", "invalid_client")
    assert wrong["headers"]["WWW-Authenticate"].startswith("Basic")
    unknown = _grant(grant_type="client_credentials", client_id="xtc_none", client_secret="x")
    assert (unknown["status"], unknown["error"]) == (401, "invalid_client")
    password = _grant(grant_type="password", client_id=client_id, client_secret="x")
    assert (password["status"], password["error"]) == (400, "unsupported_grant_type")
    missing = _grant(client_id=client_id)
    assert (missing["status"], missing["error"]) == (400, "invalid_request")
    garbled = APIClient().post("/api/v1/oauth/token", "{not json", content_type="application/json")
    assert garbled.status_code == 400 and garbled.json()["error"] == "invalid_request"


def test_the_system_user_cannot_log_in_with_a_password(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    response = APIClient().post(
        "/api/v1/auth/token", {"username": f"sys:{client_id}", "password": secret}, format="json"
    )
    assert response.status_code == 403


def test_rotation_keeps_the_old_secret_for_the_overlap_then_refuses_it(city: City) -> None:
    client_id, old = system_client(city.counties["gusu"].police)
    old_token = token_for(client_id, old)
    new = services.client_rotate(client_id=client_id, overlap=timedelta(hours=24)).secret
    assert new != old
    assert token_for(client_id, old) and token_for(client_id, new)
    with time_machine.travel(timezone.now() + timedelta(hours=23), tick=False):
        assert (
            _grant(grant_type="client_credentials", client_id=client_id, client_secret=old)["status"] == 200
        )
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        refused = _grant(grant_type="client_credentials", client_id=client_id, client_secret=old)
        assert (refused["status"], refused["error"]) == (401, "invalid_client")
        assert (
            _grant(grant_type="client_credentials", client_id=client_id, client_secret=new)["status"] == 200
        )
        # A token of the old secret ends with it, even if its own hour had not run out.
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {old_token}")
        assert api.get("/api/v1/me").status_code == 401


def test_a_token_never_outlives_its_credential(city: City) -> None:
    client_id, old = system_client(city.counties["gusu"].police)
    services.client_rotate(client_id=client_id, overlap=timedelta(minutes=10))
    body = _grant(grant_type="client_credentials", client_id=client_id, client_secret=old)
    assert 590 <= body["expires_in"] <= 600


def test_revocation_is_immediate_and_ends_issued_tokens(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    api = api_as(client_id, secret)
    assert api.get("/api/v1/cases").status_code == 200
    assert services.client_revoke(client_id=client_id) == 1
    denied = api.get("/api/v1/cases")
    assert denied.status_code == 401 and denied.json()["code"] == "authentication_failed"
    refused = _grant(grant_type="client_credentials", client_id=client_id, client_secret=secret)
    assert (refused["status"], refused["error"]) == (401, "invalid_client")
    assert SystemClient.objects.get(client_id=client_id).user.is_active is False


def test_revoking_one_credential_leaves_the_other(city: City) -> None:
    client_id, old = system_client(city.counties["gusu"].police)
    new = services.client_rotate(client_id=client_id).secret
    key = ClientCredential.objects.get(secret_hash=services.crypto.hash_secret(old)).key_id
    old_api = api_as(client_id, old)
    services.client_revoke(client_id=client_id, key_id=key)
    assert old_api.get("/api/v1/cases").status_code == 401
    assert api_as(client_id, new).get("/api/v1/cases").status_code == 200


def test_every_change_of_access_is_audited(city: City) -> None:
    admin = city.u("admin")
    issued = services.client_create(
        unit=city.counties["gusu"].police, name="警综平台", duties=["handler"], created_by=admin
    )
    services.client_rotate(client_id=issued.client.client_id, actor=admin)
    services.client_revoke(client_id=issued.client.client_id, actor=admin)
    rows = list(ClientAudit.objects.filter(client=issued.client).values_list("action", "actor"))
    assert rows == [("create", admin.pk), ("rotate", admin.pk), ("revoke", admin.pk)]


def test_secrets_are_not_stored_in_clear(city: City) -> None:
    client_id, secret = system_client(city.counties["gusu"].police)
    credential = ClientCredential.objects.get(client__client_id=client_id)
    assert secret not in credential.secret_hash
    assert secret.encode() not in bytes(credential.secret_sealed)


def test_admin_duty_cannot_be_granted(city: City) -> None:
    import pytest

    from xietong.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        services.client_create(unit=city.committee, name="x", duties=["admin"])
    assert refused.value.code == "client_duty_not_grantable"
