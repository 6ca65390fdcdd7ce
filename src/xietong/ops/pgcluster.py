"""Throwaway PostgreSQL clusters, for the recovery and failover tests and the fault drills
(``xietong bench faults``): initdb on a free port under a temp dir, run as the ``postgres`` user
when running as root (initdb refuses root). ``Unavailable`` says why a cluster cannot be made here
(the tests turn it into a skip)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN = Path(os.environ.get("XIETONG_PG_SERVER_BIN", "/usr/local/bin"))
CLIENT_BIN = Path("/usr/bin")


class Unavailable(RuntimeError):
    """No throwaway cluster can be made on this machine (no initdb, no user to run it as)."""


def _as_postgres() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise Unavailable("running as root without runuser: initdb refuses root")
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise Unavailable("running as root and there is no postgres user to run initdb as") from exc
    return [runuser, "-u", "postgres", "--"]


def run(args: list[str], *, as_server_user: bool = True, timeout: float = 60) -> str:
    prefix = _as_postgres() if as_server_user else []
    done = subprocess.run(  # noqa: S603 (fixed binaries)
        [*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def workdir() -> Path:
    """A temp dir the server user can write (a root-owned temp dir would not do)."""
    if not (BIN / "initdb").exists():
        raise Unavailable(f"no initdb in {BIN}")
    path = Path(tempfile.mkdtemp(prefix="xt-pg-"))
    if os.geteuid() == 0:
        _as_postgres()
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


class Cluster:
    def __init__(self, data: Path, port: int, socket_dir: Path) -> None:
        self.data, self.port, self.socket_dir = data, port, socket_dir

    @classmethod
    def init(cls, base: Path, name: str, **conf: str) -> Cluster:
        data = base / name
        run(
            [str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
        )
        cluster = cls(data, free_port(), base)
        cluster.configure(**conf)
        return cluster

    def configure(self, **conf: str) -> None:
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "on",
            "shared_buffers": "'32MB'",
            "max_connections": "30",
            **conf,
        }
        with (self.data / "postgresql.auto.conf").open("a", encoding="utf-8") as fh:
            for key, value in settings.items():
                fh.write(f"{key} = {value}\n")

    def start(self) -> None:
        run(
            [
                str(BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.data / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            run([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def kill9(self) -> None:
        """The primary dies: SIGKILL to the postmaster; its backends go with it at once."""
        pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        children = _children(pid)  # before the kill: orphans are adopted by init at once
        os.kill(pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def sql(self, query: str, db: str = "postgres") -> str:
        return run(
            [
                str(CLIENT_BIN / "psql"),
                "-X",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                query,
            ],
            as_server_user=False,
        ).strip()

    def wait_for(self, query: str, expected: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                last = self.sql(query)
                if last == expected:
                    return
            except RuntimeError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise AssertionError(f"{query!r} never returned {expected!r} (last: {last!r})")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found
