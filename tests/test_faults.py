"""Faults of the machinery (``xietong.faults``): the database gone or the disk full are told as 503 or
507 with a stable code and a Chinese message, to people and to agency systems — never a bare 500."""

from __future__ import annotations

import errno
from unittest import mock

from botocore.exceptions import ClientError, EndpointConnectionError
from django.db import InterfaceError, OperationalError
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import City
from xietong import faults


def test_a_lost_database_and_a_full_disk_are_told_apart_from_ordinary_errors() -> None:
    assert (
        faults.classify(OperationalError("server closed the connection unexpectedly"))
        is faults.DATABASE_UNAVAILABLE
    )
    assert faults.classify(InterfaceError("connection already closed")) is faults.DATABASE_UNAVAILABLE
    assert faults.classify(OSError(errno.ENOSPC, "No space left on device")) is faults.STORAGE_FULL
    assert faults.classify(OSError(errno.ENOENT, "No such file")) is None
    assert faults.classify(ValueError("a bug")) is None
    away = EndpointConnectionError(endpoint_url="http://s3.internal:9000/case-files")
    assert faults.classify(away) is faults.STORAGE_UNAVAILABLE
    slow = ClientError(
        {"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject"
    )
    assert faults.classify(slow) is faults.STORAGE_UNAVAILABLE
    denied = ClientError(
        {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "PutObject"
    )
    assert faults.classify(denied) is None  # a misconfiguration: a 500 for the administrator's log
    try:  # wrapped in another error, the cause still counts
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise RuntimeError("could not store") from exc
    except RuntimeError as wrapped:
        assert faults.classify(wrapped) is faults.STORAGE_FULL


def test_the_api_answers_503_with_a_stable_code_while_the_database_is_gone(city: City) -> None:
    client = APIClient()
    client.force_authenticate(city.u("gusu.police"))
    lost = OperationalError("terminating connection due to administrator command")
    with mock.patch("xietong.cases.api.selectors.case_search", side_effect=lost):
        response = client.get("/api/v1/cases")
    assert response.status_code == 503
    assert response.json() == {"code": "database_unavailable", "message": faults.DATABASE_UNAVAILABLE.message}
    assert response["Retry-After"] == str(faults.RETRY_AFTER_SECONDS)


def test_a_page_says_in_chinese_that_the_database_is_gone_and_may_be_retried(city: City) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(city.u("gusu.police"))
    lost = OperationalError("could not connect to server: Connection refused")
    with mock.patch("xietong.web.views.selectors.case_search", side_effect=lost):
        response = client.get("/cases/")
    assert response.status_code == 503
    page = response.content.decode()
    assert "数据库暂时不可用" in page and "database_unavailable" in page and "重新提交" in page
    assert response["Retry-After"] == str(faults.RETRY_AFTER_SECONDS)


def test_an_ordinary_error_is_still_a_500_with_its_own_page(city: City) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(city.u("gusu.police"))
    with mock.patch("xietong.web.views.selectors.case_search", side_effect=ValueError("bug")):
        response = client.get("/cases/")
    assert response.status_code == 500
    assert "系统内部错误" in response.content.decode()
