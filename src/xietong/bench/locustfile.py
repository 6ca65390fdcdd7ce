"""The users of ``xietong bench load``, for Locust. Run by the bench in its own process (Locust
patches the standard library with gevent, so nothing here imports Django); what it needs comes in
environment variables:

- ``XIETONG_LOAD_PLAN``: a JSON file written by ``bench.load``: per district the demo users, the
  cases, volumes and pages each may see, the towns, and an agency system's OAuth credentials for its
  police and procuratorate;
- ``XIETONG_LOAD_HOSTS``: the ASGI nodes, comma-separated. Each simulated user picks one for its
  whole life, as a sticky session behind a load balancer would;
- ``XIETONG_LOAD_LOG``: every request as one tab-separated line (start, name, ms, ok, status), and
  every write the platform acknowledged (``ack`` lines), for the bench to check against the ledger;
- ``XIETONG_LOAD_STEPS``: the load shape, ``users:seconds,users:seconds,…``.

The people think between clicks (3–9 s) and do what their duty does all day: the police handler
files cases and reads them, the police leader approves filings, the prosecutor and the judge read
case files page by page, the leaders watch the dashboards and alerts. The agency systems run whole
cases through the API, police and procuratorate answering each other, upload scanned volumes (an
OCR job each) and follow the event feed.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, events, task

from xietong.feeds.agent import PER_PARTY  # the reference client's rule: acts about persons name them

PLAN: dict[str, Any] = json.loads(Path(os.environ["XIETONG_LOAD_PLAN"]).read_text(encoding="utf-8"))
HOSTS = [h for h in os.environ.get("XIETONG_LOAD_HOSTS", "").split(",") if h]
_log = Path(os.environ["XIETONG_LOAD_LOG"]).open("a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_APPROVAL = re.compile(r"/approvals/(\d+)/")
_TOWN = re.compile(r'<option value="(\d+)"')
_rng = random.Random(int(os.environ.get("XIETONG_LOAD_SEED", "2026")))  # noqa: S311 (load mix, not security)
_serial = itertools.count(1)
# One case in five gets its scanned volume at filing (an OCR job of a few CPU-seconds); the rest are
# filed with their papers to follow, as most are.
UPLOAD_SHARE = 0.2


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    context: Any = None,
    exception: Any = None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    status = getattr(response, "status_code", 0) if response is not None else 0
    ok = 0 if exception else 1
    why = " ".join(str(exception).split())[:160] if exception else ""
    _log.write(f"{start_time or time.time():.3f}\t{name}\t{response_time:.1f}\t{ok}\t{status}\t{why}\n")


@events.quitting.add_listener
def _flush(**_: Any) -> None:
    _log.flush()


def ack(kind: str, *fields: object) -> None:
    """A write the platform acknowledged (2xx): the bench finds each in the ledger afterwards."""
    _log.write("ack\t" + "\t".join([kind, *map(str, fields)]) + "\n")


def _district() -> dict[str, Any]:
    return _rng.choice(PLAN["districts"])


class Person(FastHttpUser):
    """A person at a browser: signs in through the login form, then clicks with thinking time."""

    abstract = True
    wait_time = between(3, 9)
    username_key = ""
    connection_timeout = 30.0
    network_timeout = 60.0

    def __init__(self, environment: Any) -> None:
        self.host = _rng.choice(HOSTS)
        super().__init__(environment)
        self.district = _district()
        self.csrf = ""

    def on_start(self) -> None:
        page = self.client.get("/login/", name="login form")
        self.csrf = _token(page.text or "")
        with self.client.post(
            "/login/",
            data={"username": self.district[self.username_key], "password": PLAN["password"]},
            headers={"X-CSRFToken": self.csrf, "Referer": f"{self.host}/login/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as reply:
            if reply.status_code != 302:
                reply.failure(f"login refused: {reply.status_code}")
        self.client.get("/", name="workbench")

    def cases(self) -> list[int]:
        return list(self.district["cases"][self.username_key])

    def open_case(self) -> None:
        ids = self.cases()
        if ids:
            case_id = _rng.choice(ids)
            self.client.get(f"/cases/{case_id}/", name="case page")

    def read_file(self) -> None:
        """Open a volume in the reader and turn a few pages (every page image is a logged file view)."""
        volumes = self.district["volumes"].get(self.username_key) or []
        if not volumes:
            self.open_case()
            return
        volume_id, pages = _rng.choice(volumes)
        self.client.get(f"/volumes/{volume_id}/", name="reader")
        for page_id in pages[: _rng.randint(1, 3)]:
            self.client.get(f"/pages/{page_id}/image", name="page image")


def _token(html: str) -> str:
    match = _CSRF.search(html or "")
    return match.group(1) if match else ""


class PoliceHandler(Person):
    """民警（承办人）: the workbench, his cases, the case list; files a new case now and then."""

    weight = 4
    username_key = "police"

    @task(4)
    def workbench(self) -> None:
        self.client.get("/", name="workbench")

    @task(4)
    def case(self) -> None:
        self.open_case()

    @task(1)
    def case_list(self) -> None:
        self.client.get("/cases/", name="case list")

    @task(1)
    def deadlines(self) -> None:
        self.client.get("/deadlines/", name="deadline calculator")

    @task(1)
    def register(self) -> None:
        """立案 through the web form; a handler's filing waits for the leader's approval."""
        form = self.client.get("/cases/new/", name="new case form")
        towns = _TOWN.findall(form.text or "")
        if not towns:
            return
        serial = next(_serial)
        occurred = (datetime.now(UTC) - timedelta(hours=_rng.randint(2, 72))).strftime("%Y-%m-%dT%H:%M")
        with self.client.post(
            "/cases/new/",
            data={
                "csrfmiddlewaretoken": _token(form.text or ""),
                "charge": _rng.choice(["盗窃罪", "诈骗罪", "故意伤害罪", "危险驾驶罪"]),
                "town": _rng.choice(towns),
                "place": "某小区",
                "occurred_at": occurred,
                "facts": f"压力测试案情{serial}：犯罪嫌疑人在某小区内盗窃电动自行车一辆，价值人民币三千元。",
                "suspect_name": f"压测{serial}",
                "suspect_gender": "男",
            },
            name="file case (web)",
            allow_redirects=False,
            catch_response=True,
        ) as reply:
            if reply.status_code != 302:
                reply.failure(f"filing refused: {reply.status_code}")
            else:
                ack("filing", self.district["prefix"], serial)


class PoliceLeader(Person):
    """分局负责人: approves the filings waiting on his workbench, reads cases, watches the alerts."""

    weight = 1
    username_key = "police_leader"

    @task(3)
    def approve(self) -> None:
        page = self.client.get("/", name="workbench")
        pending = _APPROVAL.findall(page.text or "")
        if not pending:
            return
        request_id = _rng.choice(pending)
        with self.client.post(
            f"/approvals/{request_id}/",
            data={"csrfmiddlewaretoken": _token(page.text or ""), "decision": "approve", "reason": ""},
            name="approve filing",
            allow_redirects=False,
            catch_response=True,
        ) as reply:
            if reply.status_code in (302, 303):
                ack("approval", request_id)
            elif reply.status_code == 409:  # another leader of the unit decided it a moment earlier
                reply.success()
            else:
                reply.failure(f"approval refused: {reply.status_code}")

    @task(2)
    def case(self) -> None:
        self.open_case()

    @task(1)
    def alerts(self) -> None:
        self.client.get("/supervision/alerts/", name="alerts")


class CaseReader(Person):
    """Someone who reviews what another agency sent: the workbench and case pages (and the file)."""

    abstract = True

    @task(3)
    def workbench(self) -> None:
        self.client.get("/", name="workbench")

    @task(3)
    def case(self) -> None:
        self.open_case()


class Prosecutor(CaseReader):
    """检察官: the workbench, case pages, and the case file read page by page; the case library."""

    weight = 3
    username_key = "procu"

    @task(3)
    def read(self) -> None:
        self.read_file()

    @task(1)
    def library(self) -> None:
        self.client.get(
            "/library/?q=" + _rng.choice(["盗窃", "诈骗", "电动自行车", "网络"]), name="library search"
        )


class Judge(CaseReader):
    """法官: the workbench, case pages and the case file."""

    weight = 2
    username_key = "judge"

    @task(2)
    def read(self) -> None:
        self.read_file()


class Leader(Person):
    """院领导、政法委: dashboards, alerts, the oversight page."""

    weight = 1
    username_key = "leader"

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/analytics/", name="analytics dashboard")

    @task(2)
    def oversight(self) -> None:
        self.client.get("/supervision/oversight/", name="oversight")

    @task(1)
    def warnings(self) -> None:
        self.client.get("/analytics/warnings/", name="warnings")

    @task(1)
    def alerts(self) -> None:
        self.client.get("/supervision/alerts/", name="alerts")


class AgencySystem(FastHttpUser):
    """A district's police and procuratorate systems, through the public API only: each round runs
    one case from 立案 to 审查起诉 (police and procuratorate answering each other), uploads a scanned
    volume to one in five (an OCR job), and reads the event feed. Every write carries an Idempotency-Key."""

    weight = 1
    wait_time = between(1, 3)
    connection_timeout = 30.0
    network_timeout = 60.0

    def __init__(self, environment: Any) -> None:
        self.host = _rng.choice(HOSTS)
        super().__init__(environment)
        self.district = _district()
        self.tokens: dict[str, str] = {}
        self.cursor = -1
        self.parties: list[int] = []

    def _token(self, side: str) -> None:
        """OAuth client credentials; kept until the platform refuses it (a refused token is renewed)."""
        client_id, secret = self.district["clients"][side]
        reply = self.client.post(
            "/api/v1/oauth/token",
            json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
            name="api oauth token",
        )
        self.tokens[side] = (reply.json() or {}).get("access_token", "") if reply.status_code == 200 else ""

    def on_start(self) -> None:
        for side in ("police", "procu"):
            self._token(side)
        page = self._get("procu", "/api/v1/events?limit=1&after=-1", "api events")
        self.cursor = int((page or {}).get("next") or -1)

    def _headers(self, side: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[side]}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def _get(self, side: str, path: str, name: str) -> Any:
        if not self.tokens.get(side):
            self._token(side)
        reply = self.client.get(path, headers=self._headers(side), name=name)
        return reply.json() if reply.status_code == 200 else None

    def _post(self, side: str, path: str, body: dict[str, Any], name: str) -> Any:
        key = f"load-{uuid.uuid4()}"
        if not self.tokens.get(side):  # the token request itself failed earlier: ask again
            self._token(side)
        with self.client.post(
            path, json=body, headers=self._headers(side, key), name=name, catch_response=True
        ) as reply:
            if reply.status_code not in (200, 201):
                reply.failure(f"{name}: {reply.status_code} {reply.text[:200]}")
                if reply.status_code == 401:
                    self.tokens[side] = ""
                return None
            return reply.json()

    def _act(self, side: str, case_id: int, action: str) -> dict[str, Any] | None:
        body = {"party_ids": self.parties} if action in PER_PARTY else {}
        result = self._post(side, f"/api/v1/cases/{case_id}/actions/{action}", body, f"api act {action}")
        if result is not None:
            ack("act", case_id, action)
        return result

    def _accept(self, case_id: int, result: dict[str, Any] | None) -> bool:
        transfer = (result or {}).get("transfer") or {}
        if not transfer.get("id"):
            return False
        accepted = self._post(
            "procu", f"/api/v1/transfers/{transfer['id']}/accept", {}, "api accept transfer"
        )
        if accepted is not None:
            ack("act", case_id, "accept")
        return accepted is not None

    @task
    def run_case(self) -> None:
        created = self._post(
            "police",
            "/api/v1/cases",
            {
                "charge": _rng.choice(["盗窃罪", "诈骗罪"]),
                "facts": "犯罪嫌疑人在某小区内盗窃电动自行车一辆，价值人民币三千元。（压力测试接入系统）",
                "occurred_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
                "town_id": _rng.choice(self.district["towns"]),
                "place": "某小区",
                "parties": [{"name": f"接入{next(_serial)}", "gender": "男"}],
            },
            "api register case",
        )
        if not created or created.get("status") != "done":
            return
        case_id = int(created["case"]["id"])
        ack("act", case_id, "register")
        parties = created["case"].get("parties")
        if parties is None:
            parties = (self._get("police", f"/api/v1/cases/{case_id}", "api case detail") or {}).get(
                "parties", []
            )
        self.parties = [p["id"] for p in parties]
        if not self.parties:  # the case could not be read back: leave it, as a system would retry later
            return
        if _rng.random() < UPLOAD_SHARE:
            self._upload(case_id)
        for action in ("detain", "deliver_to_jail", "notify_detention", "interrogate"):
            if self._act("police", case_id, action) is None:
                return
            self.wait()
        if not self._accept(case_id, self._act("police", case_id, "request_arrest")):
            return
        if self._act("procu", case_id, "approve_arrest") is None:
            return
        self._follow_feed()
        for action in ("notify_arrest", "interrogate", "return_arrest_receipt"):
            if self._act("police", case_id, action) is None:
                return
            self.wait()
        self._accept(case_id, self._act("police", case_id, "transfer_for_prosecution"))
        self._get("police", f"/api/v1/cases/{case_id}", "api case detail")

    def _upload(self, case_id: int) -> None:
        """A scanned volume, sent as the browser's uploader does: start, one chunk, finish."""
        data: bytes = PLAN_PDF
        digest = sha256(data).hexdigest()
        started = self._post(
            "police",
            f"/api/v1/cases/{case_id}/uploads",
            {"filename": "起诉意见书.pdf", "size": len(data), "sha256": digest},
            "api upload start",
        )
        if not started:
            return
        upload = started["id"]
        reply = self.client.put(
            f"/api/v1/uploads/{upload}?offset=0",
            data=data,  # type: ignore[arg-type]  # bytes are sent as they are
            headers={
                **self._headers("police"),
                "Content-Type": "application/octet-stream",
                "X-Chunk-SHA256": digest,
            },
            name="api upload chunk",
        )
        if reply.status_code != 200:
            return
        finished = self._post(
            "police", f"/api/v1/uploads/{upload}/finish", {"title": "起诉意见书"}, "api upload finish"
        )
        if finished and finished.get("kind") == "volume":
            ack("volume", case_id, finished["id"])

    def _follow_feed(self) -> None:
        page = self._get("procu", f"/api/v1/events?after={self.cursor}&limit=200", "api events")
        if page:
            self.cursor = int(page.get("next") or self.cursor)


PLAN_PDF: bytes = Path(PLAN["pdf"]).read_bytes() if PLAN.get("pdf") else b""


class Steps(LoadTestShape):
    """``XIETONG_LOAD_STEPS`` = ``users:seconds,…``: hold each number of users for its seconds."""

    steps = [
        tuple(int(x) for x in s.split(":")) for s in os.environ.get("XIETONG_LOAD_STEPS", "10:60").split(",")
    ]

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        for users, seconds in self.steps:
            if elapsed < seconds:
                return users, max(5.0, users / 10)
            elapsed -= seconds
        return None
