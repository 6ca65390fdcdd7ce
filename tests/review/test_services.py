"""Review reports through the one door: prefilled creation, versions and autosave coalescing,
conflicts, citations, finalising into the ledger, and who may do what (F4)."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from tests.factories import City, register_case
from tests.review.conftest import PAGE_TEXTS, ReviewCase, add_volume, quote_block
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify
from xietong.review import selectors, services
from xietong.review.models import Report, ReportVersion


def create(city: City, case_id: int, who: str = "gusu.procu", kind: str = "arrest_review") -> Report:
    return services.report_create(user=city.u(who), case_id=case_id, kind=kind)


def body_of(report: Report, number: int | None = None) -> dict[str, Any]:
    report.refresh_from_db()
    version = ReportVersion.objects.get(report=report, number=number or report.current_version)
    return copy.deepcopy(version.body)


def section(body: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in body["sections"] if s["key"] == key)


def texts(body: dict[str, Any], key: str) -> list[str]:
    return [b["text"] for b in section(body, key)["blocks"]]


def edited(report: Report, text: str) -> dict[str, Any]:
    body = body_of(report)
    section(body, "issues")["blocks"] = [{"type": "p", "text": text}]
    return body


def save(city: City, report: Report, body: dict[str, Any], *, autosave: bool, who: str = "gusu.procu") -> Any:
    report.refresh_from_db()
    return services.report_save(
        user=city.u(who),
        report_id=report.pk,
        body=body,
        expected_version=report.current_version,
        expected_revision=report.revision,
        autosave=autosave,
    )


# ---------------------------------------------------------------- create


def test_arrest_review_report_is_prefilled_from_the_case(city: City, review_case: ReviewCase) -> None:
    report = create(city, review_case.case_id)
    assert (report.kind, report.status, report.current_version, report.title) == (
        "arrest_review",
        "draft",
        1,
        "张1盗窃案审查逮捕意见书",
    )
    assert report.unit == city.counties["gusu"].procuratorate and report.author == city.u("gusu.procu")
    body = body_of(report)
    assert [s["title"] for s in body["sections"]] == [
        "受案和审查经过",
        "一、犯罪嫌疑人基本情况",
        "二、发破案经过",
        "三、审查认定的事实",
        "四、证据情况",
        "五、需要说明的问题",
        "六、审查意见",
    ]
    today = timezone.localdate()
    day = f"{today.year}年{today.month}月{today.day}日"
    assert texts(body, "intake")[0].startswith(
        f"犯罪嫌疑人张1涉嫌盗窃罪一案，由姑苏区公安分局于{day}提请批准逮捕，本院于{day}收到。"
    )
    assert texts(body, "suspects") == [
        f"犯罪嫌疑人张1，男，住江苏省苏州市姑苏区姑苏区街道1幸福路1号。{day}因涉嫌盗窃罪被刑事拘留。"
    ]
    history = texts(body, "history")
    assert (
        history[0]
        == "案发时间：" + _day(timezone.localdate() - timedelta(days=2)) + "；案发地点：姑苏区街道1某小区。"
    )
    assert [h.split("，", 1)[1].split("（")[0] for h in history[1:]] == [
        "姑苏区公安分局立案",
        "姑苏区公安分局刑事拘留",
        "姑苏区公安分局提请批准逮捕",
        "姑苏区人民检察院受理",
    ]
    assert history[1].endswith("，立案决定书。")  # a draft: its 文号 comes with the seal
    assert texts(body, "facts")[0] == f"侦查机关认定：{register_facts()}"
    assert texts(body, "evidence") == ["认定上述事实的证据如下：", "本案电子卷宗共1卷：第1卷《诉讼卷》3页。"]
    assert texts(body, "opinion")[-1] == "承办人：姑苏区人民检察院procu"
    version = ReportVersion.objects.get(report=report)
    assert (version.number, version.autosave, version.saved_by) == (1, False, city.u("gusu.procu"))
    assert (
        version.sha256
        == hashlib.sha256(
            json.dumps(version.body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    )
    entry = LedgerEntry.objects.filter(case_id=review_case.case_id).order_by("-seq").first()
    assert entry is not None and entry.action == "report_create"
    assert json.loads(entry.payload)["label"] == "新建审查逮捕意见书"


def _day(day: Any) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def register_facts() -> str:
    return "2026年某日，犯罪嫌疑人在某小区内盗窃电动自行车一辆，价值人民币三千元。"


def test_prosecution_review_report_has_its_own_parts(city: City, review_case: ReviewCase) -> None:
    body = body_of(create(city, review_case.case_id, kind="prosecution_review"))
    assert body["title"] == "张1盗窃案审查起诉审查报告"
    assert [s["title"] for s in body["sections"]] == [
        "受案和审查经过",
        "一、犯罪嫌疑人基本情况",
        "二、发破案经过及诉讼过程",
        "三、侦查机关认定的犯罪事实与意见",
        "四、审查认定的事实及证据",
        "五、认罪认罚情况",
        "六、需要说明的问题",
        "七、量刑建议",
        "八、审查意见",
    ]
    assert texts(body, "plea") == ["犯罪嫌疑人张1未表示认罪认罚。"]


def test_blank_report_has_one_untitled_part(city: City, review_case: ReviewCase) -> None:
    body = body_of(create(city, review_case.case_id, kind="blank"))
    assert body == {
        "format": 1,
        "title": "关于张1盗窃案的报告",
        "sections": [{"key": "body", "title": "", "blocks": [{"type": "p", "text": ""}]}],
    }


def test_the_police_holding_a_case_may_write_a_blank_report_but_no_review_report(city: City) -> None:
    case_id = register_case(city)
    assert create(city, case_id, who="gusu.police", kind="blank").unit == city.counties["gusu"].police
    before = Report.objects.count()
    with pytest.raises(NotAllowed) as refused:
        create(city, case_id, who="gusu.police", kind="arrest_review")
    assert refused.value.code == "kind_forbidden" and Report.objects.count() == before


@pytest.mark.parametrize(
    ("who", "error", "code"),
    [
        ("wuzhong.procu", NotFound, "case_not_found"),  # another county: the case does not exist for him
        ("gusu.judge", NotFound, "case_not_found"),  # the court has not had the case yet
        ("gusu.police", NotAllowed, "not_holder"),  # took part in the case, but does not hold it now
        ("committee", NotAllowed, "not_holder"),  # sees every case, holds none
        ("gusu.clerk", NotFound, "case_not_found"),
    ],
)
def test_who_may_not_start_a_report_and_nothing_is_written(
    city: City, review_case: ReviewCase, who: str, error: type[Exception], code: str
) -> None:
    entries = LedgerEntry.objects.count()
    with pytest.raises(error) as refused:
        create(city, review_case.case_id, who=who)
    assert refused.value.code == code  # type: ignore[attr-defined]
    assert (Report.objects.count(), ReportVersion.objects.count(), LedgerEntry.objects.count()) == (
        0,
        0,
        entries,
    )


def test_a_leader_of_the_holder_unit_may_start_one(city: City, review_case: ReviewCase) -> None:
    assert create(city, review_case.case_id, who="gusu.procu_leader").author == city.u("gusu.procu_leader")


def test_unknown_kind_is_refused(city: City, review_case: ReviewCase) -> None:
    with pytest.raises(ValidationFailed):
        create(city, review_case.case_id, kind="memo")


# ---------------------------------------------------------------- save, versions, coalescing


def test_autosave_makes_a_version_only_for_a_change_and_coalesces_for_two_minutes(
    city: City, review_case: ReviewCase
) -> None:
    report = create(city, review_case.case_id)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        first = save(city, report, edited(report, "甲"), autosave=True)
        assert (first.version.number, first.created, first.changed, first.report.revision) == (
            2,
            True,
            True,
            2,
        )
        same = save(city, report, edited(report, "甲"), autosave=True)
        assert (same.version.number, same.created, same.changed, same.report.revision) == (2, False, False, 2)
        clock.shift(timedelta(seconds=70))
        second = save(city, report, edited(report, "甲乙"), autosave=True)
        assert (second.version.number, second.created, second.changed) == (2, False, True)
        clock.shift(timedelta(seconds=49))  # 1 min 59 s after the version was first saved
        third = save(city, report, edited(report, "甲乙丙"), autosave=True)
        assert (third.version.number, third.created) == (2, False)
        clock.shift(timedelta(seconds=2))  # the window has passed: a new version
        fourth = save(city, report, edited(report, "甲乙丙丁"), autosave=True)
        assert (fourth.version.number, fourth.created) == (3, True)
    versions = {v.number: v for v in ReportVersion.objects.filter(report=report)}
    assert sorted(versions) == [1, 2, 3]
    assert (versions[2].saves, texts(versions[2].body, "issues"), versions[2].autosave) == (
        3,
        ["甲乙丙"],
        True,
    )
    assert versions[2].created_at == start and versions[2].saved_at == start + timedelta(seconds=119)
    assert texts(versions[1].body, "issues")[0].startswith("（请填写")  # the prefilled version is untouched
    report.refresh_from_db()
    assert (report.current_version, report.revision) == (3, 5)  # four writes after creation


def test_a_manual_save_is_never_coalesced_into(city: City, review_case: ReviewCase) -> None:
    report = create(city, review_case.case_id)
    manual = save(city, report, edited(report, "手动"), autosave=False)
    assert (manual.version.number, manual.version.autosave) == (2, False)
    auto = save(city, report, edited(report, "自动"), autosave=True)
    assert (auto.version.number, auto.created) == (3, True)  # not into the manual version 2
    again = save(city, report, edited(report, "自动"), autosave=False)
    assert (again.version.number, again.created, again.changed) == (4, True, False)  # a checkpoint
    nothing = save(city, report, edited(report, "自动"), autosave=False)
    assert (nothing.version.number, nothing.created) == (4, False)
    assert texts(body_of(report, 2), "issues") == ["手动"]


def test_another_writer_does_not_coalesce_into_my_autosave(city: City, review_case: ReviewCase) -> None:
    report = create(city, review_case.case_id)
    mine = save(city, report, edited(report, "我的"), autosave=True)
    theirs = save(city, report, edited(report, "负责人的"), autosave=True, who="gusu.procu_leader")
    assert (mine.version.number, theirs.version.number, theirs.created) == (2, 3, True)


def test_a_stale_version_or_revision_is_a_conflict_and_writes_nothing(
    city: City, review_case: ReviewCase
) -> None:
    report = create(city, review_case.case_id)
    save(city, report, edited(report, "第一窗口"), autosave=True)  # version 2, revision 2
    for version, revision in ((1, 1), (2, 1)):  # the other window still has version 1, or revision 1 of 2
        with pytest.raises(Conflict) as stale:
            services.report_save(
                user=city.u("gusu.procu"),
                report_id=report.pk,
                body=edited(report, "第二窗口"),
                expected_version=version,
                expected_revision=revision,
                autosave=True,
            )
        assert stale.value.status == 409 and stale.value.code == "version_conflict"
        assert stale.value.details == {"current_version": 2, "revision": 2}
    assert texts(body_of(report), "issues") == ["第一窗口"] and ReportVersion.objects.count() == 2


def test_quotations_keep_their_citation_and_take_the_numbers_from_the_file(
    city: City, review_case: ReviewCase
) -> None:
    report = create(city, review_case.case_id)
    body = body_of(report)
    quote = quote_block(review_case.pages[1], "问：你为什么盗窃电动自行车？")
    quote.update(volume_number=9, page_number=99)  # what a client claims is not what is stored
    section(body, "evidence")["blocks"].append(quote)
    save(city, report, body, autosave=False)
    stored = section(body_of(report), "evidence")["blocks"][-1]
    assert stored == {
        "type": "quote",
        "text": "问：你为什么盗窃电动自行车？",
        "volume_id": review_case.volume.pk,
        "volume_number": 1,
        "page_id": review_case.pages[1].pk,
        "page_number": 2,
    }


def test_a_quotation_from_another_cases_file_is_refused(city: City, review_case: ReviewCase) -> None:
    other = register_case(city)
    _, pages = add_volume(other, city.u("gusu.police"), PAGE_TEXTS[:1])
    report = create(city, review_case.case_id)
    body = body_of(report)
    section(body, "evidence")["blocks"].append(quote_block(pages[0], "起诉意见书"))
    with pytest.raises(ValidationFailed) as refused:
        save(city, report, body, autosave=True)
    assert refused.value.code == "citation_invalid" and ReportVersion.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"title": "x", "sections": []},
        {"title": "", "sections": [{"key": "a", "title": "", "blocks": []}]},
        {"title": "x", "sections": [{"key": "a", "title": "", "blocks": [{"type": "html", "text": "<b>"}]}]},
    ],
)
def test_a_malformed_body_is_refused(city: City, review_case: ReviewCase, body: Any) -> None:
    report = create(city, review_case.case_id)
    with pytest.raises(ValidationFailed) as refused:
        save(city, report, body, autosave=True)
    assert refused.value.code == "body_invalid"


@pytest.mark.parametrize(
    ("who", "error", "code"),
    [
        ("wuzhong.procu", NotFound, "case_not_found"),
        ("gusu.police", NotAllowed, "report_forbidden"),  # sees the case, not the procuratorate's paper
        ("committee", NotAllowed, "report_read_only"),  # may read every report, writes none
    ],
)
def test_who_may_not_save(
    city: City, review_case: ReviewCase, who: str, error: type[Exception], code: str
) -> None:
    report = create(city, review_case.case_id)
    with pytest.raises(error) as refused:
        save(city, report, edited(report, "改"), autosave=False, who=who)
    assert refused.value.code == code  # type: ignore[attr-defined]
    assert ReportVersion.objects.filter(report=report).count() == 1


def test_who_may_read(city: City, review_case: ReviewCase) -> None:
    report = create(city, review_case.case_id)
    for who in ("gusu.procu", "gusu.procu_leader", "committee", "admin"):
        assert selectors.report_get_visible(user=city.u(who), report_id=report.pk) == report
    with pytest.raises(NotAllowed):
        selectors.report_get_visible(user=city.u("gusu.police"), report_id=report.pk)
    with pytest.raises(NotFound):
        selectors.report_get_visible(user=city.u("wuzhong.procu"), report_id=report.pk)
    with pytest.raises(NotFound):  # the right report under the wrong case
        selectors.report_get_visible(
            user=city.u("gusu.procu"), report_id=report.pk, case_id=report.case_id + 1
        )


def test_restoring_an_old_version_makes_a_new_head(city: City, review_case: ReviewCase) -> None:
    report = create(city, review_case.case_id)
    save(city, report, edited(report, "第二版"), autosave=False)
    report.refresh_from_db()
    result = services.report_restore(
        user=city.u("gusu.procu"),
        report_id=report.pk,
        number=1,
        expected_version=report.current_version,
        expected_revision=report.revision,
    )
    assert (result.version.number, result.created) == (3, True)
    assert body_of(report, 3) == body_of(report, 1)


# ---------------------------------------------------------------- finalise


def test_finalise_records_the_body_hash_in_the_ledger_and_freezes_the_report(
    city: City, review_case: ReviewCase
) -> None:
    report = create(city, review_case.case_id)
    body = edited(report, "无需要说明的问题。")
    section(body, "evidence")["blocks"].append(quote_block(review_case.pages[0], "起诉意见书"))
    save(city, report, body, autosave=True)
    report.refresh_from_db()
    head = ReportVersion.objects.get(report=report, number=2)
    with pytest.raises(Conflict):  # finalising what one has not seen
        services.report_finalise(user=city.u("gusu.procu"), report_id=report.pk, expected_version=1)
    final = services.report_finalise(user=city.u("gusu.procu"), report_id=report.pk, expected_version=2)
    assert (final.status, final.final_sha256, final.finalised_by) == (
        "final",
        head.sha256,
        city.u("gusu.procu"),
    )
    canonical = json.dumps(head.body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    entry = LedgerEntry.objects.get(case_id=review_case.case_id, action="report_finalise")
    assert json.loads(entry.payload) == {
        "label": "审查逮捕意见书定稿",
        "report_id": report.pk,
        "title": "张1盗窃案审查逮捕意见书",
        "version": 2,
        "sha256": hashlib.sha256(canonical).hexdigest(),
        "scope": "agency",
    }
    with pytest.raises(Conflict) as frozen:
        save(city, report, edited(report, "定稿后再改"), autosave=True)
    assert frozen.value.code == "report_final"
    with pytest.raises(Conflict):
        services.report_finalise(user=city.u("gusu.procu"), report_id=report.pk, expected_version=2)
    ledger_integrate_all()
    assert ledger_verify().ok


def test_only_the_writing_unit_finalises(city: City, review_case: ReviewCase) -> None:
    report = create(city, review_case.case_id)
    entries = LedgerEntry.objects.count()
    with pytest.raises(NotAllowed):
        services.report_finalise(user=city.u("gusu.police"), report_id=report.pk, expected_version=1)
    with pytest.raises(NotFound):
        services.report_finalise(user=city.u("wuzhong.procu"), report_id=report.pk, expected_version=1)
    report.refresh_from_db()
    assert report.status == "draft" and LedgerEntry.objects.count() == entries


def test_review_report_entries_are_internal_to_the_procuratorate_on_the_timeline(
    city: City, review_case: ReviewCase
) -> None:
    from xietong.cases.selectors import timeline_agency
    from xietong.ledger.selectors import case_timeline

    create(city, review_case.case_id)
    for who, sees in (("gusu.procu", True), ("gusu.police", False), ("committee", True)):
        agency = timeline_agency(city.u(who))
        actions = [e["action"] for e in case_timeline(case_id=review_case.case_id, viewer_agency=agency)]
        assert ("report_create" in actions) is sees, who
