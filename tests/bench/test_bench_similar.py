"""``xietong bench similar --quick`` on the LeCaRD dev split: it finishes, scores every step next to the
BM25 baseline, and its figures are sane. Skipped when the data is not on this machine."""

from __future__ import annotations

import json

import pytest

from xietong.bench import similar

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not (similar.DATA / "queries.jsonl").exists(), reason="LeCaRD dev data absent"),
]


def test_bench_similar_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(similar, "QUICK_DOCS", 2_000)  # the speed part small: this is a smoke run
    monkeypatch.setattr(similar, "QUICK_QUERIES", 10)
    lines: list[str] = []
    result = similar.run({"quick": True, "product": False}, lines.append)  # no database here
    json.dumps(result, ensure_ascii=False)  # the command prints it as JSON
    assert result["bench"] == "similar" and result["queries"] == 54
    assert [s["step"] for s in result["steps"]] == [name for name, *_ in similar.STEPS]
    base, final = result["baseline"], result["final"]
    assert final["map"] > base["map"] and final["ndcg10"] > base["ndcg10"]  # the method beats BM25
    assert 0.6 < base["ndcg10"] < final["ndcg10"] <= 1
    assert len(result["two_fold"]["folds"]) == 2
    speed = result["speed"]
    assert speed["docs"] == similar.QUICK_DOCS and speed["queries"] == similar.QUICK_QUERIES
    assert 0 < speed["p50_ms"] <= speed["p95_ms"]
    assert any("BM25" in line for line in lines)


def test_metrics_follow_lecard() -> None:
    labels = {"a": 3, "b": 0, "c": 2}
    assert similar.ndcg(["a", "c", "b"], labels, 3) == pytest.approx(1.0)
    assert similar.ndcg(["b", "c", "a"], labels, 3) < 1.0
    assert similar.average_precision(["b", "a", "x", "c"], labels) == pytest.approx(0.5)
    assert similar.average_precision(["a"], {"a": 2}) == 0.0
