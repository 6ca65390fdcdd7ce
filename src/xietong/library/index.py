"""The library as this process searches it: per collection, the ranking index (``ranking.Index``,
BM25 over the facts' words) and the columns the filters and facets read (charges, circumstances,
articles, year, court, region, penalty) as numpy arrays — so a query over 100k records filters,
counts facets and ranks in memory and touches the database only for the page it shows.

An index belongs to one revision of its collection. Every query compares the revisions (one small
query) and rebuilds what moved; a built index is saved under ``XIETONG_HOME/library-index`` so that
the next process (or worker) of this machine loads it instead of building it again. Why not the
database's own full-text search: neither SQLite FTS5 nor PostgreSQL ``tsvector`` can rank 100k
documents by BM25 against a whole page of facts (hundreds of query words) in the time a person
waits; a sparse matrix product can."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from scipy import sparse

from xietong.library import ranking
from xietong.library.models import Collection, Record

logger = logging.getLogger(__name__)
_cache: dict[int, CollectionIndex] = {}
_locks: dict[int, threading.Lock] = {}
_guard = threading.Lock()


class Vocabulary:
    """Values of a many-valued column (charges of a record) as a 0/1 sparse matrix rows × values."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.values: list[str] = sorted({v for row in rows for v in row})
        self.code = {v: i for i, v in enumerate(self.values)}
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indices: list[int] = []
        for i, row in enumerate(rows):
            codes = sorted({self.code[v] for v in row})
            indices.extend(codes)
            indptr[i + 1] = len(indices)
        data = np.ones(len(indices), dtype=np.float32)
        self.matrix = sparse.csr_matrix(
            (data, np.array(indices, dtype=np.int64), indptr), shape=(len(rows), max(1, len(self.values)))
        ).tocsc()

    def having(self, value: str) -> np.ndarray:
        """Boolean mask of the rows that have ``value``."""
        mask = np.zeros(self.matrix.shape[0], dtype=bool)
        code = self.code.get(value)
        if code is not None:
            mask[self.matrix.indices[self.matrix.indptr[code] : self.matrix.indptr[code + 1]]] = True
        return mask

    def counts(self, rows: np.ndarray) -> list[tuple[str, int]]:
        if not len(self.values) or not len(rows):
            return []
        totals = np.asarray(self.matrix[rows].sum(axis=0)).ravel()
        order = np.argsort(-totals, kind="stable")
        return [(self.values[i], int(totals[i])) for i in order if totals[i] > 0]


class Category:
    """A single-valued text column (court, region, penalty kind) as integer codes."""

    def __init__(self, values: list[str]) -> None:
        self.values: list[str] = sorted(set(values))
        code = {v: i for i, v in enumerate(self.values)}
        self.codes = np.array([code[v] for v in values], dtype=np.int32)

    def having(self, value: str) -> np.ndarray:
        try:
            return self.codes == self.values.index(value)
        except ValueError:
            return np.zeros(len(self.codes), dtype=bool)

    def counts(self, rows: np.ndarray) -> list[tuple[str, int]]:
        if not len(rows):
            return []
        totals = np.bincount(self.codes[rows], minlength=len(self.values))
        order = np.argsort(-totals, kind="stable")
        return [(self.values[i], int(totals[i])) for i in order if totals[i] > 0 and self.values[i]]


@dataclass
class CollectionIndex:
    collection_id: int
    name: str
    title: str
    revision: int
    pks: np.ndarray
    ranker: ranking.Index
    charges: Vocabulary
    circumstances: Vocabulary
    articles: Vocabulary
    court: Category
    region: Category
    penalty_kind: Category
    year: np.ndarray  # 0 = unknown
    months: np.ndarray  # -1 = no term
    row_of: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pks)


def _index_dir() -> Path:
    path = Path(settings.XIETONG_HOME) / "library-index"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _build(collection: Collection) -> CollectionIndex:
    rows = list(
        Record.objects.filter(collection=collection)
        .order_by("pk")
        .values_list(
            "pk",
            "external_id",
            "charges",
            "circumstances",
            "articles",
            "court",
            "region",
            "penalty_kind",
            "year",
            "months",
            "money_yuan",
            "version",
        )
    )
    # The file is named by the rows it indexes, so a file left by another database (a test run, a
    # restored backup) with the same revision is never taken for this one.
    signature = hashlib.sha1(
        "\n".join(f"{r[0]}:{r[1]}:{r[11]}" for r in rows).encode(), usedforsecurity=False
    ).hexdigest()[:16]
    saved = _index_dir() / f"{collection.name}-{collection.revision}-{signature}.npz"
    ranker: ranking.Index | None = None
    if saved.exists():
        try:
            ranker = ranking.Index.load(saved)
            if ranker.ids() != [r[1] for r in rows]:
                ranker = None
        except Exception:  # a torn or foreign file: build again
            logger.warning("library index %s unreadable; rebuilding", saved)
            ranker = None
    if ranker is None:
        tokens = dict(Record.objects.filter(collection=collection).values_list("pk", "tokens"))
        ranker = ranking.Index.build(
            ranking.Doc(
                id=r[1],
                tokens=tokens[r[0]].split(),
                charges=tuple(r[2] or ()),
                circumstances=tuple(r[3] or ()),
                money_yuan=r[10],
            )
            for r in rows
        )
        # Written under a temporary name and renamed, the words (.json) before the arrays (.npz):
        # a reader that finds the .npz finds a whole index.
        tmp = saved.with_suffix(".tmp.npz")
        ranker.save(tmp)
        tmp.with_suffix(".json").replace(saved.with_suffix(".json"))
        tmp.replace(saved)
        mine = re.compile(rf"{re.escape(collection.name)}-\d+-[0-9a-f]{{16}}(\.tmp)?")
        for old in _index_dir().glob(f"{collection.name}-*"):
            if old.stem != saved.stem and mine.fullmatch(old.stem):
                old.unlink(missing_ok=True)
    return CollectionIndex(
        collection_id=collection.pk,
        name=collection.name,
        title=collection.title,
        revision=collection.revision,
        pks=np.array([r[0] for r in rows], dtype=np.int64),
        ranker=ranker,
        charges=Vocabulary([list(r[2] or ()) for r in rows]),
        circumstances=Vocabulary([list(r[3] or ()) for r in rows]),
        articles=Vocabulary([list(r[4] or ()) for r in rows]),
        court=Category([r[5] or "" for r in rows]),
        region=Category([r[6] or "" for r in rows]),
        penalty_kind=Category([r[7] or "" for r in rows]),
        year=np.array([r[8] or 0 for r in rows], dtype=np.int32),
        months=np.array([r[9] if r[9] is not None else -1 for r in rows], dtype=np.int32),
        row_of={r[1]: i for i, r in enumerate(rows)},
    )


def collection_indexes(name: str | None = None) -> list[CollectionIndex]:
    """The current index of each collection (or of the one named), rebuilt where its revision moved."""
    collections = Collection.objects.all() if name is None else Collection.objects.filter(name=name)
    out = []
    for collection in collections.only("pk", "name", "title", "revision"):
        current = _cache.get(collection.pk)
        if current is None or current.revision != collection.revision:
            with _guard:
                lock = _locks.setdefault(collection.pk, threading.Lock())
            with lock:
                current = _cache.get(collection.pk)
                if current is None or current.revision != collection.revision:
                    current = _build(collection)
                    _cache[collection.pk] = current
        out.append(current)
    return out


_charge_models: dict[tuple[tuple[int, int], ...], ranking.ChargeModel] = {}


def charge_model() -> ranking.ChargeModel | None:
    """What the facts of a query are likely to be judged for, learned from every judged record of
    every collection (their charges come from their own judgments), so a query is not at the mercy
    of one collection's mix of charges. Rebuilt when any collection moves; built from the built
    indexes, which takes seconds at 100k records."""
    indexes = [ix for ix in collection_indexes() if len(ix)]
    if not indexes:
        return None
    key = tuple((ix.collection_id, ix.revision) for ix in indexes)
    model = _charge_models.get(key)
    if model is None:
        with _guard:
            model = _charge_models.get(key)
            if model is None:
                model = ranking.ChargeModel.from_indexes(ix.ranker for ix in indexes)
                _charge_models.clear()
                _charge_models[key] = model
    return model


def forget() -> None:
    """Drop every cached index (tests, after the database was rolled back under it)."""
    _cache.clear()
    _charge_models.clear()
