"""Reads of the case library: full-text search with filters and facets, similar cases with their
explanation, one record as a given user may see it.

The library is open to every member of the platform in its published (de-identified) form; the
original text is shown to those entitled to it: the keeper, 政法委 and the administrator, and for
a platform case, whoever may read that case."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xietong.cases.selectors import case_visible_to, sees_everything
from xietong.errors import NotFound
from xietong.library import extract, ranking
from xietong.library import index as library_index
from xietong.library.models import Collection, Record
from xietong.library.services import may_keep_library
from xietong.orgs.models import User

PENALTY_KIND_LABELS = extract.PENALTY_KINDS
FACETS = ("charges", "penalty_kind", "year", "region", "court", "circumstances")
FACET_LABELS = {
    "charges": "罪名",
    "penalty_kind": "主刑",
    "year": "年份",
    "region": "地区",
    "court": "法院",
    "circumstances": "量刑情节",
}


@dataclass
class Filters:
    q: str = ""
    collection: str = ""
    charge: str = ""
    article: str = ""
    circumstance: str = ""
    penalty_kind: str = ""
    months_min: int | None = None
    months_max: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    court: str = ""
    region: str = ""


@dataclass
class SearchResult:
    total: int
    records: list[Record]
    facets: dict[str, list[tuple[str, int]]]
    milliseconds: float
    scores: dict[int, float] = field(default_factory=dict)


def _mask(ix: library_index.CollectionIndex, f: Filters) -> np.ndarray:
    mask = np.ones(len(ix), dtype=bool)
    if f.charge:
        mask &= ix.charges.having(f.charge)
    if f.article:
        mask &= ix.articles.having(f.article)
    if f.circumstance:
        mask &= ix.circumstances.having(f.circumstance)
    if f.penalty_kind:
        mask &= ix.penalty_kind.having(f.penalty_kind)
    if f.court:
        mask &= ix.court.having(f.court)
    if f.region:
        mask &= ix.region.having(f.region)
    if f.months_min is not None:
        mask &= ix.months >= f.months_min
    if f.months_max is not None:
        mask &= (ix.months >= 0) & (ix.months <= f.months_max)
    if f.year_from is not None:
        mask &= ix.year >= f.year_from
    if f.year_to is not None:
        mask &= (ix.year > 0) & (ix.year <= f.year_to)
    return mask


def library_search(*, filters: Filters, page: int = 1, per_page: int = 20) -> SearchResult:
    """Records matching every filter and (if given) containing every word of ``q``, best BM25 match
    first (newest first without words), with facet counts over the whole match."""
    started = time.perf_counter()
    hits: list[tuple[float, int, int]] = []  # (score, year, pk)
    facets: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for ix in library_index.collection_indexes(filters.collection or None):
        if not len(ix):
            continue
        mask = _mask(ix, filters)
        if filters.q.strip():
            rows, scores = ix.ranker.search(filters.q, allowed=mask)
        else:
            rows = np.flatnonzero(mask)
            scores = np.zeros(len(rows), dtype=np.float32)
        rows = np.asarray(rows, dtype=np.int64)
        hits.extend(
            zip(np.asarray(scores).tolist(), ix.year[rows].tolist(), ix.pks[rows].tolist(), strict=True)
        )
        for name, counts in (
            ("charges", ix.charges.counts(rows)),
            ("penalty_kind", ix.penalty_kind.counts(rows)),
            ("region", ix.region.counts(rows)),
            ("court", ix.court.counts(rows)),
            ("circumstances", ix.circumstances.counts(rows)),
        ):
            facets[name].update(dict(counts))
        years = ix.year[rows]
        facets["year"].update(
            {str(y): int(c) for y, c in zip(*np.unique(years[years > 0], return_counts=True), strict=True)}
        )
    hits.sort(key=lambda h: (-h[0], -h[1], -h[2]))
    start = max(0, (page - 1) * per_page)
    chosen = hits[start : start + per_page]
    by_pk = Record.objects.select_related("collection").defer(*_BIG_FIELDS).in_bulk([h[2] for h in chosen])
    facet_lists = {
        name: sorted(
            counts.items(), key=lambda kv: (-kv[0].isdigit(), -int(kv[0]) if kv[0].isdigit() else 0, -kv[1])
        )
        if name == "year"
        else counts.most_common(12)
        for name, counts in facets.items()
    }
    return SearchResult(
        total=len(hits),
        records=[by_pk[h[2]] for h in chosen if h[2] in by_pk],
        facets=facet_lists,
        milliseconds=(time.perf_counter() - started) * 1000,
        scores={h[2]: h[0] for h in chosen},
    )


_BIG_FIELDS = ("facts", "reasoning", "judgment", "full_text", "tokens", "details")


@dataclass
class SimilarCase:
    record: Record
    score: float
    why: dict[str, Any]


def similar_cases(
    *, text: str, k: int = 30, collection: str = "", exclude_ids: tuple[str, ...] = (), passages: int = 0
) -> list[SimilarCase]:
    """The ``k`` judged cases most similar to the facts in ``text``, best first, each with why it
    matched; ``passages`` of them (the best) also with key passages side by side."""
    found: list[tuple[float, int, ranking.Match]] = []
    indexes = library_index.collection_indexes(collection or None)
    model = library_index.charge_model()
    for ix in indexes:
        if not len(ix):
            continue
        for match in ix.ranker.similar(text, k=k, exclude=set(exclude_ids), charge_model=model):
            found.append((match.score, int(ix.pks[ix.row_of[match.id]]), match))
    found.sort(key=lambda f: -f[0])
    found = found[:k]
    # The originals and the index words stay in the database: a similar-case list reads the
    # published view and the structured fields only.
    records = Record.objects.select_related("collection").defer(*_BIG_FIELDS).in_bulk([f[1] for f in found])
    out: list[SimilarCase] = []
    for i, (score, pk, match) in enumerate(found):
        record = records.get(pk)
        if record is None:  # deleted since the index was built
            continue
        why = dict(match.why)
        why["title"] = record.published.get("title") or record.title
        why["charges"] = record.charges
        why["penalty"] = record.penalty_label
        why["collection"] = record.collection.name
        if i < passages:
            why["passages"] = [
                {"query": q, "case": c}
                for q, c in ranking.passages(text, record.published.get("facts") or record.facts)
            ]
        out.append(SimilarCase(record=record, score=round(float(score), 4), why=why))
    return out


def charge_split(similar: list[SimilarCase]) -> dict[str, Any]:
    """How the similar cases were charged and sentenced: the distribution the 类案 panel charts, and
    whether the charge is contested (no charge holds four fifths of them, e.g. 诈骗 vs 盗窃)."""
    charges = Counter(s.record.first_charge or "（未认定罪名）" for s in similar)
    terms: dict[str, list[int]] = {}
    for s in similar:
        if s.record.months is not None and s.record.penalty_kind in {"fixed_term", "criminal_detention"}:
            terms.setdefault(s.record.first_charge, []).append(s.record.months)
    total = sum(charges.values())
    top = charges.most_common(1)[0][1] if charges else 0
    return {
        "charges": charges.most_common(),
        "terms": {c: sorted(m) for c, m in terms.items()},
        "split": bool(total) and len(charges) > 1 and top / total < 0.8,
    }


def may_read_original(*, user: User, record: Record) -> bool:
    if sees_everything(user) or may_keep_library(user):
        return True
    return (
        record.case_id is not None
        and record.case is not None
        and case_visible_to(user=user, case=record.case)
    )


def record_get(*, record_id: int) -> Record:
    record = Record.objects.select_related("collection", "case").filter(pk=record_id).first()
    if record is None:
        raise NotFound("案例不存在", code="record_not_found")
    return record


def collections() -> list[Collection]:
    return list(Collection.objects.all())
