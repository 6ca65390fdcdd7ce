"""Statutory deadline calculator (法定期限计算): pure Python, no Django.

The counting rules come from the domain spec (docs: ``procedure.md``, "Rule codes of the deadline
calculator" and §1):

* 刑事诉讼法第105条第2款: the hour and the day on which a period starts are not counted, so N days from
  day D end on D+N and N hours end at start + N hours.
* 最高人民法院关于适用《中华人民共和国刑事诉讼法》的解释 (高法解释) 第202条第1款: N months end on the
  same day-of-month N months later; a start on the last day of a month, or a day the target month lacks,
  ends on the target month's last day; half a month is always 15 days.
* 刑事诉讼法第105条第4款: a period whose last day is a holiday ends on the first day after the holiday,
  except while the suspect, defendant or offender is in custody (在押): then it never moves.
* 高法解释第202条第2款: sentence terms (刑期) end on the day *before* the same date, so they are counted by
  the separate :func:`sentence_term_end`.

Everything here is a pure function of (rule code, start instant, custody flag, holiday calendar) so the
case clocks, the API and the UI can explain each result step by step (``DeadlineResult.steps``).
"""

from __future__ import annotations

import calendar as _calendar
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "RULES",
    "SHANGHAI",
    "STATUS_LABELS",
    "STATUS_MARKERS",
    "ChineseHolidayCalendar",
    "DeadlineResult",
    "HolidayCalendar",
    "PeriodUnit",
    "Rule",
    "UnknownRuleError",
    "add_months",
    "compute_deadline",
    "sentence_term_end",
]

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
"""Days are counted on the Beijing-time calendar: the courts and agencies all work in UTC+8."""

STATUS_MARKERS: Final = frozenset({"✅", "🔶", "⚠️", "🧮"})
# Words for the markers, for pages and reports (emoji glyphs are missing from many office fonts).
STATUS_LABELS: Final = {"✅": "已核对原文", "🔶": "仅见二手来源", "⚠️": "未经核实，可配置", "🧮": "依条文推算"}
"""Spec §0: confirmed in the primary text, secondary source only, unconfirmed, derived."""

_MAX_ROLL_OVER_DAYS: Final = 366


class PeriodUnit(StrEnum):
    """刑事诉讼法第105条第1款: 「期间以时、日、月计算」."""

    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True)
class Rule:
    """One statutory period (one row of spec §2, one variant per code)."""

    code: str
    row: str
    label: str
    unit: PeriodUnit
    amount: int
    extra_days: int
    trigger: str
    articles: tuple[str, ...]
    status: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUS_MARKERS:
            raise ValueError(f"{self.code}: unknown status marker {self.status!r}")
        if self.amount <= 0 or self.extra_days < 0:
            raise ValueError(f"{self.code}: period must be positive")
        if self.extra_days and self.unit is not PeriodUnit.MONTH:
            raise ValueError(f"{self.code}: extra_days only extends month periods (一个半月)")
        if not self.articles:
            raise ValueError(f"{self.code}: every rule must cite its articles")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def period_text(self) -> str:
        """Chinese period, e.g. 「3日」「24小时」「2个月」「1个月15日」."""
        if self.unit is PeriodUnit.HOUR:
            return f"{self.amount}小时"
        if self.unit is PeriodUnit.DAY:
            return f"{self.amount}日"
        return f"{self.amount}个月" + (f"{self.extra_days}日" if self.extra_days else "")


# --- rule table ---------------------------------------------------------------------------------------

_CPL = "刑事诉讼法"
_MPS = "公安机关办理刑事案件程序规定"
_SPP = "人民检察院刑事诉讼规则"
_SPC = "最高人民法院关于适用《中华人民共和国刑事诉讼法》的解释"
_PRISON = "监狱法"
_SCL = "社区矫正法"

_MONTH_CAVEAT = (
    "⚠️ 以月计算采用高法解释第202条第1款（法院的司法解释）；公安机关、人民检察院的期限参照适用，"
    "规格将其列为可配置项（§1.3第3条）。"
)
_CUMULATIVE = (
    "🧮 自{trigger}之日起按累计{total}一次计算（{parts}）；若自上一期限届满日接续计算，月末可能相差数日。"
)


def _rule(
    code: str,
    row: str,
    label: str,
    unit: PeriodUnit,
    amount: int,
    trigger: str,
    articles: tuple[str, ...],
    status: str = "✅",
    note: str = "",
    extra_days: int = 0,
) -> Rule:
    return Rule(code, row, label, unit, amount, extra_days, trigger, articles, status, note)


_H, _D, _M = PeriodUnit.HOUR, PeriodUnit.DAY, PeriodUnit.MONTH

# fmt: off
_RULE_LIST: Final[tuple[Rule, ...]] = (
    # 2.2 拘留
    _rule("detention_to_jail", "C2", "拘留后送看守所羁押", _H, 24, "拘留",
          (f"{_CPL}第85条第2款", f"{_MPS}第126条")),
    _rule("detention_family_notice", "C3", "拘留后通知家属", _H, 24, "拘留",
          (f"{_CPL}第85条第2款", f"{_MPS}第127条"),
          note="无法通知，或者涉嫌危害国家安全犯罪、恐怖活动犯罪通知可能有碍侦查的除外；"
          "有碍侦查的情形消失以后应当立即通知。"),
    _rule("detention_interrogation", "C4", "拘留后讯问", _H, 24, "拘留", (f"{_CPL}第86条", f"{_MPS}第128条")),
    _rule("arrest_request", "C6", "提请批准逮捕", _D, 3, "拘留",
          (f"{_CPL}第91条第1款", f"{_MPS}第129条第1款")),
    _rule("arrest_request_extended", "C6", "提请批准逮捕（特殊情况延长）", _D, 7, "拘留",
          (f"{_CPL}第91条第1款", f"{_MPS}第129条第1款"), "🧮",
          "🧮 3日加特殊情况最长延长的4日（可延长1至4日），须经县级以上公安机关负责人批准；"
          "实际批准延长不足4日的，以批准日数为准。"),
    _rule("arrest_request_roaming", "C6", "提请批准逮捕（流窜、多次、结伙作案）", _D, 30, "拘留",
          (f"{_CPL}第91条第2款", f"{_MPS}第129条第2款", f"{_MPS}第129条第3款"),
          note="限流窜作案、多次作案（三次以上）、结伙作案（二人以上）的重大嫌疑分子，"
          "经县级以上公安机关负责人批准。"),
    # 2.3 审查批准逮捕与执行
    _rule("arrest_review_detained", "D1", "审查批准逮捕（已拘留）", _D, 7, "检察院收到提请批准逮捕书",
          (f"{_CPL}第89条", f"{_CPL}第91条第3款", f"{_SPP}第282条")),
    _rule("arrest_review_not_detained", "D2", "审查批准逮捕（未被拘留）", _D, 15, "检察院收到提请批准逮捕书",
          (f"{_SPP}第282条",)),
    _rule("arrest_review_not_detained_complex", "D2", "审查批准逮捕（未被拘留，重大、复杂）", _D, 20,
          "检察院收到提请批准逮捕书", (f"{_SPP}第282条",), note="重大、复杂案件，不得超过20日。"),
    _rule("arrest_receipt", "D3", "送达逮捕执行回执", _D, 3, "执行逮捕完毕",
          (f"{_CPL}第90条", f"{_MPS}第142条", f"{_SPP}第286条")),
    _rule("arrest_family_notice", "D5", "逮捕后通知家属", _H, 24, "逮捕",
          (f"{_CPL}第93条第2款", f"{_MPS}第145条"),
          note="无法通知的除外；无法通知的情形消除后应当立即通知。"),
    _rule("arrest_interrogation", "D6", "逮捕后讯问", _H, 24, "逮捕", (f"{_CPL}第94条", f"{_MPS}第144条")),
    # 2.4 侦查羁押期限
    _rule("investigation_custody", "E1", "侦查羁押期限", _M, 2, "逮捕", (f"{_CPL}第156条", f"{_SPP}第305条"),
          note=_MONTH_CAVEAT),
    _rule("investigation_custody_ext1", "E2", "侦查羁押期限（第一次延长）", _M, 3, "逮捕",
          (f"{_CPL}第156条", f"{_MPS}第148条",
           f"{_SPP}第309条", f"{_SPP}第310条", f"{_SPP}第311条", f"{_SPP}第313条"), "🧮",
          _CUMULATIVE.format(trigger="逮捕", total="3个月", parts="2个月＋上一级人民检察院批准延长1个月")
          + "应在期限届满7日前提请。"
          + _MONTH_CAVEAT),
    _rule("investigation_custody_ext2", "E3", "侦查羁押期限（第二次延长）", _M, 5, "逮捕",
          (f"{_CPL}第158条", f"{_MPS}第149条", f"{_SPP}第306条"), "🧮",
          _CUMULATIVE.format(trigger="逮捕", total="5个月", parts="2＋1＋省级人民检察院批准或决定延长2个月")
          + "限刑诉法第158条四类案件，应在期限届满7日前提请。"
          + _MONTH_CAVEAT),
    _rule("investigation_custody_ext3", "E4", "侦查羁押期限（第三次延长）", _M, 7, "逮捕",
          (f"{_CPL}第159条", f"{_MPS}第150条", f"{_SPP}第307条"), "🧮",
          _CUMULATIVE.format(trigger="逮捕", total="7个月", parts="2＋1＋2＋再延长2个月")
          + "限可能判处十年有期徒刑以上刑罚的，经省级人民检察院批准或决定，应在期限届满7日前提请。"
          + _MONTH_CAVEAT),
    # 2.6 审查起诉
    _rule("prosecution_review", "G2", "审查起诉", _M, 1, "检察院收到移送审查起诉的案件",
          (f"{_CPL}第172条第1款", f"{_SPP}第351条第1款"), note=_MONTH_CAVEAT),
    _rule("prosecution_review_extended", "G2", "审查起诉（重大、复杂延长）", _M, 1,
          "检察院收到移送审查起诉的案件",
          (f"{_CPL}第172条第1款", f"{_SPP}第351条第1款"), "🧮",
          "🧮 1个月加重大、复杂案件可以延长的15日；延长的审批人法无明文（⚠️ 实务为检察长批准）。"
          + _MONTH_CAVEAT,
          extra_days=15),
    _rule("prosecution_review_fast", "G3", "审查起诉（认罪认罚速裁）", _D, 10, "检察院收到移送审查起诉的案件",
          (f"{_CPL}第172条第1款", f"{_SPP}第273条第1款"), note="犯罪嫌疑人认罪认罚，符合速裁程序适用条件。"),
    _rule("prosecution_review_fast_over_1y", "G3", "审查起诉（认罪认罚速裁，可能判处有期徒刑超过一年）",
          _D, 15, "检察院收到移送审查起诉的案件", (f"{_CPL}第172条第1款", f"{_SPP}第273条第1款"),
          note="对可能判处的有期徒刑超过一年的，可以延长至15日。"),
    _rule("supplementary_investigation", "G5", "退回补充侦查", _M, 1, "公安机关接到退回补充侦查的法律文书",
          (f"{_CPL}第175条第3款", f"{_SPP}第346条", f"{_MPS}第295条"),
          note="补充侦查以二次为限；补充侦查完毕移送后，审查起诉期限重新计算。" + _MONTH_CAVEAT),
    # 2.7 第一审
    _rule("first_instance", "H6", "第一审普通程序审限", _M, 2, "法院受理", (f"{_CPL}第208条第1款",)),
    _rule("first_instance_max", "H6", "第一审普通程序审限（至迟）", _M, 3, "法院受理",
          (f"{_CPL}第208条第1款",),
          note="应当在受理后2个月以内宣判，至迟不得超过3个月。"),
    _rule("first_instance_extended", "H6", "第一审普通程序审限（上一级法院批准延长）", _M, 6, "法院受理",
          (f"{_CPL}第208条第1款", f"{_SPC}第210条"), "🧮",
          _CUMULATIVE.format(
              trigger="法院受理", total="6个月", parts="3个月＋上一级人民法院批准延长3个月，限一次"
          )
          + "申请应在期限届满15日以前层报；报请最高人民法院批准的延长不在此列。"),
    _rule("summary_trial", "H7", "简易程序审限", _D, 20, "法院受理", (f"{_CPL}第220条",)),
    _rule("summary_trial_over_3y", "H7", "简易程序审限（可能判处有期徒刑超过三年）", _M, 1, "法院受理",
          (f"{_CPL}第220条",), note="可以延长至一个半月；半个月一律按15日计算（高法解释第202条第1款）。",
          extra_days=15),
    _rule("fast_track_trial", "H8", "速裁程序审限", _D, 10, "法院受理",
          (f"{_CPL}第225条", f"{_CPL}第224条第2款"),
          note="适用速裁程序审理案件，应当当庭宣判。"),
    _rule("fast_track_trial_over_1y", "H8", "速裁程序审限（可能判处有期徒刑超过一年）", _D, 15, "法院受理",
          (f"{_CPL}第225条", f"{_CPL}第224条第2款"), note="可以延长至15日；应当当庭宣判。"),
    _rule("judgment_service_in_court", "H13", "当庭宣判后送达判决书", _D, 5, "当庭宣判",
          (f"{_CPL}第202条第2款", f"{_SPC}第302条")),
    # 2.8 上诉、抗诉与第二审
    _rule("appeal_judgment", "I1", "不服判决的上诉、抗诉期限", _D, 10, "接到判决书",
          (f"{_CPL}第230条", f"{_SPP}第586条"),
          note="从接到判决书的第二日起算；上诉状在期满前已经交邮的，不算过期（刑诉法第105条第3款）。"),
    _rule("appeal_ruling", "I1", "不服裁定的上诉、抗诉期限", _D, 5, "接到裁定书",
          (f"{_CPL}第230条", f"{_SPP}第586条"),
          note="从接到裁定书的第二日起算；上诉状在期满前已经交邮的，不算过期（刑诉法第105条第3款）。"),
    _rule("appeal_transfer", "I3", "上诉案件移送第二审法院", _D, 3, "上诉期满",
          (f"{_CPL}第231条第1款", f"{_SPC}第381条"),
          note="起算时间应取上诉期满之日当天，不应取上诉期限届满时刻（次日0时），否则会多计一日。"),
    _rule("second_instance", "J1", "第二审审限", _M, 2, "二审受理", (f"{_CPL}第243条第1款",)),
    _rule("second_instance_extended", "J1", "第二审审限（高级人民法院批准或决定延长）", _M, 4, "二审受理",
          (f"{_CPL}第243条第1款",), "🧮",
          _CUMULATIVE.format(trigger="二审受理", total="4个月",
                             parts="2个月＋高级人民法院批准或决定延长2个月")
          + "检察院阅卷时间不计入审理期限（刑诉法第235条）。"),
    # 2.9 交付执行
    _rule("execution_documents", "L1", "送达执行法律文书", _D, 10, "判决生效",
          (f"{_CPL}第264条第1款", f"{_SPC}第511条")),
    _rule("prison_delivery", "L4", "公安机关将罪犯送交监狱", _M, 1, "公安机关收到执行通知书、判决书",
          (f"{_PRISON}第15条第1款", f"{_MPS}第300条第1款", f"{_SPP}第625条第（二）项"),
          note="监狱法第15条、公安规定第300条表述为「一个月」，高检规则第625条表述为「三十日以内」；"
          "本规则按1个月计算，检察监督口径可另按30日核对。" + _MONTH_CAVEAT),
    _rule("prison_family_notice", "L6", "收监后通知罪犯家属", _D, 5, "收监",
          (f"{_PRISON}第20条", f"{_CPL}第264条第4款")),
    # 2.10 社区矫正
    _rule("corrections_notice", "M3", "通知执行地社区矫正机构", _D, 5, "判决、裁定生效",
          (f"{_SCL}第20条", f"{_SPC}第519条第3款")),
    _rule("corrections_documents", "M4", "向社区矫正机构送达法律文书", _D, 10, "判决、裁定生效",
          (f"{_SCL}第20条", f"{_SPC}第519条第3款"),
          note="🧮 社区矫正法第20条的「十日内」按自判决、裁定生效之日起计算。"),
    _rule("corrections_report", "M6", "社区矫正对象报到", _D, 10, "判决、裁定生效",
          (f"{_SCL}第21条第1款", f"{_SPC}第519条第2款"),
          note="⚠️ 假释对象的报到起算日：法律写「自判决、裁定生效之日起」；"
          "旧2012年实施办法写「或者离开监所之日」，2020年实施办法原文未核实。"),
    # 2.11 取保候审、监视居住
    _rule("bail_max", "N1", "取保候审最长期限", _M, 12, "取保候审执行",
          (f"{_CPL}第79条第1款", f"{_MPS}第107条第2款", f"{_SPP}第102条"),
          note="各决定机关分别计算，重新作出决定的期限重新计算（高检规则第103条、高法解释第162条）；"
          "没收保证金后继续取保的连续计算（高法解释第158条）。" + _MONTH_CAVEAT),
    _rule("residential_surveillance_max", "N2", "监视居住最长期限", _M, 6, "监视居住执行",
          (f"{_CPL}第79条第1款", f"{_MPS}第122条第2款", f"{_SPP}第112条"),
          note="各决定机关分别计算，重新作出决定的期限重新计算（高检规则第113条、高法解释第162条）。"
          + _MONTH_CAVEAT),
)
# fmt: on

RULES: Final[dict[str, Rule]] = {rule.code: rule for rule in _RULE_LIST}
# Periods that bind a party, not an agency: the parties' days to appeal (刑诉法第230条) and the
# offender's days to report (社区矫正法第21条). 判决生效 is recorded after the appeal period has run out
# by design, and a late report is the offender's (execution raises its own alert), so neither ever
# makes an agency's case 超期.
PARTY_PERIODS: Final = frozenset({"appeal_judgment", "appeal_ruling", "corrections_report"})
"""Every code of the spec's rule-code table, keyed by code."""


# --- holiday calendars --------------------------------------------------------------------------------


class HolidayCalendar(Protocol):
    """Which days are 「节假日」 for 刑事诉讼法第105条第4款 (spec §1.3第5条: weekends and statutory holidays,
    with 调休 working days counting as working days)."""

    def is_rest_day(self, day: date) -> bool:
        """True for a statutory holiday or a weekend day not made a working day by 调休."""
        ...

    def note_for(self, day: date) -> str | None:
        """A Chinese note when the calendar has no official data for ``day``'s year, else None."""
        ...


_FIXED_HOLIDAYS: Final = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})
"""Solar-date holidays of 《全国年节及纪念日放假办法》(2024年修订: 元旦1月1日, 劳动节5月1日、2日,
国庆节10月1日至3日). The lunar holidays and the 调休 days need the annual State Council notice."""


class ChineseHolidayCalendar:
    """Official calendar from the ``chinese_calendar`` package (years 2004–2026 in v1.11), plus overrides.

    ``overrides`` maps a date to True (rest day) or False (working day). They are admin-entered rows for
    years the package lacks (the State Council publishes each year's schedule in the autumn before) or
    corrections, and always win. For a year that neither the package nor any override covers, weekends and
    the fixed solar-date holidays are rest days and :meth:`note_for` warns that the official schedule is
    missing, so a deadline there is shown with that caveat rather than silently trusted.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._override_years = frozenset(day.year for day in self._overrides)
        known = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
        self._official_years = range(min(known).year, max(known).year + 1)

    def has_official_data(self, year: int) -> bool:
        """True when the package or the overrides carry the official schedule for ``year``."""
        return year in self._official_years or year in self._override_years

    def is_rest_day(self, day: date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        if day.year in self._official_years:
            return not bool(chinese_calendar.is_workday(day))
        return day.weekday() >= 5 or (day.month, day.day) in _FIXED_HOLIDAYS

    def note_for(self, day: date) -> str | None:
        if day in self._overrides or self.has_official_data(day.year):
            return None
        return (
            f"{day.year}年的法定节假日和调休安排尚无官方数据，仅按周末及元旦、劳动节、国庆节的固定日期推算，"
            f"结果可能不准确，建议管理员录入{day.year}年的放假安排。"
        )


_DEFAULT_CALENDAR: Final = ChineseHolidayCalendar()


# --- date arithmetic ----------------------------------------------------------------------------------


def _last_day(year: int, month: int) -> int:
    return _calendar.monthrange(year, month)[1]


def _shift_months(day: date, months: int, *, month_end_rule: bool) -> tuple[date, str]:
    """Same day-of-month ``months`` later, per 高法解释第202条.

    Returns the date and the reason the month-end clause applied ("" if it did not): with
    ``month_end_rule`` a start on the last day of a month ends on the target month's last day
    (「期限起算日为本月最后一日的，至下月最后一日」); a day the target month lacks always ends on its last day
    (「下月同日不存在的……至下月最后一日」). Year terms (202② first sentence) only have the second clause.
    """
    year, month_index = divmod(day.month - 1 + months, 12)
    year += day.year
    month = month_index + 1
    last = _last_day(year, month)
    if month_end_rule and day.day == _last_day(day.year, day.month):
        return date(year, month, last), "起算日为本月最后一日"
    if day.day > last:
        return date(year, month, last), f"{year}年{month}月没有{day.day}日"
    return date(year, month, day.day), ""


@functools.lru_cache(maxsize=65_536)  # the custody reconciliation asks for the same days a million times
def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` procedural months (高法解释第202条第1款, with the month-end rule)."""
    return _shift_months(day, months, month_end_rule=True)[0]


def _fmt_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _fmt_instant(moment: datetime) -> str:
    local = moment.astimezone(SHANGHAI)
    return f"{_fmt_date(local.date())} {local:%H:%M}"


# --- results ------------------------------------------------------------------------------------------


class UnknownRuleError(ValueError):
    """Raised for a code that is not in :data:`RULES`."""


@dataclass(frozen=True)
class DeadlineResult:
    """A computed deadline with the steps that explain it (spec §0: the UI shows the reasoning).

    ``due`` is the last day on which the act is still timely (inclusive); ``due_at`` is the instant of
    expiry: 24:00 of ``due`` in Beijing time for day and month periods, start + N hours for hour periods.
    """

    rule: Rule
    start: datetime
    in_custody: bool
    nominal_due: date
    due: date
    due_at: datetime
    rolled_over: bool
    articles: tuple[str, ...]
    steps: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready representation for the API and the case clocks."""
        return {
            "code": self.rule.code,
            "label": self.rule.label,
            "row": self.rule.row,
            "start": self.start.isoformat(),
            "in_custody": self.in_custody,
            "due": self.due.isoformat(),
            "due_at": self.due_at.isoformat(),
            "nominal_due": self.nominal_due.isoformat(),
            "rolled_over": self.rolled_over,
            "articles": list(self.articles),
            "steps": list(self.steps),
            "status": self.rule.status,
            "period": self.rule.period_text,
            "note": self.rule.note,
        }


def _get_rule(code: str) -> Rule:
    try:
        return RULES[code]
    except KeyError:
        raise UnknownRuleError(f"未知的期限规则代码：{code!r}") from None


def _nominal_last_day(rule: Rule, first: date, steps: list[str]) -> date:
    """Last day of a day or month period before any holiday roll-over (刑诉法105②, 高法解释202①)."""
    if rule.unit is PeriodUnit.DAY:
        last = first + timedelta(days=rule.amount)
        steps.append(f"期间{rule.period_text}：{_fmt_date(first)}后第{rule.amount}日为{_fmt_date(last)}。")
        return last
    last, reason = _shift_months(first, rule.amount, month_end_rule=True)
    if reason:
        steps.append(
            f"期间{rule.amount}个月：{reason}，按月末规则至{last.year}年{last.month}月最后一日"
            f"{_fmt_date(last)}（高法解释第202条第1款）。"
        )
    else:
        steps.append(
            f"期间{rule.amount}个月：自{_fmt_date(first)}至{rule.amount}个月后的同日"
            f"{_fmt_date(last)}（高法解释第202条第1款）。"
        )
    if rule.extra_days:
        plus = last + timedelta(days=rule.extra_days)
        steps.append(
            f"另加{rule.extra_days}日（半个月一律按十五日计算，高法解释第202条第1款）：{_fmt_date(plus)}。"
        )
        last = plus
    return last


def _apply_holidays(
    nominal: date, *, in_custody: bool, calendar: HolidayCalendar, steps: list[str]
) -> tuple[date, bool]:
    """Move a last day that is a holiday to the first working day after, unless in custody (刑诉法105④)."""
    notes: list[str] = []

    def check(day: date) -> bool:
        note = calendar.note_for(day)
        if note and note not in notes:
            notes.append(note)
        return calendar.is_rest_day(day)

    due = nominal
    if not check(nominal):
        kind = "调休上班日，按工作日计算" if nominal.weekday() >= 5 else "工作日"
        steps.append(f"期间的最后一日{_fmt_date(nominal)}为{kind}，不顺延。")
    elif in_custody:
        steps.append(
            f"期间的最后一日{_fmt_date(nominal)}为节假日，但犯罪嫌疑人、被告人或者罪犯在押，"
            f"应当至期满之日为止，不得因节假日而延长（刑诉法第105条第4款）。"
        )
    else:
        for _ in range(_MAX_ROLL_OVER_DAYS):
            due += timedelta(days=1)
            if not check(due):
                break
        else:
            raise RuntimeError(f"节假日日历自{_fmt_date(nominal)}起一年内没有工作日")
        steps.append(
            f"期间的最后一日{_fmt_date(nominal)}为节假日，以节假日后的第一日{_fmt_date(due)}为期满日期"
            f"（刑诉法第105条第4款）。"
        )
    steps.extend(f"日历提示：{note}" for note in notes)
    return due, due != nominal


def compute_deadline(
    code: str, start: datetime, *, in_custody: bool, calendar: HolidayCalendar | None = None
) -> DeadlineResult:
    """Deadline of rule ``code`` for a triggering event at ``start`` (刑事诉讼法第105条, 高法解释第202条).

    ``start`` must be timezone-aware; days are counted on the Asia/Shanghai calendar. ``in_custody`` is the
    person's custody status on the expiry day: while in custody the period never moves for holidays.
    """
    rule = _get_rule(code)
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be a timezone-aware datetime")
    cal = _DEFAULT_CALENDAR if calendar is None else calendar
    local = start.astimezone(SHANGHAI)
    steps = [f"起算：{rule.trigger}于{_fmt_instant(local)}（北京时间）。"]

    if rule.unit is PeriodUnit.HOUR:
        due_at = local + timedelta(hours=rule.amount)
        steps.append(
            f"以时计算，期间开始的时不算在期间以内（刑诉法第105条第2款）：{rule.period_text}至"
            f"{_fmt_instant(due_at)}届满（按事件时刻精确加算，为保守口径）。"
        )
        steps.append("以时计算的期间不因节假日顺延。")
        nominal = due = due_at.date()
        rolled_over = False
    else:
        first = local.date()
        steps.append(
            f"期间开始的日不算在期间以内（刑诉法第105条第2款）：{_fmt_date(first)}不计入，"
            f"自{_fmt_date(first + timedelta(days=1))}起计算。"
        )
        nominal = _nominal_last_day(rule, first, steps)
        due, rolled_over = _apply_holidays(nominal, in_custody=in_custody, calendar=cal, steps=steps)
        due_at = datetime.combine(due + timedelta(days=1), time(0), tzinfo=SHANGHAI)
        steps.append(f"期满时刻：{_fmt_date(due)}24时（北京时间）。")
    if rule.note:
        steps.append(f"注意：{rule.note}")
    return DeadlineResult(
        rule=rule,
        start=start,
        in_custody=in_custody,
        nominal_due=nominal,
        due=due,
        due_at=due_at,
        rolled_over=rolled_over,
        articles=rule.articles,
        steps=tuple(steps),
    )


def sentence_term_end(
    start: date, *, years: int = 0, months: int = 0, days: int = 0, credited_days: int = 0
) -> date:
    """Last day of a sentence term (刑期) starting on ``start`` (高法解释第202条第2款).

    Unlike procedural periods a term ends on the day *before* the same date: a 1-year term from 2024-03-05
    ends 2025-03-04. Year terms have no month-end clause except for a missing day (2024-02-29 + 1年 ends
    2025-02-27, the day before the last day of February); month terms apply the month-end rule first. A
    term of years and months is counted as the total number of months. Half a month is passed as
    ``days=15`` (「半个月一律按十五日计算」). ``credited_days`` is pre-trial custody already converted by the
    caller (刑法第41条、第44条、第47条; 刑诉法第76条) and shortens the term.
    """
    if min(years, months, days, credited_days) < 0:
        raise ValueError("term components must not be negative")
    if not (years or months or days):
        raise ValueError("the term must not be empty")
    if months:
        anchor, _ = _shift_months(start, years * 12 + months, month_end_rule=True)
    elif years:
        anchor, _ = _shift_months(start, years * 12, month_end_rule=False)
    else:
        anchor = start
    return anchor + timedelta(days=days - 1 - credited_days)
