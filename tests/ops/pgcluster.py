"""The throwaway clusters of ``xietong.ops.pgcluster``; a machine that cannot make one skips the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from xietong.ops import pgcluster
from xietong.ops.pgcluster import BIN, CLIENT_BIN, Cluster, free_port, run

__all__ = ["BIN", "CLIENT_BIN", "Cluster", "free_port", "run", "workdir"]


def workdir() -> Path:
    try:
        return pgcluster.workdir()
    except pgcluster.Unavailable as exc:
        pytest.skip(str(exc))
