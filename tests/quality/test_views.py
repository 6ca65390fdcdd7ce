"""The pages: a cross-district reviewer reaches only the file of the case assigned to him (and every
page view is logged), strangers get 404, bad input gets a 4xx with a Chinese message."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.quality.conftest import Setup
from xietong.dossier.models import PageView
from xietong.orgs.models import User
from xietong.quality import services
from xietong.quality.models import Campaign, Defect, Finding, FindingStatus
from xietong.security.models import AuditEvent


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_reviewer_of_another_county_reads_only_his_assigned_case_file(setup: Setup) -> None:
    client = _client(setup.reviewer)
    page = setup.pages[1]
    response = client.get(reverse("quality:workspace", args=[setup.review.pk]))
    assert response.status_code == 200
    assert "讯问笔录" in response.content.decode()  # the machine's suggestion about the unsigned record
    image = client.get(reverse("quality:page-image", args=[setup.review.pk, page.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert PageView.objects.filter(user=setup.reviewer, page=page).count() == 1
    # the same page outside the assignment, and the case itself, are not his to see
    assert client.get(reverse("dossier:page-image", args=[page.pk])).status_code == 404
    assert client.get(reverse("web:case-detail", args=[setup.case_id])).status_code == 404
    assert client.get(reverse("web:case-detail", args=[setup.other_case_id])).status_code == 404
    # another case of the campaign, not assigned to him, and a page of it
    other = setup.campaign.cases.get(case_id=setup.other_case_id)
    assert client.get(reverse("quality:workspace", args=[other.pk])).status_code == 404
    assert PageView.objects.filter(user=setup.reviewer).count() == 1


@pytest.mark.parametrize("who", ["gusu.police", "wuzhong.police_leader", "committee"])
def test_users_outside_the_campaign_get_404(setup: Setup, who: str) -> None:
    client = _client(setup.city.u(who))
    page = setup.pages[0]
    assert client.get(reverse("quality:workspace", args=[setup.review.pk])).status_code == 404
    response = client.get(reverse("quality:page-image", args=[setup.review.pk, page.pk]))
    assert response.status_code == 404 and "评查任务不存在" in response.content.decode()
    assert not PageView.objects.exists()


def test_campaign_pages_for_organiser_and_strangers(setup: Setup) -> None:
    organiser = _client(setup.organiser)
    detail = organiser.get(reverse("quality:campaign", args=[setup.campaign.pk]))
    assert detail.status_code == 200 and setup.reviewer.full_name in detail.content.decode()
    assert organiser.get(reverse("quality:results", args=[setup.campaign.pk])).status_code == 200
    stranger = _client(setup.city.u("gusu.police"))
    assert stranger.get(reverse("quality:campaign", args=[setup.campaign.pk])).status_code == 404
    assert stranger.get(reverse("quality:results", args=[setup.campaign.pk])).status_code == 404
    assert organiser.get(reverse("quality:campaign", args=[999_999])).status_code == 404
    reviewer = _client(setup.reviewer)  # sees the campaign (his task), not its results
    assert reviewer.get(reverse("quality:campaign", args=[setup.campaign.pk])).status_code == 200
    assert reviewer.get(reverse("quality:results", args=[setup.campaign.pk])).status_code == 403


def test_create_campaign_form_refuses_bad_input_with_a_message(setup: Setup) -> None:
    client = _client(setup.organiser)
    url = reverse("quality:campaign-new")
    assert client.get(url).status_code == 200
    bad = client.post(
        url, {"name": "x", "period_start": "2026-01-01", "period_end": "昨天", "per_unit": "5", "seed": "1"}
    )
    assert bad.status_code == 400 and "评查期间结束日期" in bad.content.decode()
    bad = client.post(
        url,
        {
            "name": "x",
            "period_start": "2026-01-01",
            "period_end": "2026-02-01",
            "per_unit": "五",
            "seed": "1",
        },
    )
    assert bad.status_code == 400 and "须为整数" in bad.content.decode()
    assert Campaign.objects.count() == 1
    assert _client(setup.city.u("gusu.police")).get(url).status_code == 403


def test_assign_outside_campaign_via_the_page(setup: Setup) -> None:
    other = setup.campaign.cases.get(case_id=setup.other_case_id)
    response = _client(setup.organiser).post(
        reverse("quality:assign", args=[other.pk]), {"reviewer": setup.city.u("gusu.police").pk}
    )
    assert response.status_code == 403 and "不是本次活动的评查员" in response.content.decode()
    response = _client(setup.organiser).post(reverse("quality:assign", args=[other.pk]), {"reviewer": "abc"})
    assert response.status_code == 400


def test_defect_form_bad_input_is_a_400_and_writes_nothing(setup: Setup) -> None:
    client = _client(setup.reviewer)
    url = reverse("quality:defect-add", args=[setup.review.pk])
    base = {"item": "TY-04", "severity": "flaw", "comment": "未签名", "page": setup.pages[0].pk}
    for extra in ({"x": "a", "y": "1", "w": "50", "h": "50"}, {"x": "590", "y": "790", "w": "50", "h": "50"}):
        response = client.post(url, {**base, **extra}, HTTP_HX_REQUEST="true")
        assert response.status_code == 400
        assert "标注区域" in response.content.decode()
    assert client.post(url, {**base, "page": "x"}).status_code == 400
    assert not Defect.objects.exists()
    ok = client.post(url, {**base, "x": "100", "y": "120", "w": "300", "h": "200"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and Defect.objects.count() == 1


def test_submit_with_a_non_numeric_score_is_refused(setup: Setup) -> None:
    client = _client(setup.reviewer)
    client.get(reverse("quality:workspace", args=[setup.review.pk]))  # pre-screens
    for f in Finding.objects.filter(review=setup.review, status=FindingStatus.PENDING):
        services.finding_decide(user=setup.reviewer, finding_id=f.pk, confirm=False)
    response = client.post(reverse("quality:submit", args=[setup.review.pk]), {"adjustment": "十"})
    assert response.status_code == 400 and "调整分须为整数" in response.content.decode()
    setup.review.refresh_from_db()
    assert setup.review.score is None
    done = client.post(reverse("quality:submit", args=[setup.review.pk]), {"adjustment": "0"})
    assert done.status_code == 302


def test_handler_sees_the_defect_with_its_crop_and_answers(setup: Setup) -> None:
    reviewer = _client(setup.reviewer)
    reviewer.get(reverse("quality:workspace", args=[setup.review.pk]))
    for f in Finding.objects.filter(review=setup.review, status=FindingStatus.PENDING):
        reviewer.post(
            reverse("quality:finding-decide", args=[setup.review.pk, f.pk, "confirm"]), HTTP_HX_REQUEST="true"
        )
    reviewer.post(reverse("quality:submit", args=[setup.review.pk]), {"adjustment": "0"})
    defect = Defect.objects.filter(crop__isnull=False).first()
    assert defect is not None
    handler = _client(setup.city.u("gusu.police"))
    page = handler.get(reverse("quality:feedback", args=[setup.review.pk]))
    assert page.status_code == 200 and reverse("quality:crop", args=[defect.pk]) in page.content.decode()
    assert handler.get(reverse("quality:crop", args=[defect.pk])).status_code == 200
    assert (
        _client(setup.city.u("wuzhong.police_leader"))
        .get(reverse("quality:crop", args=[defect.pk]))
        .status_code
        == 404
    )
    answer = handler.post(reverse("quality:answer", args=[defect.pk]), {"kind": "rectify", "text": "已补签"})
    assert answer.status_code == 302
    defect.refresh_from_db()
    assert defect.status == "rectified"
    assert (
        handler.post(reverse("quality:answer", args=[defect.pk]), {"kind": "?", "text": "x"}).status_code
        == 400
    )


def test_results_pdf_downloads(setup: Setup) -> None:
    response = _client(setup.organiser).get(
        reverse("quality:results", args=[setup.campaign.pk]) + "?format=pdf"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    export = AuditEvent.objects.get(kind="export", user=setup.organiser)
    assert export.what.startswith("评查结果：")
