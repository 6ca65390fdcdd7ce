"""The workspace pages and their JSON writes, as the browser uses them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.factories import City, register_case
from tests.review.conftest import ReviewCase, quote_block
from xietong.review.models import Report, ReportVersion


def signed_in(city: City, who: str = "gusu.procu") -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.u(who))
    return client


def csrf(client: Client, url: str) -> str:
    client.get(url)
    return str(client.cookies["csrftoken"].value)


def new_report(client: Client, case_id: int, kind: str = "arrest_review") -> Report:
    token = csrf(client, f"/cases/{case_id}/")
    response = client.post(f"/cases/{case_id}/reports/new/", {"kind": kind}, HTTP_X_CSRFTOKEN=token)
    report = Report.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case_id}/reports/{report.pk}/"
    return report


def post_json(client: Client, url: str, data: dict[str, Any], token: str) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", HTTP_X_CSRFTOKEN=token)


def test_case_page_lists_reports_and_offers_the_kinds_the_user_may_start(
    city: City, review_case: ReviewCase
) -> None:
    procu = signed_in(city)
    page = procu.get(f"/cases/{review_case.case_id}/").content.decode()
    assert 'id="reports"' in page and "新建报告" in page
    assert (
        page.index('value="arrest_review"')
        < page.index('value="prosecution_review"')
        < page.index('value="blank"')
    )
    report = new_report(procu, review_case.case_id)
    page = procu.get(f"/cases/{review_case.case_id}/").content.decode()
    assert f'href="/cases/{review_case.case_id}/reports/{report.pk}/"' in page and "草稿 · 第1版" in page
    police = signed_in(city, "gusu.police").get(f"/cases/{review_case.case_id}/").content.decode()
    assert 'id="reports"' not in police  # neither the procuratorate's paper nor a button to start one


def test_workspace_shows_reader_editor_and_saved_quotations(city: City, review_case: ReviewCase) -> None:
    client = signed_in(city)
    report = new_report(client, review_case.case_id)
    url = f"/cases/{review_case.case_id}/reports/{report.pk}/"
    token = csrf(client, url)
    body = ReportVersion.objects.get(report=report).body
    body["sections"][4]["blocks"].append(
        quote_block(review_case.pages[0], "犯罪嫌疑人张1，男，一九九零年出生。")
    )
    saved = post_json(
        client,
        url + "save",
        {"body": body, "expected_version": 1, "expected_revision": 1, "autosave": True},
        token,
    )
    assert saved.status_code == 200
    data = saved.json()
    assert (data["version"], data["revision"], data["autosave"], data["created"]) == (2, 2, True, True)
    assert len(data["saved_time"]) == 8  # HH:MM:SS, for 「已自动保存 HH:MM:SS（第2版）」
    page = client.get(url).content.decode()
    volume, first = review_case.volume, review_case.pages[0]
    assert f'src="/cases/{review_case.case_id}/reports/{report.pk}/reader/{volume.pk}/"' in page
    assert f'data-page-id="{first.pk}" data-page-number="1"' in page
    assert "犯罪嫌疑人张1，男，一九九零年出生。</span>" in page
    assert f'href="/volumes/{volume.pk}/#page-1"' in page and "（卷1 第1页）" in page
    assert 'data-editable="1"' in page and 'data-version="2"' in page and 'data-revision="2"' in page


def test_save_answers_409_with_the_current_version_401_when_signed_out(
    city: City, review_case: ReviewCase
) -> None:
    client = signed_in(city)
    report = new_report(client, review_case.case_id)
    url = f"/cases/{review_case.case_id}/reports/{report.pk}/save"
    token = csrf(client, f"/cases/{review_case.case_id}/reports/{report.pk}/")
    body = ReportVersion.objects.get(report=report).body
    body["title"] = "改过的标题"
    first = post_json(client, url, {"body": body, "expected_version": 1, "expected_revision": 1}, token)
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = post_json(client, url, {"body": body, "expected_version": 1, "expected_revision": 1}, token)
    assert stale.status_code == 409
    assert stale.json() == {
        "code": "version_conflict",
        "message": "报告已在别处被修改（现为第2版），请重新载入后再编辑",
        "details": {"current_version": 2, "revision": 2},
    }
    assert Report.objects.get(pk=report.pk).title == "改过的标题"
    anonymous = Client().post(url, "{}", content_type="application/json")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    no_token = Client(enforce_csrf_checks=True)
    no_token.force_login(city.u("gusu.procu"))
    assert post_json(no_token, url, {"body": body, "expected_version": 2}, "").status_code == 403


@pytest.mark.parametrize(
    ("who", "status"), [("gusu.police", 403), ("wuzhong.procu", 404), ("committee", 200)]
)
def test_workspace_for_others(city: City, review_case: ReviewCase, who: str, status: int) -> None:
    report = new_report(signed_in(city), review_case.case_id)
    page = signed_in(city, who).get(f"/cases/{review_case.case_id}/reports/{report.pk}/")
    assert page.status_code == status
    if status == 200:  # the committee reads, and cannot write or quote
        assert (
            'data-editable="0"' in page.content.decode()
            and 'contenteditable="true"' not in page.content.decode()
        )


def test_reader_pane_may_be_framed_by_the_site_only_and_quotes_when_writable(
    city: City, review_case: ReviewCase
) -> None:
    client = signed_in(city)
    report = new_report(client, review_case.case_id)
    base = f"/cases/{review_case.case_id}/reports/{report.pk}/reader/"
    first = client.get(base)
    assert first.status_code == 302 and first["Location"] == f"{base}{review_case.volume.pk}/"
    pane = client.get(f"{base}{review_case.volume.pk}/")
    assert pane.status_code == 200 and pane["X-Frame-Options"] == "SAMEORIGIN"
    html = pane.content.decode()
    assert 'data-quote="1"' in html and "reader_bridge.js" in html and "dossier/reader.js" in html
    assert 'class="top"' not in html  # no site header inside the pane
    standalone = client.get(f"/volumes/{review_case.volume.pk}/")
    assert standalone["X-Frame-Options"] == "DENY" and 'data-quote="1"' not in standalone.content.decode()
    assert "← 卷宗" in standalone.content.decode()
    read_only = signed_in(city, "committee").get(f"{base}{review_case.volume.pk}/").content.decode()
    assert 'data-quote="1"' not in read_only
    other = register_case(city)
    assert (
        client.get(f"/cases/{other}/reports/{report.pk}/reader/{review_case.volume.pk}/").status_code == 404
    )


def test_versions_restore_and_finalise_through_the_page(city: City, review_case: ReviewCase) -> None:
    client = signed_in(city)
    report = new_report(client, review_case.case_id)
    url = f"/cases/{review_case.case_id}/reports/{report.pk}/"
    token = csrf(client, url)
    body = ReportVersion.objects.get(report=report).body
    body["title"] = "第二版标题"
    post_json(client, url + "save", {"body": body, "expected_version": 1, "expected_revision": 1}, token)
    listing = client.get(url + "versions/", HTTP_HX_REQUEST="true").content.decode()
    assert "第2版" in listing and "新建（据案件信息预填）" in listing and "手动保存" in listing
    old = client.get(url + "versions/1/", HTTP_HX_REQUEST="true").content.decode()
    assert "张1盗窃案审查逮捕意见书" in old and 'data-act="restore"' in old
    restored = post_json(
        client, url + "versions/1/restore", {"expected_version": 2, "expected_revision": 2}, token
    )
    assert restored.status_code == 200 and restored.json()["version"] == 3
    done = post_json(client, url + "finalise", {"expected_version": 3}, token)
    assert done.status_code == 200 and done.json()["status"] == "final"
    page = client.get(url).content.decode()
    assert "已定稿" in page and 'data-editable="0"' in page
    again = post_json(client, url + "save", {"body": body, "expected_version": 3}, token)
    assert again.status_code == 409 and again.json()["code"] == "report_final"
