"""How urgent a running clock is, for the workbench (提醒 / 预警 / 超期). Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class Level(StrEnum):
    NORMAL = "normal"
    REMIND = "remind"
    WARN = "warn"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"normal": "正常", "remind": "提醒", "warn": "预警", "overdue": "超期"}[self.value]


def clock_level(*, now: datetime, started_at: datetime, due_at: datetime) -> Level:
    """超期 once the limit has passed; 预警 in the last day (or last quarter of an hour-period);
    提醒 in the last three days (or the last half of a short period)."""
    remaining = due_at - now
    if remaining <= timedelta(0):
        return Level.OVERDUE
    total = max(due_at - started_at, timedelta(seconds=1))
    if remaining <= min(timedelta(days=1), total / 4):
        return Level.WARN
    if remaining <= min(timedelta(days=3), total / 2):
        return Level.REMIND
    return Level.NORMAL


def remaining_text(*, now: datetime, due_at: datetime) -> str:
    delta = due_at - now
    overdue = delta.total_seconds() < 0
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    text = f"{days}天{hours}小时" if days else f"{hours}小时{(rest % 3600) // 60}分"
    return f"已超期{text}" if overdue else f"剩余{text}"
