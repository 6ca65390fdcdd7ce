"""``xietong library import FILE.jsonl``: historic judgments into a collection, with progress, a
validation report and resumption.

The file is read in batches of lines. Each batch is prepared (parsed, normalised, structured,
de-identified, cut into words) in worker processes, then written in one transaction together with
the run's position, so a run killed at any point resumes at the first line it had not committed —
no line lost, none written twice. A re-run of a finished file changes nothing that did not change."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from xietong.library import prepare, services
from xietong.library.models import Collection, ImportRun, ImportStatus

BATCH = 200
MAX_PROBLEMS = 500  # problems kept in the report; the counts are always complete


@dataclass
class Progress:
    lines: int
    imported: int
    updated: int
    unchanged: int
    invalid: int
    rate: float  # lines per second so far


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="strict") as text:
        yield from text


def _chunks(lines: list[str], parts: int) -> list[list[str]]:
    size = max(1, -(-len(lines) // parts))
    return [lines[i : i + size] for i in range(0, len(lines), size)]


def library_import(
    *,
    path: Path,
    collection_name: str,
    title: str = "",
    source: str = "",
    workers: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop_after: int | None = None,
) -> ImportRun:
    """Import ``path`` (JSON Lines, optionally .gz) into the collection ``collection_name``.
    An unfinished run of the same file into the same collection is resumed. ``stop_after`` lines
    (for tests of resumption) ends the run early, as a kill would."""
    if not path.is_file():
        raise FileNotFoundError(path)
    collection = services.collection_get_or_create(name=collection_name, title=title, source=source)
    digest = file_sha256(path)
    run = (
        ImportRun.objects.filter(collection=collection, file_sha256=digest)
        .exclude(status=ImportStatus.DONE)
        .order_by("-started_at")
        .first()
    ) or ImportRun.objects.create(collection=collection, file_name=str(path), file_sha256=digest)
    run.status = ImportStatus.RUNNING
    run.save(update_fields=["status"])
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    # Workers come from a fork server, not a fork of this process: forking a process that runs
    # threads (a server's, a test runner's) can copy a held lock into the child and hang it. They
    # import only the pure ``prepare`` module, never Django.
    pool: Any = (
        ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("forkserver"), initializer=prepare.warm_up
        )
        if workers > 1
        else nullcontext()
    )
    started = timezone.now()
    done_here = 0
    try:
        with pool as executor:
            lines = _lines(path)
            for _ in islice(lines, run.position):
                pass

            read = 0

            def next_batch() -> tuple[list[str], Callable[[], list[Prepared]]]:
                nonlocal read
                limit = BATCH if stop_after is None else min(BATCH, stop_after - read)
                batch = list(islice(lines, limit)) if limit > 0 else []
                read += len(batch)
                return batch, _submit(batch, executor, workers)

            # The workers prepare the next batch while this process writes the current one.
            batch, results = next_batch()
            while batch:
                prepared = results()
                upcoming = next_batch()
                _write_batch(run, collection, batch, prepared)
                done_here += len(batch)
                if on_progress is not None:
                    seconds = max((timezone.now() - started).total_seconds(), 1e-6)
                    on_progress(
                        Progress(
                            run.position,
                            run.imported,
                            run.updated,
                            run.unchanged,
                            run.invalid,
                            done_here / seconds,
                        )
                    )
                batch, results = upcoming
    except Exception:
        ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.FAILED)
        services.collection_touch(collection.pk)
        raise
    finished = stop_after is None or done_here < stop_after
    run.status = ImportStatus.DONE if finished else ImportStatus.RUNNING
    run.finished_at = timezone.now() if finished else None
    run.save(update_fields=["status", "finished_at"])
    services.collection_touch(collection.pk)
    if finished:
        # Build and save the collection's index now, so that no reader waits for it: the servers
        # load the saved file (about a second at 100k records) instead of building it.
        from xietong.library import index as library_index

        library_index.collection_indexes(collection.name)
    return run


Prepared = tuple[str, dict[str, Any]] | tuple[None, dict[str, str]]


def _submit(batch: list[str], executor: Executor | None, workers: int) -> Callable[[], list[Prepared]]:
    """Start preparing ``batch``; the returned function waits for the results, in line order."""
    if executor is None or len(batch) < 2:
        return lambda: prepare.prepare_lines(batch)
    futures = [executor.submit(prepare.prepare_lines, part) for part in _chunks(batch, workers)]
    return lambda: [r for f in futures for r in f.result()]


def _write_batch(run: ImportRun, collection: Collection, batch: list[str], results: list[Prepared]) -> None:
    good: list[tuple[str, dict[str, Any]]] = []
    problems: list[dict[str, Any]] = []
    for offset, (external_id, fields) in enumerate(results):
        if external_id is None:
            problems.append({"line": run.position + offset + 1, **fields})
        else:
            good.append((external_id, fields))
    with transaction.atomic():
        created, updated, unchanged = services.records_upsert(collection=collection, prepared=good)
        run.position += len(batch)
        run.imported += created
        run.updated += updated
        run.unchanged += unchanged + (len(good) - created - updated - unchanged)  # repeated ids
        run.invalid += len(problems)
        room = MAX_PROBLEMS - len(run.problems)
        if room > 0:
            run.problems = [*run.problems, *problems[:room]]
        run.save(update_fields=["position", "imported", "updated", "unchanged", "invalid", "problems"])
