"""Deploy checks, response headers, session expiry, API rate limits and the password policy
(issue 11, item 5)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD, City

REPO = Path(__file__).resolve().parents[2]


def _prod_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XIETONG_", "DJANGO_", "PYTEST_"))}
    env.pop("SECRET_KEY", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "xietong.settings.prod",
            "XIETONG_HOME": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(50),
            **extra,
        }
    )
    return env


def test_check_deploy_is_clean_with_the_production_settings(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xietong", "check", "--deploy", "--fail-level", "WARNING"],
        env=_prod_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_settings_refuse_the_embedded_demo_key(tmp_path: Path) -> None:
    env = _prod_env(tmp_path)
    env.pop("SECRET_KEY")
    done = subprocess.run(
        [sys.executable, "-m", "xietong", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr


def test_pages_carry_the_security_headers(city: City) -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    # no inline script, no <style> element; style attributes only (style-src-attr)
    assert (
        "script-src 'self';" in csp
        and "style-src 'self';" in csp
        and "'unsafe-inline'" not in csp.replace("style-src-attr 'unsafe-inline'", "")
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_only_the_api_docs_page_may_keep_style_elements_of_its_own(city: City) -> None:
    client = Client()
    client.force_login(city.u("gusu.police"))
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "style-src 'self' 'unsafe-inline';" in docs["Content-Security-Policy"]
    assert "style-src 'self';" in client.get("/").headers["Content-Security-Policy"]


def test_json_answers_carry_no_document_policy_but_still_nosniff(city: City) -> None:
    response = APIClient().get("/api/v1/deadlines/rules")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_session_expires_after_the_idle_time_and_slides_on_use(city: City, settings: Any) -> None:
    assert django_settings.SESSION_COOKIE_AGE == 8 * 3600
    settings.XIETONG_SESSION_TOUCH_SECONDS = 0
    client = Client()
    client.force_login(city.u("gusu.police"))
    first = client.session.get_expiry_age()
    assert 8 * 3600 - 60 <= first <= 8 * 3600
    time.sleep(1.1)
    assert client.get("/").status_code == 200
    expiry_before = client.session.get_expiry_date()
    time.sleep(1.1)
    client.get("/")
    assert client.session.get_expiry_date() > expiry_before  # moved forward by the request


def test_an_idle_session_is_signed_out(city: City, settings: Any) -> None:
    settings.SESSION_COOKIE_AGE = 1
    client = Client()
    client.force_login(city.u("gusu.police"))
    time.sleep(2.1)
    response = client.get("/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_anonymous_api_calls_are_rate_limited_with_a_stable_code(city: City, settings: Any) -> None:
    settings.XIETONG_API_RATES = {"anon": "3/min"}
    client = APIClient()
    statuses = [client.get("/api/v1/deadlines/rules").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/deadlines/rules")
    assert response.json()["code"] == "rate_limited"
    assert "请求过于频繁" in response.json()["message"]
    assert int(response["Retry-After"]) > 0


def test_each_user_has_his_own_api_budget(city: City, settings: Any) -> None:
    settings.XIETONG_API_RATES = {"user": "2/min"}
    one, two = APIClient(), APIClient()
    one.force_authenticate(city.u("gusu.police"))
    two.force_authenticate(city.u("gusu.procu"))
    assert [one.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    assert two.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/oauth/token"])
def test_the_credential_exchanges_are_rate_limited_per_address(city: City, settings: Any, path: str) -> None:
    settings.XIETONG_API_RATES = {"auth": "2/min"}
    client = APIClient()
    statuses = [
        client.post(path, {"username": f"nobody{i}", "password": "x"}, format="json").status_code
        for i in range(3)
    ]
    assert statuses[-1] == 429
    assert 429 not in statuses[:-1]
    # Other endpoints keep working for the same address.
    assert client.get("/api/v1/deadlines/rules").status_code == 200


def test_the_default_rates_are_set() -> None:
    rates = django_settings.XIETONG_API_RATES
    assert rates["user"] and rates["anon"] and rates["auth"]


def test_a_signed_in_user_still_gets_a_token_within_the_limit(city: City) -> None:
    response = APIClient().post(
        "/api/v1/auth/token", {"username": "gusu_police", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "password",
    ["short-pw-1", "123456789012345", "password12345", "gusu_police_2026"],
)
def test_weak_passwords_are_refused(city: City, password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password, user=city.u("gusu.police"))


def test_the_demo_and_test_passwords_pass_the_policy(city: City) -> None:
    validate_password(django_settings.XIETONG_DEMO_PASSWORD, user=city.u("gusu.police"))
    validate_password(PASSWORD, user=city.u("gusu.police"))


def test_the_api_goes_on_without_limits_when_their_redis_is_down(city: City, settings: Any) -> None:
    """A cache outage must not become a platform outage: the call is served, the outage logged."""
    settings.CACHES = {  # nothing listens on port 1
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.XIETONG_API_RATES = {"user": "2/min", "anon": "2/min"}
    client = APIClient()
    client.force_authenticate(city.u("gusu.police"))
    assert [client.get("/api/v1/me").status_code for _ in range(4)] == [200, 200, 200, 200]
    assert [APIClient().get("/api/v1/deadlines/rules").status_code for _ in range(3)] == [200, 200, 200]
