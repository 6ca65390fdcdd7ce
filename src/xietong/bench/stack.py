"""The production stack on this machine, for the load, soak and fault benches: several ASGI nodes
(daphne, one process each), the ledger integrator with the periodic jobs (``xietong worker``) and job
workers per queue (``xietong job-worker``), all with ``XIETONG_INPROCESS_TASKS=0``, the configured
PostgreSQL database, and Redis for the throttles' counters and the channel layer — the process kinds
of ``docs/operations.md``, minus nginx (the load generator spreads its users over the nodes).

Each process's resident memory is sampled while it runs, for the soak's growth figure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM when the bench that started it dies, so an
    interrupted bench leaves no nodes or workers behind (Linux ``PR_SET_PDEATHSIG``)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def rss_kib(pid: int) -> int | None:
    """Resident memory of a process from ``/proc`` (KiB), or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


@dataclass
class Process:
    name: str
    argv: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    rss: list[tuple[float, int]] = field(default_factory=list)  # (monotonic seconds, KiB)

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Stack:
    """Start with ``start()``, stop with ``stop()``; ``env`` is what every process gets."""

    workdir: Path
    nodes: int = 2
    redis_url: str = "redis://127.0.0.1:6379/0"
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    _sampler: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "XIETONG_INPROCESS_TASKS": "0",
            "XIETONG_CACHE_REDIS": self.redis_url,
            "XIETONG_CHANNEL_REDIS": self.redis_url,
            "XIETONG_CHANNEL_PREFIX": f"xietong-stack-{os.getpid()}",
            "XIETONG_DEBUG": "0",
            "XIETONG_DB_POOL": "1",  # as settings.prod: a bounded pool of connections per process
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def spawn(self, process: Process) -> Process:
        """Start ``process`` with the stack's environment, its output in its log; it dies with us."""
        handle = process.log.open("ab")
        process.proc = subprocess.Popen(  # noqa: S603 (our venv's programs, our arguments)
            process.argv,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            preexec_fn=_die_with_parent,
        )
        handle.close()
        self.processes.append(process)
        return process

    def start_node(self, port: int | None = None) -> Process:
        port = port or free_port()
        daphne = str(Path(sys.executable).with_name("daphne"))
        process = Process(
            f"asgi:{port}",
            [daphne, "-b", "127.0.0.1", "-p", str(port), "--http-timeout", "120", "xietong.asgi:application"],
            self.workdir / f"asgi-{port}.log",
        )
        self.urls.append(f"http://127.0.0.1:{port}")
        return self.spawn(process)

    def start_worker(self) -> Process:
        cmd = [sys.executable, "-m", "xietong", "worker", "--interval", "1"]
        return self.spawn(Process("worker", cmd, self.workdir / "worker.log"))

    def start_job_worker(self, queue: str) -> Process:
        cmd = [sys.executable, "-m", "xietong", "job-worker", "--queue-name", queue, "--interval", "1"]
        return self.spawn(Process(f"jobs:{queue}", cmd, self.workdir / f"jobs-{queue}.log"))

    def start(self, *, queues: tuple[str, ...] = ("default", "dossier"), timeout: float = 90) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(self.nodes):
            self.start_node()
        self.start_worker()
        for queue in queues:
            self.start_job_worker(queue)
        self.wait_ready(timeout=timeout)
        self._sampler = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampler.start()

    def wait_ready(self, *, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        for url in self.urls:
            while True:
                dead = [p.name for p in self.processes if not p.alive()]
                if dead:
                    raise RuntimeError(f"stack process(es) exited at start: {dead}\n{self.tail()}")
                try:
                    if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer /healthz in {timeout:.0f} s\n{self.tail()}")
                time.sleep(0.3)

    def _sample(self, every: float = 10.0) -> None:
        while not self._stop.wait(every):
            now = time.monotonic()
            for process in self.processes:
                if process.alive():
                    kib = rss_kib(process.pid)
                    if kib is not None:
                        process.rss.append((now, kib))

    def find(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name and p.alive())

    def tail(self, chars: int = 2000) -> str:
        out = []
        for process in self.processes:
            text = process.log.read_text(errors="replace")[-chars:] if process.log.exists() else ""
            out.append(f"--- {process.name} ---\n{text}")
        return "\n".join(out)

    def stop(self) -> None:
        self._stop.set()
        for process in self.processes:
            if process.proc is not None and process.alive():
                process.proc.terminate()
        for process in self.processes:
            if process.proc is None:
                continue
            try:
                process.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.proc.kill()
                process.proc.wait()
