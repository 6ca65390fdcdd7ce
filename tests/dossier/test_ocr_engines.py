"""OCR engines: the PP-OCRv6 engine reads a page with boxes that line up with the glyphs, per-character
boxes are cut from line boxes, and ``default_engine()`` follows ``XIETONG_OCR_ENGINE``."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

from tests.dossier.conftest import LINES, page_image
from xietong.bench.ocr import char_accuracy
from xietong.dossier import ocr
from xietong.dossier.ocr_rapid import reading_order, split_line_box

has_rapid = all(importlib.util.find_spec(m) for m in ("rapidocr", "onnxruntime", "cv2"))
needs_rapid = pytest.mark.skipif(not has_rapid, reason="rapidocr/onnxruntime not installed")
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")


def _check_page(result: ocr.OcrResult, size: tuple[int, int]) -> None:
    assert char_accuracy("\n".join(LINES), result.text) >= 0.95, result.text
    assert result.text.splitlines()[0] == "起诉意见书"  # reading order: top to bottom
    assert result.confidence is not None and 0.5 < result.confidence <= 1
    width, height = size
    for x, y, w, h, text in result.words:
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, (x, y, w, h, text)
    assert "".join(str(word[4]) for word in result.words) == "".join(result.text.split())


@needs_rapid
def test_rapid_engine_reads_a_page_with_boxes_on_the_glyphs() -> None:
    from xietong.dossier.ocr_rapid import RapidOcrEngine

    img = page_image(LINES)
    result = RapidOcrEngine(precision="fp32").recognise(img)
    _check_page(result, img.size)
    assert result.engine == "rapidocr-ppocrv6"
    ink = np.asarray(img) < 128
    for x, y, w, h, text in result.words:
        assert ink[y : y + h, x : x + w].any(), f"no ink under {text!r}"
    # The second line is drawn at x=100, y=240 in 40 px type: its first character's box is there.
    first = next(word for word in result.words if word[4] == "犯")
    assert abs(int(first[0]) - 100) <= 8 and abs(int(first[1]) - 240) <= 10 and 30 <= int(first[2]) <= 50


@needs_rapid
def test_rapid_engine_in_int8() -> None:
    if importlib.util.find_spec("onnx") is None:
        pytest.skip("onnx not installed: the int8 model cannot be built")
    from xietong.dossier.ocr_rapid import RapidOcrEngine

    img = page_image(LINES)
    result = RapidOcrEngine(precision="int8").recognise(img)
    assert result.engine == "rapidocr-ppocrv6-int8"
    _check_page(result, img.size)


def test_line_box_is_split_per_character_in_proportion() -> None:
    # 于 (1 em), 2024 (4 × ½ em, kept as one word), 年 (1 em), space (½ em, no box), AB (1 em):
    # 5.5 em across 550 px.
    boxes = split_line_box([[0, 0], [550, 0], [550, 30], [0, 30]], "于2024年 AB")
    assert [b[4] for b in boxes] == ["于", "2024", "年", "AB"]
    assert [(b[0], int(b[0]) + int(b[2])) for b in boxes] == [(0, 100), (100, 300), (300, 400), (450, 550)]
    assert all(b[1] == 0 and b[3] == 30 for b in boxes)
    assert split_line_box([[0, 0], [100, 0], [100, 30], [0, 30]], "") == []


def test_split_follows_a_skewed_line() -> None:
    # The line drops 20 px over 400 px: later characters sit lower.
    quad = [[0, 0], [400, 20], [400, 50], [0, 30]]
    boxes = split_line_box(quad, "甲乙丙丁")
    tops = [int(b[1]) for b in boxes]
    assert tops == sorted(tops) and tops[-1] - tops[0] >= 14
    assert all(int(b[3]) <= 36 for b in boxes)  # each piece is only as tall as its own slice


def test_reading_order_rows_then_left_to_right() -> None:
    def box(x: float, y: float, w: float = 100, h: float = 30) -> np.ndarray:
        return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)

    quads = [box(300, 102), box(0, 200), box(0, 100), box(150, 98)]
    assert reading_order(quads) == [[2, 3, 0], [1]]


@needs_tesseract
def test_default_engine_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIETONG_OCR_ENGINE", "tesseract")
    assert isinstance(ocr.default_engine(), ocr.TesseractEngine)
    monkeypatch.setenv("XIETONG_OCR_ENGINE", "abbyy")
    with pytest.raises(ocr.OcrUnavailable):
        ocr.default_engine()
    monkeypatch.delenv("XIETONG_OCR_ENGINE")
    engine = ocr.default_engine()
    assert engine.name.startswith("rapidocr") if has_rapid else isinstance(engine, ocr.TesseractEngine)


@needs_rapid
def test_default_engine_is_rapid_and_falls_back_to_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    from xietong.dossier import ocr_rapid

    monkeypatch.setenv("XIETONG_OCR_ENGINE", "rapid")
    monkeypatch.setenv("XIETONG_OCR_PRECISION", "fp32")
    assert isinstance(ocr.default_engine(), ocr_rapid.RapidOcrEngine)

    def missing() -> None:
        raise ocr.OcrUnavailable("未安装 rapidocr")

    monkeypatch.setattr(ocr_rapid, "models_dir", missing)
    with pytest.raises(ocr.OcrUnavailable):  # asked for by name: no silent substitute
        ocr.default_engine()
    monkeypatch.delenv("XIETONG_OCR_ENGINE")
    if shutil.which("tesseract"):
        assert isinstance(ocr.default_engine(), ocr.TesseractEngine)
