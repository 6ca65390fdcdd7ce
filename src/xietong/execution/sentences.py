"""Sentence maths (F7): who executes a sentence and when its term ends. Pure: no database.

Terms count by 高法解释第202条第2款 (``cases.deadlines.sentence_term_end``: a 1-year term from
2024-03-05 ends 2025-03-04), procedural periods never do. Pre-trial custody is credited one day for
one day against 拘役 and 有期徒刑 (刑法第44条、第47条) and one day for two against 管制 (第41条);
a probation (缓刑考验期) runs from the day the judgment became final (第73条第3款) and credits nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from xietong.cases.deadlines import sentence_term_end
from xietong.cases.procedure import Verdict
from xietong.execution.custody import STATE_AFTER, Event

# 刑法第38条、第42条、第45条 (one offence) and 第69条 (several: 管制 ≤ 3 years, 拘役 ≤ 1 year,
# 有期徒刑 ≤ 25 years); months.
TERM_LIMITS = {"control": (3, 36), "criminal_detention": (1, 12), "fixed_term": (6, 300)}
# 刑法第73条: 拘役 probation ≥ the term, 2 months to 1 year; 有期徒刑 probation ≥ the term, 1 to 5 years.
PROBATION_LIMITS = {"criminal_detention": (2, 12), "fixed_term": (12, 60)}
# 刑诉法第264条第2款: a remaining term of three months or less is served in the 看守所.
DETENTION_HOUSE_MAX_REMAINING_MONTHS = 3


class ImpossibleSentence(ValueError):
    """A verdict no court may give; the message is shown to the user."""


def check_verdict(verdict: Verdict) -> None:
    """Refuse terms the Criminal Law does not allow (刑法第38、42、45、69、72、73条)."""
    if not verdict.guilty:
        return
    if verdict.penalty in TERM_LIMITS:
        low, high = TERM_LIMITS[verdict.penalty]
        if not low <= verdict.months <= high:
            raise ImpossibleSentence(
                f"{_PENALTY_NAMES[verdict.penalty]}的刑期应在{low}至{high}个月之间（刑法第38、42、45、69条）"
            )
    if verdict.probation_months:
        if verdict.penalty not in PROBATION_LIMITS or (
            verdict.penalty == "fixed_term" and verdict.months > 36
        ):
            raise ImpossibleSentence("只有拘役、三年以下有期徒刑可以宣告缓刑（刑法第72条）")
        low, high = PROBATION_LIMITS[verdict.penalty]
        if not low <= verdict.probation_months <= high or verdict.probation_months < verdict.months:
            raise ImpossibleSentence(f"缓刑考验期应不少于原判刑期，且在{low}至{high}个月之间（刑法第73条）")


_PENALTY_NAMES = {"control": "管制", "criminal_detention": "拘役", "fixed_term": "有期徒刑"}


def custody_before(events: Iterable[Event], day: date) -> tuple[int, date | None]:
    """The pre-trial custody (拘留、逮捕) before ``day``: all the days held, and the first day of the
    spell still running on ``day`` (None when he is not held then). A day counts when he was held
    at any time of it, up to the day before ``day`` (the day the sentence starts to run)."""
    held_since: date | None = None
    ended = 0
    for event in events:
        if event.on >= day:
            break
        state = STATE_AFTER.get(event.kind)
        if state is None:
            continue
        if state.locked_up and held_since is None:
            held_since = event.on
        elif not state.locked_up and held_since is not None:
            ended += (event.on - held_since).days + 1
            held_since = None
    return ended + ((day - held_since).days if held_since is not None else 0), held_since


def custody_days_before(events: Iterable[Event], day: date) -> int:
    """All days held before ``day``: the credit of 刑法第41、44、47条."""
    return custody_before(events, day)[0]


@dataclass(frozen=True)
class Plan:
    """How one person's effective sentence is executed."""

    body: str  # an ``execution.models.Body`` value
    term_start: date | None
    term_end: date | None  # last day of the term (or of the probation); None for life
    credited_days: int
    supervision: str = ""  # a ``SuperviseeKind`` value when community corrections supervise him
    note: str = ""


def plan(verdict: Verdict, *, effective_on: date, custody_days: int, held_since: date | None = None) -> Plan:
    """The executing body and the exact term of ``verdict`` that became final on ``effective_on``,
    the person having been held ``custody_days`` days before (``custody_days_before``), and held
    without a break since ``held_since`` when he still is. A prison or 拘役 term of someone held
    runs from the first day of that custody, as judgments write it (「即自…起至…止」), earlier
    spells credited day for day: the same as crediting every day from ``effective_on`` but for the
    unequal lengths of months, where courts count from the custody."""
    if not verdict.guilty or verdict.penalty == "none":
        return Plan("release", None, None, 0, note="无罪或免予刑事处罚：在押的立即释放（刑事诉讼法第260条）")
    if verdict.penalty == "fine":
        return Plan("court", None, None, 0, note="单处罚金：由第一审人民法院执行（刑事诉讼法第271条）")
    if verdict.probation_months:
        end = sentence_term_end(effective_on, months=verdict.probation_months)
        return Plan(
            "corrections",
            effective_on,
            end,
            0,
            supervision="probation",
            note="缓刑考验期自判决确定之日起计算（刑法第73条第3款）",
        )
    if verdict.penalty == "control":
        credit = custody_days * 2  # 刑法第41条
        end = sentence_term_end(effective_on, months=verdict.months, credited_days=credit)
        if end < effective_on:
            return Plan("release", effective_on, end, credit, note="先行羁押折抵后管制刑期已满")
        return Plan(
            "corrections",
            effective_on,
            end,
            credit,
            supervision="control",
            note="管制刑期折抵：羁押一日折抵二日（刑法第41条）",
        )
    if verdict.penalty == "life":
        return Plan("prison", effective_on, None, 0, note="无期徒刑在监狱执行（刑事诉讼法第264条第2款）")
    start, credit = effective_on, custody_days
    if held_since is not None:
        start, credit = held_since, custody_days - (effective_on - held_since).days
    end = sentence_term_end(start, months=verdict.months, credited_days=credit)
    if end < effective_on:
        return Plan(
            "release",
            start,
            end,
            custody_days,
            note="先行羁押折抵后刑期已满：立即释放（刑事诉讼法第260条）",
        )
    if verdict.penalty == "criminal_detention" or end <= sentence_term_end(
        effective_on, months=DETENTION_HOUSE_MAX_REMAINING_MONTHS
    ):
        body = "detention_house"
    else:
        body = "prison"
    note = (
        "拘役由公安机关在看守所执行"
        if verdict.penalty == "criminal_detention"
        else ("剩余刑期三个月以下，由看守所代为执行" if body == "detention_house" else "交付监狱执行")
    )
    return Plan(body, start, end, custody_days, note=note + "（刑事诉讼法第264条第2款）")
