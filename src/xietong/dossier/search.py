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

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet

from xietong.cases.models import Case
from xietong.dossier.models import PageIndex

_PUNCT = re.compile(r"[\s\"'`*^(){}\[\]:;,.!?，。、；：？！“”‘’（）《》〔〕【】—…·\x00-\x1f\x7f-]+")


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
# PostgreSQL (see _postgres): a user who sees at most LEXEME_CASES cases is searched with them as
# lexemes in the tsquery; at most LISTED_CASES, with their ids listed in the SQL; more, through the
# case subquery. The last two first walk the newest pages: RECENT_PAGES of them, or for listed ids
# about OWN_PAGES of the user's own (at most MAX_WALK pages in all).
LEXEME_CASES = 64
LISTED_CASES = 1000
RECENT_PAGES = 10_000
OWN_PAGES = 4_000
MAX_WALK = 100_000


def search_pages(*, cases: QuerySet[Case], query: str, limit: int = 50, offset: int = 0) -> list[Hit]:
    """Pages of ``cases`` (already scoped to the user) whose text has every word of ``query``,
    best-ranked first among the ``CANDIDATES`` newest matching pages. Ranking every match of a
    common word among a million pages would cost seconds, so only the newest matches are ranked:
    SQLite walks its index in page order; PostgreSQL see ``_postgres``."""
    terms = _query_terms(query)
    if not terms:
        return []
    window = max(CANDIDATES, offset + limit)
    try:
        if connection.vendor == "postgresql":
            rows = _postgres(cases, " ".join(terms), window, limit, offset)
        else:
            with connection.cursor() as cursor:
                cursor.execute(*_sqlite(cases, terms, window, limit, offset))
                rows = cursor.fetchall()
    except EmptyResultSet:  # cases.none() and the like have no SQL
        return []
    return [Hit(page_id=r[0], case_id=r[1], rank=float(r[2])) for r in rows]


def _ranked(candidates: str, check: str = "") -> str:
    """The page, case and rank of each candidate (the ``window`` newest matches), best first, with
    the number of candidates in a fourth column."""
    return (
        "SELECT c.page_id, c.case_id, ts_rank(c.tsv, plainto_tsquery('simple', %s)) AS rank, "  # noqa: S608
        f"count(*) OVER () FROM ({candidates}) c {check} "
        "ORDER BY rank DESC, c.page_id DESC LIMIT %s OFFSET %s"
    )


def _postgres(cases: QuerySet[Case], words: str, window: int, limit: int, offset: int) -> list[Any]:
    """Plans with bounded costs, chosen here rather than by the planner alone: it does not count the
    detoasting of each page's tsvector (~2.5 µs), and it multiplies the frequencies of a long word's
    two-character parts as if they were independent, so its one plan could walk half a million
    pages for a rare phrase (1.8 s for a county handler) or fetch every page of a common one.

    A user who sees at most ``LEXEME_CASES`` cases: one GIN bitmap scan for the words AND-ed with
    ``('case 3' | 'case 17' | …)`` — each page's tsvector holds its case's lexeme (migration 0004)
    — so GIN intersects words and cases inside the index and only his pages are fetched
    (``case_id = ANY`` stays as a check: permission never rests on lexemes alone). GIN evaluates
    the whole OR for every page of his cases, so this costs (his pages × his cases): a few ms for
    a few dozen cases, ~100 ms for 181 cases of 500 pages. Above that, two steps:

    1. Walk the newest pages in page order, testing the case first (a hash lookup of his listed
       ids, or the case subquery; ~0.2 µs a page) and reading the words of his pages only (~2.5
       µs), until ``window`` match: they are the ``window`` newest matches, done. Common words end
       here. The walk passes ``RECENT_PAGES`` pages, or for listed ids about ``OWN_PAGES`` of his
       own (judged by his share of all cases, at most ``MAX_WALK`` pages).
    2. Otherwise a bitmap scan: GIN finds the pages with the words; for listed ids, the case_id
       index finds his pages and the two bitmaps are AND-ed before any row is read, so the cost
       follows his matching pages, not everyone's.

    Either step costs in proportion to its length, the walk directly and the bitmap scan through
    the matches it leaves (fewer than ``window`` in the walk); the lengths balance the two.

    Bitmap scans run with sequential and plain index scans switched off and rows made expensive
    (``_bitmap_scans_only``). The words go to ``plainto_tsquery`` as plain text, never as tsquery
    syntax, so no input can break the query; the case lexemes are made from integers."""
    table = PageIndex._meta.db_table
    every = f"SELECT p.page_id, p.case_id, p.tsv FROM {table} p WHERE "  # noqa: S608 (names from the model)
    case_ids = list(cases.order_by().values_list("pk", flat=True)[: LISTED_CASES + 1])
    if not case_ids:
        return []
    if len(case_ids) <= LEXEME_CASES:
        in_cases = " | ".join(f"'case {int(pk)}'" for pk in case_ids)
        sql = _ranked(
            every + "p.tsv @@ (plainto_tsquery('simple', %s) && %s::tsquery) "
            # Words that all parse to nothing would be AND-ed away to "every page of his cases".
            "AND numnode(plainto_tsquery('simple', %s)) > 0 ORDER BY p.page_id DESC LIMIT %s",
            "WHERE c.case_id = ANY(%s::bigint[])",
        )
        return _bitmap_scans_only(sql, [words, words, in_cases, words, window, case_ids, limit, offset])

    visible_params: list[Any]
    if len(case_ids) <= LISTED_CASES:
        visible, visible_params = "p.case_id = ANY(%s::bigint[])", [case_ids]
        walk = min(MAX_WALK, OWN_PAGES * max(1, _all_cases() // len(case_ids)))
    else:
        case_sql, case_params = cases.order_by().values("pk").query.sql_with_params()
        visible, visible_params = f"p.case_id IN ({case_sql})", list(case_params)
        walk = RECENT_PAGES
    newest = (
        "SELECT p.page_id, p.case_id, p.tsv "  # noqa: S608 (names from the model)
        f"FROM (SELECT page_id, case_id, tsv FROM {table} ORDER BY page_id DESC LIMIT %s) p "
        # CASE: the case first, so that only his pages' tsvectors are read (AND may be reordered).
        f"WHERE CASE WHEN {visible} THEN p.tsv @@ plainto_tsquery('simple', %s) END "
        "ORDER BY p.page_id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(_ranked(newest), [words, walk, *visible_params, words, window, limit, offset])
        rows = cursor.fetchall()
    if rows and rows[0][3] >= window:
        return rows
    sql = _ranked(
        every + f"p.tsv @@ plainto_tsquery('simple', %s) AND {visible} ORDER BY p.page_id DESC LIMIT %s"
    )
    return _bitmap_scans_only(sql, [words, words, *visible_params, window, limit, offset])


def _all_cases() -> int:
    """The planner's count of all cases (kept by ANALYZE and autovacuum): enough to size a walk."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Case._meta.db_table])
        row = cursor.fetchone()
    return max(1, int(row[0])) if row else 1


# For a bitmap scan. Sequential and plain index scans are switched off. A row costs 100× the default
# (cpu_tuple_cost 0.01): the planner does not count reading a page's tsvector out of line, and would
# otherwise take all pages of the user's cases from the case_id index and test each one's words
# (0.6 s for 181 cases) rather than AND that bitmap with GIN's. Switching plans off costs 10^10 in
# the planner's arithmetic, past jit_above_cost: JIT would spend ~250 ms compiling, so it goes too.
_PLANNER = {"enable_seqscan": "off", "enable_indexscan": "off", "cpu_tuple_cost": "1", "jit": "off"}


def _bitmap_scans_only(sql: str, params: list[Any]) -> list[Any]:
    """Run ``sql`` with the ``_PLANNER`` settings, inside a transaction or savepoint, and put them
    back as they were afterwards so that an enclosing transaction keeps its own."""
    names = list(_PLANNER)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in names))
        before = cursor.fetchone()
        cursor.execute(
            "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in names),
            list(_PLANNER.values()),
        )
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in names), list(before)
        )
    return rows


def _sqlite(
    cases: QuerySet[Case], terms: list[str], window: int, limit: int, offset: int
) -> tuple[str, list[Any]]:
    table = PageIndex._meta.db_table
    case_sql, case_params = cases.values("pk").query.sql_with_params()
    match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    sql = (
        "SELECT page_id, case_id, rank FROM ("  # noqa: S608 (names from the model)
        f"  SELECT p.page_id, p.case_id, -f.rank AS rank FROM {table}_fts f "
        f"  JOIN {table} p ON p.id = f.rowid "
        f"  WHERE {table}_fts MATCH %s AND p.case_id IN ({case_sql}) "
        "  ORDER BY f.rowid DESC LIMIT %s) "
        "ORDER BY rank DESC, page_id DESC LIMIT %s OFFSET %s"
    )
    return sql, [match, *case_params, window, limit, offset]


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
