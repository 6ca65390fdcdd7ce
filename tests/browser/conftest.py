"""Fixtures for the browser tests: a real server in a subprocess and Debian's Chromium.

The server is not pytest-django's ``live_server``: that one shares the test database and flushes it
after each test, which the ledger's append-only triggers refuse. Instead each test module gets its
own data folder and database, copied from one that the product's own console filled once per test
process (``migrate``, ``demo load``: ``demo_template``), and served by daphne exactly as ``make demo``
does, only through ``clockshift.py`` so that the test can move the server's clock (see there).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection

if TYPE_CHECKING:
    from playwright.sync_api import Browser

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _console(*args: str) -> list[str]:
    """``xietong …`` from the same virtualenv as the running interpreter."""
    script = Path(sys.executable).parent / "xietong"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "xietong", *args]


def _daphne_wrapper() -> list[str]:
    return [sys.executable, str(HERE / "clockshift.py")]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_connect(dbname: str) -> psycopg.Connection[tuple[object, ...]]:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=int(db.get("PORT") or 5432),
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname=dbname,
        autocommit=True,
        connect_timeout=5,
    )


def _pg_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


@dataclass
class Server:
    base_url: str
    home: Path
    offset_file: Path
    log: Path
    process: subprocess.Popen[bytes]
    vendor: str
    env: dict[str, str] = field(default_factory=dict)  # the server's environment, for the console
    offset_days: float = 0.0
    console_stderr: str = ""  # what the last console command logged, for a failing test to show

    def url(self, path: str) -> str:
        return self.base_url + path

    def health(self) -> dict[str, str]:
        with urllib.request.urlopen(self.url("/healthz"), timeout=5) as response:  # noqa: S310 (local)
            data: dict[str, str] = json.loads(response.read())
        return data

    def now(self) -> datetime:
        return datetime.fromisoformat(self.health()["time"])

    def set_clock_offset(self, days: float) -> datetime:
        """Move the server's wall clock to real time + ``days`` and wait until /healthz shows it."""
        self.offset_file.write_text(repr(days), encoding="utf-8")
        self.offset_days = days
        self.process.send_signal(signal.SIGUSR1)
        wanted = time.time() + days * 86400
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            now = self.now()
            if abs(now.timestamp() - wanted) < 60:
                return now
            time.sleep(0.05)
        raise AssertionError(f"server clock did not move to +{days} days:\n{self.log_tail()}")

    def console(self, *args: str) -> str:
        """Run ``xietong …`` against this server's database (as a worker on another machine would)."""
        done = subprocess.run(  # noqa: S603
            _console(*args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.home,
        )
        if done.returncode != 0:
            raise RuntimeError(f"xietong {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        self.console_stderr = done.stderr
        return done.stdout

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


def _run(cmd: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        # `demo load` writes five years of history, the library, the facts and the rules' first pass:
        # about a minute on a quiet machine, past two on a loaded one (a CI run timed out at 120 s).
        done = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=600, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{log.read_text(errors='replace')}")


@dataclass(frozen=True)
class DemoTemplate:
    """A migrated, demo-loaded data folder (and on PostgreSQL a template database): made once per test
    process, copied for each server. ``demo load`` takes half a minute, two on a loaded CI machine; a
    copy of the folder and ``CREATE DATABASE … TEMPLATE`` take a second."""

    home: Path
    pg_name: str | None


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XIETONG_", "PYTEST_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "xietong.settings",
            "XIETONG_HOME": str(home),
            "XIETONG_INPROCESS_TASKS": "0",
            "XIETONG_LEDGER_KEY_FILE": str(home / "keys" / "ledger_ed25519.pem"),
            "XIETONG_DEMO_PASSWORD": settings.XIETONG_DEMO_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@contextmanager
def demo_template_made(
    tmp_path_factory: pytest.TempPathFactory,
    demo: tuple[str, ...] = ("--cases", "0"),
    then: tuple[tuple[str, ...], ...] = (),
) -> Iterator[DemoTemplate]:
    """The product's own console fills it (``migrate``, ``demo load`` with ``demo``, then the console
    commands ``then``), as ``make demo`` does. The data hold no path of their folder (the ledger key is
    in it, and travels with the copy). The session fixture ``demo_template`` (``tests/conftest.py``)
    makes the plain one once per test process; a module that needs other data makes its own."""
    home = tmp_path_factory.mktemp("xietong-demo-template")
    env = _base_env(home)
    pg_name = None
    if connection.vendor == "postgresql":
        pg_name = f"xietong_browser_template_{secrets.token_hex(6)}"
        with _pg_connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        env["DATABASE_URL"] = _pg_url(pg_name)
    try:
        log = home.parent / f"{home.name}.log"
        _run(_console("migrate", "--noinput", "-v0"), env, log)
        _run(_console("demo", "load", *demo), env, log)
        for command in then:
            _run(_console(*command), env, log)
        yield DemoTemplate(home, pg_name)
    finally:
        if pg_name is not None:
            with _pg_connect("postgres") as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@contextmanager
def running_server(
    template: DemoTemplate,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    name: str,
    env: dict[str, str],
    movable_clock: bool = True,
) -> Iterator[Server]:
    """Daphne on a copy of ``template`` (its own data folder and database), with ``env`` added to the
    server's environment; stopped and its database dropped on exit. ``movable_clock`` serves through
    ``clockshift.py`` so that a test can move the server's time."""
    home = tmp_path_factory.mktemp(name)
    shutil.copytree(template.home, home, dirs_exist_ok=True)
    log = home / "server.log"
    offset_file = home / "clock-offset-days"
    offset_file.write_text("0", encoding="utf-8")
    server_env = _base_env(home)
    if movable_clock:
        server_env["XIETONG_TEST_CLOCK_OFFSET_FILE"] = str(offset_file)
    server_env.update(env)
    vendor = connection.vendor
    pg_name = None
    if template.pg_name is not None:
        pg_name = f"xietong_{name.replace('-', '_')}_{secrets.token_hex(6)}"
        with _pg_connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}" TEMPLATE "{template.pg_name}"')
        server_env["DATABASE_URL"] = _pg_url(pg_name)
    daphne = _daphne_wrapper() if movable_clock else [str(Path(sys.executable).parent / "daphne")]
    process = None
    try:
        port = _free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603
                [*daphne, "-b", "127.0.0.1", "-p", str(port), "xietong.asgi:application"],
                env=server_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=home,
            )
        server = Server(f"http://127.0.0.1:{port}", home, offset_file, log, process, vendor, server_env)
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited ({process.returncode}):\n{server.log_tail()}")
            try:
                health = server.health()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not answer /healthz:\n{server.log_tail()}") from None
                time.sleep(0.1)
        assert health["database"] == vendor, health
        yield server
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if pg_name is not None:
            with _pg_connect("postgres") as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def xietong_server(
    demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """The server a test module talks to; a module may add settings in ``SERVER_ENV``."""
    extra = getattr(request.module, "SERVER_ENV", {})
    with running_server(demo_template, tmp_path_factory, name="xietong-browser", env=extra) as server:
        yield server


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = REPO / "artifacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
