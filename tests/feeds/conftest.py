"""Receivers for the feed tests: a real HTTP server on 127.0.0.1 that records what it is sent and
can be told to fail, be down, or answer slowly."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from xietong.feeds import signing


@dataclass
class Receiver:
    """A webhook receiver that dedupes by event id, as the docs ask receivers to."""

    secret: str = ""
    fail_next: int = 0  # answer 503 to this many requests
    status: int = 200
    delay: float = 0.0  # seconds to wait after storing a batch, before answering
    requests: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    seen: dict[int, dict[str, Any]] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # ids in the order first received
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def take(self, headers: Any, body: bytes) -> int:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
            if self.status != 200:
                return self.status
            ok = signing.verify(
                self.secret,
                timestamp=headers.get(signing.TIMESTAMP_HEADER),
                signature=headers.get(signing.SIGNATURE_HEADER),
                body=body,
            )
            if not ok:
                self.bad_signatures += 1
                return 401
            payload = json.loads(body)
            self.requests.append(payload)
            for event in payload["events"]:
                if event["id"] in self.seen:
                    self.duplicates += 1
                    continue
                self.seen[event["id"]] = event
                self.order.append(event["id"])
            return 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            code = receiver.take(self.headers, body)
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def start(receiver: Receiver, port: int = 0) -> Receiver:
    receiver.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


def stop(receiver: Receiver) -> None:
    if receiver.server is not None:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = start(Receiver(secret="test-secret-0123456789"))
    yield r
    stop(r)
