"""Instruments and files of imported packages as rows: ``Instrument``, ``Volume`` + ``Page`` and
``Evidence``, with their bytes taken by SHA-256 from the ``--files`` directory (the layout
``export-cases --with-files`` writes) or from this platform's blob store.

Why a module of its own: the case rows are on the import's hot path (≥ 500 cases/s, measured with
packages that carry no instruments and no files), so everything here is skipped when a batch has
neither, and otherwise written by the same multi-row inserts as the cases (no per-row ORM save).
Bytes are checked and stored *before* the batch's rows, the way an upload stores its blob before the
volume: a file whose bytes do not match its name refuses its whole package (``file_hash_mismatch``),
so no case arrives with a wrong file; a file that is nowhere to be found is only noted
(``file_missing``) and the case imports without it (its hashes stay in ``CaseOrigin.attachments``).

Imported instruments are not sealed by this platform: no ``seal``, no ``public_token``, no
``sm2_seal`` and an empty ``pdf_sha256`` (the one the sender registered stays in ``attachments``),
so ``/verify`` never presents another system's PDF as registered here, and the instrument pages
show them as records with their PDF.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password

from xietong.dossier import blobs
from xietong.dossier.models import Blob, Evidence, OcrStatus, Page, Volume, VolumeStatus
from xietong.exchange.package import Problem, parse_date, parse_timestamp, problem
from xietong.instruments.models import Instrument
from xietong.orgs.models import User

IMPORT_USERNAME = "sys:import"
IMPORT_FULL_NAME = "数据迁移"
PDF = "application/pdf"
THUMB_WIDTH = 160  # as dossier.render: the page strip shows these


@dataclass(frozen=True)
class PageImage:
    """What a ``Page`` row needs besides its image: the size and a thumbnail blob."""

    width: int
    height: int
    thumb_id: int


@dataclass
class FilePlan:
    """Per package: the blobs it names that are here (sha256 → ``Blob`` id), the page images that
    could be measured, and the notes (missing files) to put in the report."""

    blob_ids: dict[str, int] = field(default_factory=dict)
    pages: dict[str, PageImage] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)


def has_attachments(package: Mapping[str, Any]) -> bool:
    return bool(package.get("instruments") or package.get("files"))


def import_user_id() -> int:
    """The one user that imported instruments and files are ``issued_by`` / ``uploaded_by``: the
    sender's users are not ours. No unit, no duties, no usable password: it can do nothing on the
    platform and only names the migration on the pages. Created on first need."""
    user = User.objects.filter(username=IMPORT_USERNAME).only("pk").first()
    if user is None:
        user, _ = User.objects.get_or_create(
            username=IMPORT_USERNAME,
            defaults={"full_name": IMPORT_FULL_NAME, "password": make_password(None), "is_active": False},
        )
    return int(user.pk)


def _named(package: Mapping[str, Any]) -> dict[str, str]:
    """sha256 → media type of every blob the package names (files first, then instrument PDFs)."""
    files = package.get("files") or {}
    types = {b["sha256"]: b.get("media_type") or "application/octet-stream" for b in files.get("blobs", ())}
    out: dict[str, str] = {}
    for v in files.get("volumes", ()):
        out[v["source"]] = types.get(v["source"], PDF)
        for sha in v.get("pages", ()):
            out[sha] = types.get(sha, "image/jpeg")
    for e in files.get("evidence", ()):
        out[e["blob"]] = types.get(e["blob"], "application/octet-stream")
    for i in package.get("instruments", ()):
        if i.get("pdf_sha256"):
            out[i["pdf_sha256"]] = PDF
    return out


def _page_hashes(package: Mapping[str, Any]) -> set[str]:
    return {sha for v in (package.get("files") or {}).get("volumes", ()) for sha in v.get("pages", ())}


def _sha256(path: Path) -> str:
    return blobs.sha256_of_file(path)


def prepare(
    items: Sequence[tuple[int, dict[str, Any]]], files_dir: Path | None
) -> tuple[dict[int, FilePlan], list[tuple[int, list[Problem]]]]:
    """Check and store the bytes the packages ``items`` name. Returns the plan per line and the
    packages refused (line, problems) because a file's bytes do not hash to its name. A blob with a
    ``Blob`` row here is taken as is (its bytes were checked when stored)."""
    plans: dict[int, FilePlan] = {}
    refused: list[tuple[int, list[Problem]]] = []
    wanted = [(line, p, _named(p)) for line, p in items if has_attachments(p)]
    if not wanted:
        return plans, refused
    here = dict(
        Blob.objects.filter(sha256__in={sha for _, _, named in wanted for sha in named}).values_list(
            "sha256", "pk"
        )
    )
    for line, package, named in wanted:
        plan = FilePlan()
        to_store: list[tuple[str, Path, str]] = []
        bad: list[Problem] = []
        for sha, media_type in named.items():
            if sha in here:
                plan.blob_ids[sha] = here[sha]
                continue
            path = files_dir / "blobs" / sha[:2] / sha if files_dir is not None else None
            if path is None or not path.is_file():
                plan.notes.append(problem("file_missing", sha))
                continue
            if _sha256(path) != sha:
                bad.append(problem("file_hash_mismatch", sha))
                continue
            to_store.append((sha, path, media_type))
        if bad:
            refused.append((line, bad))
            continue
        for sha, path, media_type in to_store:
            blob = blobs.blob_put_file(path, content_type=media_type, sha256=sha)
            here[sha] = plan.blob_ids[sha] = blob.pk
        for sha in _page_hashes(package):
            if sha in plan.blob_ids:
                measured = _measure(sha)
                if measured is not None:
                    plan.pages[sha] = measured
        plans[line] = plan
    return plans, refused


def _measure(sha: str) -> PageImage | None:
    """Size and thumbnail of a stored page image (as ``dossier.render`` makes them); ``None`` when
    the image cannot be read, which leaves the volume's pages to the background renderer."""
    from PIL import Image, UnidentifiedImageError

    try:
        with blobs.backend().open(blobs.blob_key(sha)) as handle, Image.open(handle) as img:
            width, height = img.size
            thumb = img.convert("L" if img.mode in {"1", "L", "LA"} else "RGB")
            thumb.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 2))
            out = io.BytesIO()
            thumb.save(out, "JPEG", quality=70)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    return PageImage(width, height, blobs.blob_put_bytes(out.getvalue(), content_type="image/jpeg").pk)


@dataclass
class Rows:
    """The rows of one batch, filled per case and inserted together by ``insert``."""

    instruments: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    pages: list[tuple[Any, ...]] = field(default_factory=list)  # (volume index in ``volumes``, row)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)  # instrument 文号 → index in instruments
    lines: list[int] = field(default_factory=list)  # per instrument: its package's line
    notes: list[tuple[int, Problem]] = field(default_factory=list)  # (line, problem) for the report


def add_case(
    rows: Rows,
    *,
    case_id: int,
    line: int,
    package: Mapping[str, Any],
    plan: FilePlan | None,
    units: Mapping[str, int],
    user_id: int,
) -> None:
    """The instrument, volume, page and evidence rows of one imported case."""
    ids = plan.blob_ids if plan is not None else {}
    for i in package.get("instruments", ()):
        number = i.get("number") or None
        if number is not None and number in rows.numbers:
            number = None  # the same 文号 twice in one batch: only the first keeps it
            rows.notes.append((line, problem("instrument_number_taken", i["number"])))
        if number is not None:
            rows.numbers[number] = len(rows.instruments)
        rows.lines.append(line)
        rows.instruments.append(
            {
                "case_id": case_id,
                "kind": i["kind"],
                "action": i.get("action") or "",
                "unit_id": units[i["unit"]],
                "status": i["status"],
                "party_ids": [],
                "recipient": i.get("recipient") or "",
                "body": "",
                "reason": "" if number or not i.get("number") else _taken(i["number"]),
                "claimed_date": parse_date(i.get("claimed_date")),
                "version": 1,
                "issued_by_id": user_id,
                "issued_at": parse_timestamp(i["issued_at"]),
                "rejected_reason": "",
                "number": number,
                "sealed_at": parse_timestamp(i["sealed_at"]) if i.get("sealed_at") else None,
                "pdf_id": ids.get(i.get("pdf_sha256") or ""),
                "pdf_sha256": "",  # not registered here: /verify must not present it as ours
                "entry_hash": i.get("entry_hash") or "",
                "pending_change": "",
                "pending_reason": "",
                "revoked_reason": "",
            }
        )
    files = package.get("files") or {}
    number = 0
    for v in files.get("volumes", ()):
        if v["source"] not in ids:
            continue
        number += 1
        page_hashes = list(v.get("pages", ()))
        measured = plan.pages if plan is not None else {}
        complete = bool(page_hashes) and all(sha in measured for sha in page_hashes)
        index = len(rows.volumes)
        rows.volumes.append(
            {
                "case_id": case_id,
                "number": number,
                "title": v["title"][:100],
                "source_id": ids[v["source"]],
                "source_name": v.get("source_name", "")[:255],
                "page_count": v.get("page_count") or len(page_hashes),
                "pages_rendered": len(page_hashes) if complete else 0,
                "pages_ocred": 0,
                # With every page here the renderer has nothing left but OCR; otherwise it renders
                # the pages from the source, as after an upload.
                "status": VolumeStatus.OCR if complete else VolumeStatus.RECEIVED,
                "error": "",
                "uploaded_by_id": user_id,
                "uploaded_at": parse_timestamp(v["uploaded_at"]),
                "catalogue_version": 1,
            }
        )
        if complete:
            for n, sha in enumerate(page_hashes, start=1):
                m = measured[sha]
                rows.pages.append((index, n, ids[sha], m.thumb_id, m.width, m.height))
    for n, e in enumerate((e for e in files.get("evidence", ()) if e["blob"] in ids), start=1):
        rows.evidence.append(
            {
                "case_id": case_id,
                "number": n,
                "title": e["title"][:200],
                "blob_id": ids[e["blob"]],
                "source_name": e.get("source_name", "")[:255],
                "uploaded_by_id": user_id,
                "uploaded_at": parse_timestamp(e["uploaded_at"]),
            }
        )


def _taken(number: str) -> str:
    return f"原文号：{number}（导入时本平台已有同一文号，故未编号）"


def taken_numbers(rows: Rows) -> set[str]:
    """The imported 文号 already used by an instrument here: those instruments go in without one."""
    if not rows.numbers:
        return set()
    found = Instrument.objects.filter(number__in=list(rows.numbers)).values_list("number", flat=True)
    return {number for number in found if number}


def insert(rows: Rows, insert_dicts: Any, allocate_ids: Any) -> list[int]:
    """Write the batch's rows (multi-row inserts, as the cases); returns the new volume ids, whose
    OCR and search text the background job makes (``dossier.tasks.volume_process_task``). A 文号
    already used here is dropped from its instrument (kept in ``reason``) and noted."""
    for number in sorted(taken_numbers(rows)):
        at = rows.numbers[number]
        rows.instruments[at]["number"] = None
        rows.instruments[at]["reason"] = _taken(number)
        rows.notes.append((rows.lines[at], problem("instrument_number_taken", number)))
    insert_dicts(Instrument, rows.instruments)
    volume_ids = allocate_ids(Volume, len(rows.volumes))
    for pk, row in zip(volume_ids, rows.volumes, strict=True):
        row["id"] = pk
    insert_dicts(Volume, rows.volumes)
    insert_dicts(
        Page,
        [
            {
                "volume_id": volume_ids[index],
                "number": n,
                "image_id": image,
                "thumb_id": thumb,
                "width": width,
                "height": height,
                "ocr_status": OcrStatus.PENDING,
                "ocr_engine": "",
                "text": "",
                "words": [],
                "quality": [],
            }
            for index, n, image, thumb, width, height in rows.pages
        ],
    )
    insert_dicts(Evidence, rows.evidence)
    return volume_ids
