"""Chinese full-text search over OCR text (F3). Text is cut into words with jieba
(``cut_for_search``) and the words, joined by spaces, are indexed by the database's own engine:
SQLite FTS5 (external-content table kept in step by triggers) or PostgreSQL ``tsvector`` with the
``simple`` configuration and a GIN index — neither database has a Chinese parser of its own
(DEPENDENCIES.md). Results are always restricted to cases the user may read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from xietong.cases.models import Case
from xietong.dossier.models import PageIndex

_PUNCT = re.compile(r"[\s\"'`*^(){}\[\]:;,.!?，。、；：？！“”‘’（）《》〔〕【】—…·-]+")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    words = (w.strip() for w in _jieba().cut_for_search(text))
    return [w for w in words if w and not _PUNCT.fullmatch(w)]


def index_page(*, page_id: int, case_id: int, text: str) -> None:
    PageIndex.objects.update_or_create(
        page_id=page_id, defaults={"case_id": case_id, "tokens": " ".join(tokens(text))}
    )


@dataclass
class Hit:
    page_id: int
    case_id: int
    rank: float


def _query_terms(query: str) -> list[str]:
    """Words to look for. jieba may cut the same phrase differently in a query and in a page
    (「电动自行车」 alone, 「电动 自行车」 in a sentence), so a long query word is replaced by its
    two-character dictionary words, which ``cut_for_search`` always puts in the index too."""
    jieba = _jieba()
    terms: list[str] = []
    for word in jieba.cut(query):
        word = word.strip()
        if not word or _PUNCT.fullmatch(word):
            continue
        grams = [word[i : i + 2] for i in range(len(word) - 1) if jieba.dt.FREQ.get(word[i : i + 2])]
        for term in grams if len(word) > 2 and grams else [word]:
            if term not in terms:
                terms.append(term)
    return terms[:12]


CANDIDATES = 500


def search_pages(*, cases: QuerySet[Case], query: str, limit: int = 50, offset: int = 0) -> list[Hit]:
    """Pages of ``cases`` (already scoped to the user) whose text has every word of ``query``,
    best-ranked first among the ``CANDIDATES`` newest matching pages. Ranking every match of a
    common word among a million pages would cost seconds; the newest matches are found by walking
    the index in page order, so a query costs about the same whatever its words."""
    terms = _query_terms(query)
    if not terms:
        return []
    case_sql, case_params = cases.values("pk").query.sql_with_params()
    table = PageIndex._meta.db_table
    window = max(CANDIDATES, offset + limit)
    if connection.vendor == "postgresql":
        sql = (
            "SELECT c.page_id, c.case_id, ts_rank(c.tsv, q) AS rank "  # noqa: S608 (names from the model)
            f"FROM (SELECT p.page_id, p.case_id, p.tsv FROM {table} p "
            f"      WHERE p.tsv @@ plainto_tsquery('simple', %s) AND p.case_id IN ({case_sql}) "
            "      ORDER BY p.page_id DESC LIMIT %s) c, plainto_tsquery('simple', %s) q "
            "ORDER BY rank DESC, c.page_id DESC LIMIT %s OFFSET %s"
        )
        words = " ".join(terms)
        params: list[Any] = [words, *case_params, window, words, limit, offset]
    else:
        match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
        sql = (
            "SELECT page_id, case_id, rank FROM ("  # noqa: S608 (names from the model)
            f"  SELECT p.page_id, p.case_id, -f.rank AS rank FROM {table}_fts f "
            f"  JOIN {table} p ON p.id = f.rowid "
            f"  WHERE {table}_fts MATCH %s AND p.case_id IN ({case_sql}) "
            "  ORDER BY f.rowid DESC LIMIT %s) "
            "ORDER BY rank DESC, page_id DESC LIMIT %s OFFSET %s"
        )
        params = [match, *case_params, window, limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Hit(page_id=r[0], case_id=r[1], rank=float(r[2])) for r in cursor.fetchall()]


def snippet(text: str, query: str, width: int = 40) -> tuple[str, list[tuple[int, int]]]:
    """A window of the page text around the first hit, with the spans of every query word in it."""
    terms = sorted(set(query.split()) | set(_query_terms(query)), key=len, reverse=True)
    flat = text.replace("\n", " ")
    first = min((i for i in (flat.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, first - width // 2)
    window = flat[start : start + width * 2]
    spans: list[tuple[int, int]] = []
    for term in terms:
        for m in re.finditer(re.escape(term), window):
            if not any(a <= m.start() < b for a, b in spans):
                spans.append((m.start(), m.end()))
    return ("…" if start else "") + window, sorted(
        (a + (1 if start else 0), b + (1 if start else 0)) for a, b in spans
    )
