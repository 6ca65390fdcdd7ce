"""A record's CPU work, with no database: the structured fields as normalised, the published
(de-identified) texts, the words of the similar-case index and a content hash that tells an
unchanged re-import from an update. Pure, so that an import spreads it over worker processes that
never touch Django."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from xietong.library import deidentify, ranking
from xietong.library.records import InvalidRecord, RecordInput, normalise

# The text the similar-case index reads: the facts (the query side is facts too) and, where the
# facts are short, the head of the court's reasoning, which names the elements it found.
INDEX_REASONING_CHARS = 600


def index_text(*, facts: str, reasoning: str) -> str:
    if len(facts) >= 2 * INDEX_REASONING_CHARS:
        return facts
    return f"{facts}\n{reasoning[:INDEX_REASONING_CHARS]}"


def prepare(record: RecordInput) -> dict[str, Any]:
    """The model fields of a record: structured fields as normalised, the published (de-identified)
    texts, the index words and a content hash that tells an unchanged re-import from an update."""
    names = [str(n) for n in record.details.get("defendants", []) if n]
    sections = deidentify.deidentify_many(
        [record.title, record.document_name, record.facts, record.reasoning, record.judgment], names=names
    )
    published = {
        "title": sections[0].text,
        "document_name": sections[1].text,
        "facts": sections[2].text,
        "reasoning": sections[3].text,
        "judgment": sections[4].text,
    }
    penalty = record.penalty or {}
    fields: dict[str, Any] = {
        "title": record.title,
        "document_name": record.document_name,
        "court": record.court,
        "region": record.region,
        "year": record.year,
        "charges": record.charges,
        "first_charge": (record.charges[0] if record.charges else "")[:60],
        "articles": record.articles,
        "circumstances": record.circumstances,
        "penalty_kind": penalty.get("kind") or "",
        "months": penalty.get("months"),
        "probation_months": penalty.get("probation_months"),
        "penalty_label": (penalty.get("label") or "")[:200],
        "money_yuan": record.money_yuan,
        "drug_grams": record.drug_grams,
        "facts": record.facts,
        "reasoning": record.reasoning,
        "judgment": record.judgment,
        "full_text": record.full_text,
        "details": {**record.details, "penalty": penalty or None},
        "published": published,
        "tokens": " ".join(ranking.tokens(index_text(facts=record.facts, reasoning=record.reasoning))),
    }
    fields["details"]["hash"] = _content_hash(fields)
    return fields


def prepare_line(line: str) -> tuple[str, dict[str, Any]] | tuple[None, dict[str, str]]:
    """One line of a judgment file: ``(external_id, fields)`` or ``(None, {"code", "message"})``.
    Runs in the import's worker processes."""
    try:
        raw = json.loads(line)
    except ValueError:
        return None, {"code": "bad_json", "message": "不是合法的 JSON"}
    try:
        record = normalise(raw)
    except InvalidRecord as exc:
        return None, {"code": exc.code, "message": exc.message}
    return record.external_id, prepare(record)


def _content_hash(fields: dict[str, Any]) -> str:
    body = {k: v for k, v in fields.items() if k not in {"details", "published", "tokens"}}
    body["details"] = {k: v for k, v in fields["details"].items() if k != "hash"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def prepare_lines(lines: list[str]) -> list[tuple[str, dict[str, Any]] | tuple[None, dict[str, str]]]:
    """A batch of lines, in a worker process."""
    return [prepare_line(line) for line in lines]


def warm_up() -> None:
    """Load the word dictionaries once per worker, before its first batch."""
    prepare_line('{"id": "warm-up", "facts": "被告人张三盗窃人民币一千元。"}')
