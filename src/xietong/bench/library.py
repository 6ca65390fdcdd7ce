"""``xietong bench library``: how fast the case library takes in judgments and answers over
``--records`` records (default 100,000). Targets: import ≥ 200 judgments/s, similar-case query
p95 < 300 ms.

The data: the real judgments shipped with the demo (``library/data/judgments.jsonl.gz``, 634 LeCaRD
documents). For the import rate they are imported through ``library import`` exactly as a user
would (parse, extract, de-identify, cut words, write), cycled under new ids up to
``--import-records`` (default 2,000); the baseline is the same lines parsed and written as bare rows
with no extraction, de-identification or words. For the latency the library is filled up to
``--records`` with generated judgments: each the facts of a real judgment with its sentences mixed
with those of other judgments of the same charge (so words and charges keep their real
distribution), its structured fields those of its source, written in bulk with their index words.

Timed: the cold build of the index (from the database) and its reload from the saved file; then
100 similar-case queries (facts of real judgments, 150–3,000 characters) through
``selectors.similar_cases`` — ranking, merging, fetching the records — without and with the
side-by-side passages of the top three (what the case page's panel asks); and full-text searches
with a filter and facets. Baseline for the queries: the same query words looked up with SQL
``LIKE`` over the facts (no index), on a few queries only."""

from __future__ import annotations

import gzip
import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

from xietong.bench.bulk import machine, percentile

Write = Callable[[str], None]
TARGET_IMPORT_PER_S = 200.0
TARGET_SIMILAR_P95_MS = 300.0
SOURCE = Path(__file__).resolve().parent.parent / "library" / "data" / "judgments.jsonl.gz"


def _source() -> list[dict[str, Any]]:
    with gzip.open(SOURCE, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _import_rate(rows: list[dict[str, Any]], count: int, write: Write) -> dict[str, Any]:
    from xietong.library.importer import library_import
    from xietong.library.models import Collection, Record

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "import.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for i in range(count):
                row = dict(rows[i % len(rows)])
                row["writId"] = f"bench-{i}"
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        started = time.perf_counter()
        run = library_import(path=path, collection_name="bench-import")
        seconds = time.perf_counter() - started
        rate = run.imported / seconds
        write(
            f"import: {run.imported:,} judgments in {seconds:.1f} s = {rate:.0f}/s "
            f"(target ≥ {TARGET_IMPORT_PER_S:.0f}/s)"
        )
        # Baseline: the same lines as bare rows — JSON parsed, written, nothing read from them.
        base = Collection.objects.create(name="bench-baseline", title="baseline")
        started = time.perf_counter()
        batch: list[Record] = []
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                raw = json.loads(line)
                batch.append(
                    Record(
                        collection=base,
                        external_id=raw["writId"],
                        title=raw.get("ajName", ""),
                        facts=raw.get("ajjbqk", ""),
                        reasoning=raw.get("cpfxgc", ""),
                        judgment=raw.get("pjjg", ""),
                    )
                )
                if len(batch) == 500:
                    Record.objects.bulk_create(batch)
                    batch = []
        Record.objects.bulk_create(batch)
        base_seconds = time.perf_counter() - started
        base_rate = count / base_seconds
        write(f"baseline (bare rows, nothing extracted): {base_rate:.0f}/s; ratio {rate / base_rate:.3f}")
        Record.objects.filter(collection=base).delete()
        base.delete()
    return {
        "judgments": run.imported,
        "seconds": round(seconds, 2),
        "per_second": round(rate, 1),
        "baseline_per_second": round(base_rate, 1),
        "ratio_to_baseline": round(rate / base_rate, 4),
        "target_per_second": TARGET_IMPORT_PER_S,
        "target_met": rate >= TARGET_IMPORT_PER_S,
    }


def _fill(records: int, seed: int, write: Write) -> None:
    """``records`` generated judgments in the collection ``bench``, written in bulk with their words."""
    from xietong.library import ranking
    from xietong.library.importer import library_import
    from xietong.library.models import Collection, Record
    from xietong.library.prepare import index_text

    with tempfile.TemporaryDirectory() as tmp:  # the real ones first, through the importer
        path = Path(tmp) / "real.jsonl.gz"
        path.write_bytes(SOURCE.read_bytes())
        library_import(path=path, collection_name="bench")
    collection = Collection.objects.get(name="bench")
    real = list(Record.objects.filter(collection=collection))
    by_charge: dict[str, list[list[str]]] = defaultdict(list)
    for r in real:
        by_charge[r.first_charge].append([s for s in r.facts.split("。") if s.strip()])
    rng = random.Random(seed)  # noqa: S311 (bench data)
    started = time.perf_counter()
    batch: list[Record] = []
    made = len(real)
    while made < records:
        source = rng.choice(real)
        pool = by_charge[source.first_charge]
        own = [s for s in source.facts.split("。") if s.strip()]
        facts = (
            "。".join(s if rng.random() < 0.5 else rng.choice(rng.choice(pool) or own or [s]) for s in own)
            + "。"
        )
        batch.append(
            Record(
                collection=collection,
                external_id=f"gen-{made}",
                title=source.title,
                document_name=source.document_name,
                court=source.court,
                region=source.region,
                year=source.year,
                charges=source.charges,
                first_charge=source.first_charge,
                articles=source.articles,
                circumstances=source.circumstances,
                penalty_kind=source.penalty_kind,
                months=source.months,
                probation_months=source.probation_months,
                penalty_label=source.penalty_label,
                money_yuan=source.money_yuan,
                drug_grams=source.drug_grams,
                facts=facts,
                reasoning=source.reasoning,
                judgment=source.judgment,
                details=source.details,
                published={**source.published, "facts": facts},
                tokens=" ".join(ranking.tokens(index_text(facts=facts, reasoning=source.reasoning))),
            )
        )
        made += 1
        if len(batch) == 1000:
            Record.objects.bulk_create(batch)
            batch = []
            if made % 10_000 == 0:
                write(f"  generated {made:,} records ({time.perf_counter() - started:.0f} s)")
    Record.objects.bulk_create(batch)
    Collection.objects.filter(pk=collection.pk).update(revision=collection.revision + 1)


def _latency(queries: list[str], write: Write) -> dict[str, Any]:
    from xietong.library import index as library_index
    from xietong.library import selectors

    library_index.forget()
    started = time.perf_counter()
    [ix] = library_index.collection_indexes("bench")
    cold = time.perf_counter() - started
    library_index.forget()
    started = time.perf_counter()
    library_index.collection_indexes("bench")
    warm = time.perf_counter() - started
    write(f"index of {len(ix):,} records: built in {cold:.1f} s, reloaded from its file in {warm:.1f} s")
    selectors.similar_cases(text=queries[0], k=30)  # first query pays jieba's dictionary load
    plain: list[float] = []
    panel: list[float] = []
    for text in queries:
        t0 = time.perf_counter()
        selectors.similar_cases(text=text, k=30, collection="bench")
        plain.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        selectors.similar_cases(text=text, k=30, collection="bench", passages=3)
        panel.append((time.perf_counter() - t0) * 1000)
    searches: list[float] = []
    for words, charge in (
        ("支付宝 转账", ""),
        ("醉酒 驾驶", "危险驾驶罪"),
        ("甲基苯丙胺", ""),
        ("殴打 轻伤", "故意伤害罪"),
    ) * 5:
        t0 = time.perf_counter()
        selectors.library_search(filters=selectors.Filters(q=words, charge=charge, collection="bench"))
        searches.append((time.perf_counter() - t0) * 1000)
    out = {
        "records": len(ix),
        "index_build_s": round(cold, 2),
        "index_load_s": round(warm, 2),
        "similar_p50_ms": round(percentile(plain, 50), 1),
        "similar_p95_ms": round(percentile(plain, 95), 1),
        "panel_p50_ms": round(percentile(panel, 50), 1),
        "panel_p95_ms": round(percentile(panel, 95), 1),
        "search_p50_ms": round(percentile(searches, 50), 1),
        "search_p95_ms": round(percentile(searches, 95), 1),
    }
    write(
        f"similar (k=30): p50 {out['similar_p50_ms']} ms, p95 {out['similar_p95_ms']} ms "
        f"(target < {TARGET_SIMILAR_P95_MS:.0f}); with passages: p95 {out['panel_p95_ms']} ms; "
        f"search + facets: p95 {out['search_p95_ms']} ms"
    )
    return out


def _baseline_like(queries: list[str], write: Write) -> float:
    """The same look-up without an index: SQL LIKE over the facts for the query's first words."""
    from xietong.library import ranking
    from xietong.library.models import Record

    times = []
    for text in queries[:3]:
        words = [w for w in ranking.tokens(text) if len(w) >= 2][:3]
        t0 = time.perf_counter()
        qs = Record.objects.filter(collection__name="bench")
        for w in words:
            qs = qs.filter(facts__contains=w)
        list(qs.values_list("pk", flat=True)[:30])
        times.append((time.perf_counter() - t0) * 1000)
    median = sorted(times)[len(times) // 2]
    write(f"baseline (SQL LIKE over the facts, 3 queries): median {median:.0f} ms")
    return median


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    quick = bool(options.get("quick"))
    records = int(options.get("records") or (10_000 if quick else 100_000))
    count = int(options.get("import_records") or (400 if quick else 2_000))
    seed = int(options.get("seed") or 7)
    rows = _source()
    write(
        f"# bench library: import {count:,} judgments; "
        f"similar cases over {records:,} records on {connection.vendor}"
    )
    imported = _import_rate(rows, count, write)
    _fill(records, seed, write)
    rng = random.Random(seed + 1)  # noqa: S311 (bench data)
    queries = []
    for row in rng.sample(rows, 100):
        facts = row.get("ajjbqk", "")
        queries.append(facts[: rng.randint(150, 3000)])
    latency = _latency(queries, write)
    baseline = _baseline_like(queries, write)
    latency["baseline_like_median_ms"] = round(baseline, 1)
    latency["ratio_p50_to_baseline"] = round(latency["similar_p50_ms"] / baseline, 4) if baseline else None
    return {
        "bench": "library",
        "vendor": connection.vendor,
        "import": imported,
        "similar": latency,
        "target_similar_p95_ms": TARGET_SIMILAR_P95_MS,
        "target_met": imported["target_met"] and latency["similar_p95_ms"] < TARGET_SIMILAR_P95_MS,
        "machine": machine(),
    }
