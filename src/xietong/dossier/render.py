"""Split a scanned volume into page images and thumbnails, and check scan quality. Pure (no Django):
PDF through PDFium (pypdfium2), images and multi-page TIFF through Pillow."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, ImageSequence, UnidentifiedImageError

PAGE_DPI = 200  # enough for OCR of 5号字 and for reading zoomed; about 250 KB per A4 page as JPEG
THUMB_WIDTH = 160
MAX_PAGES = 5000
Image.MAX_IMAGE_PIXELS = 120_000_000  # a 600 dpi A3 page fits; a decompression bomb does not


class RenderError(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class RenderedPage:
    number: int
    image: bytes
    thumb: bytes
    width: int
    height: int
    quality: list[str] = field(default_factory=list)
    pil: Image.Image | None = None  # kept for OCR in the same pass; not serialised


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.convert("L" if img.mode in {"1", "L", "LA"} else "RGB").save(
        out, "JPEG", quality=quality, optimize=True
    )
    return out.getvalue()


def _skew_degrees(gray: Image.Image, paper: float = 255.0) -> float:
    """Estimate text-line skew by projection profiles: rotate a small binarised copy and keep the
    angle whose row sums vary most (text lines line up)."""
    small = gray.copy()
    small.thumbnail((500, 700))
    threshold = paper - 60
    binary = small.point(lambda v: 255 if v < threshold else 0)
    best_angle, best_score = 0.0, -1.0
    for tenth in range(-60, 61, 5):
        angle = tenth / 10
        rows = np.asarray(binary.rotate(angle, fillcolor=0), dtype=np.float64).sum(axis=1)
        score = float(rows.var())
        if score > best_score:
            best_angle, best_score = angle, score
    return best_angle


def quality_flags(img: Image.Image) -> list[str]:
    """Flags shown to the uploader before transfer: blank, dark, skewed, unreadable (washed out or
    blurred). Measured on a small greyscale copy: paper = median grey, ink = pixels well below it."""
    gray = ImageOps.grayscale(img)
    small = gray.copy()
    small.thumbnail((800, 1100))
    pixels = np.asarray(small, dtype=np.float64)
    paper = float(np.median(pixels))
    ink = pixels < paper - 60
    ink_share = float(ink.mean())
    if ink_share < 0.001:
        return ["blank"]
    flags = []
    if paper < 110:
        flags.append("dark")
    darkest = float(np.sort(pixels, axis=None)[: max(1, pixels.size // 200)].mean())
    edges = np.asarray(small.filter(ImageFilter.FIND_EDGES), dtype=np.float64)
    sharpness = float((edges > 60).mean()) / ink_share  # sharp glyphs have about as much edge as ink
    if paper - darkest < 100 or sharpness < 0.35:
        flags.append("unreadable")
    if abs(_skew_degrees(gray, paper)) >= 1.5:
        flags.append("skewed")
    return flags


QUALITY_LABELS = {"blank": "空白页", "dark": "过暗", "skewed": "歪斜", "unreadable": "模糊或对比度低"}


def _is_grey(img: Image.Image) -> bool:
    """No pixel of a small copy differs between channels by more than a scanner's colour noise
    (a red seal or a coloured photo keeps the page in colour)."""
    small = np.asarray(img.resize((200, 280)), dtype=np.int16)
    spread = small.max(axis=2) - small.min(axis=2)
    return bool((spread > 40).mean() < 0.001)


def _page(number: int, img: Image.Image, *, check_quality: bool) -> RenderedPage:
    img = ImageOps.exif_transpose(img) or img
    if img.mode not in {"RGB", "L"}:
        img = img.convert("RGB")
    if img.mode == "RGB" and _is_grey(img):
        img = img.convert("L")  # most scans are black on white: a third of the bytes, same look
    thumb = img.copy()
    thumb.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 2))
    return RenderedPage(
        number=number,
        image=_jpeg(img, 82),
        thumb=_jpeg(thumb, 70),
        width=img.width,
        height=img.height,
        quality=quality_flags(img) if check_quality else [],
        pil=img,
    )


def _open_pdf(path: Path):  # type: ignore[no-untyped-def]
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text:
            raise RenderError("PDF 已加密，请上传未加密的文件", "pdf_encrypted") from exc
        raise RenderError("PDF 文件已损坏，无法打开", "pdf_corrupt") from exc


def count_pages(path: Path, content_type: str) -> int:
    if content_type == "application/pdf":
        pdf = _open_pdf(path)
        try:
            count = len(pdf)
        finally:
            pdf.close()
    else:
        try:
            with Image.open(path) as img:
                count = getattr(img, "n_frames", 1)
        except (UnidentifiedImageError, OSError) as exc:
            raise RenderError("图像文件已损坏，无法打开", "image_corrupt") from exc
    if count < 1:
        raise RenderError("文件中没有页面", "no_pages")
    if count > MAX_PAGES:
        raise RenderError(f"单卷最多 {MAX_PAGES} 页，请分卷上传", "too_many_pages")
    return count


def render_pages(
    path: Path, content_type: str, *, start: int = 1, check_quality: bool = True
) -> Iterator[RenderedPage]:
    """Pages ``start``… in order, so a worker that died can resume where the rows stop."""
    if content_type == "application/pdf":
        pdf = _open_pdf(path)
        try:
            for index in range(start - 1, len(pdf)):
                try:
                    bitmap = pdf[index].render(scale=PAGE_DPI / 72, grayscale=False)
                    img = bitmap.to_pil()
                except Exception as exc:
                    raise RenderError(f"第{index + 1}页无法渲染", "page_unrenderable") from exc
                yield _page(index + 1, img, check_quality=check_quality)
        finally:
            pdf.close()
        return
    try:
        with Image.open(path) as img:
            for index, frame in enumerate(ImageSequence.Iterator(img)):
                if index + 1 < start:
                    continue
                yield _page(index + 1, frame.copy(), check_quality=check_quality)
    except (UnidentifiedImageError, OSError) as exc:
        raise RenderError("图像文件已损坏，无法读取", "image_corrupt") from exc
