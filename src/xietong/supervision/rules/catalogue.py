"""The abnormal-practice rules in force (F14): 互借办案时间, 送达文书不及时, 时间倒签, 随意撤回修改,
超期羁押 and overdue clocks. Each is a pure function of one case's history; each cites the norm it
enforces. To add a rule, write a function here (or in a module listed in ``RULE_MODULES``) under
``@rule``; the engine needs no change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from xietong.cases.deadlines import PARTY_PERIODS, RULES
from xietong.cases.procedure import ACTIONS
from xietong.instruments.catalogue import KINDS
from xietong.supervision.rules.base import CaseHistory, ClockRow, Entry, Finding, rule

# A return for supplementary investigation answered this fast with nothing new in the file is a
# review period restarted on paper (补充侦查 has a month, 刑诉法第175条第3款; a real one takes weeks).
HOLLOW_RESUBMIT_DAYS = 7
# Actions that put something new into the file between a return and the resubmission.
NEW_MATERIAL = frozenset({"volume_upload", "evidence_upload", "catalogue_revise", "instrument_source"})
# Clocks a service of an instrument stops (拘留通知书 24 小时, 判决书 5 日, 执行通知书 10 日, ...).
SERVICE_TITLES = {k.service_rule: k.title for k in KINDS.values() if k.service_rule}
SERVICE_RULES = frozenset(SERVICE_TITLES)
# Limits that bound a deprivation of liberty whatever the suspect's custody flag says.
CUSTODY_LIMITS = frozenset(
    {
        "detention_to_jail", "arrest_request", "arrest_request_extended", "arrest_request_roaming",
        "arrest_review_detained", "investigation_custody", "investigation_custody_ext1",
        "investigation_custody_ext2", "investigation_custody_ext3",
    }
)  # fmt: skip
# A stage's limit is the limit of the suspect's custody while he is held (审查起诉, 一审, 二审 of a
# detained defendant, 刑诉法第156条起); duties within 24 hours (讯问, 通知) are not custody limits.
STAGE_LIMITS = (
    "prosecution_review", "supplementary_investigation", "first_instance", "summary_trial",
    "fast_track_trial", "second_instance",
)  # fmt: skip


def is_custody_limit(clock: ClockRow) -> bool:
    return clock.rule in CUSTODY_LIMITS or (clock.in_custody and clock.rule.startswith(STAGE_LIMITS))


# An act (or the accept of a file) that a later instrument's date may not precede.
PROCEDURAL = frozenset(ACTIONS) | {"accept"}


def _key(code: str, history: CaseHistory, entry: Entry) -> str:
    return f"{code}:{history.case_id}:{entry.seq}"


def _at(history: CaseHistory, entry: Entry) -> str:
    return f"{history.local(entry.recorded_at):%Y-%m-%d %H:%M}"


def _evidence(history: CaseHistory, *entries: Entry, **extra: object) -> dict[str, object]:
    return {
        "entries": [
            {
                "seq": e.seq,
                "action": e.action,
                "label": e.payload.get("label", e.action),
                "at": _at(history, e),
            }
            for e in entries
        ],
        **extra,
    }


# --- 互借办案时间 ----------------------------------------------------------------------------------


@rule(
    code="supplementary.third",
    kind="time_borrowing",
    severity="serious",
    title="第三次退回补充侦查",
    norm="刑诉法第175条第3款：补充侦查以二次为限",
    reads={"return_for_supplementary"},
)
def third_return(history: CaseHistory) -> Iterator[Finding]:
    returns = history.of("return_for_supplementary")
    for n, entry in enumerate(returns[2:], start=3):
        yield Finding(
            key=_key("supplementary.third", history, entry),
            message=f"{history.number} 第{n}次退回补充侦查，超过法定的二次",
            unit_id=entry.unit_id,
            user_id=entry.actor_id,
            evidence=_evidence(history, *returns[:n]),
        )


@rule(
    code="supplementary.hollow",
    kind="time_borrowing",
    severity="warning",
    title="退回补充侦查后未补充材料即重新移送",
    norm="刑诉法第175条第3款；高检规则第346条：补充侦查完毕重新移送后，审查起诉期限重新计算",
    reads={"return_for_supplementary", "resubmit"} | NEW_MATERIAL,
)
def hollow_resubmission(history: CaseHistory) -> Iterator[Finding]:
    returned: Entry | None = None
    material = False
    for entry in history.entries:
        if entry.action == "return_for_supplementary":
            returned, material = entry, False
        elif entry.action in NEW_MATERIAL:
            material = True
        elif entry.action == "resubmit" and returned is not None:
            days = (entry.recorded_at - returned.recorded_at).total_seconds() / 86400
            if not material and days < HOLLOW_RESUBMIT_DAYS:
                yield Finding(
                    key=_key("supplementary.hollow", history, entry),
                    message=(
                        f"{history.number} 退回补充侦查 {days:.1f} 日后即重新移送，其间未补充任何证据材料，"
                        "审查起诉期限却因此重新计算"
                    ),
                    unit_id=entry.unit_id,
                    user_id=entry.actor_id,
                    evidence=_evidence(history, returned, entry, days=round(days, 1)),
                )
            returned = None


@rule(
    code="extension.unapproved",
    kind="time_borrowing",
    severity="serious",
    title="延长羁押期限无批准或无决定书",
    norm="刑诉法第156条；高检规则第313条：延长侦查羁押期限须经上一级人民检察院批准并制作决定书",
    reads={"extend_custody"},
)
def unapproved_extension(history: CaseHistory) -> Iterator[Finding]:
    for entry in history.of("extend_custody"):
        missing = [
            what
            for what, present in (
                ("批准人", entry.payload.get("approved_by")),
                ("决定书", entry.payload.get("instrument")),
            )
            if not present
        ]
        if missing:
            yield Finding(
                key=_key("extension.unapproved", history, entry),
                message=f"{history.number} 延长侦查羁押期限没有{'和'.join(missing)}",
                unit_id=entry.unit_id,
                user_id=entry.actor_id,
                evidence=_evidence(history, entry, missing=missing),
            )


# --- 时间倒签 ---------------------------------------------------------------------------------------


def _label(entry: Entry) -> str:
    return str(entry.payload.get("label", entry.action))


# A claimed date in a payload's text: ``"claimed_date": "2026-…"`` at any depth (a null or a missing
# one does not match). Only a claimed date can make a finding of ``backdated``, and most histories
# have none: looking for it in the text spares parsing every payload (a re-evaluation reads ten
# million); a history that has one is read exactly as before.
_CLAIMED_TEXT = re.compile(r'"claimed_date"\s*:\s*"')


def _claimed(entry: Entry) -> date | None:
    text = entry.payload.get("claimed_date") or (entry.payload.get("instrument") or {}).get("claimed_date")
    try:
        return date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


@rule(
    code="backdate.claimed",
    kind="backdate",
    severity="warning",
    title="文书落款日期早于实际办理日期",
    norm="《法律文书格式》：落款日期为签发之日；平台以服务器时间为准（刑诉法第105条期间计算）",
    reads=PROCEDURAL | {"instrument_seal"},
)
def backdated(history: CaseHistory) -> Iterator[Finding]:
    """A claimed date earlier than the server's date of the act; serious when it is even earlier
    than the act it depends on (the act that made the instrument, or the act before)."""
    if not any(_CLAIMED_TEXT.search(e.payload_text) for e in history.entries if e.payload_text):
        return
    last_act: Entry | None = None
    made_by: dict[int, Entry] = {}  # instrument id -> the act that issued it
    for entry in history.entries:
        claimed = _claimed(entry)
        instrument = entry.payload.get("instrument") or {}
        before = made_by.get(instrument.get("id", -1)) if entry.action == "instrument_seal" else last_act
        if claimed is not None:
            server_day = history.local_date(entry.recorded_at)
            depends_day = history.local_date(before.recorded_at) if before else None
            if depends_day is not None and claimed < depends_day:
                yield Finding(
                    key=_key("backdate.claimed", history, entry),
                    message=(
                        f"{history.number} {_label(entry)}落款 {claimed:%Y-%m-%d}，"
                        f"早于其所依据的「{before.payload.get('label', before.action) if before else ''}」"
                        f"（{depends_day:%Y-%m-%d}）"
                    ),
                    unit_id=entry.unit_id,
                    user_id=entry.actor_id,
                    evidence=_evidence(
                        history, *(e for e in (before, entry) if e), claimed=claimed.isoformat()
                    ),
                    severity="serious",
                )
            elif claimed < server_day:
                yield Finding(
                    key=_key("backdate.claimed", history, entry),
                    message=(
                        f"{history.number} {_label(entry)}落款 {claimed:%Y-%m-%d}，"
                        f"实际办理于 {server_day:%Y-%m-%d}，倒签 {(server_day - claimed).days} 日"
                    ),
                    unit_id=entry.unit_id,
                    user_id=entry.actor_id,
                    evidence=_evidence(history, entry, claimed=claimed.isoformat()),
                )
        if entry.action in PROCEDURAL:
            last_act = entry
            if instrument.get("id") is not None:
                made_by[instrument["id"]] = entry


# --- 随意撤回修改 -----------------------------------------------------------------------------------


@rule(
    code="instrument.changed",
    kind="instrument_changed",
    severity="notice",
    title="已盖章文书被撤回或更正",
    norm="《人民检察院刑事诉讼规则》《公安机关办理刑事案件程序规定》：法律文书送达后确有错误的，经批准撤销、更正",
    reads={"instrument_change_request", "instrument_change_decide"},
)
def changed_instrument(history: CaseHistory) -> Iterator[Finding]:
    """Each approved 撤回/更正 of a sealed instrument, attributed to the one who asked for it (the
    counts per unit and handler are in the oversight page)."""
    asked: dict[int, Entry] = {}
    for entry in history.of("instrument_change_request", "instrument_change_decide"):
        instrument = entry.payload.get("instrument") or {}
        if entry.action == "instrument_change_request":
            asked[instrument.get("id", -1)] = entry
        elif entry.action == "instrument_change_decide" and entry.payload.get("approved"):
            request = asked.get(instrument.get("id", -1))
            what = "撤回" if entry.payload.get("change") == "withdraw" else "更正"
            yield Finding(
                key=_key("instrument.changed", history, entry),
                message=(
                    f"{history.number} 已盖章的《{instrument.get('kind', '')}》"
                    f"{instrument.get('number') or ''}被{what}："
                    f"{entry.payload.get('reason', '')}"
                ),
                unit_id=(request or entry).unit_id,
                user_id=request.actor_id if request else entry.actor_id,
                evidence=_evidence(history, *(e for e in (request, entry) if e), change=what),
            )


# --- 期限 ------------------------------------------------------------------------------------------


def _late(clock: ClockRow, history: CaseHistory) -> float | None:
    """Hours past the limit, or None when the clock is (or was stopped) in time."""
    end = clock.stopped_at if clock.status != "running" else history.now
    if end is None or end <= clock.due_at:
        return None
    return (end - clock.due_at).total_seconds() / 3600


def _clock_finding(history: CaseHistory, clock: ClockRow, hours: float, what: str) -> Finding:
    spec = RULES.get(clock.rule)
    label = spec.label if spec else clock.rule
    late = f"{hours:.0f} 小时" if hours < 48 else f"{hours / 24:.0f} 日"
    state = "至今未办理" if clock.status == "running" else "超期后才办理"
    due = history.local(clock.due_at)
    return Finding(
        key=f"clock:{clock.id}",  # the same key as the service sweep's: one alert per clock
        message=f"{history.number} {label}{what}：{due:%Y-%m-%d %H:%M} 届满，{state}，已超过 {late}",
        unit_id=clock.unit_id,
        evidence={
            "clock": clock.id,
            "rule": clock.rule,
            "articles": list(spec.articles) if spec else [],
            "due_at": clock.due_at.isoformat(),
            "stopped_at": clock.stopped_at.isoformat() if clock.stopped_at else None,
            "party": clock.party_id,
            "hours_late": round(hours, 1),
        },
    )


@rule(
    code="service.late",
    kind="service_overdue",
    severity="warning",
    title="送达文书不及时",
    norm="刑诉法第83条、第93条（拘留、逮捕后24小时内通知）、第202条（判决书5日内送达）、第264条（执行通知书10日内）",
    clocks=True,
)
def late_service(history: CaseHistory) -> Iterator[Finding]:
    for clock in history.clocks:
        if clock.rule in SERVICE_RULES and (hours := _late(clock, history)) is not None:
            yield _clock_finding(history, clock, hours, f"（{SERVICE_TITLES[clock.rule]}送达）")


@rule(
    code="custody.overdue",
    kind="custody_overdue",
    severity="serious",
    title="超期羁押",
    norm="刑诉法第91条、第156条至第159条；最高检、最高法、公安部《关于严格执行刑事诉讼法，切实纠防超期羁押的通知》",
    clocks=True,
)
def custody_overdue(history: CaseHistory) -> Iterator[Finding]:
    for clock in history.clocks:
        if clock.rule in SERVICE_RULES or clock.rule in PARTY_PERIODS:
            continue
        if is_custody_limit(clock) and (hours := _late(clock, history)) is not None:
            yield _clock_finding(history, clock, hours, "" if clock.rule in CUSTODY_LIMITS else "（在押）")


@rule(
    code="clock.overdue",
    kind="clock_overdue",
    severity="warning",
    title="办案期限超期",
    norm="刑诉法第172条（审查起诉）、第208条（一审）、第243条（二审）等办案期限",
    clocks=True,
)
def clock_overdue(history: CaseHistory) -> Iterator[Finding]:
    for clock in history.clocks:
        if clock.rule in SERVICE_RULES or clock.rule in PARTY_PERIODS:
            continue
        if not is_custody_limit(clock) and (hours := _late(clock, history)) is not None:
            yield _clock_finding(history, clock, hours, "")
