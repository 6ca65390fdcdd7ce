"""TOTP two-factor sign-in for the duties that seal or lead (issue 11, item 5)."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from django.test import Client

from tests.factories import PASSWORD, City, UserFactory
from xietong.security import services, totp
from xietong.security.models import AuditEvent, TotpDevice

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("unix_time", "code"),
    [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (20000000000, "65353130")],
)
def test_totp_matches_the_rfc_6238_vectors(unix_time: int, code: str) -> None:
    assert totp.code_at(RFC_SECRET, totp.counter_at(unix_time), digits=8) == code


def test_a_code_is_accepted_once_and_only_near_its_time() -> None:
    secret = totp.secret_new()
    now = 1_800_000_000.0
    code = totp.code_at(secret, totp.counter_at(now))
    counter = totp.match(secret, code, now)
    assert counter == totp.counter_at(now)
    assert totp.match(secret, code, now, after=counter) is None  # replay
    assert totp.match(secret, code, now + 120) is None  # too late
    assert totp.match(secret, "12345", now) is None


@pytest.fixture
def enforced(settings: Any) -> None:
    settings.XIETONG_2FA_ENFORCED = True


def _signed_in(city: City, who: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": city.u(who).username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _current_code(user: Any) -> str:
    secret = services.totp_pending_secret(user=user) or services._open(user.totp.secret_sealed)
    return totp.code_at(secret, totp.counter_at(time.time()))


def test_off_by_default_so_the_demo_logins_stay_one_step(city: City) -> None:
    client = _signed_in(city, "gusu.police_leader")
    assert client.get("/").status_code == 200


def test_a_leader_enrols_then_passes_the_second_step(city: City, enforced: None) -> None:
    leader = city.u("gusu.police_leader")
    client = _signed_in(city, "gusu.police_leader")
    response = client.get("/cases/")
    assert response.status_code == 302
    assert response["Location"] == "/security/2fa/?next=/cases/"
    page = client.get("/security/2fa/")
    assert page.status_code == 200
    assert "data:image/png;base64," in page.content.decode()
    assert client.get("/api/v1/me").json()["code"] == "two_factor_required"

    wrong = client.post("/security/2fa/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "动态口令错误" in wrong.content.decode()
    done = client.post("/security/2fa/", {"code": _current_code(leader), "next": "/cases/"})
    assert done.status_code == 302
    assert done["Location"] == "/cases/"
    assert client.get("/cases/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    device = TotpDevice.objects.get(user=leader)
    assert device.confirmed_at is not None
    assert totp.secret_new()[:4] not in bytes(device.secret_sealed).decode("latin-1")

    # Next sign-in: the code is asked again, and a code already used is refused.
    again = _signed_in(city, "gusu.police_leader")
    assert again.get("/").status_code == 302
    used = totp.code_at(services._open(device.secret_sealed), device.last_counter)
    assert again.post("/security/2fa/", {"code": used}).status_code == 400


def test_a_duty_outside_the_list_signs_in_with_a_password(city: City, enforced: None) -> None:
    UserFactory(username="reviewer1", unit=city.counties["gusu"].procuratorate, duties=["reviewer"])
    client = Client()
    client.post("/login/", {"username": "reviewer1", "password": PASSWORD})
    assert client.get("/").status_code == 200


def test_five_wrong_codes_sign_the_person_out(city: City, enforced: None) -> None:
    client = _signed_in(city, "gusu.procu_leader")
    for _ in range(4):
        assert client.post("/security/2fa/", {"code": "000000"}).status_code == 400
    response = client.post("/security/2fa/", {"code": "000000"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302
    logged = list(AuditEvent.objects.filter(user=city.u("gusu.procu_leader")).order_by("at", "pk"))
    assert [e.kind for e in logged] == ["totp_failure"] * 4 + ["totp_lockout"]
    assert logged[0].address == "127.0.0.1" and logged[0].unit_name == city.u("gusu.procu_leader").unit.name


def test_a_confirmed_device_is_replaced_only_by_an_administrator(city: City) -> None:
    leader = city.u("gusu.police_leader")
    secret, _ = services.totp_enrol_start(user=leader)
    services.totp_verify(user=leader, code=totp.code_at(secret, totp.counter_at(time.time())))
    with pytest.raises(services.NotAllowed):
        services.totp_enrol_start(user=leader)
    with pytest.raises(services.NotAllowed):
        services.totp_reset(admin=city.u("gusu.police"), user_id=leader.pk)
    services.totp_reset(admin=city.u("admin"), user_id=leader.pk)
    assert not TotpDevice.objects.filter(user=leader).exists()
