"""The pull feed: order, cursor semantics, visibility (the case list's rule), the API's errors."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from tests.factories import City, register_case
from xietong.cases import services
from xietong.feeds.selectors import event_page, feed_tail
from xietong.ledger.models import MerkleLeaf
from xietong.ledger.services import Actor, actor_of, ledger_append, ledger_integrate_all

pytestmark = pytest.mark.django_db


def _act(city: City, who: str, case_id: int, action: str, **kw: object) -> None:
    result = services.case_act(user=city.u(who), case_id=case_id, action=action, **kw)  # type: ignore[arg-type]
    assert result.status == "done", result


def _party_ids(case_id: int) -> list[int]:
    from xietong.cases.models import Party

    return list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))


def test_events_come_in_leaf_order_with_their_entry(city: City) -> None:
    # given two cases with acts, integrated
    first = register_case(city)
    second = register_case(city)
    _act(city, "gusu.police_leader", first, "detain", party_ids=_party_ids(first))
    ledger_integrate_all()
    # when the filing unit reads the whole feed
    page = event_page(user=city.u("gusu.police"), after=-1, limit=100)
    # then every event is there once, in leaf order, with the entry's fields
    leaves = list(MerkleLeaf.objects.order_by("index").values_list("index", "entry__entry_hash"))
    assert [(e["id"], e["entry_hash"]) for e in page.events] == leaves
    assert [(e["case_id"], e["action"]) for e in page.events] == [
        (first, "register"),
        (second, "register"),
        (first, "detain"),
    ]
    event = page.events[0]
    assert event["seq"] == 1
    assert event["unit"]["name"] == city.counties["gusu"].police.name
    assert event["actor"]["name"] == city.u("gusu.police_leader").full_name
    assert event["payload"]["stage_to"] == "investigation"
    assert event["recorded_at"].endswith("Z")
    assert page.next == page.tail == 2
    assert page.caught_up
    assert page.tree_head is not None and page.tree_head["size"] == 3


def test_after_is_exclusive_and_next_resumes_without_gaps_or_repeats(city: City) -> None:
    for _ in range(7):
        register_case(city)
    ledger_integrate_all()
    user = city.u("gusu.police")
    seen: list[int] = []
    after = -1
    while True:
        page = event_page(user=user, after=after, limit=3)
        seen += [e["id"] for e in page.events]
        if page.caught_up:
            break
        after = page.next
    assert seen == list(range(7))
    # a cursor at the tail gives nothing, and stays put
    empty = event_page(user=user, after=6, limit=3)
    assert empty.events == [] and empty.next == 6


def test_unintegrated_entries_are_not_events_yet(city: City) -> None:
    register_case(city)
    assert event_page(user=city.u("gusu.police"), after=-1).events == []
    assert feed_tail() == -1
    ledger_integrate_all()
    assert len(event_page(user=city.u("gusu.police"), after=-1).events) == 1


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("gusu.police", True),  # the filing unit
        ("gusu.police_leader", True),
        ("city_police_leader", True),  # a leader of the parent unit (subtree)
        ("committee", True),  # 政法委 sees all
        ("admin", True),
        ("wuzhong.police", False),  # another county's police
        ("gusu.station", False),  # another police unit of the same county
        ("gusu.procu", False),  # the procuratorate, before the case is sent to it
        ("gusu.judge", False),
    ],
)
def test_a_unit_sees_only_the_events_of_cases_it_may_see(city: City, who: str, sees: bool) -> None:
    case_id = register_case(city)
    ledger_integrate_all()
    page = event_page(user=city.u(who), after=-1)
    assert [e["case_id"] for e in page.events] == ([case_id] if sees else [])
    # hidden events are stepped over: the cursor still reaches the tail
    assert page.next == page.tail == 0


def test_visibility_is_evaluated_when_read_a_unit_joining_later_sees_the_case(city: City) -> None:
    case_id = register_case(city)
    ledger_integrate_all()
    procu = city.u("gusu.procu")
    assert event_page(user=procu, after=-1).events == []
    # when the police send the case for prosecution, the procuratorate takes part in it
    _act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    ledger_integrate_all()
    actions = [e["action"] for e in event_page(user=procu, after=-1).events]
    assert actions == ["register", "transfer_for_prosecution"]
    # other counties still see nothing
    assert event_page(user=city.u("wuzhong.procu"), after=-1).events == []


def test_agency_internal_entries_are_kept_from_other_agencies(city: City) -> None:
    case_id = register_case(city)
    _act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    procu = city.u("gusu.procu")
    with transaction.atomic():
        from xietong.cases.models import Case

        Case.objects.select_for_update().get(pk=case_id)
        ledger_append(
            case_id=case_id,
            actor=actor_of(procu, preferred=["handler"]),
            action="review_report_save",
            payload={"label": "审查报告", "scope": "agency"},
        )
    ledger_integrate_all()
    assert [e["action"] for e in event_page(user=procu, after=-1).events][-1] == "review_report_save"
    police_actions = [e["action"] for e in event_page(user=city.u("gusu.police"), after=-1).events]
    assert "review_report_save" not in police_actions
    assert [e["action"] for e in event_page(user=city.u("committee"), after=-1).events][-1] == (
        "review_report_save"
    )


def test_filters_by_action_and_case(city: City) -> None:
    first = register_case(city)
    second = register_case(city)
    _act(city, "gusu.police_leader", first, "transfer_for_prosecution")
    ledger_integrate_all()
    user = city.u("gusu.police")
    only = event_page(user=user, after=-1, actions=["transfer_for_prosecution"])
    assert [(e["case_id"], e["action"]) for e in only.events] == [(first, "transfer_for_prosecution")]
    assert only.next == only.tail
    by_case = event_page(user=user, after=-1, case_ids=[second])
    assert [e["case_id"] for e in by_case.events] == [second]


def _api(city: City, who: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(city.u(who))
    return client


def test_events_api_pages_with_a_cursor(city: City) -> None:
    for _ in range(3):
        register_case(city)
    ledger_integrate_all()
    client = _api(city, "gusu.police")
    first = client.get("/api/v1/events", {"after": -1, "limit": 2}).json()
    assert [e["id"] for e in first["events"]] == [0, 1]
    assert first["next"] == 1 and first["caught_up"] is False
    second = client.get("/api/v1/events", {"after": first["next"], "limit": 2}).json()
    assert [e["id"] for e in second["events"]] == [2]
    assert second["caught_up"] is True and second["tree_head"]["size"] == 3
    assert client.get("/api/v1/events", {"action": "register,detain"}).json()["next"] == 2


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"after": "x"}, "bad_after"),
        ({"after": -2}, "bad_after"),
        ({"limit": 0}, "bad_limit"),
        ({"limit": 5000}, "bad_limit"),
        ({"wait": 99}, "bad_wait"),
        ({"case_id": "a"}, "bad_case_id"),
    ],
)
def test_events_api_refuses_bad_parameters_with_stable_codes(
    city: City, params: dict[str, object], code: str
) -> None:
    response = _api(city, "gusu.police").get("/api/v1/events", params)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_events_api_needs_a_login(city: City) -> None:
    response = APIClient().get("/api/v1/events")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_events_api_long_poll_returns_when_the_wait_ends(city: City) -> None:
    response = _api(city, "gusu.police").get("/api/v1/events", {"wait": 1})
    body = response.json()
    assert response.status_code == 200 and body["events"] == [] and body["next"] == -1


def test_an_actor_not_tied_to_a_case_row_is_still_ordered(city: City) -> None:
    """An entry whose case the owner may see arrives at its leaf index, whatever wrote it."""
    case_id = register_case(city)
    with transaction.atomic():
        from xietong.cases.models import Case

        Case.objects.select_for_update().get(pk=case_id)
        ledger_append(
            case_id=case_id,
            actor=Actor(user_id=None, name="协同平台", duty="", unit_id=None, unit_name=""),
            action="supervision_alert",
            payload={"label": "预警"},
        )
    ledger_integrate_all()
    assert [e["action"] for e in event_page(user=city.u("gusu.police"), after=-1).events] == [
        "register",
        "supervision_alert",
    ]
