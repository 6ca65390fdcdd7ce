"""``xietong bench search``: p50/p95 latency of Chinese full-text search over ``--pages`` OCR'd pages
(default 1,000,000) on the database the bench runs in (SQLite FTS5 or PostgreSQL GIN), for users of
different reach (a county procuratorate handler, a city leader who sees a subtree, the 政法委 who sees
all), with the plain count of the visible cases (the permission filter alone) as the baseline.

The pages are made in bulk, not through OCR: text is drawn from sentences of the demo's fact
generator, cut once by jieba into the index words the platform would store (``search.tokens``), and
recombined, so the index has the platform's real word distribution at a million pages in minutes."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from xietong.bench.bulk import machine, percentile

Write = Callable[[str], None]
TARGET_P95_MS = 150.0
QUERIES = [
    "支付宝",
    "电动自行车",
    "醉酒 驾驶",
    "冒充客服",
    "银行卡 转账",
    "犯罪嫌疑人 供述",
    "盗窃 手机",
    "信用卡",
    "赌博 微信群",
    "鉴定 轻伤",
    "被害人 陈述",
    "毒品 甲基苯丙胺",
]


def _sentences(rng: random.Random, count: int) -> list[str]:
    from xietong.demo.crimes import CHARGES, generate_facts
    from xietong.demo.people import fictitious_name
    from xietong.demo.suzhou import COUNTIES

    out: list[str] = []
    while len(out) < count:
        county = rng.choice(COUNTIES)
        town = rng.choice(county.towns)
        facts = generate_facts(
            rng,
            charge=rng.choice(CHARGES),
            suspects=[fictitious_name(rng)[0]],
            county=county,
            town=town,
            occurred_at=timezone.now(),
        )
        out.extend(s for s in facts.facts.split("。") if len(s) > 8)
    return out[:count]


def _page_tokens(rng: random.Random, vocab: list[str], words: int) -> str:
    parts: list[str] = []
    size = 0
    while size < words:
        sentence = rng.choice(vocab)
        parts.append(sentence)
        size += sentence.count(" ") + 1
    return " ".join(parts)


def build(*, pages: int, cases: int, seed: int, write: Write) -> dict[str, Any]:
    """The Suzhou org, ``cases`` cases through the services (so visibility is real), one volume each,
    ``pages`` page rows spread over them, and their search index."""
    from xietong.demo.generator import generate
    from xietong.demo.units import create_org
    from xietong.dossier import search
    from xietong.dossier.models import Blob, Page, PageIndex, Volume
    from xietong.orgs.models import User

    rng = random.Random(seed)  # noqa: S311 (bench data)
    started = time.perf_counter()
    create_org()
    generate(count=cases, seed=seed)
    write(f"{cases:,} cases through the services in {time.perf_counter() - started:.0f} s")
    t = time.perf_counter()
    vocab = [" ".join(search.tokens(s)) for s in _sentences(rng, 4000)]
    write(f"vocabulary: {len(vocab)} sentences cut by jieba in {time.perf_counter() - t:.1f} s")
    from xietong.cases.models import Case

    case_ids = list(Case.objects.order_by("id").values_list("id", flat=True))
    per_case = -(-pages // len(case_ids))
    blob = Blob.objects.create(sha256="f" * 64, size=1, content_type="image/jpeg", created_at=timezone.now())
    user = User.objects.filter(unit__isnull=False).order_by("id").first()
    if user is None:
        raise RuntimeError("no users")
    now = timezone.now()
    volumes = Volume.objects.bulk_create(
        [
            Volume(
                case_id=cid,
                number=1,
                title="诉讼卷",
                source=blob,
                source_name="bench.pdf",
                page_count=per_case,
                pages_rendered=per_case,
                pages_ocred=per_case,
                status="ready",
                uploaded_by=user,
                uploaded_at=now,
            )
            for cid in case_ids
        ],
        batch_size=2000,
    )
    volume_of_case = {v.case_id: v.pk for v in Volume.objects.filter(title="诉讼卷", source=blob)}
    del volumes
    t = time.perf_counter()
    page_fields = [
        "volume_id",
        "number",
        "image_id",
        "thumb_id",
        "width",
        "height",
        "ocr_status",
        "ocr_engine",
        "text",
        "words",
        "quality",
    ]
    page_rows: Iterator[tuple[Any, ...]] = (
        (
            volume_of_case[case_ids[i // per_case]],
            i % per_case + 1,
            blob.pk,
            blob.pk,
            1240,
            1754,
            "done",
            "bench",
            "",
            [],
            [],
        )
        for i in range(pages)
    )
    _insert(Page, page_fields, page_rows)
    first_page = Page.objects.order_by("id").values_list("id", flat=True).first() or 1
    index_rows = (
        (first_page + i, case_ids[i // per_case], _page_tokens(rng, vocab, 180)) for i in range(pages)
    )
    _insert(PageIndex, ["page_id", "case_id", "tokens"], index_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    write(f"{pages:,} pages and their index written in {time.perf_counter() - t:.0f} s")
    return {"cases": len(case_ids), "pages": pages, "build_seconds": round(time.perf_counter() - started, 1)}


def _insert(model: Any, fields: list[str], rows: Iterator[tuple[Any, ...]], batch: int = 5000) -> None:
    """COPY on PostgreSQL; batched executemany in transactions on SQLite."""
    import json

    if connection.vendor == "postgresql":
        from xietong.bench import bulk

        bulk.copy_rows(model, fields, rows)
        return

    by_name = {f.attname: f for f in model._meta.concrete_fields}
    columns = ", ".join(f'"{by_name[n].column}"' for n in fields)
    marks = ", ".join("%s" for _ in fields)
    sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608 (model names)
    chunk: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append(tuple(json.dumps(v) if isinstance(v, list) else v for v in row))
            if len(chunk) >= batch:
                with transaction.atomic():
                    cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            with transaction.atomic():
                cursor.executemany(sql, chunk)


def _personas() -> list[tuple[str, Any]]:
    from xietong.orgs.models import User

    wanted = [
        ("县级检察院承办人", "gusu_procu"),
        ("市公安局领导（下辖全部分局）", "city_police_leader"),
        ("政法委（全部案件）", "committee"),
    ]
    out = []
    for label, username in wanted:
        user = User.objects.filter(username=username).select_related("unit").first()
        if user is not None:
            out.append((label, user))
    return out


def measure(*, rounds: int, write: Write) -> dict[str, Any]:
    from xietong.cases.selectors import case_list_visible_to
    from xietong.dossier import search

    results: dict[str, Any] = {}
    for label, user in _personas():
        visible = case_list_visible_to(user=user)
        baseline: list[float] = []
        timings: list[float] = []
        hits_seen: list[int] = []
        for _ in range(rounds):
            for query in QUERIES:
                t0 = time.perf_counter()
                visible.count()
                baseline.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                hits = search.search_pages(cases=visible, query=query, limit=30)
                timings.append((time.perf_counter() - t0) * 1000)
                hits_seen.append(len(hits))
        row = {
            "visible_cases": visible.count(),
            "p50_ms": round(percentile(timings, 50), 1),
            "p95_ms": round(percentile(timings, 95), 1),
            "max_ms": round(max(timings), 1),
            "baseline_count_p50_ms": round(percentile(baseline, 50), 1),
            "mean_hits": round(sum(hits_seen) / len(hits_seen), 1),
        }
        results[label] = row
        write(
            f"{label:<24} visible={row['visible_cases']:>7}  p50={row['p50_ms']:>7} ms  "
            f"p95={row['p95_ms']:>7} ms  (count of visible cases p50={row['baseline_count_p50_ms']} ms)  "
            f"hits≈{row['mean_hits']}"
        )
    return results


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    quick = bool(options.get("quick"))
    pages = int(options.get("pages") or (20_000 if quick else 1_000_000))
    cases = int(options.get("cases") or (100 if quick else 2_000))
    seed = int(options.get("seed") or 7)
    write(f"# bench search: {pages:,} pages in {cases:,} cases on {connection.vendor}")
    built = build(pages=pages, cases=cases, seed=seed, write=write)
    result = measure(rounds=int(options.get("rounds") or 3), write=write)
    worst = max(r["p95_ms"] for r in result.values()) if result else None
    return {
        "bench": "search",
        "vendor": connection.vendor,
        "pages": pages,
        "build": built,
        "personas": result,
        "worst_p95_ms": worst,
        "target_p95_ms": TARGET_P95_MS,
        "target_met": worst is not None and worst < TARGET_P95_MS,
        "machine": machine(),
    }
