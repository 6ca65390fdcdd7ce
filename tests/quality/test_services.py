"""Campaigns, the draw, cross-district assignment, defects with screenshots, scoring and answers."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.factories import City, register_case
from tests.quality import factories
from tests.quality.conftest import Setup
from xietong.cases.models import Case
from xietong.dossier import blobs
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.ledger.models import LedgerEntry
from xietong.quality import selectors, services
from xietong.quality.models import (
    Campaign,
    CampaignCase,
    Defect,
    DefectStatus,
    Finding,
    FindingStatus,
    ReviewStatus,
)


def _input(city: City, **kw: object) -> services.CampaignInput:
    from datetime import date

    data = services.CampaignInput(
        name="评查",
        period_start=date(2020, 1, 1),
        period_end=date(2099, 1, 1),
        unit_ids=[city.counties["gusu"].police.pk],
        rules=[],
        per_unit=0,
        seed=1,
    )
    for k, v in kw.items():
        setattr(data, k, v)
    return data


def test_only_leaders_and_the_committee_organise(city: City) -> None:
    with pytest.raises(NotAllowed) as refused:
        services.campaign_create(user=city.u("gusu.police"), data=_input(city))
    assert refused.value.code == "not_organiser" and "负责人" in refused.value.message
    services.campaign_create(user=city.u("committee"), data=_input(city))
    services.campaign_create(user=city.u("gusu.police_leader"), data=_input(city))
    assert Campaign.objects.count() == 2


def test_a_leader_reviews_only_units_under_him(city: City) -> None:
    data = _input(city, unit_ids=[city.counties["wuzhong"].police.pk])
    with pytest.raises(NotAllowed) as refused:
        services.campaign_create(user=city.u("gusu.police_leader"), data=data)
    assert refused.value.code == "unit_out_of_scope"
    procu = _input(city, unit_ids=[city.counties["gusu"].procuratorate.pk])
    with pytest.raises(NotAllowed):
        services.campaign_create(user=city.u("city_police_leader"), data=procu)
    with pytest.raises(ValidationFailed):
        services.campaign_create(user=city.u("city_police_leader"), data=_input(city, rules=["nonsense"]))
    assert not Campaign.objects.exists()


def test_draw_is_reproducible_by_seed_and_limited_per_unit(city: City) -> None:
    ids = [register_case(city, "gusu") for _ in range(6)]
    first = factories.campaign(city, counties=("gusu",), per_unit=3, seed=11)
    second = factories.campaign(city, counties=("gusu",), per_unit=3, seed=11)
    leader = city.u("city_police_leader")
    assert services.campaign_draw(user=leader, campaign_id=first.pk) == 3
    services.campaign_draw(user=leader, campaign_id=second.pk)
    drawn = sorted(CampaignCase.objects.filter(campaign=first).values_list("case_id", flat=True))
    again = sorted(CampaignCase.objects.filter(campaign=second).values_list("case_id", flat=True))
    assert drawn == again and set(drawn) <= set(ids)
    with pytest.raises(Conflict):
        services.campaign_draw(user=leader, campaign_id=first.pk)


def test_draw_by_rule_and_with_file_only(city: City) -> None:
    twice, once = register_case(city, "gusu"), register_case(city, "gusu")
    Case.objects.filter(pk=twice).update(supplementary_count=2)
    Case.objects.filter(pk=once).update(supplementary_count=1)
    leader = city.u("city_police_leader")
    by_rule = factories.campaign(city, counties=("gusu",), rules=("supplementary_twice",))
    services.campaign_draw(user=leader, campaign_id=by_rule.pk)
    [row] = CampaignCase.objects.filter(campaign=by_rule)
    assert row.case_id == twice and row.drawn_because == "两次退回补充侦查的案件"
    assert row.checklist == "investigation"
    with_file = factories.campaign(city, counties=("gusu",), with_file_only=True)
    with pytest.raises(ValidationFailed) as nothing:
        services.campaign_draw(user=leader, campaign_id=with_file.pk)
    assert nothing.value.code == "nothing_drawn"
    assert not CampaignCase.objects.filter(campaign=with_file).exists()


def test_assigning_someone_outside_the_campaign_is_refused(setup: Setup) -> None:
    other = CampaignCase.objects.get(campaign=setup.campaign, case_id=setup.other_case_id)
    with pytest.raises(NotAllowed) as refused:
        services.review_assign(
            user=setup.organiser, review_id=other.pk, reviewer_id=setup.city.u("wuzhong.police_leader").pk
        )
    assert refused.value.code == "reviewer_not_in_campaign" and "评查员" in refused.value.message
    other.refresh_from_db()
    assert other.reviewer_id is None and other.status == ReviewStatus.UNASSIGNED


def test_a_reviewer_never_reviews_his_own_unit_or_county(setup: Setup) -> None:
    city = setup.city
    for name in ("gusu.police", "gusu.station"):
        services.campaign_reviewer_add(
            user=setup.organiser, campaign_id=setup.campaign.pk, reviewer_id=city.u(name).pk
        )
    other = CampaignCase.objects.get(campaign=setup.campaign, case_id=setup.other_case_id)
    with pytest.raises(ValidationFailed) as own:
        services.review_assign(user=setup.organiser, review_id=other.pk, reviewer_id=city.u("gusu.police").pk)
    assert own.value.code == "reviewer_conflict" and "本单位" in own.value.message
    with pytest.raises(ValidationFailed) as county:
        services.review_assign(
            user=setup.organiser, review_id=other.pk, reviewer_id=city.u("gusu.station").pk
        )
    assert "本单位" in county.value.message or "同一区县" in county.value.message
    assigned, left = services.campaign_assign_auto(user=setup.organiser, campaign_id=setup.campaign.pk)
    assert (assigned, left) == (1, 0)
    other.refresh_from_db()
    assert other.reviewer_id == city.u("wuzhong.police").pk


def test_only_the_organiser_manages(setup: Setup) -> None:
    with pytest.raises(NotAllowed):
        services.campaign_reviewer_add(
            user=setup.city.u("gusu.police_leader"),
            campaign_id=setup.campaign.pk,
            reviewer_id=setup.reviewer.pk,
        )
    with pytest.raises(NotFound):
        services.campaign_draw(user=setup.organiser, campaign_id=999_999)


def test_defect_on_a_page_region_keeps_the_crop(setup: Setup) -> None:
    page = setup.pages[1]
    defect = services.defect_add(
        user=setup.reviewer,
        review_id=setup.review.pk,
        data=services.DefectInput(
            item_code="TY-04", severity="irregular", comment="笔录未签名", page_id=page.pk, rect=factories.BOX
        ),
    )
    assert defect.points == 5 and defect.citation == "刑事诉讼法第122条"
    assert defect.rect == list(factories.BOX) and (defect.volume_number, defect.page_number) == (1, 2)
    assert defect.crop is not None
    with blobs.blob_open(defect.crop) as fh:
        crop = Image.open(io.BytesIO(fh.read()))
    assert crop.size == (factories.BOX[2], factories.BOX[3])
    assert crop.convert("L").getextrema()[1] < 80  # the dark box, nothing of the white page


@pytest.mark.parametrize(
    ("rect", "code"),
    [
        ((550, 700, 100, 200), "rect_outside_page"),
        ((-5, 0, 50, 50), "rect_outside_page"),
        ((0, 0, 3, 3), "rect_too_small"),
    ],
)
def test_rectangle_outside_the_page_is_refused(
    setup: Setup, rect: tuple[int, int, int, int], code: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.defect_add(
            user=setup.reviewer,
            review_id=setup.review.pk,
            data=services.DefectInput(
                item_code="TY-04", severity="flaw", comment="x", page_id=setup.pages[0].pk, rect=rect
            ),
        )
    assert refused.value.code == code
    assert not Defect.objects.exists()


def test_non_numeric_rectangle_and_adjustment(setup: Setup) -> None:
    with pytest.raises(ValidationFailed):
        services.parse_rect(["1", "a", "3", "4"])
    assert services.parse_rect(["", None, "", ""]) is None
    with pytest.raises(ValidationFailed):
        services.parse_adjustment("五")


def test_a_stranger_cannot_act_as_reviewer(setup: Setup) -> None:
    for user in (setup.city.u("gusu.police"), setup.city.u("wuzhong.police_leader")):
        with pytest.raises(NotFound):
            services.defect_add(
                user=user,
                review_id=setup.review.pk,
                data=services.DefectInput(item_code="TY-04", severity="flaw", comment="x"),
            )


def test_prescreen_then_confirm_dismiss_score_submit_and_ledger(setup: Setup) -> None:
    services.review_open(user=setup.reviewer, review_id=setup.review.pk)
    findings = {f.key: f for f in Finding.objects.filter(review=setup.review)}
    assert "instrument-unsealed:register" in findings  # 立案决定书 still a draft
    assert f"page:{setup.pages[2].pk}" in findings  # the blank page
    assert f"unsigned:{setup.pages[1].pk}" in findings  # 讯问笔录 without signature
    with pytest.raises(Conflict) as pending:
        services.review_submit(user=setup.reviewer, review_id=setup.review.pk)
    assert pending.value.code == "findings_pending"
    unsigned = findings[f"unsigned:{setup.pages[1].pk}"]
    services.finding_decide(user=setup.reviewer, finding_id=unsigned.pk, confirm=True)
    for f in Finding.objects.filter(review=setup.review, status=FindingStatus.PENDING):
        services.finding_decide(user=setup.reviewer, finding_id=f.pk, confirm=False)
    [defect] = Defect.objects.filter(review=setup.review)
    assert defect.from_finding and defect.item_code == "TY-04" and defect.crop is not None
    with pytest.raises(ValidationFailed) as no_reason:
        services.review_submit(user=setup.reviewer, review_id=setup.review.pk, adjustment=2)
    assert no_reason.value.code == "adjustment_reason_required"
    with pytest.raises(ValidationFailed):
        services.review_submit(user=setup.reviewer, review_id=setup.review.pk, adjustment=30, reason="x")
    seq_before = Case.objects.get(pk=setup.case_id).ledger_seq
    review = services.review_submit(
        user=setup.reviewer,
        review_id=setup.review.pk,
        adjustment=2,
        reason="笔录其余部分规范",
        summary="总体规范",
    )
    assert (review.deduction, review.score, review.grade) == (5, 97, "优质案件")
    entries = list(LedgerEntry.objects.filter(case_id=setup.case_id, seq__gt=seq_before).order_by("seq"))
    assert [e.action for e in entries] == ["quality_defect", "quality_review"]
    assert json.loads(entries[0].payload)["crop_sha256"] == defect.crop.sha256
    assert json.loads(entries[1].payload)["score"] == 97
    with pytest.raises(Conflict):
        services.defect_add(
            user=setup.reviewer,
            review_id=setup.review.pk,
            data=services.DefectInput(item_code="TY-04", severity="flaw", comment="迟到"),
        )


def _submitted(setup: Setup) -> Defect:
    defect = services.defect_add(
        user=setup.reviewer,
        review_id=setup.review.pk,
        data=services.DefectInput(
            item_code="TY-03",
            severity="flaw",
            comment="空白页未剔除",
            page_id=setup.pages[2].pk,
            rect=(0, 0, 600, 800),
        ),
    )
    services.review_open(user=setup.reviewer, review_id=setup.review.pk)
    for f in Finding.objects.filter(review=setup.review, status=FindingStatus.PENDING):
        services.finding_decide(user=setup.reviewer, finding_id=f.pk, confirm=False)
    services.review_submit(user=setup.reviewer, review_id=setup.review.pk)
    return defect


def test_handler_explains_then_rectifies_and_the_ledger_keeps_both(setup: Setup) -> None:
    defect = _submitted(setup)
    handler = setup.city.u("gusu.police")
    with pytest.raises(ValidationFailed):
        services.defect_answer(user=handler, defect_id=defect.pk, rectified=False, text="  ")
    services.defect_answer(user=handler, defect_id=defect.pk, rectified=False, text="扫描时误插空白页")
    done = services.defect_answer(user=handler, defect_id=defect.pk, rectified=True, text="已重新扫描")
    assert done.status == DefectStatus.RECTIFIED and done.answered_by == handler
    actions = list(LedgerEntry.objects.filter(case_id=setup.case_id).values_list("action", flat=True))
    assert actions.count("quality_answer") == 2
    with pytest.raises(Conflict):
        services.defect_answer(user=handler, defect_id=defect.pk, rectified=False, text="再说明")


def test_only_the_reviewed_unit_answers(setup: Setup) -> None:
    defect = _submitted(setup)
    with pytest.raises(NotFound):
        services.defect_answer(
            user=setup.city.u("wuzhong.police_leader"), defect_id=defect.pk, rectified=True, text="x"
        )
    with pytest.raises(NotAllowed):  # sees the case (its procuratorate would), but is not the reviewed unit
        services.defect_answer(user=setup.city.u("committee"), defect_id=defect.pk, rectified=True, text="x")
    defect.refresh_from_db()
    assert defect.status == DefectStatus.OPEN


def test_defects_are_not_shown_to_the_unit_before_submission(setup: Setup) -> None:
    services.defect_add(
        user=setup.reviewer,
        review_id=setup.review.pk,
        data=services.DefectInput(item_code="TY-01", severity="flaw", comment="x"),
    )
    assert not selectors.feedback_list_for(user=setup.city.u("gusu.police")).exists()
    [d] = Defect.objects.all()
    with pytest.raises(NotFound):
        selectors.defect_get_visible(user=setup.city.u("gusu.police"), defect_id=d.pk)


def test_unit_scores_and_campaign_results(setup: Setup) -> None:
    defect = _submitted(setup)
    services.defect_answer(user=setup.city.u("gusu.police"), defect_id=defect.pk, rectified=True, text="已改")
    [row] = selectors.unit_scores(units=[setup.city.counties["gusu"].police])
    assert row["reviewed"] == 1 and row["average_score"] == 99
    assert row["defects"] == {"flaw": 1, "irregular": 0, "error": 0} and row["rectified_share"] == 100.0
    assert selectors.unit_scores(units=[setup.city.counties["wuzhong"].police]) == []
    from datetime import timedelta

    from django.utils import timezone

    assert selectors.unit_scores(since=timezone.localdate() + timedelta(days=1)) == []
    [result] = selectors.campaign_results(campaign=setup.campaign)
    assert (result.drawn, result.reviewed, result.items["TY-03"]) == (2, 1, 1)


def test_closing_ends_the_reviewers_access(setup: Setup) -> None:
    services.campaign_close(user=setup.organiser, campaign_id=setup.campaign.pk)
    with pytest.raises(NotFound):
        services.review_page_view(user=setup.reviewer, review_id=setup.review.pk, page_id=setup.pages[0].pk)
