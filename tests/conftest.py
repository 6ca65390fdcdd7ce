from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from tests.browser.conftest import DemoTemplate, demo_template_made
from tests.factories import City, build_city


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """No connection is kept between uses in tests (``CONN_MAX_AGE`` 0; development keeps them 60 s):
    an async test's queries run on an executor thread (``database_sync_to_async``, which closes what
    is obsolete), and a connection kept there outlived the run, so that PostgreSQL refused to drop
    the test database at the end ("being accessed by other users")."""
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture
def city(db: None) -> City:
    return build_city()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    """The demo data every browser test's server starts from (made once per test process; here so
    that the browser modules outside ``tests/browser`` share the one copy)."""
    with demo_template_made(tmp_path_factory) as template:
        yield template


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
def _fresh_rate_limits(settings: object) -> None:
    """The API throttles count in the cache; each test starts with none spent. The leaders' figures
    are kept there too (``analytics.memo``): in tests a change of the facts shows at once."""
    from django.core.cache import cache

    cache.clear()
    settings.XIETONG_FACTS_MEMO_SECONDS = 0  # type: ignore[attr-defined]


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
        return
    # The bench smoke runs make their own throwaway PostgreSQL databases (or use none), whatever the
    # suite's database is: the PostgreSQL pass would repeat the SQLite pass's run exactly, so
    # ``make test`` runs them once, in the SQLite pass (as ``tests/ops/test_pitr.py``).
    once = pytest.mark.skip(reason="independent of the test database: run once, in the SQLite pass")
    for item in items:
        if "bench" in item.keywords:
            item.add_marker(once)


@pytest.fixture
def ledger_flushable(transactional_db: None) -> object:
    """For a transactional test on SQLite: pytest-django empties the tables with DELETE, which the
    ledger's append-only triggers refuse (PostgreSQL's TRUNCATE is not a row DELETE). Before that,
    empty the ledger tables with the DELETE triggers dropped for a moment, then put them back."""
    yield
    if connection.vendor != "sqlite":
        return
    tables = ["ledger_ledgerentry", "ledger_merkleleaf", "ledger_merklenode", "ledger_treehead"]
    with connection.cursor() as cursor:
        for table in reversed(tables):
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
            cursor.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only'); END"
            )
