"""What a file really is, from its first bytes, not from its name (bad input: a file that is not
what its name says is refused with a clear message)."""

from __future__ import annotations

from pathlib import Path

SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]

SCAN_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/tiff"}
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG 图像",
    "image/png": "PNG 图像",
    "image/tiff": "TIFF 图像",
}


def sniff(head: bytes) -> str | None:
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def sniff_path(path: Path) -> str | None:
    with path.open("rb") as fh:
        return sniff(fh.read(16))


def expected_type(filename: str) -> str | None:
    return EXTENSIONS.get(Path(filename).suffix.lower())
