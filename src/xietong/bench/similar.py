"""``xietong bench similar``: quality of the similar-case ranker on LeCaRD, and its speed at 100k cases.

Quality. LeCaRD (SIGIR 2021) gives, for each query (the facts of a criminal case), about 30
candidate judgments labelled 0-3 by lawyers. As the issue asks, each query's labelled candidates are
imported into a collection of their own and ranked for the query's facts; NDCG@10 and NDCG@30
(graded labels, ideal DCG from the labels) and MAP (label 3 relevant) are computed as LeCaRD's
``metrics.py`` does. The candidates' charges are read from their own judgment result
(``extract.charges`` over 判决结果), never from the labels nor from the query's ``crime`` field. The
library's charge model (``ranking.ChargeModel``) learns from every candidate of every query once —
the library of many collections that the product has — and from the real judgments the product ships
as its demo library (``library/data/judgments.jsonl.gz``: 450 judgments no LeCaRD query labels, and
184 dev candidates, counted once), while ranking stays within each query's own collection. Nothing of
it is a label: every judgment teaches only the charges of its own result. What is indexed of a
judgment is what an import indexes (``services.index_text``). The final ranking is also run through
the product itself (``through_product``: ``library import`` of the shipped judgments and of each
query's candidates into its own collection, then ``selectors.similar_cases``). Every
step of the method is scored in the same run next to a plain BM25 over jieba tokens and the
published baselines. Parameters are then chosen on one half of the queries and scored on the other
(2-fold), to show how much the defaults owe to the dev queries.

Speed. A collection of realistic generated judgments (sentences of the real candidates recombined,
each generated case drawing only on cases with the same judged charges, so charges and facts agree):
build time of the index and of the charge model, ``similar()`` (with the model) p50/p95 over
100 queries, the saved index's size and load time, the process's RSS. Tokenisation rate on the
real judgments (whole facts + reasoning + result), one and two processes. The last line printed is
one JSON object."""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from xietong.library import data as library_data
from xietong.library import extract, ranking

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "lecard" / "dev"
PUBLISHED = {  # LeCaRD paper / README
    "BM25 (LeCaRD, 107 queries, NDCG@30)": {"ndcg30": 0.888},
    "LMIR (LeCaRD, 107 queries, NDCG@30)": {"ndcg30": 0.900},
    "BERT (LeCaRD, test queries, MAP)": {"map": 0.568},
}
TARGET = {"ndcg10": 0.80, "map": 0.55}
SEED = 20240611
DOCS, QUICK_DOCS, QUERIES, QUICK_QUERIES = 100_000, 10_000, 100, 30

# Ablation: each step adds one mechanism to the one before (the last is the product's ranking);
# "only" rows take one mechanism away from the last. The charge model learns from "candidates" (every
# query's candidates once) or from the whole "library" (those and the judgments the product ships).
STEPS: tuple[tuple[str, ranking.Config, str], ...] = (  # (name, config, charge model)
    ("BM25（jieba 分词，基线）", ranking.Config(use_charges=False), "none"),
    ("+ 近邻判决罪名投票", ranking.Config(named_charges=False), "none"),
    ("+ 查询中写明的罪名", ranking.Config(), "none"),
    ("+ 罪名模型（仅学候选判决）", ranking.Config(), "candidates"),
    ("仅全库罪名模型（无近邻投票）", ranking.Config(vote_depth=0), "library"),
    ("+ 全库罪名模型（含随产品发布的判决）", ranking.Config(), "library"),
)
SHIPPED = Path(library_data.__path__[0]) / "judgments.jsonl.gz"  # the demo library's real judgments
GRID_WEIGHTS = (1.0, 2.0, 3.0)  # charge_weight
GRID_MODEL = (1.0, 2.0, 4.0)  # model_weight


@dataclass(frozen=True)
class Query:
    ridx: str
    text: str
    labels: dict[str, int]  # cand_id → 0..3, in the label file's order
    docs: tuple[ranking.Doc, ...]


def doc_text(row: dict[str, Any]) -> str:
    """What the product indexes of a judgment (``services.index_text``): the facts, and the head of
    the court's reasoning when the facts are short (never the result, whose words are the charge)."""
    from xietong.library.services import index_text  # needs Django's apps: imported when run

    return index_text(facts=row.get("ajjbqk") or "", reasoning=row.get("cpfxgc") or "")


def to_doc(cand_id: str, row: dict[str, Any]) -> ranking.Doc:
    pjjg = row.get("pjjg") or ""
    reasoning = row.get("cpfxgc") or ""
    facts = row.get("ajjbqk") or ""
    return ranking.Doc(
        id=cand_id,
        tokens=ranking.tokens(doc_text(row)),
        charges=tuple(extract.charges(pjjg)),
        circumstances=tuple(extract.circumstances(reasoning)),
        money_yuan=extract.amounts(facts).money_yuan,
    )


def load(data: Path) -> tuple[list[Query], dict[str, dict[str, Any]]]:
    """The dev queries with their labelled candidates, and every candidate row by cand_id."""
    if not (data / "queries.jsonl").exists():
        raise FileNotFoundError(f"找不到 LeCaRD 开发集数据：{data}（需要 queries.jsonl 等文件）")
    labels = json.loads((data / "label_top30_dict.json").read_text(encoding="utf-8"))
    rows: dict[str, dict[str, Any]] = {}
    with gzip.open(data / "candidates_labeled.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            rows.setdefault(str(r["cand_id"]), r)
    docs = {cid: to_doc(cid, r) for cid, r in rows.items()}
    queries = []
    with (data / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)  # q["crime"] is metadata: never read
            ridx = str(q["ridx"])
            lab = {str(c): int(v) for c, v in labels[ridx].items()}
            queries.append(Query(ridx, q["q"], lab, tuple(docs[c] for c in lab if c in docs)))
    return queries, rows


# ---------------------------------------------------------------- metrics (LeCaRD metrics.py)


def ndcg(ranked: Sequence[str], labels: dict[str, int], k: int) -> float:
    """As ``metrics.py``: gains of the ranked list (unlabelled = 0, only the first 30 label keys
    count), ideal DCG from all labels of the query."""
    first30 = list(labels)[:30]
    gains = [labels[c] if c in first30 else 0 for c in ranked] + [0] * 30
    ideal = sorted(labels.values(), reverse=True) + [0] * 30
    dcg = sum(gains[i] / math.log2(i + 2) for i in range(k))
    idcg = sum(ideal[i] / math.log2(i + 2) for i in range(k))
    return dcg / idcg if idcg else 0.0


def average_precision(ranked: Sequence[str], labels: dict[str, int]) -> float:
    """Over the labelled candidates only, label 3 relevant; 0 when no candidate has label 3."""
    ranks = [c for c in ranked if c in labels]
    hits, total = 0, 0.0
    for i, c in enumerate(ranks):
        if labels[c] == 3:
            hits += 1
            total += hits / (i + 1)
    return total / hits if hits else 0.0


def shipped_docs(rows: dict[str, dict[str, Any]]) -> list[ranking.Doc]:
    """The judgments the product ships as its demo library, less those already among the candidates
    (same ``writId``): a user's library holds them beside whatever collections they import."""
    seen = {r.get("writId") for r in rows.values()}
    with gzip.open(SHIPPED, "rt", encoding="utf-8") as fh:
        shipped = [json.loads(line) for line in fh]
    return [to_doc(f"shipped-{i}", r) for i, r in enumerate(shipped) if r.get("writId") not in seen]


def library_model(queries: Sequence[Query], extra: Sequence[ranking.Doc] = ()) -> ranking.ChargeModel:
    """The charge model of the "library": every candidate of every query, once, and ``extra``
    judgments (charges from each judgment's own result, as an import reads them)."""
    docs = {d.id: d for q in queries for d in q.docs}
    return ranking.ChargeModel.build([docs[i] for i in sorted(docs)] + list(extra))


def evaluate(
    queries: Sequence[Query], config: ranking.Config, model: ranking.ChargeModel | None = None
) -> dict[str, float]:
    per = [score_query(q, config, model) for q in queries]
    return {m: round(statistics.fmean(p[m] for p in per), 4) for m in ("ndcg10", "ndcg30", "map")}


def rank(q: Query, config: ranking.Config, model: ranking.ChargeModel | None = None) -> list[str]:
    """The query's candidates, best first, ranked within its own collection."""
    index = ranking.Index.build(q.docs, config=config)
    return [m.id for m in index.similar(q.text, k=len(index), charge_model=model)]


def score_query(
    q: Query, config: ranking.Config, model: ranking.ChargeModel | None = None
) -> dict[str, float]:
    ranked = rank(q, config, model)
    return {
        "ndcg10": ndcg(ranked, q.labels, 10),
        "ndcg30": ndcg(ranked, q.labels, 30),
        "map": average_precision(ranked, q.labels),
    }


def two_fold(queries: Sequence[Query], model: ranking.ChargeModel) -> dict[str, Any]:
    """Choose (charge_weight, model_weight) by MAP on one half of the queries, score them on the other
    half, and the other way round; the halves are every other query in ridx order. The charge model
    is the whole library's in both folds: it never sees a label."""
    ordered = sorted(queries, key=lambda q: int(q.ridx))
    halves = (ordered[0::2], ordered[1::2])
    out: dict[str, Any] = {"folds": []}
    held: list[dict[str, float]] = []
    for tune, test in (halves, halves[::-1]):
        best: tuple[float, ranking.Config] = (-1.0, ranking.DEFAULT)
        for w in GRID_WEIGHTS:
            for mw in GRID_MODEL:
                cfg = replace(ranking.DEFAULT, charge_weight=w, model_weight=mw)
                m = evaluate(tune, cfg, model)["map"]
                if m > best[0]:
                    best = (m, cfg)
        on_test = evaluate(test, best[1], model)
        default_on_test = evaluate(test, ranking.DEFAULT, model)
        held.append({k: v * len(test) for k, v in on_test.items()})
        out["folds"].append(
            {
                "chosen": {"charge_weight": best[1].charge_weight, "model_weight": best[1].model_weight},
                "tune_map": best[0],
                "held_out": on_test,
                "default_on_held_out": default_on_test,
                "queries": len(test),
            }
        )
    out["held_out"] = {
        k: round(sum(h[k] for h in held) / len(queries), 4) for k in ("ndcg10", "ndcg30", "map")
    }
    return out


# ---------------------------------------------------------------- speed


def generate_docs(
    rows: dict[str, dict[str, Any]], n: int, rng: random.Random
) -> tuple[list[ranking.Doc], list[list[str]]]:
    """``n`` judgments recombined from the real ones, and the sentence pool they were made of.

    A generated case takes a real case's charges and length; each of its sentences is a random
    sentence of a real case with the same charges (already tokenised), so the collection has the
    vocabulary, the lengths and the charge mix of real judgments."""
    by_charges: dict[tuple[str, ...], list[list[list[str]]]] = defaultdict(list)
    templates: list[tuple[tuple[str, ...], int]] = []
    texts: list[str] = []
    for row in rows.values():
        charges = tuple(extract.charges(row.get("pjjg") or ""))
        sents = [ranking.tokens(s) for s in ranking.sentences(doc_text(row))]
        sents = [s for s in sents if s]
        if not sents:
            continue
        by_charges[charges].append(sents)
        templates.append((charges, len(sents)))
        texts.extend(ranking.sentences(doc_text(row)))
    docs = []
    for i in range(n):
        charges, size = templates[rng.randrange(len(templates))]
        pool = by_charges[charges]
        toks: list[str] = []
        for _ in range(size):
            source = pool[rng.randrange(len(pool))]
            toks.extend(source[rng.randrange(len(source))])
        money = rng.choice((None, float(rng.randint(200, 2_000_000))))
        docs.append(ranking.Doc(f"g{i}", toks, charges, (), money))
    return docs, [[t] for t in texts]


def _tokenise_all(texts: Sequence[str]) -> int:
    return sum(len(ranking.tokens(t)) for t in texts)


def tokenise_rate(rows: dict[str, dict[str, Any]], processes: int) -> float:
    """Whole judgments (facts, reasoning and result) tokenised per second."""
    texts = [doc_text(r) + (r.get("pjjg") or "") for r in rows.values()]
    if processes == 1:
        ranking.tokens("预热")
        t = time.perf_counter()
        _tokenise_all(texts)
        return len(texts) / (time.perf_counter() - t)
    chunks = [texts[i::processes] for i in range(processes)]
    # forkserver, never fork: a forked child of a process with threads (the test run's OCR pool) can
    # inherit a held lock and hang for ever; this module's imports are pure, so the server starts clean.
    with ProcessPoolExecutor(processes, mp_context=get_context("forkserver")) as pool:
        list(pool.map(_tokenise_all, [["预热"]] * processes))
        t = time.perf_counter()
        list(pool.map(_tokenise_all, chunks))
        return len(texts) / (time.perf_counter() - t)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed(
    rows: dict[str, dict[str, Any]], queries: Sequence[Query], n_docs: int, n_queries: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 - generated test data
    docs, sentence_pool = generate_docs(rows, n_docs, rng)
    rss_before = rss_mb()
    t = time.perf_counter()
    index = ranking.Index.build(docs)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    model = ranking.ChargeModel.from_indexes([index])  # the library's model, from its postings
    model_s = time.perf_counter() - t
    del docs
    texts = [q.text for q in queries][:n_queries]
    while len(texts) < n_queries:  # facts made of a few real sentences
        texts.append("。".join(rng.choice(sentence_pool)[0] for _ in range(rng.randint(4, 12))))
    index.similar(texts[0], 30, charge_model=model)
    times = []
    for text in texts:
        t = time.perf_counter()
        index.similar(text, 30, charge_model=model)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.npz"
        index.save(path)
        size = path.stat().st_size + path.with_suffix(".json").stat().st_size
        t = time.perf_counter()
        ranking.Index.load(path)
        load_s = time.perf_counter() - t
        model_path = Path(tmp) / "charges.npz"
        model.save(model_path)
        model_size = model_path.stat().st_size + model_path.with_suffix(".json").stat().st_size
    return {
        "docs": n_docs,
        "queries": len(times),
        "build_s": round(build_s, 2),
        "build_docs_per_s": round(n_docs / build_s),
        "model_build_s": round(model_s, 2),
        "model_mb": round(model_size / 2**20, 1),
        "p50_ms": round(times[len(times) // 2], 1),
        "p95_ms": round(times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)], 1),
        "postings": len(index.rows),
        "terms": len(index.terms),
        "saved_mb": round(size / 2**20, 1),
        "load_s": round(load_s, 2),
        "peak_rss_mb": round(rss_mb()),
        "rss_before_build_mb": round(rss_before),
    }


# ---------------------------------------------------------------- run


def through_product(
    queries: Sequence[Query], rows: dict[str, dict[str, Any]], write: Callable[[str], Any]
) -> dict[str, Any]:
    """The final ranking again, through the product as a user meets it: each query's candidates
    written as a judgment file (``id`` = cand_id and the data set's own field names), imported with
    ``library import`` into a collection of its own (structured fields read from the text,
    de-identified, indexed), then ranked by ``selectors.similar_cases`` — the code behind
    ``/api/v1/library/similar`` — with the charge model the library learns from all collections."""
    from xietong.library import index as library_index
    from xietong.library import selectors
    from xietong.library.importer import library_import

    started = time.perf_counter()
    # the demo library first, as ``demo load`` imports it: the library-wide charge model learns from it
    library_import(path=SHIPPED, collection_name="lecard", workers=1)
    lines = 0
    with tempfile.TemporaryDirectory() as tmp:
        for q in queries:
            path = Path(tmp) / f"q{q.ridx}.jsonl"
            with path.open("w", encoding="utf-8") as fh:
                for cid in q.labels:
                    row = rows.get(cid)
                    if row is None:
                        continue
                    fields = {k: row.get(k) or "" for k in ("ajName", "writName", "ajjbqk", "cpfxgc", "pjjg")}
                    fh.write(json.dumps({"id": cid, **fields}, ensure_ascii=False) + "\n")
                    lines += 1
            library_import(path=path, collection_name=f"q{q.ridx}", workers=1)
    imported_s = time.perf_counter() - started
    library_index.forget()
    per = []
    started = time.perf_counter()
    for q in queries:
        found = selectors.similar_cases(text=q.text, k=len(q.labels) + 5, collection=f"q{q.ridx}")
        ranked = [s.record.external_id for s in found]
        per.append(
            {
                "ndcg10": ndcg(ranked, q.labels, 10),
                "ndcg30": ndcg(ranked, q.labels, 30),
                "map": average_precision(ranked, q.labels),
            }
        )
    ranked_s = time.perf_counter() - started
    out: dict[str, Any] = {
        m: round(statistics.fmean(p[m] for p in per), 4) for m in ("ndcg10", "ndcg30", "map")
    }
    out.update({"imported": lines, "import_s": round(imported_s, 1), "rank_s": round(ranked_s, 1)})
    write(
        f"{'经产品（导入 + similar_cases）':<28}{out['ndcg10']:>9.3f}{out['ndcg30']:>9.3f}{out['map']:>8.3f}"
        f"  （{lines} 篇导入 {imported_s:.0f} 秒，54 次检索 {ranked_s:.1f} 秒）"
    )
    return out


def run(options: dict[str, Any], write: Callable[[str], Any]) -> dict[str, Any]:
    data = Path(options.get("data") or os.environ.get("XIETONG_LECARD_DIR") or DATA)
    quick = bool(options.get("quick"))
    seed = options.get("seed") or SEED
    try:
        queries, rows = load(data)
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from exc
    write(f"LeCaRD 开发集：{len(queries)} 个查询，{len(rows)} 篇候选判决（每个查询的候选各成一个库）")
    extra = shipped_docs(rows)
    model = library_model(queries, extra)
    models = {"none": None, "candidates": library_model(queries), "library": model}
    write(
        f"全库罪名模型：{len(model)} 个罪名，{len(model.terms)} 个词，学自各候选判决及随产品发布的 "
        f"{len(extra)} 篇判决的判决结果（不读标注）"
    )
    steps = []
    write(f"{'方法':<28}{'NDCG@10':>9}{'NDCG@30':>9}{'MAP':>8}")
    for name, config, which in STEPS:
        m = evaluate(queries, config, models[which])
        steps.append({"step": name, **m})
        write(f"{name:<28}{m['ndcg10']:>9.3f}{m['ndcg30']:>9.3f}{m['map']:>8.3f}")
    for name, m in PUBLISHED.items():
        write(
            f"{name:<28}{m.get('ndcg10', float('nan')):>9.3f}{m.get('ndcg30', float('nan')):>9.3f}"
            f"{m.get('map', float('nan')):>8.3f}"
        )
    final: dict[str, Any] = steps[-1]
    product = through_product(queries, rows, write) if options.get("product", True) else None
    folds = two_fold(queries, model)
    h = folds["held_out"]
    write(f"{'二折（半数调参，另半数评测）':<28}{h['ndcg10']:>9.3f}{h['ndcg30']:>9.3f}{h['map']:>8.3f}")
    for f in folds["folds"]:
        write(
            f"  折：选定 {f['chosen']}，调参半 MAP {f['tune_map']:.3f}，评测半 {f['held_out']}，"
            f"默认参数 {f['default_on_held_out']}"
        )
    n_docs, n_queries = (QUICK_DOCS, QUICK_QUERIES) if quick else (DOCS, QUERIES)
    sp = speed(rows, queries, n_docs, n_queries, seed)
    write(
        f"速度：{sp['docs']} 篇建库 {sp['build_s']} 秒，"
        f"罪名模型 {sp['model_build_s']} 秒（{sp['model_mb']} MB）；"
        f"similar() p50 {sp['p50_ms']} ms，p95 {sp['p95_ms']} ms；"
        f"索引 {sp['saved_mb']} MB，载入 {sp['load_s']} 秒；峰值 RSS {sp['peak_rss_mb']} MB"
    )
    tok1 = tokenise_rate(rows, 1)
    tok2 = tokenise_rate(rows, 2)
    write(f"分词：整篇判决 {tok1:.0f} 篇/秒（单进程），{tok2:.0f} 篇/秒（双进程）")
    return {
        "bench": "similar",
        "queries": len(queries),
        "library_judgments": len(extra),
        "steps": steps,
        "final": final,
        "product": product,
        "baseline": steps[0],
        "published": PUBLISHED,
        "two_fold": folds,
        "target": TARGET,
        "target_met": bool(final["ndcg10"] >= TARGET["ndcg10"] and final["map"] >= TARGET["map"]),
        "speed": sp,
        "tokenise_judgments_per_s": {"1": round(tok1), "2": round(tok2)},
    }
