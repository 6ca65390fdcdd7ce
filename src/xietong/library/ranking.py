"""Similar-case ranking (类案检索) and full-text search over the case library, with an explanation of
every match.

Ranking = BM25 over word tokens, plus the agreement of charges. Charge agreement is by far the
strongest signal of what a judge calls a similar case (on LeCaRD, where similarity is labelled by
lawyers, it raises MAP from 0.51 to 0.6+), but pasted facts rarely name their charge, so the charges
of the query are *predicted*, from two sources blended: the judged charges of its nearest lexical
neighbours in the collection (pseudo-relevance feedback; a charge the facts name counts as a sure
vote), and ``ChargeModel``, a small classifier learned from every judged document of the library
(naive Bayes and TF-IDF centroids over the same words; charges from each judgment's own result, never
from a label). The model matters when a collection is dominated by a charge that is not the query's.
The knobs (``Config``) can each be read in a sentence. ``xietong bench similar`` measures every step
(docs/benchmarks.md).

Tokens come from jieba's dictionary (no HMM: new-word guessing costs time and makes index and query
disagree on rare words). rjieba, the Rust port with the same dictionary and the same cuts, is used
when installed: it is ~25× faster, which is what lets an import tokenise whole judgments at well over
200 a second; pure-Python jieba is the fallback.

The index is an inverted file in numpy arrays (term → sorted rows, term counts), saved as one
``.npz`` plus one JSON file, so a 100k-document collection loads in about a second and a query
touches only the postings of its own best words (``Config.query_terms``, ``max_df``): ~50–90 ms at
100k documents. Pure module: no Django import."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from xietong.library import extract

# ---------------------------------------------------------------- tokens

# Words of the judgment's drafting style (who says what, procedure, evidence listing) and plain
# function words: they are in almost every judgment, so they only add noise and cost.
_STOP_WORDS = """
被告人 被告 公诉机关 公诉 指控 本院 法院 人民法院 人民检察院 检察院 检察员 证据 证实
证明 证言 证人 证人证言 经审理查明 审理 查明 查实 认定 上述 事实 上述事实 犯罪事实
据此 认为 构成 罪名 罪名成立 成立 依法 判处 判决 判决书 裁定 裁定书 刑事 一审 二审
原审 上诉 上诉人 辩护人 辩护 辩护意见 辩称 辩解 供述 供认 陈述 笔录 讯问 询问 提交
提供 出示 质证 举证 当庭 庭审 开庭 公开 审判 审判长 审判员 书记员 陪审员 依照 规定
第一款 第二款 中华人民共和国 刑法 刑事诉讼法 条 款 项 之 请求 予以 采纳 支持 不予
情况 情形 相关 有关 所述 所称 系 经 其 该 此 本案 本 案 案件 案发 案由 在案
附卷 卷 材料 书证 物证 鉴定意见 鉴定 意见 检查 勘验 现场 辨认 照片 视频 监控 录像
户籍 身份 户籍证明 身份证明 到案 经过 到案经过 抓获 抓获经过 归案 侦查 侦查机关
公安机关 公安局 派出所 民警 机关 单位 工作 人员 某某 某 甲 乙 丙 丁 等 等人 人
之间 其中 以及 及 与 和 或 或者 并 并且 且 而 但 但是 因 因为 所以 由于 为
为了 对 对于 于 向 从 自 至 到 在 将 把 被 让 给 由 以 以上 以下 之后 之前
后 前 时 时许 许 左右 期间 当日 当天 次日 同日 当晚 同年 月 日 年 分 号 的 了
着 过 是 有 无 没有 不 也 都 又 再 即 就 便 则 已 已经 曾 曾经 均 共 共计
合计 一 一个 一些 这 那 这个 那个 这些 那些 他 她 它 他们 她们 我 我们 你 你们
自己 本人 其他 其余 另 另外 各 每 该案 如下 如 若 如果 虽然 即使 只 仅 还 同时
随后 然后 后来 当时 遂 便于 进行 作出 做出 发生 存在 具有 属于 应当 可以 能够
需要 要求 表示 称 说 讲 问 答 告知 知道 明知 情节 行为 其行为 已构成 犯 罪 犯罪
依 根据 按照 鉴于 综上 综上所述 所 者 之一 方面 一方 双方 各方
"""
LEGAL_STOP_WORDS = frozenset(_STOP_WORDS.split())

_CJK = re.compile(r"[\u4e00-\u9fff]")
_SENTENCE_SPLIT = re.compile(r"[。；;！？!?\n]+")


class _Cutter(Protocol):
    def __call__(self, text: str) -> list[str]: ...


@lru_cache(maxsize=1)
def _cutter() -> _Cutter:
    """rjieba when installed (same dictionary, same cuts without HMM, ~25× faster), else jieba."""
    try:
        import rjieba
    except ImportError:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        return lambda text: jieba.lcut(text, HMM=False)
    return lambda text: rjieba.cut(text, False)


@lru_cache(maxsize=1)
def _search_cutter() -> _Cutter:
    try:
        import rjieba
    except ImportError:
        import jieba

        return lambda text: jieba.lcut_for_search(text, HMM=False)
    return lambda text: rjieba.cut_for_search(text, False)


def tokens(text: str) -> list[str]:
    """The words of ``text`` that can make two cases alike: jieba dictionary words with at least two
    characters and at least one Chinese character, minus LEGAL_STOP_WORDS. Single characters are
    dropped (mostly particles and the leftovers of names); digits and punctuation never count."""
    stop = LEGAL_STOP_WORDS
    cjk = _CJK.search
    # the first-character test settles almost every word without the regex (the hot loop of an import)
    return [
        w
        for w in _cutter()(text)
        if len(w) > 1 and w not in stop and ("\u4e00" <= w[0] <= "\u9fff" or cjk(w))
    ]


# ---------------------------------------------------------------- documents and matches


@dataclass(frozen=True)
class Doc:
    """One judged case as the ranker sees it."""

    id: str
    tokens: Sequence[str]  # tokens(facts …)
    charges: tuple[str, ...]  # judged charges, "盗窃罪"
    circumstances: tuple[str, ...] = ()
    money_yuan: float | None = None


@dataclass(frozen=True)
class Match:
    """A ranked case; ``why`` is JSON-serialisable and is what the explanation panel shows."""

    id: str
    score: float
    why: dict[str, Any]


@dataclass(frozen=True)
class Config:
    """The ranker's knobs. The defaults are the best of a small grid on the 54 LeCaRD dev queries;
    ``xietong bench similar`` also chooses them on one half and scores the other (2-fold)."""

    k1: float = 1.2  # BM25 term-frequency saturation
    b: float = 0.75  # BM25 length normalisation
    vote_depth: int = 10  # nearest neighbours whose judged charges vote for the query's charges
    charge_weight: float = 2.0  # weight of charge agreement against the best BM25 score (= 1)
    named_charges: bool = True  # a charge named in the query text is a sure vote
    use_charges: bool = True  # False: plain BM25 (the baseline)
    model_weight: float = 2.0  # weight of the library's ChargeModel against the neighbour vote (= 1)
    query_terms: int = 50  # keep the query's N best words by idf × count (0: all); see Index._query
    max_df: float = 0.5  # in a large index (LARGE rows), words in more than this share of rows are skipped


DEFAULT = Config()
LARGE = 5_000  # rows from which max_df applies: below it a common word still separates cases
MIN_SHARE = 0.01  # predicted charges below this share of the blend are dropped (noise, and cost)
LIKELY_SHARE = 0.2  # vote share from which a predicted charge is named in the explanation


# ---------------------------------------------------------------- charge model


@dataclass
class ChargeModel:
    """The charges a text of facts is likely to be judged for, learned from every judged document of
    the library (all collections): the charges come from each judgment's own result, never from a
    label. Two simple classifiers over the same words, averaged because they fail differently:

    * multinomial naive Bayes (word counts per charge), its log-likelihood averaged per query word and
      tempered (``NB_TEMPERATURE``), so a long text of facts does not make it absurdly sure;
    * the cosine to each charge's TF-IDF centroid (the mean of its documents), tempered likewise.

    Why the whole library and not the neighbours of one collection: a collection (or a retrieval
    pool) can be dominated by a charge that is not the query's — 30 bribery cases around one fraud —
    and then its neighbours out-vote the facts; the library has seen every charge on its own ground.
    ``keywords`` holds, per charge, the words most typical of it against all others (its elements as
    the judgments write them: 秘密窃取 for 盗窃罪), shown in the explanation.

    Both matrices are stored word-major (the charges of each word), so a prediction touches only the
    query's words, like the index."""

    charges: list[str]
    terms: dict[str, int]
    idf: np.ndarray  # float32 per term
    nb_indptr: np.ndarray  # int64: charges of term t are nb_charge[indptr[t]:indptr[t + 1]]
    nb_charge: np.ndarray  # int32
    nb_log: np.ndarray  # float32, log1p(count(t, c) / NB_ALPHA)
    nb_norm: np.ndarray  # float32 per charge, log(words(c) + NB_ALPHA × vocabulary)
    cen_indptr: np.ndarray
    cen_charge: np.ndarray
    cen_value: np.ndarray  # float32, weight of term t in charge c's unit centroid
    keywords: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, docs: Iterable[Doc], *, min_df: int = 2) -> ChargeModel:
        """Learn from ``docs`` (their tokens and judged charges; documents without a charge teach
        nothing). A document with k charges counts 1/k for each. Words in fewer than ``min_df``
        documents are dropped: they cannot generalise and would dominate the model's size."""
        from scipy import sparse

        terms: dict[str, int] = {}
        t_cols: list[np.ndarray] = []
        t_counts: list[np.ndarray] = []
        charges: list[tuple[str, ...]] = []
        for doc in docs:
            if not doc.charges:
                continue
            tf = Counter(doc.tokens)
            t_cols.append(np.fromiter((terms.setdefault(t, len(terms)) for t in tf), np.int64, len(tf)))
            t_counts.append(np.fromiter(tf.values(), np.float32, len(tf)))
            charges.append(tuple(doc.charges))
        if not t_cols or not terms:
            return cls.empty()
        x = sparse.csr_matrix(
            (np.concatenate(t_counts), np.concatenate(t_cols), _offsets([len(a) for a in t_cols])),
            shape=(len(t_cols), len(terms)),
        )
        return cls._fit(x, charges, list(terms), min_df)

    @classmethod
    def from_indexes(cls, indexes: Iterable[Index], *, min_df: int = 2) -> ChargeModel:
        """Learn from the documents of built indexes (every collection of the library): the same
        model as ``build`` over their documents, read from the postings without counting words
        again — the way to train on 100k judgments in seconds rather than minutes."""
        from scipy import sparse

        terms: dict[str, int] = {}
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (row, word, count)
        charges: list[tuple[str, ...]] = []
        for index in indexes:
            judged = np.fromiter((bool(cs) for cs in index.charges), bool, len(index))
            new_row = np.where(judged, np.cumsum(judged) - 1 + len(charges), -1)
            word = np.fromiter(
                (terms.setdefault(t, len(terms)) for t in index.terms), np.int64, len(index.terms)
            )
            rows = new_row[index.rows]
            kept = rows >= 0
            parts.append((rows[kept], np.repeat(word, np.diff(index.indptr))[kept], index.tf[kept]))
            charges.extend(cs for cs in index.charges if cs)
        if not charges or not terms:
            return cls.empty()
        x = sparse.csr_matrix(
            (
                np.concatenate([p[2] for p in parts]).astype(np.float32),
                (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])),
            ),
            shape=(len(charges), len(terms)),
        )
        return cls._fit(x, charges, list(terms), min_df)

    @classmethod
    def _fit(cls, x: Any, doc_charges: list[tuple[str, ...]], vocab: list[str], min_df: int) -> ChargeModel:
        """``x``: documents × words counts (CSR); ``doc_charges``: each document's judged charges."""
        from scipy import sparse

        charge_ids: dict[str, int] = {}
        c_cols = [sorted({charge_ids.setdefault(c, len(charge_ids)) for c in cs}) for cs in doc_charges]
        n, v, c = x.shape[0], x.shape[1], len(charge_ids)
        df = np.bincount(x.indices, minlength=v)
        keep = np.flatnonzero(df >= min_df)
        if not len(keep):
            return cls.empty()
        x = x[:, keep].tocsr()
        df = df[keep]
        kept_terms = {vocab[i]: j for j, i in enumerate(keep.tolist())}
        y = sparse.csr_matrix(
            (
                np.concatenate([np.full(len(cs), 1 / len(cs), np.float32) for cs in c_cols]),
                np.concatenate([np.asarray(cs, np.int64) for cs in c_cols]),
                _offsets([len(cs) for cs in c_cols]),
            ),
            shape=(n, c),
        )
        counts = (x.T @ y).tocsr()  # term × charge
        counts.sort_indices()
        words = np.asarray(counts.sum(axis=0)).ravel()
        idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
        xt = x.copy()
        xt.data = np.log1p(xt.data) * idf[xt.indices]
        lengths = np.sqrt(np.asarray(xt.multiply(xt).sum(axis=1)).ravel())
        xt = sparse.diags(1 / np.maximum(lengths, 1e-9)) @ xt
        centroids = (y.T @ xt).tocsr()  # charge × term
        size = np.sqrt(np.asarray(centroids.multiply(centroids).sum(axis=1)).ravel())
        centroids = (sparse.diags(1 / np.maximum(size, 1e-9)) @ centroids).T.tocsr()
        centroids.sort_indices()
        charges = list(charge_ids)
        return cls(
            charges=charges,
            terms=kept_terms,
            idf=idf,
            nb_indptr=counts.indptr.astype(np.int64),
            nb_charge=counts.indices.astype(np.int32),
            nb_log=np.log1p(counts.data / NB_ALPHA).astype(np.float32),
            nb_norm=np.log(words + NB_ALPHA * len(keep)).astype(np.float32),
            cen_indptr=centroids.indptr.astype(np.int64),
            cen_charge=centroids.indices.astype(np.int32),
            cen_value=centroids.data.astype(np.float32),
            keywords=_keywords(counts, words, x, y, [vocab[i] for i in keep.tolist()], charges),
        )

    @classmethod
    def empty(cls) -> ChargeModel:
        z = np.zeros(1, np.int64)
        e = np.zeros(0, np.float32)
        return cls([], {}, e, z, np.zeros(0, np.int32), e, e, z, np.zeros(0, np.int32), e)

    def __len__(self) -> int:
        return len(self.charges)

    def predict(self, text_or_tokens: str | Sequence[str], n: int = 10) -> list[tuple[str, float]]:
        """The ``n`` likeliest charges with their share (the shares of all charges sum to 1), best
        first; [] when the model knows none of the words."""
        words = tokens(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
        counted = Counter(t for t in words if t in self.terms)
        if not counted or not self.charges:
            return []
        cols = np.fromiter((self.terms[t] for t in counted), np.int64, len(counted))
        qtf = np.fromiter(counted.values(), np.float64, len(counted))
        total = float(qtf.sum())
        charge, value, which = _gather(self.nb_indptr, cols, self.nb_charge, self.nb_log)
        summed = np.bincount(charge, qtf[which] * value, minlength=len(self.charges)).astype(np.float64)
        loglik = (summed - total * self.nb_norm) / total * NB_TEMPERATURE
        q = np.log1p(qtf) * self.idf[cols]
        q /= np.linalg.norm(q) or 1.0
        charge, value, which = _gather(self.cen_indptr, cols, self.cen_charge, self.cen_value)
        cosine = np.bincount(charge, q[which] * value, minlength=len(self.charges)) * CENTROID_TEMPERATURE
        share = (_softmax(loglik) + _softmax(cosine)) / 2
        top = np.lexsort((np.arange(len(share)), -share))[:n]
        return [(self.charges[i], float(share[i])) for i in top]

    def save(self, path: Path) -> None:
        """Like ``Index.save``: the arrays in ``path`` (.npz), charges, words and keywords beside it."""
        path = Path(path)
        np.savez(
            path,
            **{k: getattr(self, k) for k in _MODEL_ARRAYS},
        )
        meta = {"charges": self.charges, "terms": list(self.terms), "keywords": self.keywords}
        _meta_path(path).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ChargeModel:
        path = Path(path)
        with np.load(path if path.suffix == ".npz" else path.with_suffix(".npz")) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
        return cls(
            charges=meta["charges"],
            terms={t: i for i, t in enumerate(meta["terms"])},
            keywords=meta["keywords"],
            **{k: arrays[k] for k in _MODEL_ARRAYS},
        )


NB_ALPHA = 0.1  # additive smoothing of the word counts
NB_TEMPERATURE = 2.0  # × the per-word mean log-likelihood before the softmax
CENTROID_TEMPERATURE = 40.0  # × the cosine before the softmax
KEYWORDS = 12  # element words kept per charge
_MODEL_ARRAYS = (
    "idf",
    "nb_indptr",
    "nb_charge",
    "nb_log",
    "nb_norm",
    "cen_indptr",
    "cen_charge",
    "cen_value",
)


def _offsets(sizes: Sequence[int]) -> np.ndarray:
    out = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=out[1:])
    return out


def _gather(
    indptr: np.ndarray, cols: np.ndarray, index: np.ndarray, value: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of rows ``cols`` of a CSR matrix, and which of ``cols`` each came from."""
    starts, ends = indptr[cols], indptr[cols + 1]
    spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
    which = np.repeat(np.arange(len(cols)), ends - starts)
    if not spans:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), which
    return (
        np.concatenate([index[a:b] for a, b in spans]),
        np.concatenate([value[a:b] for a, b in spans]),
        which,
    )


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return np.asarray(e / e.sum())


def _keywords(
    counts: Any, words: np.ndarray, x: Any, y: Any, vocab: list[str], charges: list[str]
) -> dict[str, list[str]]:
    """Per charge, the words most typical of it: log-odds of the word within the charge against all
    other charges, among words found in at least a fifth of the charge's documents (and two)."""
    from scipy import sparse

    present = x.copy()
    present.data[:] = 1
    hit = (y > 0).astype(np.float32)
    docs_with = (present.T @ hit).tocsc()  # term × charge: documents of c containing t
    docs_per_charge = np.asarray(hit.sum(axis=0)).ravel()
    total_words = float(words.sum())
    per_term = np.asarray(counts.sum(axis=1)).ravel()
    out: dict[str, list[str]] = {}
    csc = sparse.csc_matrix(counts)
    for ci, charge in enumerate(charges):
        lo, hi = csc.indptr[ci], csc.indptr[ci + 1]
        rows, cnt = csc.indices[lo:hi], csc.data[lo:hi]
        dw = docs_with[:, ci].toarray().ravel()[rows]
        ok = dw >= max(2.0, 0.2 * docs_per_charge[ci])
        if not ok.any():
            out[charge] = []
            continue
        rows, cnt = rows[ok], cnt[ok]
        inside = (cnt + NB_ALPHA) / (words[ci] + NB_ALPHA)
        outside = (per_term[rows] - cnt + NB_ALPHA) / (total_words - words[ci] + NB_ALPHA)
        order = np.lexsort((rows, -np.log(inside / outside)))[:KEYWORDS]
        out[charge] = [vocab[r] for r in rows[order]]
    return out


# ---------------------------------------------------------------- index


@dataclass
class Index:
    """An inverted index over a fixed list of documents (rows). Rebuilt when the collection changes."""

    ids_: list[str]
    terms: dict[str, int]  # term → column
    indptr: np.ndarray  # int64, len(terms) + 1: postings of column t are indptr[t]:indptr[t + 1]
    rows: np.ndarray  # int32, row of each posting, sorted within a column
    tf: np.ndarray  # uint8, term count of each posting (BM25 saturates long before 255)
    doc_len: np.ndarray  # float32, tokens per row
    charges: list[tuple[str, ...]]
    circumstances: list[tuple[str, ...]]
    money: np.ndarray  # float64, NaN when unknown
    config: Config = field(default_factory=Config)
    _charge_set: frozenset[str] = field(init=False, repr=False)

    _charge_ids: dict[str, int] = field(init=False, repr=False)
    _charge_rows: np.ndarray = field(init=False, repr=False)  # row of each (row, charge) pair
    _charge_cols: np.ndarray = field(init=False, repr=False)  # charge id of each pair
    _norm: np.ndarray = field(init=False, repr=False)  # BM25 length normalisation of each row
    _row_of: dict[str, int] | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._charge_set = frozenset(c for cs in self.charges for c in cs)
        self._charge_ids = {c: i for i, c in enumerate(sorted(self._charge_set))}
        pairs = [(r, self._charge_ids[c]) for r, cs in enumerate(self.charges) for c in cs]
        self._charge_rows = np.asarray([r for r, _ in pairs], np.int64)
        self._charge_cols = np.asarray([c for _, c in pairs], np.int64)
        k1, b = self.config.k1, self.config.b
        avg = float(self.doc_len.mean()) if len(self.doc_len) else 1.0
        self._norm = (k1 * (1 - b + b * self.doc_len / (avg or 1.0))).astype(np.float32)

    # ------------------------------------------------ build, save, load

    @classmethod
    def build(cls, docs: Iterable[Doc], *, config: Config = DEFAULT) -> Index:
        """Index ``docs`` in the order given (row i = i-th doc)."""
        ids: list[str] = []
        terms: dict[str, int] = {}
        cols: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        lengths: list[int] = []
        charges: list[tuple[str, ...]] = []
        circs: list[tuple[str, ...]] = []
        money: list[float] = []
        for doc in docs:
            ids.append(doc.id)
            tf = Counter(doc.tokens)
            cols.append(np.fromiter((terms.setdefault(t, len(terms)) for t in tf), np.int32, len(tf)))
            counts.append(np.fromiter(tf.values(), np.int64, len(tf)))
            lengths.append(len(doc.tokens))
            charges.append(tuple(doc.charges))
            circs.append(tuple(doc.circumstances))
            money.append(math.nan if doc.money_yuan is None else float(doc.money_yuan))
        n = len(ids)
        col = np.concatenate(cols) if cols else np.zeros(0, np.int32)
        cnt = np.concatenate(counts) if counts else np.zeros(0, np.int64)
        row = np.repeat(np.arange(n, dtype=np.int32), [len(c) for c in cols])
        order = np.argsort(col, kind="stable")  # stable: rows stay sorted within a column
        indptr = np.zeros(len(terms) + 1, np.int64)
        np.cumsum(np.bincount(col, minlength=len(terms)), out=indptr[1:])
        return cls(
            ids_=ids,
            terms=terms,
            indptr=indptr,
            rows=row[order],
            tf=np.minimum(cnt[order], 255).astype(np.uint8),
            doc_len=np.asarray(lengths, np.float32),
            charges=charges,
            circumstances=circs,
            money=np.asarray(money, np.float64),
            config=config,
        )

    def save(self, path: Path) -> None:
        """``path`` (an .npz) holds the arrays; ``path`` with suffix .json the ids, terms and fields."""
        path = Path(path)
        np.savez(path, indptr=self.indptr, rows=self.rows, tf=self.tf, doc_len=self.doc_len, money=self.money)
        meta = {
            "ids": self.ids_,
            "terms": list(self.terms),
            "charges": [list(c) for c in self.charges],
            "circumstances": [list(c) for c in self.circumstances],
        }
        _meta_path(path).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, *, config: Config = DEFAULT) -> Index:
        path = Path(path)
        with np.load(path if path.suffix == ".npz" else path.with_suffix(".npz")) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
        return cls(
            ids_=meta["ids"],
            terms={t: i for i, t in enumerate(meta["terms"])},
            indptr=arrays["indptr"],
            rows=arrays["rows"],
            tf=arrays["tf"],
            doc_len=arrays["doc_len"],
            charges=[tuple(c) for c in meta["charges"]],
            circumstances=[tuple(c) for c in meta["circumstances"]],
            money=arrays["money"],
            config=config,
        )

    def __len__(self) -> int:
        return len(self.ids_)

    def ids(self) -> list[str]:
        return list(self.ids_)

    # ------------------------------------------------ scoring

    def _idf(self, cols: np.ndarray) -> np.ndarray:
        df = (self.indptr[cols + 1] - self.indptr[cols]).astype(np.float32)
        return np.log1p((len(self) - df + 0.5) / (df + 0.5))

    def _query(self, query_terms: Counter[str], *, reduce: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The query's known columns, their weights (idf × count) and words, best first.

        ``reduce`` (ranking, not full-text search): keep only the ``query_terms`` best words, and in a
        large index drop words in more than ``max_df`` of the rows. A page of facts has hundreds of
        words; the common ones carry almost no weight but most of the postings, i.e. most of the time."""
        known = [(t, self.terms[t], n) for t, n in query_terms.items() if t in self.terms]
        if not known or not len(self):
            return np.zeros(0, np.int64), np.zeros(0, np.float32), []
        cols = np.fromiter((c for _, c, _ in known), np.int64, len(known))
        weight = self._idf(cols) * np.fromiter((n for _, _, n in known), np.float32, len(known))
        order = np.lexsort((cols, -weight))
        if reduce:
            if len(self) >= LARGE and self.config.max_df < 1:
                df = self.indptr[cols + 1] - self.indptr[cols]
                order = order[df[order] <= self.config.max_df * len(self)]
            if self.config.query_terms:
                order = order[: self.config.query_terms]
        return cols[order], weight[order], [known[i][0] for i in order.tolist()]

    def _bm25(self, cols: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """BM25 score of every row for the query columns ``cols`` weighted ``weight``."""
        if not len(cols) or not len(self):
            return np.zeros(len(self), np.float64)
        rows, tf, which = _gather(self.indptr, cols, self.rows, self.tf)
        k1 = np.float32(self.config.k1)
        tf = tf.astype(np.float32)
        contribution = weight[which] * tf * (k1 + 1) / (tf + self._norm[rows])
        return np.bincount(rows, contribution, minlength=len(self))

    def predict_charges(
        self, text: str, lexical: np.ndarray, *, exclude: np.ndarray | None = None
    ) -> dict[str, float]:
        """The query's likely charges with their vote share (summing to 1): the judged charges of the
        ``vote_depth`` best lexical neighbours vote with their BM25 score; a charge of the collection
        that the text itself names gets as many votes as all neighbours together."""
        votes: dict[str, float] = {}
        s = lexical if exclude is None else np.where(exclude, -np.inf, lexical)
        depth = min(self.config.vote_depth, len(self))
        if depth:
            top = np.argpartition(-s, depth - 1)[:depth]
            for r in top:
                if np.isfinite(s[r]) and s[r] > 0:
                    for c in self.charges[r]:
                        votes[c] = votes.get(c, 0.0) + float(s[r]) / max(len(self.charges[r]), 1)
        if self.config.named_charges:
            named = named_charges(text, self._charge_names())
            total = sum(votes.values()) or 1.0
            for c in named:
                votes[c] = votes.get(c, 0.0) + total / len(named)
        total = sum(votes.values())
        ranked = sorted(votes.items(), key=lambda cv: (-cv[1], cv[0]))
        return {c: v / total for c, v in ranked} if total else {}

    def _charge_names(self) -> frozenset[str]:
        return self._charge_set

    def _charge_agreement(self, predicted: dict[str, float]) -> np.ndarray:
        """Share of the predicted charges' mass that each row's judged charges cover (a selective
        charge covers its variants: see ``same_charge``)."""
        out = np.zeros(len(self), np.float64)
        for charge, share in predicted.items():
            ids = [i for c, i in self._charge_ids.items() if same_charge(charge, c)]
            hit = np.zeros(len(self), bool)
            hit[self._charge_rows[np.isin(self._charge_cols, ids)]] = True
            out += share * hit
        return out

    def similar(
        self,
        text: str,
        k: int = 30,
        *,
        exclude: Container[str] = (),
        charge_model: ChargeModel | None = None,
    ) -> list[Match]:
        """The ``k`` cases most similar to the facts ``text``, best first, each with its explanation.
        ``exclude``: ids never returned (the case itself). ``charge_model``: the library's
        (``ChargeModel``), whose prediction is blended with the neighbours' vote (``model_weight``);
        without it the vote alone predicts the charges."""
        if not len(self) or k <= 0:
            return []
        query_tokens = tokens(text)
        cols, weight, words = self._query(Counter(query_tokens), reduce=True)
        lexical = self._bm25(cols, weight)
        excluded = self._excluded(exclude)
        best = float(lexical.max())
        score = lexical / best if best > 0 else lexical.copy()
        predicted: dict[str, float] = {}
        if self.config.use_charges:
            predicted = self.predict_charges(text, lexical, exclude=excluded)
            if charge_model is not None and self.config.model_weight > 0:
                predicted = _blend(predicted, charge_model.predict(query_tokens), self.config.model_weight)
            score = score + self.config.charge_weight * self._charge_agreement(predicted)
        if excluded is not None:
            score[excluded] = -np.inf
        k = min(k, len(self) - (int(excluded.sum()) if excluded is not None else 0))
        if k <= 0:
            return []
        top = np.argpartition(-score, k - 1)[:k]
        top = top[np.lexsort((top, -score[top]))]
        explainer = _Explainer(self, text, top, cols, weight, words, predicted, charge_model)
        return [Match(self.ids_[r], float(score[r]), explainer.why(int(r))) for r in top]

    def _excluded(self, exclude: Container[str]) -> np.ndarray | None:
        if not exclude:
            return None
        if isinstance(exclude, Iterable):
            if self._row_of is None:
                self._row_of = {i: r for r, i in enumerate(self.ids_)}
            mask = np.zeros(len(self), bool)
            mask[[self._row_of[i] for i in exclude if i in self._row_of]] = True
            return mask
        return np.fromiter((i in exclude for i in self.ids_), bool, len(self))

    def search(self, query: str, *, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Full text: the rows that contain every word of ``query``, with their BM25 scores, best first.

        A query word the index does not know (jieba cut it differently in the documents, e.g. a long
        compound) is replaced by its ``cut_for_search`` parts that the index knows; a word with no
        known part matches nothing. ``allowed``: a boolean mask over rows (the caller's filters)."""
        words = [w for w in _search_words(query)]
        if not words or not len(self):
            return np.zeros(0, np.int64), np.zeros(0)
        groups: list[list[str]] = []
        for w in words:
            if w in self.terms:
                groups.append([w])
            else:
                parts = [p for p in _search_cutter()(w) if p != w and len(p) > 1 and p in self.terms]
                if not parts:
                    return np.zeros(0, np.int64), np.zeros(0)
                groups.append(parts)
        mask = np.ones(len(self), bool) if allowed is None else np.asarray(allowed, bool).copy()
        for group in groups:
            for t in group:
                c = self.terms[t]
                has = np.zeros(len(self), bool)
                has[self.rows[self.indptr[c] : self.indptr[c + 1]]] = True
                mask &= has
        rows = np.flatnonzero(mask)
        cols, weight, _ = self._query(Counter(t for g in groups for t in g), reduce=False)
        scores = self._bm25(cols, weight)
        order = np.lexsort((rows, -scores[rows]))
        return rows[order], scores[rows][order]


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _search_words(query: str) -> list[str]:
    seen: list[str] = []
    for w in _cutter()(query):
        w = w.strip()
        if w and (_CJK.search(w) or w.isalnum()) and w not in LEGAL_STOP_WORDS and w not in seen:
            seen.append(w)
    return seen


def _blend(vote: dict[str, float], model: Sequence[tuple[str, float]], weight: float) -> dict[str, float]:
    """The neighbours' vote (a named charge included) plus ``weight`` × the model's shares,
    renormalised, charges under MIN_SHARE dropped, best first."""
    mixed = dict(vote)
    for charge, share in model:
        mixed[charge] = mixed.get(charge, 0.0) + weight * share
    total = sum(mixed.values())
    if not total:
        return {}
    kept = {c: v for c, v in mixed.items() if v >= MIN_SHARE * total}
    total = sum(kept.values())
    return {c: v / total for c, v in sorted(kept.items(), key=lambda cv: (-cv[1], cv[0]))}


def same_charge(a: str, b: str) -> bool:
    """One charge, or a selective charge (选择性罪名) and one of its variants: 贩卖毒品罪 and
    贩卖、运输毒品罪 and 走私、贩卖、运输、制造毒品罪; 非法持有枪支罪 and 非法持有、私藏枪支、弹药罪.
    Judgments name the variant that fits the facts, so the same offence is written several ways;
    the shorter name, read in order, is then contained in the longer one. Only names with 、
    are read this way: 受贿罪 is not 非国家工作人员受贿罪."""
    if a == b:
        return True
    if "、" not in a and "、" not in b:
        return False
    short, long = sorted((a.replace("、", ""), b.replace("、", "")), key=len)
    it = iter(long)
    return all(ch in it for ch in short)


def named_charges(text: str, known: Container[str]) -> list[str]:
    """Charges of ``known`` that ``text`` names ("涉嫌盗窃罪"), the longest name winning
    (诈骗罪 inside 合同诈骗罪 does not count)."""
    found = [c for c in extract.charges(text) if c in known]
    return [c for c in found if not any(c != o and c in o for o in found)]


# ---------------------------------------------------------------- explanations


class _Explainer:
    """Builds ``Match.why`` for the rows of one query (shared work done once)."""

    def __init__(
        self,
        index: Index,
        text: str,
        rows: np.ndarray,
        cols: np.ndarray,
        weight: np.ndarray,
        words: list[str],
        predicted: dict[str, float],
        charge_model: ChargeModel | None = None,
    ) -> None:
        self.index = index
        self.words = words
        self.predicted = predicted
        # "同为X罪" only for charges the query is likely to have, not for every stray vote
        self.likely = [c for c, share in predicted.items() if share >= LIKELY_SHARE] or list(predicted)[:1]
        self.circumstances = extract.circumstances(text)
        self.money = extract.amounts(text).money_yuan
        # which query word each shown row has: one sorted lookup per word, not per (row, word)
        self._slot = {int(r): i for i, r in enumerate(rows.tolist())}
        self._has = np.zeros((len(rows), len(cols)), bool)
        wanted = np.sort(rows)
        for j, c in enumerate(cols.tolist()):
            postings = index.rows[index.indptr[c] : index.indptr[c + 1]]
            found = np.isin(wanted, postings, assume_unique=True)
            self._has[[self._slot[int(r)] for r in wanted[found]], j] = True
        self.elements: set[str] = set()
        if charge_model is not None:
            for charge in self.likely:
                self.elements.update(charge_model.keywords.get(charge, ()))

    def _shared_terms(self, row: int, n: int = 8) -> list[str]:
        has = self._has[self._slot[row]] if row in self._slot else np.zeros(len(self.words), bool)
        return [w for w, h in zip(self.words, has.tolist(), strict=True) if h][:n]

    def why(self, row: int) -> dict[str, Any]:
        doc_charges = list(self.index.charges[row])
        shared_charges = [c for c in doc_charges if any(same_charge(c, p) for p in self.likely)]
        shared_circ = [c for c in self.index.circumstances[row] if c in self.circumstances]
        terms = self._shared_terms(row)
        elements = [t for t in terms if t in self.elements]
        doc_money = self.index.money[row]
        amounts = {
            "query_yuan": self.money,
            "doc_yuan": None if math.isnan(doc_money) else float(doc_money),
        }
        parts: list[str] = []
        if shared_charges:
            parts.append("同为" + "、".join(shared_charges))
        elif doc_charges:
            parts.append("罪名不同（" + "、".join(doc_charges) + "）")
        if shared_circ:
            parts.append("共同情节：" + "、".join(shared_circ))
        if terms:
            parts.append("共同要素：" + "、".join(terms[:5]))
        if amounts["query_yuan"] is not None and amounts["doc_yuan"] is not None:
            parts.append(f"金额 {_yuan(amounts['query_yuan'])} / {_yuan(amounts['doc_yuan'])}")
        return {
            "predicted_charges": [{"charge": c, "share": round(s, 3)} for c, s in self.predicted.items()][:5],
            "doc_charges": doc_charges,
            "shared_charges": shared_charges,
            "shared_terms": terms,
            "shared_elements": elements,
            "shared_circumstances": shared_circ,
            "amounts": amounts,
            "summary": "；".join(parts) or "用词相近",
        }


def _yuan(value: float) -> str:
    return f"{value / 10_000:g}万元" if value >= 10_000 else f"{value:g}元"


# ---------------------------------------------------------------- passages


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if len(s.strip()) > 4]


def passages(query_text: str, doc_text: str, n: int = 3) -> list[tuple[str, str]]:
    """Up to ``n`` pairs (query sentence, document sentence) that say the most alike, best first,
    each sentence used once: the "key passages side by side" of the explanation panel.

    Sentences are split on 。；！？; two sentences are alike by the words they share, longer words
    weighing more (a shared 入户盗窃 says more than a shared 价值), normalised by the sentences' sizes
    so that a long evidence listing does not win by sheer length."""
    qs, ds = sentences(query_text), sentences(doc_text)
    if not qs or not ds:
        return []
    q_sets = [set(tokens(s)) for s in qs]
    d_sets = [set(tokens(s)) for s in ds]
    pairs: list[tuple[float, int, int]] = []
    for i, a in enumerate(q_sets):
        if not a:
            continue
        wa = sum(len(w) for w in a)
        for j, b in enumerate(d_sets):
            shared = a & b
            if shared:
                wb = sum(len(w) for w in b)
                pairs.append((sum(len(w) for w in shared) / math.sqrt(wa * wb), i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_q: set[int] = set()
    used_d: set[int] = set()
    out: list[tuple[str, str]] = []
    for _, i, j in pairs:
        if i in used_q or j in used_d:
            continue
        used_q.add(i)
        used_d.add(j)
        out.append((qs[i], ds[j]))
        if len(out) == n:
            break
    return out
