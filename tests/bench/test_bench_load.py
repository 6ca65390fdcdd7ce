"""The figures of ``xietong bench load`` from its request log: steps, windows, memory growth, and
the soak's verdict (the bench itself needs the production stack and minutes; it is run by hand)."""

from __future__ import annotations

from pathlib import Path

from xietong.bench import load
from xietong.bench.stack import Process, Stack


def test_a_window_counts_requests_per_second_percentiles_and_errors_by_name() -> None:
    requests = [(100.0 + i * 0.1, "case page", 10.0 + i, 1, 200) for i in range(100)]
    requests += [(105.0, "api act detain", 40.0, 0, 400), (120.0, "workbench", 5.0, 1, 200)]
    figures = load.window(requests, 100.0, 110.0)
    assert figures["requests"] == 101 and figures["rps"] == 10.1
    assert figures["p50_ms"] == 59.0 and figures["p95_ms"] == 104.0  # nearest rank of 101
    assert figures["errors"] == 1 and figures["errors_by"] == {"api act detain 400": 1}


def test_the_steps_of_the_ramp_are_read_as_users_and_seconds() -> None:
    assert load.parse_steps("100:90,200:60") == [(100, 90), (200, 60)]


def test_memory_growth_is_the_least_squares_slope_in_mib_per_hour(tmp_path: Path) -> None:
    stack = Stack(workdir=tmp_path)
    flat = Process("asgi:1", [], tmp_path / "a.log", rss=[(t, 200 * 1024) for t in range(0, 3600, 60)])
    leaking = Process("worker", [], tmp_path / "w.log", rss=[(t, 100 * 1024 + t) for t in range(0, 3600, 60)])
    stack.processes += [flat, leaking]
    growth = load.memory_growth(stack, since=0)
    assert growth["asgi:1"]["slope_mib_per_hour"] == 0.0
    assert abs(growth["worker"]["slope_mib_per_hour"] - 3600 / 1024 * 1) < 0.1 * 3600 / 1024 + 0.1


def test_the_soak_fails_on_errors_growth_loss_or_a_dead_process() -> None:
    good = {
        "whole": {"errors": 0},
        "memory": {"asgi:1": {"slope_mib_per_hour": 3.0}},
        "writes": {"lost": False},
        "processes_alive": {"asgi:1": True},
    }
    assert load.soak_problems({}) == [] and load.soak_problems(good) == []
    bad = {
        "whole": {"errors": 2},
        "memory": {"asgi:1": {"slope_mib_per_hour": 80.0}},
        "writes": {"lost": True},
        "processes_alive": {"asgi:1": False},
    }
    assert len(load.soak_problems(bad)) == 4
