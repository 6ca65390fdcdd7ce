"""The answer limit of the message board (留言板答复期限): how many working days the addressed unit
has, and the instant that limit ends. Pure: no Django, so it is tested with any calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

ANSWER_WORKING_DAYS: Final[dict[str, int]] = {
    "objection": 5,  # 异议
    "opinion": 7,  # 意见
    "question": 7,  # 询问
}
"""Working days the addressed unit has to answer, per kind of thread.

Neither the law nor ``domain/procedure.md`` sets a time for answering another agency's message on a
platform, so these are the platform's own rule, chosen by analogy with the nearest statutory answers
between agencies: an objection usually contests an act whose own clock is running (the
procuratorate's 复议 decision is due in 7 days, 高检规则第290条; 要求复议 must be filed within 5 days,
公安规定第141条), so it gets the shorter 5 working days; an opinion or a question does not block the
case and gets 7. Working days rather than calendar days because an answer is written by staff at
work, not by a clock that runs over a 国庆 week. Change them here; a thread keeps the due time it was
opened with."""

_MAX_SCAN_DAYS: Final = 400  # a calendar that has no working day in a year is broken, not a reason to loop


def answer_due(opened_at: datetime, working_days: int, is_rest_day: Callable[[date], bool]) -> datetime:
    """The end (24时, Asia/Shanghai) of the ``working_days``-th working day after the day of
    ``opened_at``. The day of opening is not counted, as for every period of 刑事诉讼法第105条 (开始的日不算
    在期间以内); weekends, statutory holidays and 调休 come from ``is_rest_day``."""
    if working_days < 1:
        raise ValueError("working_days must be at least 1")
    day = opened_at.astimezone(SHANGHAI).date()
    counted = 0
    for _ in range(_MAX_SCAN_DAYS * working_days):
        day += timedelta(days=1)
        if not is_rest_day(day):
            counted += 1
            if counted == working_days:
                return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    raise ValueError("the holiday calendar has no working days")


def last_day(due_at: datetime) -> date:
    """The last day on which an answer is in time (the day whose 24时 is ``due_at``)."""
    return (due_at.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()
