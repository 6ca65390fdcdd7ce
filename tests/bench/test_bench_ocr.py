"""``xietong bench ocr`` on a 2-page volume: it finishes, and its last line is one JSON object with the
figures of both contestants. No database needed. Skipped without tesseract."""

from __future__ import annotations

import json
import random
import shutil

import pytest

from xietong.bench import ocr

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed"),
]


def test_bench_ocr_prints_json_last(capsys: pytest.CaptureFixture[str]) -> None:
    ocr.main(["--pages", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["bench"] == "ocr" and result["pages"] == 2
    for key in ("pages_per_min", "accuracy", "accuracy_punct", "cpu_s_per_page"):
        assert set(result[key]) == {"tesseract", "platform"} and all(v > 0 for v in result[key].values())
    assert result["ratio"] > 0 and isinstance(result["target_met"], bool)
    assert result["accuracy"]["platform"] >= 0.9  # the default engine reads the noisy scans
    assert any("tesseract CLI" in line for line in lines[:-1])  # the table comes before the JSON


def test_volume_is_deterministic_and_truth_matches_the_layout() -> None:
    first = ocr.generate_volume(1, seed=7)
    again = ocr.generate_volume(1, seed=7)
    assert first[0].truth == again[0].truth and first[0].jpeg == again[0].jpeg
    assert len(first[0].truth) > 500 and first[0].jpeg[:2] == b"\xff\xd8"
    pages = ocr.typeset(2, random.Random(7))
    assert all(img.size == ocr.A4 for img, _ in pages)


def test_character_accuracy() -> None:
    assert ocr.levenshtein("kitten", "sitting") == 3
    assert ocr.levenshtein("", "abc") == 3 and ocr.levenshtein("同一", "同一") == 0
    assert ocr.char_accuracy("起诉 意见书", "起诉意见书\n") == 1.0
    assert ocr.char_accuracy("讯问笔录（一）", "讯问笔录(一)") < 1.0
    assert ocr.char_accuracy("讯问笔录（一）", "讯问笔录(一)", punctuation=True) == 1.0
