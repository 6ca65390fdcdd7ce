"""Failover: a primary with a synchronous streaming standby, the platform writing transitions, the
primary killed with SIGKILL, the standby promoted, the platform pointed at it. Every transition the
platform acknowledged is on the new primary and the ledger verifies (docs/operations.md, 主备切换)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError, connection, connections

from tests.factories import build_city, register_case
from tests.ops.pgcluster import BIN, CLIENT_BIN, Cluster, free_port, run, workdir
from xietong.cases.models import Case
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify
from xietong.ops.backup import pg_env

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pair(transactional_db: None, django_db_blocker: Any) -> Iterator[tuple[Cluster, Cluster]]:
    """Primary + synchronous standby, with the platform's schema copied from the test database."""
    base = workdir()
    primary = Cluster.init(
        base,
        "primary",
        wal_level="replica",
        max_wal_senders="5",
        synchronous_commit="on",
        fsync="off",  # the OS survives a SIGKILL of the server: page cache is enough here
    )
    standby: Cluster | None = None
    saved = dict(connection.settings_dict)
    try:
        primary.start()
        primary.sql("CREATE DATABASE xietong")
        with django_db_blocker.unblock():
            done = subprocess.run(  # noqa: S603
                [str(CLIENT_BIN / "pg_dump"), "--format=custom", "--no-owner"],
                env=pg_env(),
                capture_output=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr.decode()
            dump = done.stdout
        subprocess.run(  # noqa: S603
            [
                str(CLIENT_BIN / "pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-d",
                "xietong",
            ],
            input=dump,
            capture_output=True,
            check=True,
        )
        run(
            [
                str(CLIENT_BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(base / "standby"),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ]
        )
        standby = Cluster(base / "standby", free_port(), base)
        standby.configure(
            primary_conninfo=f"'host=127.0.0.1 port={primary.port} user=postgres application_name=standby1'",
            synchronous_standby_names="''",  # copied from the primary; the standby has none of its own
        )
        standby.start()
        # Only now: with no standby connected, a synchronous primary would hang every commit.
        primary.sql("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
        primary.sql("SELECT pg_reload_conf()")
        primary.wait_for("SELECT sync_state FROM pg_stat_replication", "sync")
        yield primary, standby
    finally:
        connections.close_all()
        connection.settings_dict.update(saved)
        for cluster in (primary, standby):
            if cluster is not None:
                with contextlib.suppress(RuntimeError):
                    cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def _point_at(cluster: Cluster) -> None:
    connections.close_all()
    connection.settings_dict.update(
        {
            "HOST": "127.0.0.1",
            "PORT": str(cluster.port),
            "NAME": "xietong",
            "USER": "postgres",
            "PASSWORD": "",
        }
    )
    connection.settings_dict["OPTIONS"] = {
        **connection.settings_dict.get("OPTIONS", {}),
        "connect_timeout": 3,
    }


def test_no_acknowledged_transition_is_lost_when_the_primary_dies(
    pair: tuple[Cluster, Cluster], django_db_blocker: Any, record_property: Any
) -> None:
    primary, standby = pair
    with django_db_blocker.unblock():
        _point_at(primary)
        city = build_city()
        acknowledged: list[int] = []
        failures: list[BaseException] = []

        def platform() -> None:
            from django.db import connection as own

            try:
                while True:
                    acknowledged.append(register_case(city))  # returned = committed, standby flushed
            except (OperationalError, Exception) as exc:  # the primary died under it
                failures.append(exc)
            finally:
                with contextlib.suppress(Exception):  # the server is gone
                    own.close()

        # given the platform writing transitions under synchronous replication
        thread = threading.Thread(target=platform)
        thread.start()
        while len(acknowledged) < 60:
            time.sleep(0.05)
            assert thread.is_alive(), failures
        # when the primary is killed mid-write and the standby is promoted
        primary.kill9()
        thread.join(timeout=30)
        assert failures, "the writer should have seen the primary die"
        run([str(BIN / "pg_ctl"), "-D", str(standby.data), "-w", "promote"])
        standby.wait_for("SELECT pg_is_in_recovery()", "f")
        _point_at(standby)
        # then every acknowledged transition is there, with its ledger entries, and the ledger verifies
        present = set(Case.objects.filter(pk__in=acknowledged).values_list("pk", flat=True))
        assert present == set(acknowledged), f"lost: {sorted(set(acknowledged) - present)}"
        record_property("acknowledged_transitions", len(acknowledged))
        for case in Case.objects.filter(pk__in=acknowledged):
            assert LedgerEntry.objects.filter(case_id=case.pk).count() == case.ledger_seq
        assert ledger_verify().ok
        # and the platform goes on writing on the new primary
        register_case(city)
        assert ledger_integrate_all() >= 1
        report = ledger_verify()
        assert report.ok, report.problems
        connections.close_all()
