"""Run daphne with a movable wall clock, for the browser test only.

Usage: ``python tests/browser/clockshift.py <daphne arguments>`` with ``XIETONG_TEST_CLOCK_OFFSET_FILE``
naming a file that holds an offset in days (a float; empty or missing = 0).

Before daphne or Django is imported, ``time_machine`` starts travelling to "now + offset" with
``tick=True`` (the clock keeps running). On ``SIGUSR1`` the file is read again and the clock is shifted
by the difference, so a test moves the server's time forward while the server keeps running: no
restart, no login lost to a restart, and no test hook anywhere in the product code. The server's
``/healthz`` reports ``timezone.now()``, which the test polls to see that the shift took effect.

Nothing here is imported by the product; the signal handler only exists in this wrapper process.
Signals are handled in the main thread (the reactor's), between requests; the test only signals when
no request is in flight. Twisted's asyncio reactor schedules with ``loop.time()`` (monotonic, not
patched), so its timers are not disturbed by the jump.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType

import time_machine

OFFSET_ENV = "XIETONG_TEST_CLOCK_OFFSET_FILE"


def _read_offset_days() -> float:
    path = os.environ.get(OFFSET_ENV)
    if not path:
        return 0.0
    try:
        raw = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return 0.0
    return float(raw) if raw else 0.0


def main() -> None:
    applied = _read_offset_days()
    traveller = time_machine.travel(time.time() + applied * 86400, tick=True).start()

    def reread(signum: int, frame: FrameType | None) -> None:
        nonlocal applied
        wanted = _read_offset_days()
        traveller.shift(timedelta(days=wanted - applied))
        applied = wanted

    signal.signal(signal.SIGUSR1, reread)

    from daphne.cli import CommandLineInterface

    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
