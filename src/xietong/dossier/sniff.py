"""What a file really is, from its first bytes, not from its name (bad input: a file that is not
what its name says is refused with a clear message)."""

from __future__ import annotations

from pathlib import Path

SIGNATURES: list[tuple[bytes, str]] = [
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"\xff\xf2", "audio/mpeg"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]

SCAN_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/tiff"}
MEDIA_TYPES = {"audio/mpeg", "audio/wav", "audio/mp4", "video/mp4", "video/webm"}
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}
LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG 图像",
    "image/png": "PNG 图像",
    "image/tiff": "TIFF 图像",
    "audio/mpeg": "MP3 音频",
    "audio/wav": "WAV 音频",
    "audio/mp4": "M4A 音频",
    "video/mp4": "MP4 视频",
    "video/webm": "WebM 视频",
}


def same_kind(actual: str, claimed: str | None) -> bool:
    """An .mp4 holding only audio is still the file it says it is."""
    return actual == claimed or {actual, claimed} == {"audio/mp4", "video/mp4"}


def sniff(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":  # ISO media: m4a is audio-only MP4
        return "audio/mp4" if head[8:11] == b"M4A" else "video/mp4"
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def sniff_path(path: Path) -> str | None:
    with path.open("rb") as fh:
        return sniff(fh.read(16))


def expected_type(filename: str) -> str | None:
    return EXTENSIONS.get(Path(filename).suffix.lower())
