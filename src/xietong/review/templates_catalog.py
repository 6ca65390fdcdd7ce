"""Report templates: the sections of each kind of report as procuratorial practice lays them out, and
their first draft written from the case's own data (parties and custody, charge, what happened when).
Pure (no Django): the services collect the facts into ``CaseFacts`` and call ``prefill``.

Sources for the layout: the 最高人民检察院 forms 《审查逮捕意见书》 (审查逮捕案件审查报告) and
《公诉案件审查报告》 as used in 检察业务应用系统: a head paragraph on how the case came and was
examined, then numbered parts 一、二、三…; a placeholder in （请填写：……） marks what only the
prosecutor can write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from xietong.review.document import FORMAT


class Kind(StrEnum):
    ARREST_REVIEW = "arrest_review"
    PROSECUTION_REVIEW = "prosecution_review"
    BLANK = "blank"


KIND_LABELS: dict[Kind, str] = {
    Kind.ARREST_REVIEW: "审查逮捕意见书",
    Kind.PROSECUTION_REVIEW: "审查起诉审查报告",
    Kind.BLANK: "空白报告",
}

# (key, title). The keys stay stable so that code (and tests) can find a part whatever its title.
SECTIONS: dict[Kind, list[tuple[str, str]]] = {
    Kind.ARREST_REVIEW: [
        ("intake", "受案和审查经过"),
        ("suspects", "一、犯罪嫌疑人基本情况"),
        ("history", "二、发破案经过"),
        ("facts", "三、审查认定的事实"),
        ("evidence", "四、证据情况"),
        ("issues", "五、需要说明的问题"),
        ("opinion", "六、审查意见"),
    ],
    Kind.PROSECUTION_REVIEW: [
        ("intake", "受案和审查经过"),
        ("suspects", "一、犯罪嫌疑人基本情况"),
        ("history", "二、发破案经过及诉讼过程"),
        ("police_view", "三、侦查机关认定的犯罪事实与意见"),
        ("facts", "四、审查认定的事实及证据"),
        ("plea", "五、认罪认罚情况"),
        ("issues", "六、需要说明的问题"),
        ("sentencing", "七、量刑建议"),
        ("opinion", "八、审查意见"),
    ],
    Kind.BLANK: [("body", "")],
}

# The section a quotation goes to when the writer has not put the cursor anywhere yet.
QUOTE_SECTION = {Kind.ARREST_REVIEW: "evidence", Kind.PROSECUTION_REVIEW: "facts", Kind.BLANK: "body"}

CUSTODY_PHRASES = {
    "detained": "被刑事拘留",
    "arrested": "被逮捕",
    "bail": "被取保候审",
    "surveillance": "被监视居住",
    "released": "被释放",
    "serving": "被交付执行",
}


@dataclass(frozen=True)
class PartyFacts:
    name: str
    gender: str
    birth_date: date | None = None
    id_number: str = ""
    address: str = ""
    custody: str = "none"  # cases.procedure.Custody value
    custody_since: date | None = None


@dataclass(frozen=True)
class EventFacts:
    """One act of the case's timeline (ledger), with its local date."""

    day: date
    action: str
    label: str
    unit: str
    instrument: str = ""  # "立案决定书（姑苏公立字〔2026〕1号）"
    parties: tuple[str, ...] = ()


@dataclass(frozen=True)
class VolumeFacts:
    number: int
    title: str
    pages: int


@dataclass(frozen=True)
class CaseFacts:
    number: str
    title: str
    charge: str
    facts: str
    occurred_on: date | None
    place: str
    police_unit: str
    reviewing_unit: str  # the unit writing the report
    author: str
    plea: bool = False
    fast_track: bool = False
    parties: tuple[PartyFacts, ...] = ()
    events: tuple[EventFacts, ...] = field(default_factory=tuple)
    volumes: tuple[VolumeFacts, ...] = ()


def day_text(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def names(facts: CaseFacts) -> str:
    return "、".join(p.name for p in facts.parties) or "（犯罪嫌疑人）"


def report_title(kind: Kind, facts: CaseFacts) -> str:
    if kind == Kind.BLANK:
        return f"关于{facts.title}的报告"
    return f"{facts.title}{KIND_LABELS[kind]}"


def party_paragraph(party: PartyFacts, charge: str) -> str:
    """犯罪嫌疑人张某，男，1990年1月1日出生，身份证号码……，住……。2026年4月1日因涉嫌盗窃罪被刑事拘留。"""
    parts = [f"犯罪嫌疑人{party.name}", party.gender]
    if party.birth_date:
        parts.append(f"{day_text(party.birth_date)}出生")
    if party.id_number:
        parts.append(f"身份证号码{party.id_number}")
    if party.address:
        parts.append(f"住{party.address}")
    text = "，".join(p for p in parts if p) + "。"
    phrase = CUSTODY_PHRASES.get(party.custody)
    if phrase is None:
        return text + "未采取强制措施。"
    since = day_text(party.custody_since)
    cause = f"因涉嫌{charge}" if party.custody in {"detained", "arrested", "bail", "surveillance"} else ""
    return text + f"{since}{cause}{phrase}。"


def event_paragraph(event: EventFacts) -> str:
    who = f"（{'、'.join(event.parties)}）" if event.parties else ""
    paper = f"，{event.instrument}" if event.instrument else ""
    return f"{day_text(event.day)}，{event.unit}{event.label}{who}{paper}。"


def _last(events: tuple[EventFacts, ...], action: str) -> EventFacts | None:
    found = [e for e in events if e.action == action]
    return found[-1] if found else None


def _received_after(events: tuple[EventFacts, ...], sent: EventFacts | None) -> EventFacts | None:
    if sent is None:
        return None
    later = [e for e in events if e.action == "accept" and e.day >= sent.day]
    return later[-1] if later else None


def _intake(kind: Kind, facts: CaseFacts) -> str:
    who = names(facts)
    if kind == Kind.ARREST_REVIEW:
        sent = _last(facts.events, "request_arrest")
        verb = "提请批准逮捕"
    else:
        sent = _last(facts.events, "transfer_for_prosecution") or _last(facts.events, "resubmit")
        verb = "移送审查起诉"
    got = _received_after(facts.events, sent)
    sender = sent.unit if sent else facts.police_unit
    when = f"于{day_text(sent.day)}" if sent else ""
    received = f"，本院于{day_text(got.day)}收到" if got else ""
    head = f"犯罪嫌疑人{who}涉嫌{facts.charge}一案，由{sender}{when}{verb}{received}。"
    if kind == Kind.ARREST_REVIEW:
        return head + "承办人依法审查了全部案卷材料，讯问了犯罪嫌疑人，现将审查情况报告如下："
    return (
        head + "本院依法告知了犯罪嫌疑人有权委托辩护人和认罪认罚的法律规定，讯问了犯罪嫌疑人，"
        "审查了全部案件材料，现已审查终结，报告如下："
    )


def _history(facts: CaseFacts) -> list[str]:
    out = []
    when = day_text(facts.occurred_on)
    if when or facts.place:
        out.append(f"案发时间：{when or '不详'}；案发地点：{facts.place or '不详'}。")
    out.extend(event_paragraph(e) for e in facts.events)
    return out or ["（请填写：案件来源、立案、破案经过。）"]


def _volumes(facts: CaseFacts) -> str:
    if not facts.volumes:
        return "本案尚无电子卷宗。"
    listed = "；".join(f"第{v.number}卷《{v.title}》{v.pages}页" for v in facts.volumes)
    return f"本案电子卷宗共{len(facts.volumes)}卷：{listed}。"


def _body(kind: Kind, facts: CaseFacts) -> dict[str, list[str]]:
    who = names(facts)
    signed = f"承办人：{facts.author}"
    suspects = [party_paragraph(p, facts.charge) for p in facts.parties] or ["（请填写犯罪嫌疑人基本情况。）"]
    if kind == Kind.ARREST_REVIEW:
        return {
            "intake": [_intake(kind, facts)],
            "suspects": suspects,
            "history": _history(facts),
            "facts": [
                f"侦查机关认定：{facts.facts}",
                "经审查认定：（请填写：根据证据审查认定的犯罪事实，包括时间、地点、手段、后果。）",
            ],
            "evidence": ["认定上述事实的证据如下：", _volumes(facts)],
            "issues": [
                "（请填写：社会危险性、羁押必要性、管辖、侦查活动是否合法等需要说明的问题。）",
                *([f"犯罪嫌疑人{who}表示自愿认罪认罚。"] if facts.plea else []),
            ],
            "opinion": [
                f"综上，现有证据证明犯罪嫌疑人{who}涉嫌{facts.charge}，可能判处徒刑以上刑罚，"
                "采取取保候审尚不足以防止发生社会危险性，依照《中华人民共和国刑事诉讼法》第八十一条的规定，"
                f"建议对犯罪嫌疑人{who}（批准逮捕／不批准逮捕）。",
                signed,
            ],
        }
    if kind == Kind.PROSECUTION_REVIEW:
        return {
            "intake": [_intake(kind, facts)],
            "suspects": suspects,
            "history": _history(facts),
            "police_view": [
                f"侦查机关认定：{facts.facts}",
                f"侦查机关认为，犯罪嫌疑人{who}的行为已涉嫌{facts.charge}，移送本院审查起诉。",
            ],
            "facts": [
                "经依法审查查明：（请填写审查认定的犯罪事实。）",
                "认定上述事实的证据如下：",
                _volumes(facts),
            ],
            "plea": [
                f"犯罪嫌疑人{who}自愿如实供述自己的罪行，承认指控的犯罪事实，愿意接受处罚。"
                "（请核实是否已签署认罪认罚具结书。）"
                if facts.plea
                else f"犯罪嫌疑人{who}未表示认罪认罚。"
            ],
            "issues": ["（请填写：证据存在的问题、辩护人意见、被害人意见等需要说明的问题。）"],
            "sentencing": [
                "根据犯罪嫌疑人的犯罪事实、性质、情节和对社会的危害程度，建议判处"
                "（请填写：主刑、刑期、附加刑，是否适用缓刑）。",
                *(["本案建议适用速裁程序审理。"] if facts.fast_track else []),
            ],
            "opinion": [
                f"综上，犯罪嫌疑人{who}的行为触犯了《中华人民共和国刑法》第（　）条，犯罪事实清楚，"
                f"证据确实、充分，应当以{facts.charge}追究其刑事责任。依照《中华人民共和国刑事诉讼法》"
                "第一百七十六条的规定，建议提起公诉。",
                signed,
            ],
        }
    return {"body": [""]}


def prefill(kind: Kind, facts: CaseFacts) -> dict[str, Any]:
    """The first version of a new report of ``kind`` for the case described by ``facts``."""
    texts = _body(kind, facts)
    return {
        "format": FORMAT,
        "title": report_title(kind, facts),
        "sections": [
            {"key": key, "title": title, "blocks": [{"type": "p", "text": t} for t in texts.get(key, [""])]}
            for key, title in SECTIONS[kind]
        ],
    }
