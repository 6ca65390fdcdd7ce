"""Point-in-time recovery on PostgreSQL, as docs/operations.md (备份与恢复) tells an operator to do it:
WAL archiving + a base backup, then recovery to a moment between two batches of writes."""

from __future__ import annotations

import contextlib
import shutil
import time

import pytest
from django.db import connection

from tests.ops.pgcluster import CLIENT_BIN, Cluster, free_port, run, workdir


@pytest.fixture
def pitr_base() -> object:
    if connection.vendor == "postgresql":
        pytest.skip("runs its own clusters, independent of the test database: run once, in the SQLite pass")
    base = workdir()
    clusters: list[Cluster] = []
    yield base, clusters
    for cluster in clusters:
        with contextlib.suppress(RuntimeError):
            cluster.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_recovery_to_a_point_in_time_keeps_only_the_earlier_rows(pitr_base: object) -> None:
    base, clusters = pitr_base  # type: ignore[misc]
    archive = base / "wal-archive"
    run(["mkdir", "-p", str(archive)])
    # given a primary archiving every WAL segment to a directory
    primary = Cluster.init(
        base,
        "primary",
        wal_level="replica",
        archive_mode="on",
        archive_command=f"'test ! -f {archive}/%f && cp %p {archive}/%f'",
        max_wal_senders="3",
    )
    clusters.append(primary)
    primary.start()
    primary.sql("CREATE TABLE acts (id int PRIMARY KEY, note text)")
    # and a base backup taken with pg_basebackup
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
            str(base / "basebackup"),
            "-X",
            "stream",
            "-c",
            "fast",
        ]
    )
    # when rows are written, the time is noted, and more rows are written
    primary.sql("INSERT INTO acts SELECT g, '备份后、目标时间前' FROM generate_series(1, 3) g")
    time.sleep(1.1)
    target = primary.sql("SELECT clock_timestamp()")
    time.sleep(1.1)
    primary.sql("INSERT INTO acts SELECT g, '目标时间后' FROM generate_series(4, 6) g")
    last_wal = primary.sql("SELECT pg_walfile_name(pg_switch_wal())")
    primary.wait_for("SELECT last_archived_wal FROM pg_stat_archiver", last_wal)
    primary.stop()
    # and the base backup is recovered to the noted time from the archive, in a new data dir
    run(["cp", "-a", str(base / "basebackup"), str(base / "recovered")])
    recovered = Cluster(base / "recovered", free_port(), base)
    recovered.configure(
        archive_mode="off",
        restore_command=f"'cp {archive}/%f %p'",
        recovery_target_time=f"'{target}'",
        recovery_target_action="'promote'",
    )
    run(["touch", str(base / "recovered" / "recovery.signal")])
    clusters.append(recovered)
    recovered.start()
    recovered.wait_for("SELECT pg_is_in_recovery()", "f", timeout=40)
    # then only the rows written before the target time exist
    assert recovered.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM acts") == "1,2,3"
    assert "recovery stopping before commit" in (base / "recovered" / "server.log").read_text()
