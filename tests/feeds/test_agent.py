"""The reference agency client against a running server (pytest-django's live server): police and
procuratorate systems take a case from 立案 to 移送审查起诉 with no UI, while a webhook subscriber
receives every event in order; a duplicate command is applied once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection

from tests.factories import PASSWORD, City, build_city
from tests.feeds.conftest import Receiver, start, stop
from xietong.feeds.agent import Agent, Api, ApiError, Feed
from xietong.feeds.services import feeds_deliver_due, subscription_create
from xietong.ledger.models import LedgerEntry, MerkleLeaf

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_flushable")]


@pytest.fixture(autouse=True)
def _separate_connections() -> None:
    if connection.vendor == "sqlite" and not connection.settings_dict["TEST"].get("NAME"):
        pytest.skip("a live server needs separate connections: PostgreSQL, or XIETONG_TEST_SQLITE=<file>")


@pytest.fixture
def delivery_worker() -> Iterator[None]:
    """``xietong feeds deliver --loop`` in a thread, as production runs it beside the server."""
    stopping = threading.Event()

    def loop() -> None:
        try:
            while not stopping.is_set():
                close_old_connections()
                if not feeds_deliver_due():
                    time.sleep(0.05)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stopping.set()
    thread.join(30)


def test_reference_client_runs_a_case_to_prosecution_and_the_subscriber_sees_it_all(
    live_server: object, delivery_worker: None
) -> None:
    city: City = build_city()
    receiver = start(Receiver(secret="police-system-secret"))
    subscription_create(
        owner=city.u("gusu.police"), name="公安业务系统", url=receiver.url, secret=receiver.secret, after=-1
    )
    try:
        out = StringIO()
        call_command(
            "agency-client",
            "demo",
            "--url",
            str(live_server),
            "--police-username",
            city.u("gusu.police_leader").username,
            "--police-password",
            PASSWORD,
            "--procu-username",
            city.u("gusu.procu_leader").username,
            "--procu-password",
            PASSWORD,
            "--town-id",
            str(city.counties["gusu"].towns[0].pk),
            "--timeout",
            "90",
            stdout=out,
        )
        result = json.loads(out.getvalue().strip().splitlines()[-1])
        assert result["stage"] == "prosecution_review"
        assert result["events"] == [
            "register",
            "detain",
            "deliver_to_jail",
            "notify_detention",
            "interrogate",
            "request_arrest",
            "accept",
            "approve_arrest",
            "notify_arrest",
            "interrogate",
            "return_arrest_receipt",
            "transfer_for_prosecution",
            "accept",
        ]
        # the subscriber got every event of the police's case, each once, in leaf order
        deadline = time.monotonic() + 20
        total = LedgerEntry.objects.count()
        while len(receiver.order) < total and time.monotonic() < deadline:
            time.sleep(0.1)
        leaves = list(MerkleLeaf.objects.order_by("index").values_list("index", flat=True))
        assert receiver.order == leaves == list(range(total))
        assert receiver.duplicates == 0 and receiver.bad_signatures == 0
        assert [receiver.seen[i]["action"] for i in leaves] == result["events"]
    finally:
        stop(receiver)


def test_a_command_sent_twice_is_applied_once(live_server: object) -> None:
    city = build_city()
    api = Api(base_url=str(live_server), username=city.u("gusu.police_leader").username, password=PASSWORD)
    api.login()
    agent = Agent(api=api, role="police", feed=Feed(api=api), cases=set(), log=lambda _: None)
    key = "police-system-register-0001"
    town = city.counties["gusu"].towns[0].pk
    first = agent.create_case(town_id=town, key=key, occurred_at="2026-11-20T10:00:00+08:00")
    second = agent.create_case(town_id=town, key=key, occurred_at="2026-11-20T10:00:00+08:00")
    assert first == second
    body = {"party_ids": [p["id"] for p in api.get(f"/api/v1/cases/{first}")["parties"]]}
    api.post(f"/api/v1/cases/{first}/actions/detain", body, key="detain-1")
    api.post(f"/api/v1/cases/{first}/actions/detain", body, key="detain-1")
    api.close()
    assert list(LedgerEntry.objects.filter(case_id=first).values_list("action", flat=True)) == [
        "register",
        "detain",
    ]


def test_the_client_resumes_from_its_saved_cursor(live_server: object, tmp_path: object) -> None:
    from pathlib import Path

    city = build_city()
    state = Path(str(tmp_path)) / "cursor.json"
    api = Api(base_url=str(live_server), username=city.u("gusu.police_leader").username, password=PASSWORD)
    api.login()
    agent = Agent(
        api=api, role="police", feed=Feed(api=api, state=state, wait=0), cases=set(), log=lambda _: None
    )
    agent.create_case(town_id=city.counties["gusu"].towns[0].pk)
    from xietong.ledger.services import ledger_integrate_all

    ledger_integrate_all()
    seen = [e["action"] for e in agent.feed.poll()]
    agent.feed.save()
    assert seen == ["register"]
    # a new process of the client starts where the old one stopped
    again = Feed(api=api, state=state, wait=0)
    assert again.after == 0 and again.poll() == []
    api.close()


def test_two_clients_run_as_separate_systems(live_server: object, tmp_path: object) -> None:
    """``agency-client run``, once per system (as two processes on two machines would)."""
    from pathlib import Path

    city = build_city()
    base = ["agency-client", "run", "--url", str(live_server), "--password", PASSWORD, "--timeout", "90"]
    outputs: dict[str, StringIO] = {"police": StringIO(), "procuratorate": StringIO()}
    errors: list[BaseException] = []

    def procuratorate() -> None:
        try:
            call_command(
                *base,
                "--role",
                "procuratorate",
                "--username",
                city.u("gusu.procu_leader").username,
                "--state",
                str(Path(str(tmp_path)) / "procu.json"),
                stdout=outputs["procuratorate"],
            )
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=procuratorate)
    thread.start()
    time.sleep(1.5)  # the procuratorate's system is up (it starts from now)
    call_command(
        *base,
        "--role",
        "police",
        "--username",
        city.u("gusu.police_leader").username,
        "--create",
        "--town-id",
        str(city.counties["gusu"].towns[0].pk),
        stdout=outputs["police"],
    )
    thread.join(120)
    assert errors == []
    police = json.loads(outputs["police"].getvalue().strip().splitlines()[-1])
    procu = json.loads(outputs["procuratorate"].getvalue().strip().splitlines()[-1])
    assert (police["acted"], procu["acted"]) == (9, 3)
    assert (Path(str(tmp_path)) / "procu.json").exists()
    from xietong.cases.models import Case

    assert list(Case.objects.values_list("stage", flat=True)) == ["prosecution_review"]


def test_a_system_that_must_sign_is_signed_for_and_needs_no_token(live_server: object) -> None:
    from tests.factories import system_client

    city: City = build_city()
    client_id, secret = system_client(city.counties["gusu"].police, require_signature=True)
    api = Api(str(live_server), client_id=client_id, client_secret=secret, retry_for=5)
    me = api.login()  # the token alone is refused (signature_required): the client signs from then on
    assert api.sign and me["unit"] == city.counties["gusu"].police.name
    page = api.get("/api/v1/events", {"after": -1, "limit": 5})
    assert "events" in page
    api.sign, api.token = False, ""  # a restarted client: it finds out again, once
    assert api.get("/api/v1/me")["unit"] == me["unit"] and api.sign
    api.close()
    wrong = Api(str(live_server), client_id=client_id, client_secret="not-the-secret", retry_for=5)
    with pytest.raises(ApiError) as refused:  # a wrong secret: refused once, not retried forever
        wrong.login()
    assert refused.value.status == 401 and refused.value.code == "invalid_client"
    wrong.close()
