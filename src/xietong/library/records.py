"""The library's record format, and how a line of a judgment file becomes one (pure, no Django).

Two shapes are accepted (docs/library.md):

- the project's own format: ``id``, ``title``, ``document_name``, ``court``, ``region``, ``year``,
  ``facts``, ``reasoning``, ``judgment``, ``full_text`` and, optionally, the structured fields
  ``charges``, ``articles``, ``circumstances``, ``penalty`` {kind, months, probation_months,
  fine_yuan}, ``money_yuan``, ``drug_grams``;
- the field names of published judgment data sets (LeCaRD, CAIL): ``ajId`` (case), ``writId``
  (document), ``ajName``, ``writName``, ``ajjbqk`` (基本案情), ``cpfxgc`` (裁判分析过程), ``pjjg``
  (判决结果), ``qw`` (全文).

The external id is ``id``, else ``writId`` (one per document), else ``ajId`` (one per case, shared by
the first- and second-instance documents), kept exactly as given. Structured fields that the line
does not carry are read from the text (``extract``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from xietong.library import extract

ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "ajName"),
    "document_name": ("document_name", "writName"),
    "facts": ("facts", "ajjbqk", "fact"),
    "reasoning": ("reasoning", "cpfxgc", "court_reasoning"),
    "judgment": ("judgment", "pjjg"),
    "full_text": ("full_text", "qw"),
    "court": ("court",),
    "region": ("region",),
}
ID_FIELDS = ("id", "writId", "ajId")
PENALTY_KINDS = frozenset(
    {
        "fixed_term",
        "criminal_detention",
        "public_surveillance",
        "life",
        "death",
        "death_reprieve",
        "fine_only",
        "exempt",
        "acquittal",
    }
)
MAX_TEXT = 400_000  # characters per text field; a longer one is not a judgment
_SPACE = re.compile(r"[ \t\u3000\xa0]+")


class InvalidRecord(ValueError):
    """A line that cannot become a record; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RecordInput:
    external_id: str
    title: str
    document_name: str = ""
    court: str = ""
    region: str = ""
    year: int | None = None
    facts: str = ""
    reasoning: str = ""
    judgment: str = ""
    full_text: str = ""
    charges: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    circumstances: list[str] = field(default_factory=list)
    penalty: dict[str, Any] | None = None
    money_yuan: float | None = None
    drug_grams: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _text(raw: dict[str, Any], name: str) -> str:
    for key in ALIASES[name]:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidRecord("bad_field", f"字段 {key} 应为文本")
        if len(value) > MAX_TEXT:
            raise InvalidRecord("too_long", f"字段 {key} 超过 {MAX_TEXT} 字")
        return _SPACE.sub(" ", value).strip()
    return ""


def _external_id(raw: dict[str, Any]) -> str:
    for key in ID_FIELDS:
        value = raw.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidRecord("bad_id", f"编号字段 {key} 应为文本或整数")
        text = str(value).strip()
        if not text or len(text) > 100:
            raise InvalidRecord("bad_id", f"编号字段 {key} 为空或超过 100 字")
        return text
    raise InvalidRecord("missing_id", "缺少编号（id、writId 或 ajId）")


def _str_list(raw: dict[str, Any], key: str) -> list[str] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRecord("bad_field", f"字段 {key} 应为文本列表")
    return [v.strip() for v in value if v.strip()]


def _number(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidRecord("bad_field", f"字段 {key} 应为非负数")
    return float(value)


def _penalty(raw: dict[str, Any]) -> dict[str, Any] | None:
    value = raw.get("penalty")
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("kind") not in PENALTY_KINDS:
        raise InvalidRecord("bad_field", "字段 penalty 应含 kind（" + "、".join(sorted(PENALTY_KINDS)) + "）")
    out: dict[str, Any] = {"kind": value["kind"]}
    for key in ("months", "probation_months", "fine_yuan"):
        number = value.get(key)
        if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 0):
            raise InvalidRecord("bad_field", f"penalty.{key} 应为非负整数")
        out[key] = number
    return out


def normalise(raw: object) -> RecordInput:
    """One line of a judgment file as a record, with every structured field filled in: what the
    line gives wins, the rest is read from its text."""
    if not isinstance(raw, dict):
        raise InvalidRecord("not_object", "每行应为一个 JSON 对象")
    external_id = _external_id(raw)
    texts = {name: _text(raw, name) for name in ALIASES}
    if not (texts["facts"] or texts["full_text"] or texts["judgment"]):
        raise InvalidRecord("empty_text", "没有案件事实、判决结果或全文")
    year = raw.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1949 <= year <= 2100):
        raise InvalidRecord("bad_field", "字段 year 应为 1949–2100 的整数")
    found = extract.record_fields(
        title=texts["title"],
        facts=texts["facts"],
        reasoning=texts["reasoning"],
        judgment=texts["judgment"],
        full_text=texts["full_text"],
    )
    charges = _str_list(raw, "charges")
    articles = _str_list(raw, "articles")
    circumstances = _str_list(raw, "circumstances")
    penalty = _penalty(raw)
    money = _number(raw, "money_yuan")
    drugs = _number(raw, "drug_grams")
    amounts = found.get("amounts") or {}
    return RecordInput(
        external_id=external_id,
        title=(texts["title"] or texts["document_name"] or external_id)[:300],
        document_name=texts["document_name"][:300],
        court=(texts["court"] or found.get("court") or "")[:100],
        region=texts["region"][:50],
        year=year if year is not None else found.get("year"),
        facts=texts["facts"],
        reasoning=texts["reasoning"],
        judgment=texts["judgment"],
        full_text=texts["full_text"],
        charges=charges if charges is not None else list(found.get("charges") or []),
        articles=articles if articles is not None else list(found.get("articles") or []),
        circumstances=circumstances if circumstances is not None else list(found.get("circumstances") or []),
        penalty=penalty if penalty is not None else found.get("penalty"),
        money_yuan=money if money is not None else amounts.get("money_yuan"),
        drug_grams=drugs if drugs is not None else amounts.get("drug_grams"),
        details={"amounts": amounts, "defendants": found.get("defendants") or []},
    )
