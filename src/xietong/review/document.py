"""The body of a report: a block list, checked and hashed. Pure (no Django).

A body is JSON::

    {"format": 1,
     "title": "张某盗窃案审查逮捕意见书",
     "sections": [
        {"key": "suspects", "title": "一、犯罪嫌疑人基本情况",
         "blocks": [
            {"type": "p", "text": "犯罪嫌疑人张某，男，……"},
            {"type": "quote", "text": "经依法侦查查明：……",
             "volume_id": 7, "volume_number": 1, "page_id": 31, "page_number": 2,
             "end_page_id": 32, "end_page_number": 3}]}]}    # end_* only when it runs over pages

Paragraphs are plain text (a line break inside is ``\\n``); there is no HTML to sanitise, so nothing a
user types can become markup in the editor, the DOCX or the PDF. A quotation keeps its citation (volume
and page, by id and by number) so that it can be shown as 「（卷1 第2页）」 and followed back to the
page; the numbers are re-read from the case file by the services, never taken from the client.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any

FORMAT = 1
MAX_SECTIONS = 60
MAX_BLOCKS = 2000  # in the whole body
MAX_TEXT = 20_000  # one paragraph or quotation
MAX_TITLE = 200


class BodyInvalid(ValueError):
    """The body is not a report body; the message is for people (Chinese)."""


def _text(value: Any, *, limit: int, what: str, multiline: bool = True) -> str:
    if not isinstance(value, str):
        raise BodyInvalid(f"{what}须为文本")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    # Control characters (other than line breaks) have no place in a document and break DOCX/XML.
    value = "".join(
        ch for ch in value if ch == "\n" or not unicodedata.category(ch).startswith("C") or ch == "\t"
    )
    value = value.replace("\t", " ")
    if not multiline:
        value = " ".join(value.split("\n"))
    if len(value) > limit:
        raise BodyInvalid(f"{what}过长（最多 {limit} 字）")
    return value


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        if isinstance(value, str) and value.isdigit() and int(value) > 0:
            return int(value)
        raise BodyInvalid(f"{what}须为正整数")
    return value


def clean_body(raw: Any) -> dict[str, Any]:
    """The body in its one canonical shape, or ``BodyInvalid``. Unknown keys are dropped; trailing
    blank lines of a paragraph are kept (the writer may be mid-sentence)."""
    if not isinstance(raw, dict):
        raise BodyInvalid("报告内容格式错误")
    sections_in = raw.get("sections")
    if not isinstance(sections_in, list) or not sections_in:
        raise BodyInvalid("报告至少要有一个部分")
    if len(sections_in) > MAX_SECTIONS:
        raise BodyInvalid(f"报告最多 {MAX_SECTIONS} 个部分")
    title = _text(raw.get("title", ""), limit=MAX_TITLE, what="标题", multiline=False).strip()
    if not title:
        raise BodyInvalid("请填写报告标题")
    sections: list[dict[str, Any]] = []
    total = 0
    for i, section in enumerate(sections_in, start=1):
        if not isinstance(section, dict):
            raise BodyInvalid("报告内容格式错误")
        key = _text(section.get("key") or f"s{i}", limit=40, what="部分标识", multiline=False).strip()
        heading = _text(section.get("title", ""), limit=MAX_TITLE, what="小标题", multiline=False).strip()
        blocks_in = section.get("blocks", [])
        if not isinstance(blocks_in, list):
            raise BodyInvalid("报告内容格式错误")
        total += len(blocks_in)
        if total > MAX_BLOCKS:
            raise BodyInvalid(f"报告过长（最多 {MAX_BLOCKS} 段）")
        sections.append({"key": key or f"s{i}", "title": heading, "blocks": [_block(b) for b in blocks_in]})
    return {"format": FORMAT, "title": title, "sections": sections}


def _block(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BodyInvalid("报告内容格式错误")
    kind = raw.get("type")
    if kind == "p":
        return {"type": "p", "text": _text(raw.get("text", ""), limit=MAX_TEXT, what="段落")}
    if kind == "quote":
        text = _text(raw.get("text", ""), limit=MAX_TEXT, what="引文").strip()
        if not text:
            raise BodyInvalid("引文不能为空")
        block: dict[str, Any] = {
            "type": "quote",
            "text": text,
            "volume_id": _positive_int(raw.get("volume_id"), "引文的卷宗"),
            "volume_number": _positive_int(raw.get("volume_number", 1), "引文的卷号"),
            "page_id": _positive_int(raw.get("page_id"), "引文的页面"),
            "page_number": _positive_int(raw.get("page_number", 1), "引文的页码"),
        }
        if raw.get("end_page_id") not in (None, "", raw.get("page_id")):
            block["end_page_id"] = _positive_int(raw.get("end_page_id"), "引文的结束页")
            block["end_page_number"] = _positive_int(raw.get("end_page_number", 1), "引文的结束页码")
        return block
    raise BodyInvalid("未知的段落类型")


def canonical_json(body: dict[str, Any]) -> bytes:
    """The bytes that are hashed: keys sorted, no spaces, UTF-8 (the same body, the same hash)."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def body_sha256(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def citation_text(block: dict[str, Any]) -> str:
    """「（卷1 第2页）」, or 「（卷1 第2—3页）」 for a quotation that runs over pages."""
    end = block.get("end_page_number")
    pages = (
        f"{block['page_number']}—{end}" if end and end != block["page_number"] else f"{block['page_number']}"
    )
    return f"（卷{block['volume_number']} 第{pages}页）"


def quotations(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for s in body.get("sections", []) for b in s.get("blocks", []) if b.get("type") == "quote"]


def plain_text(body: dict[str, Any]) -> str:
    """The whole report as text (titles, paragraphs, quotations with citations)."""
    lines = [body.get("title", "")]
    for section in body.get("sections", []):
        if section.get("title"):
            lines.append(section["title"])
        for block in section.get("blocks", []):
            if block["type"] == "quote":
                lines.append(f"“{block['text']}”{citation_text(block)}")
            else:
                lines.append(block["text"])
    return "\n".join(lines)
