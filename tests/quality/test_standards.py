"""The checklists, the score and the grade (pure)."""

from __future__ import annotations

from xietong.quality import standards
from xietong.quality.standards import Severity


def test_checklist_follows_the_reviewed_agency_and_the_end_of_the_case() -> None:
    assert standards.checklist_for(agency="police", stage="prosecution_review").code == "investigation"
    assert standards.checklist_for(agency="procuratorate", stage="not_prosecuted").code == "non_prosecution"
    assert standards.checklist_for(agency="procuratorate", stage="first_instance").code == "prosecution"
    assert standards.checklist_for(agency="court", stage="effective").code == "trial"


def test_every_item_cites_a_norm_and_codes_are_unique_per_checklist() -> None:
    for checklist in standards.CHECKLISTS.values():
        codes = [i.code for i in checklist.items]
        assert len(codes) == len(set(codes))
        assert all("第" in i.citation and "条" in i.citation for i in checklist.items)
        for topic in ("instrument", "date", "scan", "signature", "deadline"):
            assert checklist.for_topic(topic) is not None, (checklist.code, topic)
        # 退回补充侦查 is the police's and the procuratorate's matter, not the court's
        assert (checklist.for_topic("supplementary") is None) == (checklist.code == "trial")


def test_points_by_class() -> None:
    item = standards.COMMON[1]  # TY-02 (2, 5, 10)
    assert [item.points_for(s) for s in Severity] == [2, 5, 10]
    assert item.points_for("error") == 10


def test_score_is_100_minus_deductions_plus_adjustment_within_0_and_100() -> None:
    assert standards.score([3, 10]) == 87
    assert standards.score([3, 10], adjustment=5) == 92
    assert standards.score([], adjustment=10) == 100
    assert standards.score([50, 60]) == 0


def test_grade_bands_and_an_error_caps_at_flawed() -> None:
    assert standards.grade(97, has_error=False) == "优质案件"
    assert standards.grade(90, has_error=False) == "合格案件"
    assert standards.grade(97, has_error=True) == "瑕疵案件"
    assert standards.grade(70, has_error=False) == "瑕疵案件"
    assert standards.grade(59, has_error=False) == "不合格案件"
