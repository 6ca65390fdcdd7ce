"""``xietong import-cases FILE|DIR``: standard data packages into cases, with progress, a validation
report and resumption.

Each file is read in batches of lines; every package is checked (schema, codes, the sender's hash
chain), and the good ones of a batch are written in one transaction together with the run's
position (``ImportRun``), so a run killed at any point resumes at the first line it had not
committed — no case lost, none written twice. A case number already imported from the same source is
skipped, so importing a file again, or an overlapping one, changes nothing."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.utils import timezone

from xietong.cases.procedure import Stage
from xietong.exchange import package as pkg
from xietong.exchange.models import ImportRun, RunStatus
from xietong.exchange.services import Refs, cases_import_batch
from xietong.orgs.models import Region, Unit

BATCH = 1000
Checked = tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class Progress:
    file: str
    lines: int  # of this file, committed (or checked, in a dry run)
    imported: int
    skipped: int
    rejected: int
    rate: float  # lines per second in this process so far


@dataclass
class FileResult:
    file: str
    sha256: str
    lines: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    status: str = RunStatus.RUNNING
    problems: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # imported, with a problem

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in {"problems", "notes"}}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_refs() -> Refs:
    """Units and towns by code (a city: a few hundred of each)."""
    return Refs(
        units=dict(Unit.objects.values_list("code", "pk")),
        towns={
            code: (pk, parent)
            for code, pk, parent in Region.objects.filter(level="town").values_list("code", "pk", "parent_id")
        },
    )


def check_lines(lines: list[str], first_line: int, refs: Refs) -> Checked:
    """The good packages of a batch (line number, package) and the rejections (line, number,
    problems)."""
    stages = {s.value for s in Stage}
    good: list[tuple[int, dict[str, Any]]] = []
    bad: list[dict[str, Any]] = []
    for offset, text in enumerate(lines):
        line = first_line + offset
        if not text.strip():
            continue
        package, problems = pkg.parse_line(text)
        if not problems:
            problems = pkg.check(package, units=refs.units, towns=refs.towns, stages=stages)
        if problems:
            number = None
            if isinstance(package, dict) and isinstance(package.get("case"), dict):
                number = package["case"].get("number")
            bad.append({"line": line, "number": number, "problems": [p.as_json() for p in problems]})
        else:
            good.append((line, package))
    return good, bad


def cases_import(
    *,
    path: Path,
    dry_run: bool = False,
    batch: int = BATCH,
    on_progress: Callable[[Progress], None] | None = None,
    stop_after: int | None = None,
    files_dir: Path | None = None,
) -> list[FileResult]:
    """Import every package file under ``path`` (a file or a directory of ``.jsonl``/``.jsonl.gz``).
    A file already imported to the end (same SHA-256) is not read again; an unfinished run of it is
    resumed. ``stop_after`` lines of a file end its run early, as a kill would (for tests).
    ``files_dir``: where ``export-cases --with-files`` put the bytes (``blobs/<ab>/<sha256>``); the
    instruments and files of the packages become rows (``exchange.materialise``)."""
    if not path.exists():
        raise FileNotFoundError(path)
    refs = load_refs()
    return [
        _import_file(
            file,
            refs,
            dry_run=dry_run,
            batch=batch,
            on_progress=on_progress,
            stop_after=stop_after,
            files_dir=files_dir,
        )
        for file in pkg.package_files(path)
    ]


def _import_file(
    path: Path,
    refs: Refs,
    *,
    dry_run: bool,
    batch: int,
    on_progress: Callable[[Progress], None] | None,
    stop_after: int | None,
    files_dir: Path | None = None,
) -> FileResult:
    digest = file_sha256(path)
    result = FileResult(file=str(path), sha256=digest)
    run: ImportRun | None = None
    if not dry_run:
        runs = ImportRun.objects.filter(file_sha256=digest).order_by("-started_at")
        done = runs.filter(status=RunStatus.DONE).first()
        if done is not None:
            _copy(result, done)
            return result
        run = runs.first() or ImportRun.objects.create(file_name=str(path), file_sha256=digest)
        run.status = RunStatus.RUNNING
        run.save(update_fields=["status"])
    start = run.position if run else 0
    lines: Iterator[str] = islice(pkg.read_lines(path), start, None)
    position = start
    began = time.perf_counter()
    done_here = 0
    ahead = 0  # lines handed to the reader so far

    def read_and_check(first_line: int, limit: int) -> tuple[list[str], Checked]:
        chunk = list(islice(lines, limit)) if limit > 0 else []
        return chunk, check_lines(chunk, first_line, refs)

    def submit() -> Future[tuple[list[str], Checked]]:
        nonlocal ahead
        limit = batch if stop_after is None else min(batch, stop_after - ahead)
        future = reader.submit(read_and_check, start + ahead + 1, limit)
        ahead += max(limit, 0)
        return future

    # One thread reads and checks the next batch (pure Python, no database) while this one writes
    # the current batch: the writer mostly waits on the database, which releases the GIL.
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exchange-check")
    try:
        upcoming = submit()
        while True:
            chunk, (good, bad) = upcoming.result()
            if not chunk:
                break
            upcoming = submit()
            outcome = cases_import_batch(
                run=run,
                items=good,
                refs=refs,
                lines_read=len(chunk),
                rejected=bad,
                dry_run=dry_run,
                files_dir=files_dir,
            )
            position += len(chunk)
            done_here += len(chunk)
            result.lines = position
            if run is None:  # dry run: count here
                result.imported += outcome.imported
                result.skipped += outcome.skipped
                result.rejected += len(outcome.rejected)
                result.problems.extend(outcome.rejected)
                result.notes.extend(outcome.notes)
            else:
                _copy(result, run)
            if on_progress is not None:
                seconds = max(time.perf_counter() - began, 1e-6)
                on_progress(
                    Progress(
                        str(path),
                        position,
                        result.imported,
                        result.skipped,
                        result.rejected,
                        done_here / seconds,
                    )
                )
    except BaseException:
        if run is not None:
            ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
        raise
    finally:
        reader.shutdown(wait=True, cancel_futures=True)
    finished = stop_after is None or done_here < stop_after
    if run is not None:
        run.status = RunStatus.DONE if finished else RunStatus.RUNNING
        run.finished_at = timezone.now() if finished else None
        run.save(update_fields=["status", "finished_at"])
        _copy(result, run)
    else:
        result.status = RunStatus.DONE if finished else RunStatus.RUNNING
    return result


def _copy(result: FileResult, run: ImportRun) -> None:
    result.lines = run.position
    result.imported, result.skipped, result.rejected = run.imported, run.skipped, run.rejected
    result.status = run.status
    result.problems = list(run.problems)
    result.notes = list(run.notes)


def write_report(path: Path, results: list[FileResult], *, dry_run: bool) -> None:
    """The validation report: per file its counts, per rejected package its file, line, case number
    and the reasons (stable code + Chinese message), and the same for imported cases that came
    with a problem (``problems``)."""
    report = {
        "dry_run": dry_run,
        "files": [r.as_json() for r in results],
        "totals": {
            key: sum(getattr(r, key) for r in results) for key in ("lines", "imported", "skipped", "rejected")
        },
        "rejected": [{"file": r.file, **p} for r in results for p in r.problems],
        # Cases imported all the same: files missing (file_missing), a 文号 already used here
        # (instrument_number_taken).
        "problems": [{"file": r.file, **p} for r in results for p in r.notes],
    }
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
