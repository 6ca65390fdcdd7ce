"""Chinese OCR of page images with word positions, so the reader can overlay selectable text on the
page image. Pure (no Django). Two engines: PP-OCRv6 through onnxruntime (``ocr_rapid``, models from
the ``rapidocr`` wheel; the default) and Tesseract ``chi_sim`` through pytesseract (Debian packages
``tesseract-ocr tesseract-ocr-chi-sim``). ``XIETONG_OCR_ENGINE=rapid|tesseract`` picks one; the
choice and its measured speed and accuracy are in docs/ocr.md."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image


class OcrUnavailable(RuntimeError):
    """The OCR engine is not installed on this machine."""


@dataclass
class OcrResult:
    text: str
    words: list[list[object]] = field(default_factory=list)  # [x, y, w, h, text]
    confidence: float | None = None
    engine: str = ""


class OcrEngine(Protocol):
    name: str

    def recognise(self, image: Image.Image) -> OcrResult: ...


class TesseractEngine:
    """Tesseract 5 with the ``chi_sim`` model: words with boxes from ``image_to_data``; Chinese words
    are joined without spaces, lines by newlines."""

    name = "tesseract-chi_sim"

    def __init__(self, lang: str = "chi_sim", psm: int = 6):
        if shutil.which("tesseract") is None:
            raise OcrUnavailable("未安装 tesseract（apt-get install tesseract-ocr tesseract-ocr-chi-sim）")
        self.lang, self.psm = lang, psm

    def recognise(self, image: Image.Image) -> OcrResult:
        import pytesseract

        data = pytesseract.image_to_data(
            image, lang=self.lang, config=f"--psm {self.psm}", output_type=pytesseract.Output.DICT
        )
        words: list[list[object]] = []
        lines: dict[tuple[int, int, int], list[str]] = {}
        confidences: list[float] = []
        for i, raw in enumerate(data["text"]):
            text = raw.strip()
            if not text:
                continue
            conf = float(data["conf"][i])
            if conf >= 0:
                confidences.append(conf)
            words.append([data["left"][i], data["top"][i], data["width"][i], data["height"][i], text])
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            lines.setdefault(key, []).append(text)
        text = "\n".join(_join_words(parts) for parts in lines.values())
        confidence = sum(confidences) / len(confidences) / 100 if confidences else None
        return OcrResult(text=text, words=words, confidence=confidence, engine=self.name)


def _join_words(parts: list[str]) -> str:
    """Chinese needs no spaces between words; keep one between two Latin/digit runs."""
    out = ""
    for part in parts:
        if out and out[-1].isascii() and out[-1].isalnum() and part[0].isascii() and part[0].isalnum():
            out += " "
        out += part
    return out


ENGINES = ("rapid", "tesseract")
logger = logging.getLogger(__name__)


def default_engine() -> OcrEngine:
    """The engine named by ``XIETONG_OCR_ENGINE`` (``rapid`` or ``tesseract``). Unset, it is
    ``rapid`` (as accurate on noisy scans and faster; see docs/ocr.md), falling back to Tesseract
    when onnxruntime/rapidocr are not installed. A named engine that is missing raises
    ``OcrUnavailable``."""
    named = os.environ.get("XIETONG_OCR_ENGINE", "").strip().lower()
    if named and named not in ENGINES:
        raise OcrUnavailable(f"XIETONG_OCR_ENGINE 应为 {' 或 '.join(ENGINES)}，而不是 {named!r}")
    if named == "tesseract":
        return TesseractEngine()
    try:
        from xietong.dossier.ocr_rapid import RapidOcrEngine

        return RapidOcrEngine()
    except (ImportError, OcrUnavailable) as exc:
        if named == "rapid":
            raise OcrUnavailable(str(exc)) from exc
        logger.warning("RapidOCR unavailable (%s); using Tesseract", exc)
        return TesseractEngine()
