"""机器预审: likely defects found in a case's data before a person reviews it (F16).

Each check is a pure function over plain facts of the case (its acts from the ledger, instruments,
pages with their scan-quality flags and OCR text, clocks). They only suggest: the reviewer confirms a
suggestion (it becomes a defect) or dismisses it. What is checked:

- an act that issues an instrument (procedure table, ``cases.procedure``) with no such instrument, or
  one never sealed (刑诉法第3条第2款: acts follow the legal procedure and its instruments);
- pages flagged blank/dark/skewed/unreadable when the volume was rendered (``dossier.render``);
- a 讯问/询问笔录 whose text shows no signature (刑诉法第122条) — a heuristic on the OCR text;
- an instrument dated before the act it records, or after it was sealed (刑诉法第53条);
- a case returned for supplementary investigation twice (刑诉法第175条: 以二次为限);
- a statutory limit that ran out before the clock was stopped, or is running past its end.

No Django import: the caller gathers the facts (``quality.services.prescreen_facts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from xietong.quality.standards import Severity

SCAN_FLAGS = {"blank": "空白页", "dark": "过暗", "skewed": "歪斜", "unreadable": "模糊或对比度低"}
RECORD_KINDS = ("讯问笔录", "询问笔录")
# Words a signed record carries at its end (被讯问人签名、捺印、"以上笔录我看过，和我说的相符").
SIGN_MARKERS = ("签名", "签字", "捺印", "指印", "以上笔录我看过", "和我说的相符", "与我说的相符")


@dataclass(frozen=True)
class Act:
    code: str
    label: str
    day: date  # the server's day of the act (Asia/Shanghai)


@dataclass(frozen=True)
class InstrumentFact:
    id: int
    kind: str
    action: str
    status: str
    claimed_date: date | None
    sealed_day: date | None


@dataclass(frozen=True)
class PageFact:
    id: int
    volume: int
    number: int
    quality: tuple[str, ...] = ()
    text: str = ""
    ocr_done: bool = False
    document: str = ""  # title of the catalogue entry the page is in
    document_kind: str = ""


@dataclass(frozen=True)
class ClockFact:
    id: int
    label: str
    due_at: datetime
    stopped_at: datetime | None


@dataclass
class CaseFacts:
    stage: str
    supplementary_count: int
    acts: list[Act] = field(default_factory=list)
    instruments: list[InstrumentFact] = field(default_factory=list)
    pages: list[PageFact] = field(default_factory=list)
    clocks: list[ClockFact] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    """One finding. ``key`` is stable across runs, so a re-run neither repeats a finding nor brings
    back one the reviewer dismissed."""

    key: str
    topic: str
    severity: Severity
    message: str
    page_id: int | None = None
    instrument_id: int | None = None


SEALED = {"sealed", "revoked", "superseded"}


def missing_instruments(facts: CaseFacts, issues: Mapping[str, str]) -> list[Suggestion]:
    """``issues``: act code → the instrument it issues (from the procedure table)."""
    out: list[Suggestion] = []
    seen: set[str] = set()
    for act in facts.acts:
        kind = issues.get(act.code)
        if not kind or act.code in seen:
            continue
        seen.add(act.code)
        own = [i for i in facts.instruments if i.action == act.code or (not i.action and i.kind == kind)]
        if not own:
            out.append(
                Suggestion(
                    key=f"instrument-missing:{act.code}",
                    topic="instrument",
                    severity=Severity.ERROR,
                    message=f"已办理「{act.label}」（{act.day:%Y-%m-%d}），卷内未见《{kind}》",
                )
            )
        elif not any(i.status in SEALED for i in own):
            first = own[0]
            out.append(
                Suggestion(
                    key=f"instrument-unsealed:{act.code}",
                    topic="instrument",
                    severity=Severity.IRREGULAR,
                    message=f"「{act.label}」的《{kind}》未签发盖章（当前：{_status_label(first.status)}）",
                    instrument_id=first.id,
                )
            )
    return out


def _status_label(status: str) -> str:
    return {
        "draft": "草稿",
        "submitted": "待签发",
        "approved": "已签发未盖章",
        "sealing": "盖章中",
    }.get(status, status)


def page_flags(facts: CaseFacts) -> list[Suggestion]:
    out = []
    for page in facts.pages:
        flags = [SCAN_FLAGS[f] for f in page.quality if f in SCAN_FLAGS]
        if not flags:
            continue
        blank = "blank" in page.quality
        out.append(
            Suggestion(
                key=f"page:{page.id}",
                topic="scan",
                severity=Severity.IRREGULAR if blank else Severity.FLAW,
                message=f"第{page.volume}卷第{page.number}页{('、'.join(flags))}",
                page_id=page.id,
            )
        )
    return out


def _record_kind(page: PageFact) -> str:
    if page.document_kind in RECORD_KINDS:
        return page.document_kind
    head = page.text.strip()[:20]
    return next((k for k in RECORD_KINDS if k in head), "")


def unsigned_records(facts: CaseFacts) -> list[Suggestion]:
    """A record is a page headed 讯问笔录/询问笔录 (or in a catalogue entry of that kind) with the
    pages after it in the same catalogue entry; it is unsigned when none of its recognised pages
    carries a signature marker."""
    out = []
    records: list[list[PageFact]] = []
    for page in sorted(facts.pages, key=lambda p: (p.volume, p.number)):
        last = records[-1][-1] if records else None
        same_document = (
            last is not None
            and bool(page.document)
            and page.document == last.document
            and (page.volume, page.number - 1) == (last.volume, last.number)
        )
        if same_document:
            records[-1].append(page)
        elif _record_kind(page):
            records.append([page])
    for record in records:
        if not any(p.ocr_done for p in record):
            continue  # nothing recognised yet: no grounds to suggest anything
        if any(m in p.text for p in record for m in SIGN_MARKERS):
            continue
        first, last_page = record[0], record[-1]
        kind = _record_kind(first)
        span = f"第{first.number}页" if first is last_page else f"第{first.number}—{last_page.number}页"
        out.append(
            Suggestion(
                key=f"unsigned:{first.id}",
                topic="signature",
                severity=Severity.IRREGULAR,
                message=f"第{first.volume}卷{span}《{first.document or kind}》未见被讯问（询问）人签名、捺印",
                page_id=last_page.id,
            )
        )
    return out


def date_conflicts(facts: CaseFacts) -> list[Suggestion]:
    out = []
    first_act: dict[str, Act] = {}
    for act in facts.acts:
        first_act.setdefault(act.code, act)
    for instrument in facts.instruments:
        claimed = instrument.claimed_date
        if claimed is None:
            continue
        basis = first_act.get(instrument.action)
        if basis is not None and claimed < basis.day:
            out.append(
                Suggestion(
                    key=f"date-before-act:{instrument.id}",
                    topic="date",
                    severity=Severity.ERROR,
                    message=(
                        f"《{instrument.kind}》落款日期 {claimed:%Y-%m-%d} 早于其所依据的"
                        f"「{basis.label}」（{basis.day:%Y-%m-%d}）"
                    ),
                    instrument_id=instrument.id,
                )
            )
        if instrument.sealed_day is not None and claimed > instrument.sealed_day:
            out.append(
                Suggestion(
                    key=f"date-after-seal:{instrument.id}",
                    topic="date",
                    severity=Severity.IRREGULAR,
                    message=(
                        f"《{instrument.kind}》落款日期 {claimed:%Y-%m-%d} 晚于盖章日期"
                        f" {instrument.sealed_day:%Y-%m-%d}"
                    ),
                    instrument_id=instrument.id,
                )
            )
    return out


def supplementary(facts: CaseFacts) -> list[Suggestion]:
    if facts.supplementary_count < 2:
        return []
    return [
        Suggestion(
            key="supplementary",
            topic="supplementary",
            severity=Severity.FLAW,
            message=(
                f"本案退回补充侦查 {facts.supplementary_count} 次（刑事诉讼法第175条：以二次为限），"
                "请审查每次退补的必要性"
            ),
        )
    ]


def overdue_clocks(facts: CaseFacts, now: datetime) -> list[Suggestion]:
    out = []
    for clock in sorted(facts.clocks, key=lambda c: c.due_at):
        end = clock.stopped_at or now
        if end <= clock.due_at:
            continue
        days = (end - clock.due_at).days
        late = (
            f"{days} 日" if days >= 1 else f"{max(1, int((end - clock.due_at).total_seconds() // 3600))} 小时"
        )
        what = "办结时已超期" if clock.stopped_at else "仍在计时且已超期"
        out.append(
            Suggestion(
                key=f"clock:{clock.id}",
                topic="deadline",
                severity=Severity.ERROR,
                message=f"「{clock.label}」{what} {late}（届满 {clock.due_at:%Y-%m-%d %H:%M}）",
            )
        )
    return out


def prescreen(facts: CaseFacts, *, issues: Mapping[str, str], now: datetime) -> list[Suggestion]:
    """Every suggestion for the case, in the order a reviewer reads a file."""
    return [
        *missing_instruments(facts, issues),
        *date_conflicts(facts),
        *supplementary(facts),
        *overdue_clocks(facts, now),
        *page_flags(facts),
        *unsigned_records(facts),
    ]
