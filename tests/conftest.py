from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import City, build_city


@pytest.fixture
def city(db: None) -> City:
    return build_city()


@pytest.fixture(autouse=True)
def _ledger_key(tmp_path_factory: pytest.TempPathFactory, settings: object) -> None:
    """One signing key per test session, outside the repo."""
    from xietong.ledger import keys

    path = tmp_path_factory.getbasetemp() / "ledger_ed25519.pem"
    settings.XIETONG_LEDGER_KEY_FILE = path  # type: ignore[attr-defined]
    keys.signing_key.cache_clear()


@pytest.fixture(autouse=True)
def _no_inprocess_tasks(settings: object) -> None:
    settings.XIETONG_INPROCESS_TASKS = False  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_holiday_calendar() -> None:
    from xietong.cases.clocks import holiday_calendar_changed

    holiday_calendar_changed()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (row locks, triggers on a shared server)")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)
