"""Tests for the pure statutory deadline calculator (刑事诉讼法第105条, 高法解释第202条).

Holiday dates used below were checked against the ``chinese_calendar`` package (v1.11):
2025 国庆 10月1日–8日 (9月28日 Sunday and 10月11日 Saturday are 调休 working days), 2025 劳动节
5月1日–5日, 2026 春节 2月15日–23日 (2月14日 Saturday is a 调休 working day).
"""

import json
from datetime import UTC, date, datetime

import pytest

from xietong.cases.deadlines import (
    RULES,
    SHANGHAI,
    STATUS_MARKERS,
    ChineseHolidayCalendar,
    PeriodUnit,
    Rule,
    UnknownRuleError,
    compute_deadline,
    sentence_term_end,
)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An aware Beijing-time instant."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# Every code of the spec's rule-code table: (code, row, period, due) for 拘留/受理/… on 2025-03-01 22:00,
# in custody so that nothing rolls over. Hour periods end 2025-03-02 22:00; day periods on 3月1日 + N;
# month periods on 1 of the month N months later (plus 15 days for 一个半月).
SPEC_TABLE: list[tuple[str, str, str, date]] = [
    ("detention_to_jail", "C2", "24小时", date(2025, 3, 2)),
    ("detention_family_notice", "C3", "24小时", date(2025, 3, 2)),
    ("detention_interrogation", "C4", "24小时", date(2025, 3, 2)),
    ("arrest_request", "C6", "3日", date(2025, 3, 4)),
    ("arrest_request_extended", "C6", "7日", date(2025, 3, 8)),
    ("arrest_request_roaming", "C6", "30日", date(2025, 3, 31)),
    ("arrest_review_detained", "D1", "7日", date(2025, 3, 8)),
    ("arrest_review_not_detained", "D2", "15日", date(2025, 3, 16)),
    ("arrest_review_not_detained_complex", "D2", "20日", date(2025, 3, 21)),
    ("arrest_receipt", "D3", "3日", date(2025, 3, 4)),
    ("arrest_family_notice", "D5", "24小时", date(2025, 3, 2)),
    ("arrest_interrogation", "D6", "24小时", date(2025, 3, 2)),
    ("investigation_custody", "E1", "2个月", date(2025, 5, 1)),
    ("investigation_custody_ext1", "E2", "3个月", date(2025, 6, 1)),
    ("investigation_custody_ext2", "E3", "5个月", date(2025, 8, 1)),
    ("investigation_custody_ext3", "E4", "7个月", date(2025, 10, 1)),
    ("prosecution_review", "G2", "1个月", date(2025, 4, 1)),
    ("prosecution_review_extended", "G2", "1个月15日", date(2025, 4, 16)),
    ("prosecution_review_fast", "G3", "10日", date(2025, 3, 11)),
    ("prosecution_review_fast_over_1y", "G3", "15日", date(2025, 3, 16)),
    ("supplementary_investigation", "G5", "1个月", date(2025, 4, 1)),
    ("first_instance", "H6", "2个月", date(2025, 5, 1)),
    ("first_instance_max", "H6", "3个月", date(2025, 6, 1)),
    ("first_instance_extended", "H6", "6个月", date(2025, 9, 1)),
    ("summary_trial", "H7", "20日", date(2025, 3, 21)),
    ("summary_trial_over_3y", "H7", "1个月15日", date(2025, 4, 16)),
    ("fast_track_trial", "H8", "10日", date(2025, 3, 11)),
    ("fast_track_trial_over_1y", "H8", "15日", date(2025, 3, 16)),
    ("judgment_service_in_court", "H13", "5日", date(2025, 3, 6)),
    ("appeal_judgment", "I1", "10日", date(2025, 3, 11)),
    ("appeal_ruling", "I1", "5日", date(2025, 3, 6)),
    ("appeal_transfer", "I3", "3日", date(2025, 3, 4)),
    ("second_instance", "J1", "2个月", date(2025, 5, 1)),
    ("second_instance_extended", "J1", "4个月", date(2025, 7, 1)),
    ("execution_documents", "L1", "10日", date(2025, 3, 11)),
    ("prison_delivery", "L4", "1个月", date(2025, 4, 1)),
    ("prison_family_notice", "L6", "5日", date(2025, 3, 6)),
    ("corrections_notice", "M3", "5日", date(2025, 3, 6)),
    ("corrections_documents", "M4", "10日", date(2025, 3, 11)),
    ("corrections_report", "M6", "10日", date(2025, 3, 11)),
    ("bail_max", "N1", "12个月", date(2026, 3, 1)),
    ("residential_surveillance_max", "N2", "6个月", date(2025, 9, 1)),
]


# --- rule table ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "row", "period", "expected_due"), SPEC_TABLE, ids=[c[0] for c in SPEC_TABLE]
)
def test_each_rule_code_due_date_for_a_fixed_start(
    code: str, row: str, period: str, expected_due: date
) -> None:
    # given a triggering event on 2025-03-01 22:00 Beijing time, person in custody (no roll-over)
    start = at(2025, 3, 1, 22)

    # when
    result = compute_deadline(code, start, in_custody=True)

    # then
    assert result.rule.row == row
    assert result.rule.period_text == period
    assert result.due == expected_due
    assert result.nominal_due == expected_due
    assert result.rolled_over is False


def test_rule_table_covers_exactly_the_spec_codes() -> None:
    # given the spec's rule-code table
    spec_codes = {code for code, *_ in SPEC_TABLE}

    # when / then
    assert set(RULES) == spec_codes
    assert len(RULES) == 42


def test_every_rule_cites_articles_and_has_a_valid_status_marker() -> None:
    for code, rule in RULES.items():
        assert rule.code == code
        assert rule.articles, code
        assert all(article.strip() for article in rule.articles), code
        assert rule.status in STATUS_MARKERS, code
        assert rule.label, code
        assert rule.trigger, code
        assert rule.amount > 0, code


def test_rule_rejects_an_unknown_status_marker() -> None:
    with pytest.raises(ValueError, match="status"):
        Rule("x", "Z1", "测试", PeriodUnit.DAY, 3, 0, "拘留", ("刑事诉讼法第105条",), "✔")


def test_period_text_and_articles_of_arrest_request() -> None:
    rule = RULES["arrest_request"]
    assert rule.period_text == "3日"
    assert rule.unit is PeriodUnit.DAY
    assert rule.articles == ("刑事诉讼法第91条第1款", "公安机关办理刑事案件程序规定第129条第1款")
    assert rule.status == "✅"
    assert RULES["summary_trial_over_3y"].period_text == "1个月15日"
    assert RULES["summary_trial_over_3y"].extra_days == 15
    assert RULES["detention_family_notice"].period_text == "24小时"


# --- the law's own examples (spec §1.3) ---------------------------------------------------------------


def test_detention_at_2200_on_march_1_arrest_request_ends_on_march_4() -> None:
    # given 拘留 on 3月1日 22:00
    start = at(2025, 3, 1, 22)

    # when
    result = compute_deadline("arrest_request", start, in_custody=True)

    # then the start day is not counted: the 3-day period ends at 24:00 on 3月4日
    assert result.due == date(2025, 3, 4)
    assert result.due_at == datetime(2025, 3, 5, 0, 0, tzinfo=SHANGHAI)
    assert result.articles == RULES["arrest_request"].articles
    assert any("刑诉法第105条第2款" in step for step in result.steps)


def test_arrest_on_march_5_two_month_custody_ends_may_5_even_on_a_holiday_while_in_custody() -> None:
    # given 逮捕 on 2025-03-05; 2025-05-05 is a 劳动节 holiday
    start = at(2025, 3, 5)

    # when
    result = compute_deadline("investigation_custody", start, in_custody=True)

    # then
    assert result.due == date(2025, 5, 5)
    assert result.rolled_over is False
    assert any("不得因节假日而延长" in step for step in result.steps)


def test_one_month_from_january_31_ends_on_february_28() -> None:
    result = compute_deadline("prosecution_review", at(2025, 1, 31), in_custody=True)
    assert result.due == date(2025, 2, 28)
    assert any("高法解释第202条第1款" in step and "最后一日" in step for step in result.steps)


def test_one_month_from_january_31_in_a_leap_year_ends_on_february_29() -> None:
    result = compute_deadline("prosecution_review", at(2024, 1, 31), in_custody=True)
    assert result.due == date(2024, 2, 29)


def test_one_month_from_august_31_ends_on_september_30() -> None:
    result = compute_deadline("supplementary_investigation", at(2025, 8, 31), in_custody=False)
    assert result.due == date(2025, 9, 30)
    assert result.rolled_over is False


def test_start_on_the_last_day_of_february_ends_on_the_last_day_of_march() -> None:
    # 「期限起算日为本月最后一日的，至下月最后一日为一个月」
    result = compute_deadline("prosecution_review", at(2025, 2, 28), in_custody=True)
    assert result.due == date(2025, 3, 31)


def test_start_on_a_day_the_target_month_lacks_ends_on_its_last_day() -> None:
    # 「下月同日不存在的，自本月某日至下月最后一日为一个月」
    result = compute_deadline("prosecution_review", at(2025, 1, 30), in_custody=True)
    assert result.due == date(2025, 2, 28)


def test_twelve_month_bail_from_february_29_ends_on_february_28() -> None:
    result = compute_deadline("bail_max", at(2024, 2, 29), in_custody=False)
    assert result.due == date(2025, 2, 28)


def test_one_and_a_half_months_is_one_month_plus_fifteen_days() -> None:
    # given 受理 on 2025-01-31: 1 month → 2月28日, + 15 days → 3月15日 (a Saturday)
    start = at(2025, 1, 31)

    # when
    in_custody = compute_deadline("summary_trial_over_3y", start, in_custody=True)
    on_bail = compute_deadline("summary_trial_over_3y", start, in_custody=False)

    # then
    assert in_custody.due == date(2025, 3, 15)
    assert on_bail.nominal_due == date(2025, 3, 15)
    assert on_bail.due == date(2025, 3, 17)
    assert on_bail.rolled_over is True


# --- hour periods and time zones ----------------------------------------------------------------------


def test_hour_period_ends_exactly_n_hours_later_and_never_rolls_over() -> None:
    # given 拘留 on 2025-09-30 23:30; 24 hours later is inside 国庆 2025
    start = at(2025, 9, 30, 23, 30)

    # when
    result = compute_deadline("detention_family_notice", start, in_custody=False)

    # then
    assert result.due_at == datetime(2025, 10, 1, 23, 30, tzinfo=SHANGHAI)
    assert result.due == date(2025, 10, 1)
    assert result.nominal_due == date(2025, 10, 1)
    assert result.rolled_over is False


def test_start_is_counted_on_the_beijing_calendar() -> None:
    # given 2025-02-28 16:30 UTC, which is 2025-03-01 00:30 in Beijing
    start = datetime(2025, 2, 28, 16, 30, tzinfo=UTC)

    # when
    result = compute_deadline("arrest_request", start, in_custody=True)

    # then day D is 3月1日, not 2月28日
    assert result.due == date(2025, 3, 4)
    assert result.due_at == datetime(2025, 3, 5, 0, 0, tzinfo=SHANGHAI)


def test_hour_period_from_a_utc_start_is_the_same_instant() -> None:
    start = datetime(2025, 3, 1, 14, 0, tzinfo=UTC)
    result = compute_deadline("arrest_interrogation", start, in_custody=True)
    assert result.due_at == datetime(2025, 3, 2, 14, 0, tzinfo=UTC)
    assert result.due == date(2025, 3, 2)


# --- holiday roll-over on real 2025/2026 calendars ----------------------------------------------------


def test_due_date_in_national_day_2025_rolls_to_the_first_working_day_when_not_in_custody() -> None:
    # given 接到判决书 on 2025-09-23: 10 days end on 10月3日, inside 国庆 (10月1日–8日)
    start = at(2025, 9, 23)

    # when
    result = compute_deadline("appeal_judgment", start, in_custody=False)

    # then
    assert result.nominal_due == date(2025, 10, 3)
    assert result.due == date(2025, 10, 9)
    assert result.due_at == datetime(2025, 10, 10, 0, 0, tzinfo=SHANGHAI)
    assert result.rolled_over is True
    assert any("刑诉法第105条第4款" in step for step in result.steps)


def test_due_date_in_national_day_2025_stays_when_in_custody() -> None:
    result = compute_deadline("appeal_judgment", at(2025, 9, 23), in_custody=True)
    assert result.nominal_due == date(2025, 10, 3)
    assert result.due == date(2025, 10, 3)
    assert result.rolled_over is False


def test_adjusted_working_sunday_does_not_roll_over() -> None:
    # given 接到裁定书 on 2025-09-23: 5 days end on 2025-09-28, a Sunday made a working day by 调休
    result = compute_deadline("appeal_ruling", at(2025, 9, 23), in_custody=False)

    # then
    assert result.due == date(2025, 9, 28)
    assert result.rolled_over is False
    assert any("调休" in step for step in result.steps)


def test_ordinary_saturday_rolls_to_monday_when_not_in_custody() -> None:
    # 2025-03-01 + 7 days = 2025-03-08, a Saturday
    result = compute_deadline("arrest_review_detained", at(2025, 3, 1), in_custody=False)
    assert result.due == date(2025, 3, 10)
    assert result.rolled_over is True


def test_spring_festival_2026_rolls_to_february_24() -> None:
    # 2026-02-06 + 10 days = 2026-02-16, inside 春节 (2月15日–23日)
    result = compute_deadline("appeal_judgment", at(2026, 2, 6), in_custody=False)
    assert result.nominal_due == date(2026, 2, 16)
    assert result.due == date(2026, 2, 24)


def test_month_period_ending_on_an_adjusted_working_saturday_2026_does_not_roll_over() -> None:
    # 2026-01-14 + 1 month = 2026-02-14, a Saturday made a working day before 春节
    result = compute_deadline("prosecution_review", at(2026, 1, 14), in_custody=False)
    assert result.due == date(2026, 2, 14)
    assert result.rolled_over is False


# --- calendars for years the package lacks ------------------------------------------------------------


def test_override_calendar_for_2027_rolls_over_admin_entered_holidays() -> None:
    # given an admin-entered 2027 国庆 schedule: 10月1日–7日 off, Saturday 10月9日 a working day
    overrides = {date(2027, 10, day): True for day in range(1, 8)} | {date(2027, 10, 9): False}
    calendar = ChineseHolidayCalendar(overrides)

    # when 5 days from 2027-09-29 end on Monday 10月4日
    result = compute_deadline("appeal_ruling", at(2027, 9, 29), in_custody=False, calendar=calendar)

    # then it moves to Friday 10月8日 and no "missing calendar" note is shown
    assert result.nominal_due == date(2027, 10, 4)
    assert result.due == date(2027, 10, 8)
    assert not any("建议管理员录入" in step for step in result.steps)


def test_override_working_saturday_in_2027_does_not_roll_over() -> None:
    calendar = ChineseHolidayCalendar({date(2027, 10, 9): False})
    result = compute_deadline("appeal_ruling", at(2027, 10, 4), in_custody=False, calendar=calendar)
    assert result.due == date(2027, 10, 9)
    assert result.rolled_over is False


def test_year_without_official_data_uses_weekends_and_fixed_holidays_with_a_note() -> None:
    # given no data for 2027: 10月1日 (Friday) is a fixed holiday, 2日–3日 are a weekend
    calendar = ChineseHolidayCalendar()

    # when 5 days from 2027-09-26 end on 10月1日
    result = compute_deadline("appeal_ruling", at(2027, 9, 26), in_custody=False, calendar=calendar)

    # then
    assert result.nominal_due == date(2027, 10, 1)
    assert result.due == date(2027, 10, 4)
    assert any("2027年" in step and "建议管理员录入" in step for step in result.steps)


def test_fallback_calendar_fixed_dates_and_notes() -> None:
    calendar = ChineseHolidayCalendar()
    assert calendar.is_rest_day(date(2028, 5, 1)) is True  # Monday, 劳动节
    assert calendar.is_rest_day(date(2028, 5, 3)) is False  # Wednesday
    assert calendar.is_rest_day(date(2028, 1, 1)) is True  # Saturday and 元旦
    note = calendar.note_for(date(2028, 5, 3))
    assert note is not None
    assert "2028年" in note
    assert calendar.note_for(date(2025, 10, 1)) is None


def test_package_calendar_knows_adjusted_working_days() -> None:
    calendar = ChineseHolidayCalendar()
    assert calendar.is_rest_day(date(2025, 10, 8)) is True  # 国庆
    assert calendar.is_rest_day(date(2025, 10, 11)) is False  # 调休 Saturday
    assert calendar.is_rest_day(date(2025, 3, 16)) is True  # ordinary Sunday
    assert calendar.is_rest_day(date(2025, 3, 17)) is False  # ordinary Monday


def test_override_corrects_the_package_in_a_covered_year() -> None:
    calendar = ChineseHolidayCalendar({date(2025, 3, 10): True})
    result = compute_deadline("arrest_review_detained", at(2025, 3, 1), in_custody=False, calendar=calendar)
    assert calendar.is_rest_day(date(2025, 3, 10)) is True
    assert result.due == date(2025, 3, 11)


def test_any_object_with_the_protocol_methods_is_a_calendar() -> None:
    class NoHolidays:
        def is_rest_day(self, day: date) -> bool:
            return False

        def note_for(self, day: date) -> str | None:
            return None

    result = compute_deadline("appeal_judgment", at(2025, 9, 23), in_custody=False, calendar=NoHolidays())
    assert result.due == date(2025, 10, 3)
    assert result.rolled_over is False


# --- errors and serialisation -------------------------------------------------------------------------


def test_unknown_rule_code_raises() -> None:
    with pytest.raises(UnknownRuleError, match="no_such_rule"):
        compute_deadline("no_such_rule", at(2025, 3, 1), in_custody=True)
    assert issubclass(UnknownRuleError, ValueError)


def test_naive_start_raises() -> None:
    naive = datetime(2025, 3, 1, 22, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_deadline("arrest_request", naive, in_custody=True)


def test_as_dict_is_json_ready() -> None:
    # given
    result = compute_deadline("appeal_judgment", at(2025, 9, 23), in_custody=False)

    # when
    data = result.as_dict()

    # then
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["code"] == "appeal_judgment"
    assert data["label"] == "不服判决的上诉、抗诉期限"
    assert data["row"] == "I1"
    assert data["start"] == "2025-09-23T10:00:00+08:00"
    assert data["in_custody"] is False
    assert data["due"] == "2025-10-09"
    assert data["due_at"] == "2025-10-10T00:00:00+08:00"
    assert data["nominal_due"] == "2025-10-03"
    assert data["rolled_over"] is True
    assert data["articles"] == ["刑事诉讼法第230条", "人民检察院刑事诉讼规则第586条"]
    assert data["steps"] == list(result.steps)
    assert data["status"] == "✅"
    assert data["period"] == "10日"


# --- sentence terms (高法解释第202条第2款) -------------------------------------------------------------


def test_one_year_sentence_from_2024_03_05_ends_2025_03_04() -> None:
    assert sentence_term_end(date(2024, 3, 5), years=1) == date(2025, 3, 4)


def test_one_year_sentence_from_february_29_ends_the_day_before_the_last_day_of_february() -> None:
    # 「次年同月同日不存在的，自本年本月某日至次年同月最后一日的前一日为一年」
    assert sentence_term_end(date(2024, 2, 29), years=1) == date(2025, 2, 27)


def test_month_sentence_from_the_last_day_of_a_month_ends_the_day_before_the_target_month_end() -> None:
    # 「刑期起算日为本月最后一日的，至下月最后一日的前一日为一个月」
    assert sentence_term_end(date(2024, 8, 31), months=6) == date(2025, 2, 27)
    assert sentence_term_end(date(2025, 1, 30), months=1) == date(2025, 2, 27)


def test_sentence_of_years_and_months() -> None:
    assert sentence_term_end(date(2024, 3, 5), years=1, months=6) == date(2025, 9, 4)


def test_half_month_sentence_is_fifteen_days() -> None:
    assert sentence_term_end(date(2025, 3, 5), days=15) == date(2025, 3, 19)


def test_credited_custody_days_shorten_the_term() -> None:
    assert sentence_term_end(date(2024, 3, 5), years=1, credited_days=30) == date(2025, 2, 2)


def test_sentence_term_rejects_empty_or_negative_terms() -> None:
    with pytest.raises(ValueError, match="empty"):
        sentence_term_end(date(2024, 3, 5))
    with pytest.raises(ValueError, match="negative"):
        sentence_term_end(date(2024, 3, 5), years=1, credited_days=-1)
