"""``xietong clients create|rotate|revoke|list``: the secret is printed once and works."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from tests.clients.conftest import token_for
from tests.factories import City
from xietong.clients.models import ClientAudit, SystemClient


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("clients", *args, stdout=out)
    return out.getvalue()


def test_create_rotate_list_and_revoke(city: City) -> None:
    unit = city.counties["gusu"].police
    out = _run(
        "create", "--unit", unit.code, "--name", "警综平台", "--duties", "handler,leader", "--by", "admin"
    )
    client_id = re.search(r"client_id:\s+(\S+)", out)[1]  # type: ignore[index]
    secret = re.search(r"client_secret:\s+(\S+)", out)[1]  # type: ignore[index]
    assert token_for(client_id, secret)
    client = SystemClient.objects.get(client_id=client_id)
    assert client.unit == unit and client.created_by == city.u("admin")
    assert sorted(client.user.duty_codes) == ["handler", "leader"]
    assert not client.user.has_usable_password()
    rotated = _run("rotate", client_id, "--overlap-hours", "1")
    new_secret = re.search(r"client_secret:\s+(\S+)", rotated)[1]  # type: ignore[index]
    assert new_secret != secret and token_for(client_id, new_secret) and token_for(client_id, secret)
    listing = _run("list")
    assert client_id in listing and listing.count("有效") == 2 and secret not in listing
    assert "已吊销 2 个凭据" in _run("revoke", client_id)
    assert "已吊销" in _run("list")
    assert list(ClientAudit.objects.values_list("action", flat=True)) == ["create", "rotate", "revoke"]


def test_unknown_unit_and_refused_duties_are_reported(city: City) -> None:
    with pytest.raises(CommandError, match="单位代码不存在"):
        _run("create", "--unit", "NOPE", "--name", "x")
    with pytest.raises(CommandError, match="client_duty_not_grantable"):
        _run("create", "--unit", city.committee.code, "--name", "x", "--duties", "admin")
    with pytest.raises(CommandError, match="client_not_found"):
        _run("rotate", "xtc_missing")
