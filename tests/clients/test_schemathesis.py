"""Schemathesis against the OpenAPI schema, in-process (WSGI), authenticated as an agency system:
no generated request — valid or deliberately malformed — may get a 5xx. Bounded so the run stays
well under three minutes; the figures of the last run are recorded in docs/clients.md."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from tests.clients.conftest import token_for
from tests.factories import City, register_case, system_client

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

EXAMPLES = int(os.environ.get("XIETONG_SCHEMATHESIS_EXAMPLES", "15"))
# (mode, keep generated auth headers, examples): valid requests and malformed ones as the client,
# then malformed ones with made-up credentials and signatures (every one must be a 401).
PASSES = [
    (GenerationMode.POSITIVE, False, EXAMPLES),
    (GenerationMode.NEGATIVE, False, EXAMPLES),
    (GenerationMode.NEGATIVE, True, max(1, EXAMPLES // 3)),
]


def _auth_header(name: str) -> bool:
    return name.lower() == "authorization" or name.lower().startswith("x-xietong-")


@contextmanager
def _keep_connection() -> Iterator[None]:
    """Django's WSGI handler closes the connection around each request, and on PostgreSQL that
    connection holds the test's transaction; so that hook is off while Schemathesis calls the real
    application. (Django's test client reconnects it after each of its requests, hence here.)"""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def wsgi_app(settings: Any, tmp_path: Any) -> Any:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"
    return get_wsgi_application()


def test_no_generated_request_gets_a_server_error(city: City, wsgi_app: Any) -> None:
    case_id = register_case(city, "gusu")
    token = token_for(*system_client(city.counties["gusu"].police, ["handler", "leader"]))
    auth = {"Authorization": f"Bearer {token}"}
    with _keep_connection():
        _run_all(wsgi_app, case_id, auth)


@dataclass
class Tally:
    operations: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    unexpected_401: list[str] = field(default_factory=list)


def _run_all(wsgi_app: Any, case_id: int, auth: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    tally = Tally()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        for mode, keep_auth, examples in PASSES:
            _drive(operation, mode, keep_auth, examples, None, auth, tally)
        if "{case_id}" in operation.path:
            # Random ids mostly meet 404s; this pass drives the views with the client's own case.
            _drive(operation, GenerationMode.POSITIVE, False, EXAMPLES, {"case_id": case_id}, auth, tally)
    elapsed = time.monotonic() - started
    print(  # noqa: T201 (the figures for docs/clients.md)
        f"\nschemathesis: {tally.operations} operations, {sum(tally.statuses.values())} requests, "
        f"{len(tally.failures)} failures, {elapsed:.0f} s; statuses {dict(sorted(tally.statuses.items()))}"
    )
    assert tally.operations > 40
    assert tally.unexpected_401 == []
    assert tally.failures == []


def _drive(
    operation: Any,
    mode: GenerationMode,
    keep_auth: bool,
    examples: int,
    path_parameters: dict[str, Any] | None,
    auth: dict[str, str],
    tally: Tally,
) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if not keep_auth:
            # The schema's security schemes make Schemathesis invent Authorization and X-Xietong-*
            # headers; dropped here so the request reaches the view as the client.
            case.headers = {k: v for k, v in (case.headers or {}).items() if not _auth_header(k)}
        response = case.call(headers=auth)
        tally.statuses[response.status_code] += 1
        label = f"{operation.label} [{mode}{'' if not keep_auth else ', made-up auth'}]"
        if response.status_code == 401 and not keep_auth and "/oauth/" not in operation.path:
            tally.unexpected_401.append(f"{label} {case.headers} {response.text[:200]}")
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=auth)
        except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every fault
            tally.failures.append(f"{label} {response.status_code}: {exc}"[:600])

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        return
