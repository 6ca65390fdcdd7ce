"""The answer limit: N working days after the day of opening, ending at 24时 Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from xietong.board.rules import ANSWER_WORKING_DAYS, SHANGHAI, answer_due, last_day


def weekends(day: date) -> bool:
    return day.weekday() >= 5


def test_the_day_of_opening_is_not_counted_and_weekends_are_skipped() -> None:
    opened = datetime(2026, 11, 27, 16, 30, tzinfo=SHANGHAI)  # a Friday afternoon
    due = answer_due(opened, 5, weekends)
    assert due == datetime(2026, 12, 5, 0, 0, tzinfo=SHANGHAI)  # 24时 of Friday 4 December
    assert last_day(due) == date(2026, 12, 4)


def test_a_late_night_opening_counts_from_the_shanghai_day() -> None:
    opened = datetime(2026, 11, 23, 17, 0, tzinfo=SHANGHAI).astimezone(SHANGHAI)  # Monday
    assert answer_due(opened, 1, weekends) == datetime(2026, 11, 25, 0, 0, tzinfo=SHANGHAI)


def test_holidays_and_make_up_working_days_follow_the_calendar() -> None:
    rest = {date(2026, 11, 30), date(2026, 12, 1)}
    worked_saturday = date(2026, 11, 28)

    def calendar(day: date) -> bool:
        if day == worked_saturday:
            return False
        return day in rest or weekends(day)

    opened = datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)
    # Sat 28 (调休 working day), then Wed 2, Thu 3
    assert last_day(answer_due(opened, 3, calendar)) == date(2026, 12, 3)


def test_limits_per_kind_and_refusals() -> None:
    assert ANSWER_WORKING_DAYS == {"objection": 5, "opinion": 7, "question": 7}
    with pytest.raises(ValueError):
        answer_due(datetime(2026, 1, 5, tzinfo=SHANGHAI), 0, weekends)
    with pytest.raises(ValueError):
        answer_due(datetime(2026, 1, 5, tzinfo=SHANGHAI), 1, lambda day: True)
