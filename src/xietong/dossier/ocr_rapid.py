"""Chinese OCR with the PP-OCRv6 models shipped inside the ``rapidocr`` wheel, run by onnxruntime.

Only the model files come from ``rapidocr`` (its default det and rec models, which are inside the
wheel: nothing is ever downloaded). The pipeline around them is ours, tuned for scanned A4 pages on
a small CPU (figures in docs/ocr.md):

- text lines are detected on a downscaled copy of the page (long side ``det_side`` = 768 px: a
  200 dpi page has 30 px characters, far more than the detector needs; 8 pt text still reads);
- no angle classifier: pages are upright after rendering (rotated pages are a reader operation);
- each line is cut out of the full-resolution page along its (skewed) box, squeezed to 0.6 of its
  width (about 3 CTC time steps per character are left, plenty) and recognised in batches of
  similar widths, the batches side by side on all cores;
- the recogniser runs in int8 when it can (``int8_rec_model``: quantised once per machine from the
  wheel's model and cached; needs the ``onnx`` package), else in float32;
- every line box is split into per-character boxes so the reader's text layer lines up with
  the glyphs.

Pure (no Django)."""

from __future__ import annotations

import logging
import math
import os
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from xietong.dossier.ocr import OcrResult, OcrUnavailable, _join_words

logger = logging.getLogger(__name__)
DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
REC_HEIGHT = 48
DEFAULT_DET_SIDE = 768
DEFAULT_SQUEEZE = 0.6
INT8_RECIPE = 1  # bump when the quantisation below changes, so cached models are rebuilt
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
)
# Calibration text for int8 quantisation: frequent characters and the vocabulary of case files.
_CALIBRATION_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说"
    "产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使"
    "点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明"
    "看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料"
    "罪嫌疑犯诉讼检察审判刑事案件侦查被告害盗窃诈骗伤危险驾驶赌博毒品苏州吴中虎丘姑苏昆山常熟张家港太"
    "仓相城园区吴江分局派出所讯问笔录起诉意见书判决鉴定证据供述辩解支付宝微信转账人民币元拘留逮捕取保"
)
_CALIBRATION_MARKS = "0123456789年月日时分号第、，。：；（）〔〕《》“”X"


def models_dir() -> Path:
    """The folder of model files inside the installed ``rapidocr`` wheel."""
    spec = find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise OcrUnavailable("未安装 rapidocr（pip install rapidocr onnxruntime）")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (DET_MODEL, REC_MODEL):
        if not (folder / name).is_file():
            raise OcrUnavailable(f"rapidocr 安装包中缺少模型文件 {name}")
    return folder


def cache_dir() -> Path:
    """Where derived models are kept: ``XIETONG_OCR_CACHE``, else ``~/.cache/xietong/ocr``."""
    return Path(os.environ.get("XIETONG_OCR_CACHE") or Path.home() / ".cache" / "xietong" / "ocr")


def _calibration_lines(count: int, seed: int) -> list[np.ndarray]:
    """Synthetic text lines (greyscale, any width, about 2.3 × the text height tall) printed in a
    CJK font with a little skew, blur and noise: what the recogniser sees on scanned pages."""
    import random

    from PIL import ImageDraw, ImageFilter, ImageFont

    path = next((p for p in FONT_PATHS if p.exists()), None)
    if path is None:
        raise OcrUnavailable("no CJK font for int8 calibration (apt-get install fonts-wqy-zenhei)")
    rng = random.Random(seed)  # noqa: S311 (calibration data, not security)
    noise = np.random.default_rng(seed)
    font = ImageFont.truetype(str(path), 31)
    lines = []
    for _ in range(count):
        text = "".join(
            rng.choice(_CALIBRATION_CHARS) if rng.random() < 0.8 else rng.choice(_CALIBRATION_MARKS)
            for _ in range(rng.randint(8, 40))
        )
        paper = rng.randint(225, 255)
        img = Image.new("L", (int(font.getlength(text)) + 40, 72), paper)
        ImageDraw.Draw(img).text((20, 18), text, fill=rng.randint(0, 60), font=font)
        img = img.rotate(rng.uniform(-1, 1), resample=Image.Resampling.BILINEAR, fillcolor=paper)
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2)))
        pixels = np.asarray(img, np.float32) + noise.normal(0, rng.uniform(0, 8), (img.height, img.width))
        lines.append(np.clip(pixels, 0, 255).astype(np.uint8))
    return lines


def int8_rec_model(*, build: bool = True) -> Path | None:
    """The recogniser quantised to int8 (Conv layers: per-channel int8 weights, uint8 activations,
    calibrated on synthetic lines), built once from the wheel's model and cached. About 1.7× faster
    on CPUs with int8 dot products (AVX-512 VNNI, AVX-VNNI) and as accurate on the bench. Building
    needs the ``onnx`` package; returns None when it cannot be built."""
    source = models_dir() / REC_MODEL
    target = cache_dir() / f"{source.stem}.int8-r{INT8_RECIPE}-{_digest(str(source))}.onnx"
    if target.is_file() or not build:
        return target if target.is_file() else None
    try:
        _quantise(source, target)
    except ImportError:
        return None
    except Exception:  # a cache that cannot be written, a model onnx cannot convert: stay in fp32
        logger.warning("could not build the int8 OCR model; recognising in float32", exc_info=True)
        return None
    return target


@lru_cache(maxsize=4)
def _digest(path: str) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _quantise(source: Path, target: Path) -> None:
    import tempfile

    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    crops = [_line_input(line, DEFAULT_SQUEEZE) for line in _calibration_lines(48, seed=INT8_RECIPE)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(crops)

        def get_next(self) -> dict[str, np.ndarray] | None:
            item = next(self.items, None)
            return None if item is None else {"x": item[np.newaxis]}

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        # The wheel's model is opset 11; per-channel QDQ needs opset 13 or later.
        upgraded = Path(tmp) / "opset17.onnx"
        onnx.save(version_converter.convert_version(onnx.load(str(source)), 17), str(upgraded))
        built = Path(tmp) / "int8.onnx"
        quantize_static(
            str(upgraded),
            str(built),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["Conv"],
        )
        built.replace(target)


def _line_input(gray_line: np.ndarray, squeeze: float) -> np.ndarray:
    """A whole line image scaled to the recogniser's height, as a 3 × 48 × W float tensor."""
    import cv2

    h, w = gray_line.shape
    out_w = max(8, math.ceil(REC_HEIGHT * w / h * squeeze))
    resized = cv2.resize(gray_line, (out_w, REC_HEIGHT), interpolation=cv2.INTER_AREA)
    x = resized.astype(np.float32) * np.float32(2 / 255) - np.float32(1)
    return np.ascontiguousarray(np.broadcast_to(x, (3, REC_HEIGHT, out_w)))


@lru_cache(maxsize=8)
def _session(path: str, threads: int) -> Any:
    """One onnxruntime session per model file and thread count, shared by every engine in the
    process (sessions are thread-safe and take a while to load)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise OcrUnavailable("未安装 onnxruntime（pip install onnxruntime）") from exc
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Idle threads must not spin: other work shares these cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=4)
def _pool(workers: int) -> ThreadPoolExecutor:
    """Threads that run recognition batches side by side (onnxruntime releases the GIL)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")


def _forget_threads() -> None:
    """Threads do not survive fork(): a forked child makes its own sessions and pool."""
    _pool.cache_clear()
    _session.cache_clear()


os.register_at_fork(after_in_child=_forget_threads)


@lru_cache(maxsize=2)
def _charset(path: str) -> list[str]:
    """CTC labels: blank, the characters stored in the rec model, then a space."""
    meta = _session(path, 1).get_modelmeta().custom_metadata_map
    return ["", *meta["character"].splitlines(), " "]


@dataclass
class Line:
    quad: np.ndarray  # 4 × 2 float32: top-left, top-right, bottom-right, bottom-left, page pixels
    text: str = ""
    score: float = 0.0


def _order_quad(points: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    pts = points[np.argsort(points[:, 0])]
    left, right = pts[:2], pts[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.array([tl, tr, br, bl], dtype=np.float32)


def reading_order(quads: Sequence[np.ndarray]) -> list[list[int]]:
    """Group boxes into visual rows (top to bottom), each row left to right. Two boxes share a row
    when their vertical centres are closer than half the smaller box height."""
    items = sorted(
        range(len(quads)), key=lambda i: (float(quads[i][:, 1].mean()), float(quads[i][:, 0].min()))
    )
    rows: list[list[int]] = []
    for i in items:
        cy = float(quads[i][:, 1].mean())
        height = float(np.ptp(quads[i][:, 1]))
        if rows:
            last = rows[-1][-1]
            last_cy = float(quads[last][:, 1].mean())
            last_h = float(np.ptp(quads[last][:, 1]))
            if abs(cy - last_cy) < 0.5 * min(height, last_h):
                rows[-1].append(i)
                continue
        rows.append([i])
    return [sorted(row, key=lambda i: float(quads[i][:, 0].min())) for row in rows]


def _char_weight(ch: str) -> float:
    """Advance of a character in em: CJK and full-width forms take a whole em, the rest half."""
    return 1.0 if unicodedata.east_asian_width(ch) in {"W", "F"} else 0.5


def _tokens(text: str) -> list[str]:
    """Characters one by one, except that a run of Latin letters and digits stays together (the
    reader puts a space between two such spans, so "2024" must not become four)."""
    out: list[str] = []
    for ch in text:
        if out and ch.isascii() and ch.isalnum() and out[-1][-1].isascii() and out[-1][-1].isalnum():
            out[-1] += ch
        else:
            out.append(ch)
    return out


def split_line_box(quad: np.ndarray | Sequence[Sequence[float]], text: str) -> list[list[object]]:
    """Boxes ``[x, y, w, h, text]`` for a recognised line, one per character (a run of Latin letters
    and digits is kept as one word): the line's quadrilateral is cut along its length in proportion
    to each character's advance (CJK and full-width 1 em, others half), and each piece becomes an
    axis-aligned box in page pixels. Spaces take room but get no box."""
    q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    tl, tr, br, bl = q
    tokens = _tokens(text)
    weights = [sum(_char_weight(ch) for ch in token) for token in tokens]
    total = sum(weights)
    out: list[list[object]] = []
    start = 0.0
    for token, weight in zip(tokens, weights, strict=True):
        a, b = start / total, (start + weight) / total
        start += weight
        if token.isspace():
            continue
        corners = np.array([tl + (tr - tl) * a, tl + (tr - tl) * b, bl + (br - bl) * b, bl + (br - bl) * a])
        x0, y0 = np.floor(corners.min(axis=0))
        x1, y1 = np.ceil(corners.max(axis=0))
        out.append([int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0)), token])
    return out


class RapidOcrEngine:
    """PP-OCRv6 small (det + rec) from the ``rapidocr`` wheel on onnxruntime.

    ``det_side``: long side of the page copy given to the line detector. ``workers``: cores used
    for one page (default: all, as the platform reads one page at a time): the detector runs with
    that many onnxruntime threads, and line batches are recognised side by side, each on one core.
    ``squeeze``: horizontal scale of line images before recognition (< 1 is faster while the model
    keeps more than one CTC time step per character)."""

    name: str

    def __init__(
        self,
        *,
        precision: str | None = None,
        det_side: int = DEFAULT_DET_SIDE,
        squeeze: float = DEFAULT_SQUEEZE,
        workers: int | None = None,
        batch: int = 8,
        det_thresh: float = 0.3,
        box_thresh: float = 0.5,
        unclip_ratio: float = 1.6,
        text_score: float = 0.5,
    ):
        try:
            import cv2  # noqa: F401
        except ImportError as exc:
            raise OcrUnavailable("未安装 opencv（随 rapidocr 安装）") from exc
        folder = models_dir()
        precision = (precision or os.environ.get("XIETONG_OCR_PRECISION") or "auto").lower()
        if precision not in {"auto", "int8", "fp32"}:
            raise ValueError(f"XIETONG_OCR_PRECISION must be auto, int8 or fp32, not {precision!r}")
        rec_path = folder / REC_MODEL
        self.name = "rapidocr-ppocrv6"
        if precision != "fp32":
            int8 = int8_rec_model()
            if int8 is not None:
                rec_path, self.name = int8, "rapidocr-ppocrv6-int8"
            elif precision == "int8":
                raise OcrUnavailable("无法生成 int8 识别模型（pip install onnx）")
        self.det_path, self.rec_path = str(folder / DET_MODEL), str(rec_path)
        self.workers = workers or max(1, min(os.cpu_count() or 1, 4))
        self.det_side, self.squeeze, self.batch = det_side, squeeze, batch
        self.det_thresh, self.box_thresh, self.unclip_ratio = det_thresh, box_thresh, unclip_ratio
        self.text_score = text_score
        self.det = _session(self.det_path, self.workers)
        self.rec = _session(self.rec_path, 1)
        self.charset = _charset(self.rec_path)

    # ------------------------------------------------------------ detection

    def detect(self, gray: np.ndarray) -> list[np.ndarray]:
        """Quadrilaterals of text lines in page pixels."""
        import cv2

        h, w = gray.shape
        scale = min(1.0, self.det_side / max(h, w))
        dw, dh = (max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32))
        small = cv2.resize(gray, (dw, dh), interpolation=cv2.INTER_AREA)
        x = small.astype(np.float32) * np.float32(2 / 255) - np.float32(1)
        x = np.ascontiguousarray(np.broadcast_to(x, (1, 3, dh, dw)))
        prob = self.det.run(None, {"x": x})[0][0, 0]
        bitmap = (prob > self.det_thresh).astype(np.uint8)
        bitmap = cv2.dilate(bitmap, np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        sx, sy = w / dw, h / dh
        quads = []
        for contour in contours[:1000]:
            (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
            if min(rw, rh) < 3:
                continue
            x0, y0, bw, bh = cv2.boundingRect(contour)
            mask = np.zeros((bh, bw), np.uint8)
            cv2.fillPoly(mask, [contour.reshape(-1, 2) - [x0, y0]], 1)
            if cv2.mean(prob[y0 : y0 + bh, x0 : x0 + bw], mask)[0] < self.box_thresh:
                continue
            grow = rw * rh * self.unclip_ratio / (2 * (rw + rh))  # the DB "unclip" of a rectangle
            rw, rh = rw + 2 * grow, rh + 2 * grow
            if min(rw, rh) < 5:
                continue
            points = cv2.boxPoints(((cx, cy), (rw, rh), angle)) * np.array([sx, sy], np.float32)
            points[:, 0] = points[:, 0].clip(0, w - 1)
            points[:, 1] = points[:, 1].clip(0, h - 1)
            quads.append(_order_quad(points))
        return quads

    # ------------------------------------------------------------ recognition

    def _crop(self, gray: np.ndarray, quad: np.ndarray) -> np.ndarray:
        """The line cut out along its box and scaled to the recogniser's height."""
        import cv2

        width = float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])))
        height = float(max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])))
        out_w = max(8, math.ceil(REC_HEIGHT * width / max(height, 1) * self.squeeze))
        target = np.array([[0, 0], [out_w, 0], [out_w, REC_HEIGHT], [0, REC_HEIGHT]], np.float32)
        matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
        flags = cv2.INTER_AREA if height > REC_HEIGHT else cv2.INTER_LINEAR
        return cv2.warpPerspective(
            gray, matrix, (out_w, REC_HEIGHT), flags=flags, borderMode=cv2.BORDER_REPLICATE
        )

    def recognise_lines(self, gray: np.ndarray, quads: Sequence[np.ndarray]) -> list[Line]:
        crops = [self._crop(gray, q) for q in quads]
        lines = [Line(quad=q) for q in quads]
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1])
        # At least two batches per worker, so that one long batch does not leave a core idle.
        size = max(1, min(self.batch, math.ceil(len(order) / (2 * self.workers))))
        batches = [order[start : start + size] for start in range(0, len(order), size)]

        def run(ids: list[int]) -> None:
            width = max(crops[i].shape[1] for i in ids)
            x = np.zeros((len(ids), 3, REC_HEIGHT, width), np.float32)  # padding = mid grey
            for row, i in enumerate(ids):
                x[row, :, :, : crops[i].shape[1]] = crops[i] * np.float32(2 / 255) - np.float32(1)
            probs = self.rec.run(None, {"x": x})[0]
            for row, i in enumerate(ids):
                lines[i].text, lines[i].score = self._decode(probs[row])

        if self.workers == 1 or len(batches) == 1:
            for ids in batches:
                run(ids)
        else:
            list(_pool(self.workers).map(run, batches))
        return lines

    def _decode(self, probs: np.ndarray) -> tuple[str, float]:
        """Greedy CTC: best label per step, repeats merged, blanks dropped."""
        best = probs.argmax(axis=1)
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]
        if not keep.any():
            return "", 0.0
        text = "".join(self.charset[k] for k in best[keep]).strip()
        return text, float(probs[np.arange(len(best)), best][keep].mean())

    # ------------------------------------------------------------ page

    def recognise(self, image: Image.Image) -> OcrResult:
        gray = np.asarray(image.convert("L"))
        quads = self.detect(gray)
        lines = [line for line in self.recognise_lines(gray, quads) if line.text]
        lines = [line for line in lines if line.score >= self.text_score]
        rows = reading_order([line.quad for line in lines])
        words: list[list[object]] = []
        texts = []
        for row in rows:
            texts.append(_join_words([lines[i].text for i in row]))
            for i in row:
                words += split_line_box(lines[i].quad, lines[i].text)
        chars = sum(len(line.text) for line in lines)
        confidence = sum(line.score * len(line.text) for line in lines) / chars if chars else None
        return OcrResult(text="\n".join(texts), words=words, confidence=confidence, engine=self.name)
