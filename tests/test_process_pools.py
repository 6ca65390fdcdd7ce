"""Process pools are never forked: a fork of a process with threads can inherit a lock held by another
thread and hang for ever (it stalled CI once, in ``bench/similar.py`` under the test run's OCR threads)."""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "xietong"


def test_every_process_pool_names_a_start_method_other_than_fork() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"ProcessPoolExecutor\((.{0,200})", text, re.S):
            call = match.group(1)
            if "mp_context=" not in call.split("\n\n")[0] or 'get_context("fork")' in call:
                offenders.append(f"{path.relative_to(SRC)}:{text[: match.start()].count(chr(10)) + 1}")
        if re.search(r"multiprocessing\.Pool\(|\bos\.fork\(", text):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []
