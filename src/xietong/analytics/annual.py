"""年度刑事犯罪实证分析报告 (F12): a year's cases of the city or of one county, compared with the
year before, as the document a 政法委 circulates — 总体情况, 犯罪结构, 各镇（街道）比较, 时间分布,
涉案人员, 办案效率 and 显著变化 — with charts, rendered to PDF.

Every figure is one aggregate query over ``facts_visible_to(user)`` (about twenty in all, none
walking the facts in Python), so the report of a million facts costs a few seconds of database time.
Every sentence is a template filled with those figures: the report states findings and never
invents a cause or a policy.

Counting rules (stated in the report's 说明 too): a case counts in the year of its 立案 date; for the
current year the comparison is with the same days of the year before (上年同期), not the whole year;
rates per 10,000 residents use ``Population`` (the nearest earlier year's figure); durations are of
the cases registered in the period that have reached the step, so a recent year's figures are
shorter than they will be once its slow cases conclude."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Floor
from django.template.loader import render_to_string
from django.utils import timezone

from xietong.analytics import charts
from xietong.analytics.models import CaseFact, PersonFact
from xietong.analytics.selectors import facts_visible_to, persons_visible_to, region_comparison, summary
from xietong.cases.procedure import LEADERS
from xietong.cases.selectors import sees_everything
from xietong.errors import NotAllowed, ValidationFailed
from xietong.orgs.models import Level, Region, User
from xietong.pdf import CJK_FONT, font_only_fetcher

FIRST_YEAR = 2000
ISSUER = "苏州市委政法委 协同办案平台 自动生成"
EMPTY = "本年度无相关案件。"
TOP_CHARGES = 10
TOP_REGIONS = 5
CHART_REGIONS = 20
# What counts as a notable change in 七、显著变化: small numbers swing too much to be findings.
RISE_SHARE, FALL_SHARE = 1.2, 0.8  # more than 20 % up or down
RISE_MIN_CASES = 10
DOUBLED_MIN_CASES = 10
AGE_BANDS: list[tuple[str, Q]] = [
    ("未满18岁", Q(age__lt=18)),
    ("18至25岁", Q(age__gte=18, age__lte=25)),
    ("26至35岁", Q(age__gte=26, age__lte=35)),
    ("36至45岁", Q(age__gte=36, age__lte=45)),
    ("46至59岁", Q(age__gte=46, age__lte=59)),
    ("60岁及以上", Q(age__gte=60)),
    ("年龄不详", Q(age__isnull=True)),
]
DURATIONS: list[tuple[str, str, str]] = [
    ("days_investigation", "侦查", "侦查（立案至移送审查起诉）"),
    ("days_review", "审查起诉", "审查起诉（移送至起诉或不起诉）"),
    ("days_trial", "审判", "审判（起诉至一审宣判）"),
    ("days_total", "立案至办结", "立案至办结"),
]
RATES = [
    ("无罪判决率", "acquittal_rate"),
    ("不起诉率", "not_prosecuted_rate"),
    ("羁押率", "custody_rate"),
    ("认罪认罚适用率", "plea_rate"),
]
NUMERALS = "一二三四五六七八九十"
COUNTY_WORD = "市（区）"  # Suzhou's county-level divisions are 县级市 and 区
TOWN_WORD = "镇（街道）"


# --- the document's blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    text: str


@dataclass(frozen=True)
class Heading:
    kind: ClassVar[str] = "heading"
    text: str


@dataclass(frozen=True)
class Bullets:
    kind: ClassVar[str] = "bullets"
    items: list[str]


@dataclass(frozen=True)
class Table:
    """Cells as text; columns from ``numeric_from`` on are figures (right-aligned); ``marked`` rows
    are highlighted (e.g. the five highest rates)."""

    kind: ClassVar[str] = "table"
    caption: str
    headers: list[str]
    rows: list[list[str]]
    numeric_from: int = 1
    marked: frozenset[int] = frozenset()
    note: str = ""


@dataclass(frozen=True)
class Chart:
    kind: ClassVar[str] = "chart"
    caption: str
    uri: str  # data:image/png;base64,…
    width_cm: float = 15.5


Block = Paragraph | Heading | Bullets | Table | Chart


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    number: str = ""

    @property
    def anchor(self) -> str:
        return f"s{NUMERALS.index(self.number) + 1}" if self.number else "notes"

    @property
    def heading(self) -> str:
        return f"{self.number}、{self.title}" if self.number else self.title


@dataclass
class AnnualReport:
    """The report's figures (``figures``, for tests and other exports) and its text (``sections``)."""

    year: int
    area_name: str
    scope: str
    start: date
    end: date
    generated_at: datetime
    figures: dict[str, Any]
    sections: list[Section]

    @property
    def title(self) -> str:
        return f"{self.area_name}{self.year}年度刑事犯罪实证分析报告"

    @property
    def partial(self) -> bool:
        return self.end < date(self.year, 12, 31)

    @property
    def period_text(self) -> str:
        return (
            f"{self.year}年1月1日至{self.end.month}月{self.end.day}日" if self.partial else f"{self.year}年"
        )

    @property
    def filename(self) -> str:
        return f"{self.title}.pdf"

    def html(self) -> str:
        when = self.generated_at
        return render_to_string(
            "analytics/annual_report.html",
            {
                "report": self,
                "issuer": ISSUER,
                "font_url": CJK_FONT.as_uri() if CJK_FONT.exists() else "",
                "generated": f"{when.year}年{when.month}月{when.day}日",
            },
        )

    def pdf(self) -> bytes:
        from weasyprint import HTML

        pdf: bytes = HTML(string=self.html(), url_fetcher=font_only_fetcher()).write_pdf()
        return pdf


# --- entry points ---------------------------------------------------------------------------------


def annual_report(*, user: User, year: int | str, county_id: int | str | None = None) -> AnnualReport:
    """The report of ``year`` for one county, or the whole city when ``county_id`` is None, over the
    facts the user may see. A user of a county's (or a town's) unit gets his county when he names
    none and may not name another; the title page states whose cases the figures cover.

    Raises ``ValidationFailed`` (code ``bad_report``) for a year outside 2000–this year or an id that
    is not a county, ``NotAllowed`` for another county than the user's own."""
    year = _parse_year(year)
    county = _parse_county(county_id)
    area_name, county = _area(user, county)
    facts, history = facts_visible_to(user=user), persons_visible_to(user=user)
    persons = history
    if county is not None:
        facts = facts.filter(county_id=county.pk)
        persons = history.filter(town__parent_id=county.pk)
    today = timezone.localdate()
    start, end = date(year, 1, 1), min(date(year, 12, 31), today)
    before_start, before_end = date(year - 1, 1, 1), _same_day(end, year - 1)
    now_q, before_q = _period_q(start, end), _period_q(before_start, before_end)
    ctx = _Context(
        year=year,
        area=area_name,
        county=county,
        end=end,
        now=facts.filter(now_q),
        both=facts.filter(now_q | before_q),
        now_q=now_q,
        last="上年同期" if end < date(year, 12, 31) else "上年",
    )
    ctx.s_now, ctx.s_before = summary(ctx.now), summary(facts.filter(before_q))
    sections = [_overview(ctx), _structure(ctx), _regions(ctx), _time(ctx)]
    now_persons = persons.filter(registered_on__range=(start, end))
    before_persons = persons.filter(registered_on__range=(before_start, before_end))
    sections += [_people(ctx, now_persons, before_persons, history), _efficiency(ctx), _findings(ctx)]
    for number, section in zip(NUMERALS, sections, strict=False):
        section.number = number
    sections.append(_notes(ctx))
    return AnnualReport(
        year=year,
        area_name=area_name,
        scope=_scope(user),
        start=start,
        end=end,
        generated_at=timezone.localtime(),
        figures=ctx.figures,
        sections=sections,
    )


def annual_report_pdf(*, user: User, year: int | str, county_id: int | str | None = None) -> bytes:
    return annual_report(user=user, year=year, county_id=county_id).pdf()


# --- parameters and scope -------------------------------------------------------------------------


def _int(raw: object, message: str) -> int:
    try:
        if isinstance(raw, bool):
            raise ValueError
        return int(str(raw).strip())
    except ValueError as exc:
        raise ValidationFailed(message, code="bad_report") from exc


def _parse_year(raw: object) -> int:
    year, this_year = _int(raw, "年份应为四位数字，如 2025"), timezone.localdate().year
    if not FIRST_YEAR <= year <= this_year:
        raise ValidationFailed(f"年份应在 {FIRST_YEAR} 年至 {this_year} 年之间", code="bad_report")
    return year


def _parse_county(raw: object) -> Region | None:
    if raw is None or raw == "":
        return None
    county = Region.objects.filter(pk=_int(raw, "区县应为区划编号"), level=Level.COUNTY).first()
    if county is None:
        raise ValidationFailed("没有这个区县", code="bad_report")
    return county


def _own_county(user: User) -> Region | None:
    """The county of the user's unit (None for a city-level unit, or none at all)."""
    region = user.unit.region if user.unit is not None else None
    if region is None or region.level == Level.CITY:
        return None
    return region if region.level == Level.COUNTY else region.parent


def _area(user: User, county: Region | None) -> tuple[str, Region | None]:
    own = None if sees_everything(user) else _own_county(user)
    if county is not None:
        if own is not None and own.pk != county.pk:
            raise NotAllowed("只能生成本单位所在区县的年度报告", code="bad_report")
        return county.name, county
    if own is not None:
        return own.name, own
    city = Region.objects.filter(level=Level.CITY).order_by("pk").first()
    return (city.name if city else "苏州市"), None


def _scope(user: User) -> str:
    if sees_everything(user):
        return "全部刑事案件"
    if user.unit is None:
        return "无（未分配单位）"
    if user.has_duty(*LEADERS):
        return f"{user.unit.name}及下属单位参与办理的刑事案件"
    return f"{user.unit.name}参与办理的刑事案件"


def _same_day(day: date, year: int) -> date:
    return date(year, 2, 28) if (day.month, day.day) == (2, 29) else day.replace(year=year)


def _period_q(start: date, end: date) -> Q:
    # The ``month`` bounds let PostgreSQL use the (month, county, charge) index; the day bounds are exact.
    return Q(month__gte=start.replace(day=1), month__lte=end.replace(day=1)) & Q(
        registered_on__gte=start, registered_on__lte=end
    )


@dataclass
class _Context:
    year: int
    area: str
    county: Region | None
    end: date
    now: QuerySet[CaseFact]
    both: QuerySet[CaseFact]  # the period and the comparison period
    now_q: Q
    last: str  # 上年 or 上年同期
    s_now: dict[str, Any] = field(default_factory=dict)
    s_before: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(self.s_now.get("total") or 0)


# --- formatting -----------------------------------------------------------------------------------


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return round(100.0 * (now - before) / before, 1)


def _change_text(now: float, before: float, *, last: str) -> str:
    """ "较上年的N件上升12.5%" and the like, or why there is no percentage."""
    if not before:
        return f"{last}无案件" if now else f"与{last}持平"
    pct = _change(now, before) or 0.0
    if pct == 0:
        return f"与{last}持平"
    return f"较{last}{'上升' if pct > 0 else '下降'}{abs(pct):.1f}%"


def _signed(pct: float | None) -> str:
    return "—" if pct is None else f"{pct:+.1f}%"


def _points(now: float | None, before: float | None) -> str:
    return "—" if now is None or before is None else f"{now - before:+.1f}个百分点"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _months(days: float) -> str:
    return f"（约{days / 30:.1f}个月）" if days >= 30 else ""


def _money(yuan: int | None) -> str:
    yuan = yuan or 0
    if yuan >= 100_000_000:
        return f"{yuan / 100_000_000:.2f}亿元"
    return f"{yuan / 10_000:.2f}万元" if yuan >= 10_000 else f"{yuan}元"


def _list(items: list[str]) -> str:
    return "、".join(items)


def _count_row(label: str, now: int, before: int) -> list[str]:
    return [label, str(now), str(before), _signed(_change(now, before))]


def _rate_row(label: str, now: float | None, before: float | None) -> list[str]:
    return [label, _pct(now), _pct(before), _points(now, before)]


# --- 一、总体情况 ---------------------------------------------------------------------------------


def _overview(ctx: _Context) -> Section:
    n, b, last = ctx.s_now, ctx.s_before, ctx.last
    conviction = (
        _share(n["convicted"], n["convicted"] + n["acquitted"]),
        _share(b["convicted"], b["convicted"] + b["acquitted"]),
    )
    concluded = (_share(n["concluded"], n["total"]), _share(b["concluded"], b["total"]))
    ctx.figures["overview"] = {
        "total": n["total"],
        "previous": b["total"],
        "change": _change(n["total"], b["total"]),
        "defendants": n["defendants"] or 0,
        "amount_yuan": n["amount"] or 0,
        "concluded": n["concluded"],
        "conviction_rate": conviction[0],
        "not_prosecuted_rate": n["not_prosecuted_rate"],
        "acquittal_rate": n["acquittal_rate"],
    }
    section = Section("总体情况")
    if not n["total"]:
        section.blocks.append(Paragraph(EMPTY + (f"{last}立案{b['total']}件。" if b["total"] else "")))
        return section
    section.blocks.append(
        Paragraph(
            f"{ctx.area}共立案刑事案件{n['total']}件，{_change_text(n['total'], b['total'], last=last)}"
            f"（{last}{b['total']}件）；涉及犯罪嫌疑人{n['defendants'] or 0}人"
            f"（{last}{b['defendants'] or 0}人）；"
            f"案情中载明的涉案金额合计{_money(n['amount'])}（{last}{_money(b['amount'])}）。"
        )
    )
    section.blocks.append(
        Paragraph(
            f"截至报告生成之日，上述案件已办结{n['concluded']}件，办结率{_pct(concluded[0])}。其中作出有罪判决"
            f"{n['convicted']}件、无罪判决{n['acquitted']}件，决定不起诉{n['not_prosecuted']}件，撤销案件"
            f"{n['withdrawn']}件；仍在办理{n['pending']}件。已宣判案件的有罪判决率为{_pct(conviction[0])}，"
            f"无罪判决率为{_pct(n['acquittal_rate'])}；审查起诉环节的不起诉率为{_pct(n['not_prosecuted_rate'])}"
            f"（{last}{_pct(b['not_prosecuted_rate'])}）。"
        )
    )
    amount = [f"{(x['amount'] or 0) / 10_000:.2f}" for x in (n, b)]
    rows = [
        _count_row("立案数（件）", n["total"], b["total"]),
        _count_row("犯罪嫌疑人（人）", n["defendants"] or 0, b["defendants"] or 0),
        ["涉案金额（万元）", *amount, _signed(_change(n["amount"], b["amount"]))],
        _count_row("已办结（件）", n["concluded"], b["concluded"]),
        _rate_row("办结率", *concluded),
        _rate_row("有罪判决率", *conviction),
        *(_rate_row(label, n[key], b[key]) for label, key in RATES),
    ]
    section.blocks.append(Table("表1 主要指标", ["指标", f"{ctx.year}年", last, "同比"], rows))
    return section


# --- 二、犯罪结构 ---------------------------------------------------------------------------------


def _charge_counts(ctx: _Context) -> list[dict[str, Any]]:
    """Per charge: cases in the period and in the comparison period (one GROUP BY)."""
    rows = (
        ctx.both.values("charge")
        .annotate(now=Count("pk", filter=ctx.now_q), before=Count("pk", filter=~ctx.now_q))
        .order_by()
    )
    out = [{"charge": r["charge"] or "（未填）", "now": r["now"], "before": r["before"]} for r in rows]
    out.sort(key=lambda r: (-r["now"], -r["before"], r["charge"]))
    return out


def _structure(ctx: _Context) -> Section:
    charges = ctx.figures["charges"] = _charge_counts(ctx)
    section = Section("犯罪结构")
    present, total, before_total = [c for c in charges if c["now"]], ctx.total, int(ctx.s_before["total"])
    if not present:
        section.blocks.append(Paragraph(EMPTY))
        return section
    top = present[:TOP_CHARGES]
    lead = _list([f"{c['charge']}（{c['now']}件，占{_pct(_share(c['now'], total))}）" for c in top[:3]])
    top3, top10 = _share(sum(c["now"] for c in top[:3]), total), _share(sum(c["now"] for c in top), total)
    section.blocks.append(
        Paragraph(
            f"本年度立案案件涉及罪名{len(present)}个。数量居前的是{lead}，合计占全部案件的{_pct(top3)}；"
            f"前{len(top)}位罪名合计占{_pct(top10)}，"
            f"犯罪类型{'较为集中' if (top10 or 0) >= 80 else '较为分散'}。"
        )
    )

    def row(number: str, label: str, now: int, before: int) -> list[str]:
        return [number, label, str(now), _pct(_share(now, total)), str(before), _signed(_change(now, before))]

    rows = [row(str(i), c["charge"], c["now"], c["before"]) for i, c in enumerate(top, start=1)]
    rest = present[TOP_CHARGES:]
    if rest:
        rest_now, rest_before = sum(c["now"] for c in rest), before_total - sum(c["before"] for c in top)
        rows.append(row("", f"其他罪名（{len(rest)}个）", rest_now, rest_before))
    rows.append(row("", "合计", total, before_total))
    headers = ["序号", "罪名", f"{ctx.year}年", "占比", ctx.last, "同比"]
    section.blocks.append(Table(f"表2 立案数居前{len(top)}位的罪名", headers, rows, numeric_from=2))
    series = {f"{ctx.year}年": [c["now"] for c in top], ctx.last: [c["before"] for c in top]}
    png = charts.bar(
        [c["charge"] for c in top], series, horizontal=True, unit="件", height=1.0 + 0.4 * len(top)
    )
    section.blocks.append(Chart(f"图1 主要罪名立案数（{ctx.year}年与{ctx.last}）", charts.data_uri(png)))
    return section


# --- 三、各镇（街道）比较 -------------------------------------------------------------------------


def _region_rows(ctx: _Context, level: str) -> list[dict[str, Any]]:
    """``region_comparison``'s rows: by rate per 10,000 when populations are known, else by count."""
    rows = region_comparison(
        ctx.both, year=ctx.year, level=level, county=ctx.county.pk if ctx.county else None
    )
    if any(r["per_10k"] is not None for r in rows):
        return rows
    return sorted(rows, key=lambda r: (-r["count"], r["name"]))


def _region_table(
    rows: list[dict[str, Any]], caption: str, word: str, ctx: _Context, *, county: bool
) -> Table:
    def cells(i: int, r: dict[str, Any]) -> list[str]:
        residents = f"{r['residents'] / 10_000:.2f}" if r["residents"] else "—"
        rate = f"{r['per_10k']:.2f}" if r["per_10k"] is not None else "—"
        where = [r["county"]] if county else []
        return [
            str(i),
            r["name"],
            *where,
            str(r["count"]),
            str(r["previous"]),
            _signed(r["yoy"]),
            residents,
            rate,
        ]

    headers = ["排名", word, *(["所属市（区）"] if county else []), f"{ctx.year}年", ctx.last, "同比"]
    headers += ["常住人口（万人）", "万人发案率"]
    rated = any(r["per_10k"] is not None for r in rows)
    note = (
        "标色行为万人发案率居前五位。"
        if rated
        else "未导入常住人口数据，按立案数排列；标色行为立案数居前五位。"
    )
    body = [cells(i, r) for i, r in enumerate(rows[:CHART_REGIONS], start=1)]
    return Table(
        caption,
        headers,
        body,
        numeric_from=3 if county else 2,
        marked=frozenset(range(TOP_REGIONS)),
        note=note,
    )


def _region_paragraphs(rows: list[dict[str, Any]], word: str, ctx: _Context) -> list[Paragraph]:
    out = []
    rated = [r for r in rows if r["per_10k"] is not None and r["count"]]
    if rated:
        average = sum(r["count"] for r in rated) * 10_000 / sum(r["residents"] for r in rated)
        ctx.figures.setdefault("average_per_10k", {})[word] = round(average, 2)
        top = _list([f"{r['name']}（{r['per_10k']:.2f}）" for r in rated[:TOP_REGIONS]])
        out.append(
            f"按常住人口计，{ctx.area}万人发案率为{average:.2f}件；"
            f"居前{min(TOP_REGIONS, len(rated))}位的{word}"
            f"是{top}，最高的{rated[0]['name']}为平均水平的{rated[0]['per_10k'] / average:.1f}倍。"
        )
    elif top_counts := [f"{r['name']}（{r['count']}件）" for r in rows[:TOP_REGIONS] if r["count"]]:
        out.append(f"立案数居前的{word}是{_list(top_counts)}（未导入常住人口数据，未计算万人发案率）。")
    rises = sorted((r for r in rows if r["count"] > r["previous"]), key=lambda r: r["previous"] - r["count"])
    if rises:
        parts = [
            f"{r['name']}（由{r['previous']}件增至{r['count']}件"
            + (f"，上升{r['yoy']:.1f}%）" if r["yoy"] else "）")
            for r in rises[:3]
        ]
        out.append(f"与{ctx.last}相比，立案数增加最多的{word}是{_list(parts)}。")
    return [Paragraph(text) for text in out]


def _region_chart(rows: list[dict[str, Any]], word: str, number: int) -> Chart:
    shown = rows[:CHART_REGIONS]
    rated = any(r["per_10k"] is not None for r in rows)
    png = charts.bar(
        [r["name"] for r in shown],
        [(r["per_10k"] or 0.0) if rated else r["count"] for r in shown],
        horizontal=True,
        highlight=range(min(TOP_REGIONS, len(shown))),
        decimals=2 if rated else 0,
        unit="件/万人" if rated else "件",
        height=0.9 + 0.27 * len(shown),
    )
    more = f"（前{len(shown)}位）" if len(rows) > len(shown) else ""
    return Chart(f"图{number} 各{word}{'万人发案率' if rated else '立案数'}{more}", charts.data_uri(png))


def _regions(ctx: _Context) -> Section:
    section = Section(f"各{TOWN_WORD}比较" if ctx.county else f"各{COUNTY_WORD}及{TOWN_WORD}比较")
    towns = ctx.figures["towns"] = _region_rows(ctx, "town")
    if not ctx.total:
        section.blocks.append(Paragraph(EMPTY))
        return section
    more = f"（共{len(towns)}个，列前{CHART_REGIONS}位）" if len(towns) > CHART_REGIONS else ""
    if ctx.county is not None:
        section.blocks += _region_paragraphs(towns, TOWN_WORD, ctx)
        section.blocks.append(_region_chart(towns, TOWN_WORD, 2))
        section.blocks.append(
            _region_table(towns, f"表3 各{TOWN_WORD}立案情况{more}", TOWN_WORD, ctx, county=False)
        )
        return section
    counties = ctx.figures["counties"] = _region_rows(ctx, "county")
    section.blocks.append(Heading(f"（一）各{COUNTY_WORD}"))
    section.blocks += _region_paragraphs(counties, COUNTY_WORD, ctx)
    section.blocks.append(_region_chart(counties, COUNTY_WORD, 2))
    section.blocks.append(
        _region_table(counties, f"表3 各{COUNTY_WORD}立案情况", COUNTY_WORD, ctx, county=False)
    )
    section.blocks.append(Heading(f"（二）各{TOWN_WORD}"))
    section.blocks += _region_paragraphs(towns, TOWN_WORD, ctx)
    section.blocks.append(
        _region_table(towns, f"表4 各{TOWN_WORD}立案情况{more}", TOWN_WORD, ctx, county=True)
    )
    return section


# --- 四、时间分布与趋势 ---------------------------------------------------------------------------


def _time(ctx: _Context) -> Section:
    section = Section("时间分布与趋势")
    by_month: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for month, n in (
        ctx.both.values_list("month").annotate(n=Count("pk")).values_list("month", "n").order_by()
    ):
        by_month[month.year][month.month] += n
    now = [by_month[ctx.year][m] for m in range(1, 13)]
    before = [by_month[ctx.year - 1][m] for m in range(1, 13)]
    hours = [0] * 24
    for hour, n in (
        ctx.now.values_list("occurred_hour").annotate(n=Count("pk")).values_list("occurred_hour", "n")
    ):
        if hour is not None and 0 <= hour < 24:
            hours[hour] += n
    ctx.figures["months"], ctx.figures["hours"] = {"now": now, "before": before}, hours
    if not ctx.total:
        section.blocks.append(Paragraph(EMPTY))
        return section
    months = ctx.end.month
    section.blocks.append(Heading("（一）月度趋势"))
    peaks = sorted(range(1, months + 1), key=lambda m: (-now[m - 1], m))[:3]
    text = (
        f"{ctx.year}年月均立案{ctx.total / months:.1f}件。立案较多的月份是"
        f"{_list([f'{m}月（{now[m - 1]}件）' for m in peaks])}；"
    )
    if months == 12:
        quarters = [sum(now[q * 3 : q * 3 + 3]) for q in range(4)]
        top = max(range(4), key=lambda q: quarters[q])
        text += f"分季度看，第{NUMERALS[top]}季度最多，占全年的{_pct(_share(quarters[top], ctx.total))}。"
    else:
        text += f"本年度数据截至{ctx.end.month}月{ctx.end.day}日。"
    if any(before):
        rising = sum(1 for m in range(months) if before[m] and now[m] > before[m])
        text += f"与上年同月相比，有{rising}个月份立案数上升。"
    section.blocks.append(Paragraph(text))
    series: dict[str, list[float | None]] = {
        f"{ctx.year}年": [float(now[m]) if m < months else None for m in range(12)],
        f"{ctx.year - 1}年": [float(v) for v in before],
    }
    png = charts.line([f"{m}月" for m in range(1, 13)], series, unit="件")
    section.blocks.append(Chart(f"图3 各月立案数（{ctx.year}年与{ctx.year - 1}年）", charts.data_uri(png)))
    section.blocks.append(Heading("（二）案发时段"))
    in3 = [hours[h] + hours[(h + 1) % 24] + hours[(h + 2) % 24] for h in range(24)]
    start = max(range(24), key=lambda h: (in3[h], -h))
    counted = sum(hours)
    night, day = sum(hours[h] for h in (22, 23, 0, 1, 2, 3, 4, 5)), sum(hours[8:18])
    section.blocks.append(
        Paragraph(
            f"按案发时间统计，{start}时至{(start + 3) % 24 or 24}时案发最为集中（{in3[start]}件，占"
            f"{_pct(_share(in3[start], counted))}）；白天（8时至18时）案发的占{_pct(_share(day, counted))}，"
            f"夜间（22时至次日6时）案发的占{_pct(_share(night, counted))}。"
        )
    )
    png = charts.bar([str(h) for h in range(24)], hours, unit="件", height=2.5, value_labels=False)
    section.blocks.append(Chart("图4 案发时段分布（时）", charts.data_uri(png)))
    return section


# --- 五、涉案人员 ---------------------------------------------------------------------------------


def _person_figures(persons: QuerySet[PersonFact], history: QuerySet[PersonFact]) -> dict[str, Any]:
    """Suspects of the period by gender and age band, and how many had an earlier case (any time,
    anywhere the user may see), in one aggregate query."""
    earlier = history.filter(person_key=OuterRef("person_key"), registered_on__lt=OuterRef("registered_on"))
    bands = {f"band{i}": Count("pk", filter=q) for i, (_, q) in enumerate(AGE_BANDS)}
    a = persons.annotate(earlier=Exists(earlier)).aggregate(
        total=Count("pk"),
        people=Count("person_key", distinct=True),
        male=Count("pk", filter=Q(gender="男")),
        female=Count("pk", filter=Q(gender="女")),
        repeat=Count("person_key", distinct=True, filter=Q(earlier=True)),
        **bands,
    )
    a["bands"] = [a.pop(f"band{i}") for i in range(len(AGE_BANDS))]
    return a


def _people(
    ctx: _Context, persons: QuerySet[PersonFact], before: QuerySet[PersonFact], history: QuerySet[PersonFact]
) -> Section:
    section = Section("涉案人员")
    n, b = _person_figures(persons, history), _person_figures(before, history)
    ctx.figures["persons"] = {"now": n, "before": b}
    if not n["total"]:
        section.blocks.append(Paragraph(EMPTY if not ctx.total else "本年度案件尚无犯罪嫌疑人信息。"))
        return section
    t, tb, last = n["total"], b["total"], ctx.last
    main = max(range(len(AGE_BANDS) - 1), key=lambda i: n["bands"][i])
    repeat = (_share(n["repeat"], n["people"]), _share(b["repeat"], b["people"]))

    def share(key: str, i: int | None = None) -> tuple[int, str, str]:
        now, then = (n[key], b[key]) if i is None else (n[key][i], b[key][i])
        return now, _pct(_share(now, t)), _pct(_share(then, tb))

    section.blocks.append(
        Paragraph(
            f"本年度立案案件涉及犯罪嫌疑人{t}人次（{n['people']}人），{_change_text(t, tb, last=last)}"
            f"（{last}{tb}人次）。其中男性{n['male']}人次，占{share('male')[1]}；女性{n['female']}人次，"
            f"占{share('female')[1]}。年龄以{AGE_BANDS[main][0]}为主（{n['bands'][main]}人次，占"
            f"{share('bands', main)[1]}）；未满18周岁的{n['bands'][0]}人次，占{share('bands', 0)[1]}"
            f"（{last}{share('bands', 0)[2]}）。"
        )
    )
    section.blocks.append(
        Paragraph(
            f"{n['people']}名犯罪嫌疑人中，{n['repeat']}人此前已有涉案记录，占{_pct(repeat[0])}"
            f"（{last}{_pct(repeat[1])}）。涉案记录以本平台所存案件为限。"
        )
    )
    rows = [
        [label, str(now), a, c] for label, (now, a, c) in (("男", share("male")), ("女", share("female")))
    ]
    rows += [[label, *map(str, share("bands", i))] for i, (label, _) in enumerate(AGE_BANDS)]
    rows.append(["此前有涉案记录", str(n["repeat"]), _pct(repeat[0]), _pct(repeat[1])])
    headers = ["类别", f"{ctx.year}年（人次）", "占比", f"{last}占比"]
    note = "“此前有涉案记录”按人数计，占比以涉案人数为分母。"
    section.blocks.append(Table("表5 犯罪嫌疑人构成", headers, rows, note=note))
    png = charts.donut([label for label, _ in AGE_BANDS], n["bands"], centre=f"{t}人次")
    section.blocks.append(Chart("图5 犯罪嫌疑人年龄构成", charts.data_uri(png), width_cm=11.5))
    return section


# --- 六、办案效率 ---------------------------------------------------------------------------------


def _medians(ctx: _Context) -> dict[str, tuple[float | None, float | None]]:
    """Median days of each step, this period and the comparison one, read off one-day bins (one
    GROUP BY of a few hundred rows per step, instead of sorting every case)."""
    current = SqlCase(When(ctx.now_q, then=Value(1)), default=Value(0), output_field=IntegerField())
    out = {}
    for name, _, _ in DURATIONS:
        bins: dict[int, dict[int, int]] = {0: {}, 1: {}}
        rows = (
            ctx.both.filter(**{f"{name}__isnull": False})
            .annotate(day=Floor(name), current=current)
            .values_list("current", "day")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for flag, day, n in rows:
            bins[int(flag)][int(day)] = n
        out[name] = (_median(bins[1]), _median(bins[0]))
    return out


def _median(bins: dict[int, int]) -> float | None:
    seen, half = 0, sum(bins.values()) / 2
    for day in sorted(bins):
        if seen + bins[day] >= half:
            return round(day + (half - seen) / bins[day], 1)
        seen += bins[day]
    return None


def _efficiency(ctx: _Context) -> Section:
    section = Section("办案效率")
    n, b, last = ctx.s_now, ctx.s_before, ctx.last
    medians = _medians(ctx)
    ctx.figures["durations"] = {
        name: {
            "mean": n[name],
            "median": medians[name][0],
            "mean_before": b[name],
            "median_before": medians[name][1],
        }
        for name, _, _ in DURATIONS
    }
    ctx.figures["on_time_rate"] = (n["on_time_rate"], b["on_time_rate"])
    ctx.figures["return_rate"] = (n["return_rate"], b["return_rate"])
    if not ctx.total:
        section.blocks.append(Paragraph(EMPTY))
        return section
    mean, mean_before = n["days_total"], b["days_total"]
    if mean is None:
        text = "本年度立案的案件尚无办结的，暂无法计算立案至办结用时。"
    else:
        text = (
            f"本年度已办结案件从立案至办结平均用时{mean:.1f}天{_months(mean)}，"
            f"中位数{_days(medians['days_total'][0])}天"
        )
        if mean_before is None:
            text += "。"
        elif abs(mean - mean_before) < 0.05:
            text += f"，与{last}基本持平。"
        else:
            verb, pct = "缩短" if mean < mean_before else "延长", abs(_change(mean, mean_before) or 0)
            text += (
                f"；{last}平均{mean_before:.1f}天{_months(mean_before)}，"
                f"{verb}{abs(mean - mean_before):.1f}天（{pct:.1f}%）。"
            )
    steps = [(short, n[name]) for name, short, _ in DURATIONS[:3] if n[name] is not None]
    if steps:
        longest = max(steps, key=lambda s: s[1])
        text += f"分环节看，{longest[0]}环节平均用时最长（{longest[1]:.1f}天）。"
    section.blocks.append(Paragraph(text))
    section.blocks.append(
        Paragraph(
            f"按期办结率为{_pct(n['on_time_rate'])}（{last}{_pct(b['on_time_rate'])}）；移送审查起诉的"
            f"{n['transferred']}件案件中，退回补充侦查的{n['returned']}件，退回补充侦查率{_pct(n['return_rate'])}"
            f"（{last}{_pct(b['return_rate'])}）。"
        )
    )
    rows = [
        [
            label,
            *(_days(v) for v in (n[name], medians[name][0], b[name], medians[name][1])),
            _signed(_change(n[name], b[name])),
        ]
        for name, _, label in DURATIONS
    ]
    for label, key in (("按期办结率", "on_time_rate"), ("退回补充侦查率", "return_rate")):
        rows.append([label, _pct(n[key]), "", _pct(b[key]), "", _points(n[key], b[key])])
    headers = ["环节", f"{ctx.year}年平均", "中位数", f"{last}平均", "中位数", "同比变化"]
    note = (
        "用时按已到达相应环节的案件计算；尚未办结的案件不计入，年末立案的案件多未办结，数字会随办结而变化。"
    )
    section.blocks.append(Table("表6 各环节用时（天）", headers, rows, note=note))
    series = {
        f"{ctx.year}年": [n[name] for name, _, _ in DURATIONS],
        last: [b[name] for name, _, _ in DURATIONS],
    }
    png = charts.bar([short for _, short, _ in DURATIONS], series, unit="天", decimals=1, height=2.7)
    section.blocks.append(Chart("图6 各环节平均用时", charts.data_uri(png), width_cm=13.5))
    return section


# --- 七、显著变化与研判建议 -----------------------------------------------------------------------


def _findings(ctx: _Context) -> Section:
    section = Section("显著变化与研判建议")
    if not ctx.total:
        section.blocks.append(Paragraph(EMPTY))
        return section
    items: list[str] = []
    n, b, last, f = ctx.s_now, ctx.s_before, ctx.last, ctx.figures
    change = _change(n["total"], b["total"])
    if change is not None and abs(change) >= 10:
        verb = "增至" if change > 0 else "降至"
        changed = _change_text(n["total"], b["total"], last=last)
        items.append(f"立案总数{changed}，由{b['total']}件{verb}{n['total']}件。")
    rising = [
        c
        for c in f["charges"]
        if c["now"] >= RISE_MIN_CASES and (not c["before"] or c["now"] > c["before"] * RISE_SHARE)
    ]
    rising.sort(key=lambda c: c["before"] - c["now"])
    for c in rising[:5]:
        if c["before"]:
            rise = _change(c["now"], c["before"])
            items.append(f"{c['charge']}立案{c['now']}件，较{last}（{c['before']}件）上升{rise:.1f}%。")
        else:
            items.append(f"{c['charge']}{last}无立案，本年度立案{c['now']}件。")
    falling = [
        c for c in f["charges"] if c["before"] >= RISE_MIN_CASES and c["now"] < c["before"] * FALL_SHARE
    ]
    if falling:
        falling.sort(key=lambda c: c["now"] - c["before"])
        parts = _list([f"{c['charge']}（{c['before']}件降至{c['now']}件）" for c in falling[:3]])
        items.append(f"下降明显的罪名有{parts}。")
    doubled = [r for r in f["towns"] if r["count"] >= DOUBLED_MIN_CASES and r["count"] >= 2 * r["previous"]]
    doubled.sort(key=lambda r: r["previous"] - r["count"])
    if doubled:
        parts = _list([f"{r['name']}（{r['previous']}件增至{r['count']}件）" for r in doubled[:5]])
        rated = "（万人发案率随之翻番）" if any(r["per_10k"] is not None for r in doubled) else ""
        items.append(f"立案数较{last}翻番{rated}的{TOWN_WORD}有{parts}。")
    days = f["durations"]["days_total"]
    days_change = _change(days["mean"], days["mean_before"])
    if days_change is not None and abs(days_change) >= 10:
        verb = "缩短" if days_change < 0 else "延长"
        items.append(
            f"立案至办结平均用时由{days['mean_before']:.1f}天{verb}至{days['mean']:.1f}天（{days_change:+.1f}%）。"
        )
    returned = f["return_rate"]
    if returned[0] is not None and returned[1] is not None and abs(returned[0] - returned[1]) >= 5:
        items.append(f"退回补充侦查率由{returned[1]:.1f}%变为{returned[0]:.1f}%（{_points(*returned)}）。")
    p = f["persons"]
    minors = (
        _share(p["now"]["bands"][0], p["now"]["total"]),
        _share(p["before"]["bands"][0], p["before"]["total"]),
    )
    if minors[0] is not None and minors[1] is not None and abs(minors[0] - minors[1]) >= 1:
        items.append(f"未成年犯罪嫌疑人占比由{minors[1]:.1f}%变为{minors[0]:.1f}%（{_points(*minors)}）。")
    section.blocks.append(Heading("（一）显著变化"))
    section.blocks.append(
        Bullets(items) if items else Paragraph(f"本年度各项主要指标与{last}相比无显著变化。")
    )
    hints = []
    if rising:
        names = _list([c["charge"] for c in rising[:5]])
        hints.append(f"上升较快的罪名（{names}），可结合案情和发案地点分析成因与趋势。")
    if doubled:
        hints.append(f"立案数翻番的{_list([r['name'] for r in doubled[:5]])}，可会同属地核实变化原因。")
    if top := [r["name"] for r in f["towns"] if r["per_10k"] is not None][:3]:
        hints.append(f"万人发案率较高的{_list(top)}，可作为辖区治安研判的重点地区。")
    if days_change is not None and days_change >= 10:
        hints.append(f"办案用时较{last}延长，可对照各环节用时查找延长集中的环节。")
    hints.append("以上均为平台数据的统计结果，成因须结合具体案件和实地情况研判。")
    section.blocks += [Heading("（二）研判提示"), Bullets(hints)]
    return section


# --- 说明 -----------------------------------------------------------------------------------------


def _notes(ctx: _Context) -> Section:
    compared = "同期" if ctx.last == "上年同期" else "全年"
    items = [
        "本报告由协同办案平台根据案件办理记录自动生成，数据来自平台案件事实层，以立案日期确定案件所属年度。",
        f"统计期间为{ctx.year}年1月1日至{ctx.end.month}月{ctx.end.day}日；"
        f"“{ctx.last}”指{ctx.year - 1}年{compared}。",
        "办结包括有罪判决、无罪判决、不起诉和撤销案件；有罪判决率、无罪判决率以已宣判案件为分母，"
        "不起诉率以作出起诉或不起诉决定的案件为分母。",
        "万人发案率为立案数除以统计部门公布的常住人口（缺当年数据时取最近年份）再乘以一万。",
        "涉案金额取自案情中载明的金额，未载明金额的案件不计入。",
    ]
    return Section("说明", [Bullets(items)])
