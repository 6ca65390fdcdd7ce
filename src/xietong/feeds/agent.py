"""The reference agency client (issue 10, part 5): a small program that plays an agency's own
system against the platform's public HTTP API only — it imports nothing of the platform's models
and could live in another repository.

It authenticates (username/password: ``POST /api/v1/auth/token``; or an agency system's
``client_id``/``client_secret``: ``POST /api/v1/oauth/token``), follows the event feed
(``GET /api/v1/events?after=&wait=``, long-polling, keeping its cursor in a file so a restart
resumes where it stopped) and answers events with transitions
(``POST /api/v1/cases/<id>/actions/<action>``, ``POST /api/v1/transfers/<id>/accept``), every write
with an ``Idempotency-Key`` derived from the event that caused it: an event received twice, or a
write re-sent after a lost answer or a crash, is applied once.

Two playbooks take a case from 立案 to 移送审查起诉:

- police (公安): files the case; on its own 立案 detains the suspects; on 拘留 delivers them to the
  看守所, notifies the family, interrogates and asks for arrest (提请批准逮捕); on 批准逮捕 notifies,
  interrogates, returns the receipt and sends the case for prosecution (移送审查起诉);
- procuratorate (检察院): on 提请批准逮捕 accepts the file and approves the arrest; on 移送审查起诉
  accepts the file — the case is then 审查起诉, and the run is over.

``xietong agency-client`` runs them (``docs/feeds.md``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """The platform refused a request; ``code`` is its stable error code."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass
class Api:
    """The platform's HTTP API with a bearer token, or with every request signed (HMAC-SHA256 with
    the client secret, ``docs/clients.md``) when the platform requires signatures of this system —
    the client notices the ``signature_required`` refusal and signs from then on. Retries a write
    with the same Idempotency-Key when the server cannot be reached (it may have applied it before
    going down)."""

    base_url: str
    username: str = ""
    password: str = ""
    client_id: str = ""
    client_secret: str = ""
    timeout: float = 40.0
    retry_for: float = 120.0  # how long to keep retrying while the server is down
    token: str = ""
    sign: bool = False  # sign every request instead of sending a token
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.http = httpx.Client(timeout=self.timeout)

    def login(self) -> dict[str, Any]:
        if self.client_id and self.sign:
            return dict(self.get("/api/v1/me"))  # a signed request needs no token
        if self.client_id:
            body = self._call(
                "POST",
                "/api/v1/oauth/token",
                json_body={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
                auth=False,
            )
            self.token = body["access_token"]
            return dict(self.get("/api/v1/me"))
        body = self._call(
            "POST",
            "/api/v1/auth/token",
            json_body={"username": self.username, "password": self.password},
            auth=False,
        )
        self.token = body["token"]
        return dict(body["user"])

    def close(self) -> None:
        """Close the kept-alive connections (a server thread holds one per connection)."""
        self.http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any], *, key: str) -> Any:
        return self._call("POST", path, json_body=body, key=key)

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        content: bytes,
        headers: dict[str, str],
        *,
        auth: bool,
    ) -> httpx.Request:
        request = self.http.build_request(
            method, self.base_url + path, params=params, content=content, headers=headers
        )
        if auth and self.sign:
            # What the platform checks: ts \n METHOD \n path?query \n sha256hex(body), keyed with
            # the client secret; fresh for every attempt, since the timestamp must be recent.
            stamp = str(int(time.time()))
            message = "\n".join(
                [stamp, method.upper(), request.url.raw_path.decode(), hashlib.sha256(content).hexdigest()]
            )
            request.headers["X-Xietong-Client"] = self.client_id
            request.headers["X-Xietong-Timestamp"] = stamp
            request.headers["X-Xietong-Signature"] = hmac.new(
                self.client_secret.encode(), message.encode(), hashlib.sha256
            ).hexdigest()
        elif auth and self.token:
            request.headers["Authorization"] = f"Bearer {self.token}"
        return request

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        key: str | None = None,
        auth: bool = True,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        content = json.dumps(json_body, ensure_ascii=False).encode() if json_body is not None else b""
        give_up = time.monotonic() + self.retry_for
        delay = 0.2
        renewed = False
        while True:
            try:
                response = self.http.send(self._request(method, path, params, content, headers, auth=auth))
            except httpx.TransportError as exc:  # down or restarting: same request, same key, later
                if time.monotonic() > give_up:
                    raise
                logger.warning("%s %s: %s; retrying", method, path, exc)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            body = response.json() if response.content else None
            code = (body or {}).get("code", "") if isinstance(body, dict) else ""
            if response.status_code == 401 and auth and not renewed:
                renewed = True  # once per call: a refusal that a new token does not cure is final
                if code == "signature_required" and self.client_id and self.client_secret:
                    self.sign = True  # this system must sign: from now on every request is signed
                    continue
                if not self.sign and (self.username or self.client_id):
                    self.login()  # the token expired
                    continue
            if response.status_code >= 500 and time.monotonic() < give_up:
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if response.status_code >= 400:
                message = (body or {}).get("message", "") if isinstance(body, dict) else ""
                raise ApiError(response.status_code, code, message)
            return body


@dataclass
class Feed:
    """Follows ``/api/v1/events`` from a cursor kept in ``state`` (a small JSON file), handing each
    new event to the caller once: ids already seen are dropped (the feed is at-least-once)."""

    api: Api
    state: Path | None = None
    after: int = -1
    wait: int = 10

    def __post_init__(self) -> None:
        if self.state and self.state.exists():
            self.after = int(json.loads(self.state.read_text())["after"])

    def save(self) -> None:
        if self.state:
            tmp = self.state.with_suffix(".tmp")
            tmp.write_text(json.dumps({"after": self.after}))
            tmp.replace(self.state)

    def poll(self) -> list[dict[str, Any]]:
        """The next page of new events (waits up to ``wait`` seconds for one)."""
        page = self.api.get("/api/v1/events", {"after": self.after, "limit": 500, "wait": self.wait})
        events = [e for e in page["events"] if e["id"] > self.after]
        self.after = max(self.after, int(page["next"]))
        return events

    def start_at_tail(self) -> None:
        """Start from now (skip history): the tail the server reports."""
        page = self.api.get("/api/v1/events", {"after": self.after, "limit": 1})
        self.after = max(self.after, int(page["tail"]))


# ---------------------------------------------------------------- the playbooks

Step = tuple[str, dict[str, Any]]  # (action or "accept", body)
# Acts about persons: the client names all the case's suspects (read from the case).
PER_PARTY = {
    "detain",
    "deliver_to_jail",
    "notify_detention",
    "interrogate",
    "request_arrest",
    "notify_arrest",
}


def reached_prosecution(event: dict[str, Any]) -> bool:
    """The end of the police part: the procuratorate accepted the case for 审查起诉."""
    return event["action"] == "accept" and event["payload"].get("stage_to") == "prosecution_review"


def police_reaction(event: dict[str, Any]) -> list[Step]:
    """The police system's answer to an event on one of its cases."""
    action = event["action"]
    if action == "register":
        return [("detain", {})]
    if action == "detain":
        return [
            ("deliver_to_jail", {}),
            ("notify_detention", {}),
            ("interrogate", {}),
            ("request_arrest", {}),
        ]
    if action == "approve_arrest":
        return [
            ("notify_arrest", {}),
            ("interrogate", {}),
            ("return_arrest_receipt", {}),
            ("transfer_for_prosecution", {}),
        ]
    return []


def procuratorate_reaction(event: dict[str, Any]) -> list[Step]:
    """The procuratorate system's answer: accept what is sent to it, approve the arrest."""
    action = event["action"]
    transfer = event["payload"].get("transfer_id")
    if action == "request_arrest" and transfer:
        return [("accept", {"transfer_id": transfer}), ("approve_arrest", {})]
    if action == "transfer_for_prosecution" and transfer:
        return [("accept", {"transfer_id": transfer})]
    return []


PLAYBOOKS: dict[str, Callable[[dict[str, Any]], list[Step]]] = {
    "police": police_reaction,
    "procuratorate": procuratorate_reaction,
}


@dataclass
class Agent:
    """One agency system: a feed, a playbook, and the cases it plays (None: every case it sees)."""

    api: Api
    role: str
    feed: Feed
    cases: set[int] | None = None
    name: str = "agency"
    log: Callable[[str], None] = print
    acted: list[tuple[int, str, int]] = field(default_factory=list)  # (case, action, event id)

    def create_case(
        self,
        *,
        town_id: int,
        charge: str = "盗窃罪",
        suspects: int = 1,
        key: str | None = None,
        occurred_at: str | None = None,
    ) -> int:
        """立案 through ``POST /api/v1/cases``. A re-sent filing (same key, same body) creates one
        case: the platform answers the second with the first's reply."""
        occurred = occurred_at or (datetime.now(UTC) - timedelta(days=1)).isoformat()
        body = {
            "charge": charge,
            "facts": "犯罪嫌疑人在某小区内盗窃电动自行车一辆，价值人民币三千元。（参考客户端）",
            "occurred_at": occurred,
            "town_id": town_id,
            "place": "某小区",
            "parties": [{"name": f"测试{i}", "gender": "男"} for i in range(1, suspects + 1)],
        }
        result = self.api.post("/api/v1/cases", body, key=key or f"{self.name}-register-{uuid.uuid4()}")
        if result["status"] != "done":
            raise ApiError(202, "pending_approval", "立案需负责人审批：请用具有负责人职务的系统账号")
        case_id = int(result["case"]["id"])
        if self.cases is not None:
            self.cases.add(case_id)
        self.log(f"[{self.role}] 立案 → 案件 {case_id} {result['case']['number']}")
        return case_id

    def handle(self, event: dict[str, Any]) -> None:
        case_id = int(event["case_id"])
        if self.cases is not None and case_id not in self.cases:
            return
        for step, body in PLAYBOOKS[self.role](event):
            key = f"{self.name}-{event['id']}-{step}"  # same event, same step → same key
            if step in PER_PARTY:
                detail = self.api.get(f"/api/v1/cases/{case_id}")
                body = {**body, "party_ids": [p["id"] for p in detail["parties"]]}
            if step == "accept":
                result = self.api.post(f"/api/v1/transfers/{body['transfer_id']}/accept", {}, key=key)
            else:
                result = self.api.post(f"/api/v1/cases/{case_id}/actions/{step}", body, key=key)
            stage = (result.get("case") or {}).get("stage_label", "")
            self.acted.append((case_id, step, int(event["id"])))
            self.log(
                f"[{self.role}] 事件 #{event['id']} {event['action']} → {step}（{result['status']}）{stage}"
            )

    def run(self, *, until: Callable[[], bool], timeout: float = 120.0) -> None:
        """Poll and answer until ``until()`` says the work is done (checked after each page)."""
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.role}: 超时")
            for event in self.poll():
                self.handle(event)
            self.feed.save()

    def poll(self) -> Iterator[dict[str, Any]]:
        yield from self.feed.poll()
