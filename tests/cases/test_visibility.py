"""Authorisation matrix: who may read and who may act, by duty, unit and stage. A refused call
changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import City, register_case
from xietong.cases import selectors, services
from xietong.cases.models import Case, Transfer
from xietong.errors import DomainError, NotAllowed, NotFound
from xietong.ledger.models import LedgerEntry


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("gusu.police", True),  # the filing unit
        ("gusu.police_leader", True),
        ("city_police_leader", True),  # leader of the parent unit: subtree
        ("gusu.station", False),  # a child unit does not see its parent's cases
        ("gusu.procu", False),  # not yet sent to the procuratorate
        ("wuzhong.police", False),  # another county
        ("wuzhong.police_leader", False),
        ("committee", True),  # 政法委 sees all
        ("admin", True),
    ],
)
def test_who_sees_a_freshly_filed_case(city: City, who: str, sees: bool) -> None:
    case_id = register_case(city)
    visible = selectors.case_list_visible_to(user=city.u(who)).filter(pk=case_id).exists()
    assert visible is sees


def test_receiving_unit_sees_the_case_from_the_transfer_on_and_keeps_seeing_it(city: City) -> None:
    case_id = register_case(city)
    services.case_act(user=city.u("gusu.police_leader"), case_id=case_id, action="transfer_for_prosecution")
    assert selectors.case_list_visible_to(user=city.u("gusu.procu")).filter(pk=case_id).exists()
    assert not selectors.case_list_visible_to(user=city.u("wuzhong.procu")).filter(pk=case_id).exists()
    transfer = Transfer.objects.get(case_id=case_id)
    services.transfer_accept(user=city.u("gusu.procu"), transfer_id=transfer.pk)
    services.case_act(user=city.u("gusu.procu_leader"), case_id=case_id, action="indict")
    # The police took part: they still see the case after it left them.
    assert selectors.case_list_visible_to(user=city.u("gusu.police")).filter(pk=case_id).exists()


@pytest.mark.parametrize(
    ("who", "action", "error", "code"),
    [
        ("wuzhong.police_leader", "transfer_for_prosecution", NotFound, "case_not_found"),  # other county
        ("gusu.station_leader", "transfer_for_prosecution", NotFound, "case_not_found"),  # other police unit
        ("city_police_leader", "transfer_for_prosecution", NotAllowed, "not_holder"),  # sees, does not hold
        ("committee", "transfer_for_prosecution", NotAllowed, "agency_forbidden"),  # sees all, acts on none
        ("gusu.police_leader", "indict", NotAllowed, "agency_forbidden"),  # wrong agency
    ],
)
def test_acts_refused_by_unit_agency_or_duty_change_nothing(
    city: City, who: str, action: str, error: type[DomainError], code: str
) -> None:
    case_id = register_case(city)
    before = (Case.objects.get(pk=case_id).version, LedgerEntry.objects.count(), Transfer.objects.count())
    with pytest.raises(error) as exc:
        services.case_act(user=city.u(who), case_id=case_id, action=action)
    assert exc.value.code == code
    assert (
        Case.objects.get(pk=case_id).version,
        LedgerEntry.objects.count(),
        Transfer.objects.count(),
    ) == before


def test_only_the_receiving_unit_may_accept_a_transfer(city: City) -> None:
    case_id = register_case(city)
    services.case_act(user=city.u("gusu.police_leader"), case_id=case_id, action="transfer_for_prosecution")
    transfer = Transfer.objects.get(case_id=case_id)
    with pytest.raises(NotAllowed) as sender:
        services.transfer_accept(user=city.u("gusu.police"), transfer_id=transfer.pk)
    assert sender.value.code == "not_receiver"
    with pytest.raises(NotFound):
        services.transfer_accept(user=city.u("gusu.judge"), transfer_id=transfer.pk)
    with pytest.raises(NotFound):
        services.transfer_accept(user=city.u("wuzhong.procu"), transfer_id=transfer.pk)
    assert Transfer.objects.get(pk=transfer.pk).status == "pending"


def test_leader_of_another_county_cannot_approve(city: City) -> None:
    case_id = register_case(city)
    party = Case.objects.get(pk=case_id).parties.get()
    pending = services.case_act(
        user=city.u("gusu.police"), case_id=case_id, action="detain", party_ids=[party.pk]
    )
    with pytest.raises(NotFound):
        services.request_decide(
            user=city.u("wuzhong.police_leader"), request_id=pending.request.pk, approve=True
        )  # type: ignore[union-attr]


def test_actions_available_lists_only_what_the_user_may_do(city: City) -> None:
    case_id = register_case(city)
    case = Case.objects.get(pk=case_id)
    police = {a.code for a in selectors.actions_available(user=city.u("gusu.police"), case=case)}
    assert {"detain", "transfer_for_prosecution", "withdraw"} <= police
    assert not selectors.actions_available(user=city.u("gusu.procu"), case=case)
    assert not selectors.actions_available(user=city.u("committee"), case=case)
