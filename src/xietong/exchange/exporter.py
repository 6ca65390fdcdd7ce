"""``xietong export-cases``: cases to standard data packages, streamed a page at a time into a
JSON Lines file (gzip when it ends in ``.gz``), optionally with the files' bytes beside it."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO, Any

from xietong.exchange import package as pkg
from xietong.exchange.selectors import _Codes, case_ids_for_export, packages_for

DEFAULT_SYSTEM = "xietong"


def blob_target(root: Path, sha256: str) -> Path:
    """Where a file's bytes go beside the packages: ``blobs/<first two>/<sha256>``."""
    return root / "blobs" / sha256[:2] / sha256


def cases_export(
    *,
    out: Path,
    case_ids: list[int] | None = None,
    county_code: str | None = None,
    since: date | None = None,
    files_dir: Path | None = None,
    system: str = DEFAULT_SYSTEM,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write one package per selected case to ``out`` and return how many. The file appears under
    its name only when complete (written to a temporary name, then renamed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    codes = _Codes()
    count = 0
    try:
        with _open_text(partial, gz=out.name.endswith(".gz")) as handle:
            for ids in case_ids_for_export(case_ids=case_ids, county_code=county_code, since=since):
                packages = packages_for(ids, system=system, codes=codes)
                for package in packages:
                    handle.write(pkg.dump(package))
                    handle.write("\n")
                if files_dir is not None:
                    _copy_files(packages, files_dir)
                count += len(packages)
                if on_progress is not None:
                    on_progress(count)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _open_text(path: Path, *, gz: bool) -> IO[str]:
    if gz:
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    return path.open("w", encoding="utf-8")


def _copy_files(packages: list[dict[str, Any]], root: Path) -> None:
    from xietong.dossier.blobs import blob_open
    from xietong.dossier.models import Blob

    hashes = {b["sha256"] for p in packages for b in p.get("files", {}).get("blobs", ())}
    hashes |= {i["pdf_sha256"] for p in packages for i in p["instruments"] if i.get("pdf_sha256")}
    todo = [h for h in hashes if not blob_target(root, h).exists()]
    for blob in Blob.objects.filter(sha256__in=todo):
        target = blob_target(root, blob.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".partial")
        with blob_open(blob) as source, temporary.open("wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        temporary.replace(target)
