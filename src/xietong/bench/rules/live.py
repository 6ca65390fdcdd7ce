"""The live half of ``xietong bench rules``: a stream of acts through the one door (``cases.services``),
timed without supervision (the baseline: the ``ledger.appended`` subscriber of ``supervision`` off) and with
the live path on, in the same run.

The stream is a discrete-event simulation of a city's caseload: a new case every 1.5 days (simulated
time, ``servertime.simulated``), each walked through the procedure with the gaps the law and practice
give — 拘留 → 送看守所、通知、讯问 → 提请批捕 → 受理 → 批准逮捕 → 通知、讯问、回执 (or 取保候审); 移送审查起诉
→ 受理 → (退回补充侦查 → 重新移送 → 受理) → 起诉 or 不起诉 → 受理 → 宣判 → (释放) → 送达 → 生效 → 交付执行 or
结案 — and the acts of all cases in time order, so the server's time only moves forward and the clock
sweep sees what a real worker would. A few resubmissions are hollow on purpose, and some clocks run
out, so the live path raises alerts now and then.

Three modes take turns in blocks of ``--live-block`` acts of the same stream (baseline, inline,
baseline, worker, …), so load noise and the mix of acts weigh on all alike:

- **baseline**: the act alone;
- **inline** (the worst case): the subscriber marks the case dirty on commit (``on_case_acted``), then
  ``evaluate_dirty`` (the job an act asks for) runs in the same thread before the next act — every
  act pays a whole job;
- **worker** (how the embedded mode runs it): the subscriber marks the case dirty and a worker thread
  with its own connection runs ``evaluate_dirty`` when asked, coalescing the requests that arrive
  while it is busy (``xietong.tasks``); the act's throughput is measured with the worker busy beside
  it, and the lag from an act's commit to the end of the run that evaluated it is reported.

Before an inline or worker block, untimed, ``evaluate_stale`` (the periodic job: the behind-scan and
the clock sweep) catches up with the cases the baseline block acted on (they were not marked dirty,
so they are "behind").
"""

from __future__ import annotations

import contextlib
import heapq
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from xietong.bench.bulk import Write, percentile

Step = tuple[float, str, Callable[[], Any]]  # (days after the previous act, action, the act)


@dataclass
class _Case:
    case_id: int = 0
    parties: list[int] = field(default_factory=list)
    transfer: int | None = None
    at: datetime | None = None  # the time of its last act


class Stream:
    """The acts of many cases in the order of their (simulated) time."""

    def __init__(self, *, seed: int, start: datetime, interval_days: float) -> None:
        from xietong.bench.analytics.caseload import load_city

        self.rng = random.Random(seed)  # noqa: S311 (bench data)
        self.city = load_city()
        self.start, self.interval = start, interval_days
        self.heap: list[tuple[datetime, int, Iterator[Step], str, Callable[[], Any]]] = []
        self.made = 0
        self.counter = 0
        self._admit()

    def _leader(self, unit: int) -> Any:
        return self.city.staff[unit].leader

    def _handler(self, unit: int) -> Any:
        return self.city.staff[unit].handlers[0]

    def _admit(self) -> None:
        """Schedule the next new case's registration."""
        at = self.start + timedelta(days=self.made * self.interval)
        self.made += 1
        script = self._script(random.Random(self.rng.random()))  # noqa: S311 (bench data)
        gap, action, act = next(script)
        self._push(at + timedelta(days=gap), script, action, act)

    def _push(self, at: datetime, script: Iterator[Step], action: str, act: Callable[[], Any]) -> None:
        self.counter += 1
        heapq.heappush(self.heap, (at, self.counter, script, action, act))

    def next(self) -> tuple[datetime, str, Callable[[], Any], Callable[[], None]]:
        """The next act: its time, action, the call, and what to do after it ran (schedule the next)."""
        at, _, script, action, act = heapq.heappop(self.heap)

        def after() -> None:
            if action == "register":
                self._admit()
            step = next(script, None)
            if step is not None:
                self._push(at + timedelta(days=step[0]), script, step[1], step[2])

        return at, action, act, after

    # -- one case

    def _script(self, rng: random.Random) -> Iterator[Step]:
        from xietong.cases import services
        from xietong.cases.models import Clock
        from xietong.cases.procedure import ACTIONS
        from xietong.demo.crimes import generate_facts, pick_charge
        from xietong.demo.generator import _to_release_on_judgment, draw_verdict
        from xietong.demo.people import fictitious_address, fictitious_name
        from xietong.demo.suzhou import COUNTIES
        from xietong.execution.models import Sentence
        from xietong.servertime import now

        crew = self.city.crews[rng.randrange(len(self.city.crews))]
        police, procu, court = crew.police, crew.procu, crew.court
        towns = [t for t in self.city.towns if t[0] == crew.county_index]
        county = COUNTIES[crew.county_index]
        charge = pick_charge(rng)
        c = _Case()

        def register() -> None:
            town_index = rng.randrange(len(towns))
            people = [fictitious_name(rng) for _ in range(rng.choice((1, 1, 1, 2)))]
            at = now()
            town = county.towns[town_index % len(county.towns)]
            facts = generate_facts(
                rng, charge=charge, suspects=[p[0] for p in people], county=county, town=town,
                occurred_at=at - timedelta(days=1), latest=at,
            )  # fmt: skip
            result = services.case_register(
                user=self._leader(police),
                data=services.RegisterInput(
                    charge=charge.name, facts=facts.facts, town_id=towns[town_index][1],
                    occurred_at=at - timedelta(hours=rng.uniform(3, 60)), place=facts.place,
                    title=facts.title,
                    parties=[
                        services.PartyInput(name=n, gender=g, address=fictitious_address(rng, county, town))
                        for n, g in people
                    ],
                ),
            )  # fmt: skip
            if result.case is None:
                raise RuntimeError(f"register: {result.status}")
            c.case_id, c.at = result.case.pk, at
            c.parties = list(result.case.parties.values_list("pk", flat=True))

        def act(
            action: str, unit: int, parties: list[int] | None = None, **kwargs: Any
        ) -> Callable[[], None]:
            def call() -> None:
                c.at = now()
                result = services.case_act(
                    user=self._leader(unit), case_id=c.case_id, action=action,
                    party_ids=(parties or c.parties) if ACTIONS[action].per_party else None, **kwargs,
                )  # fmt: skip
                if result.status != "done":
                    raise RuntimeError(f"{action}: {result.status}")
                if result.transfer is not None:
                    c.transfer = result.transfer.pk

            return call

        def accept(unit: int, **options: Any) -> Callable[[], None]:
            def call() -> None:
                if c.transfer is None:
                    raise RuntimeError(f"case {c.case_id}: no transfer to accept")
                c.at = now()
                services.transfer_accept(user=self._handler(unit), transfer_id=c.transfer, options=options)
                c.transfer = None

            return call

        def u(low: float, high: float) -> float:
            return rng.uniform(low, high)

        reason = "证据不足，需补充被害人陈述及鉴定意见"
        yield 0.0, "register", register
        if rng.random() < 0.5:
            yield u(0.05, 1), "detain", act("detain", police)
            yield u(0.01, 0.4), "deliver_to_jail", act("deliver_to_jail", police)
            yield u(0.01, 0.4), "notify_detention", act("notify_detention", police)
            yield u(0.01, 0.3), "interrogate", act("interrogate", police)
            if rng.random() < 0.8:
                yield u(1, 2.8), "request_arrest", act("request_arrest", police)
                yield u(0.02, 0.3), "accept", accept(procu)
                if rng.random() < 0.85:
                    yield u(2, 6.5), "approve_arrest", act("approve_arrest", procu)
                    yield u(0.01, 0.5), "notify_arrest", act("notify_arrest", police)
                    yield u(0.01, 0.5), "interrogate", act("interrogate", police)
                    yield u(0.1, 2), "return_arrest_receipt", act("return_arrest_receipt", police)
                else:
                    yield u(2, 6.5), "deny_arrest", act("deny_arrest", procu, reason="不符合逮捕条件")
                    yield u(0.01, 1), "bail", act("bail", police)
            else:
                yield u(0.5, 2.9), "bail", act("bail", police)
        else:
            yield u(0.1, 3), "bail", act("bail", police)
        yield u(15, 50), "transfer_for_prosecution", act("transfer_for_prosecution", police)
        yield u(0.05, 1), "accept", accept(procu)
        if rng.random() < 0.12:
            yield u(10, 25), "return_for_supplementary", act("return_for_supplementary", procu, reason=reason)
            hollow = rng.random() < 0.1  # a resubmission with nothing new: the rule's alert
            yield (u(1, 3) if hollow else u(10, 28)), "resubmit", act("resubmit", police)
            yield u(0.05, 1), "accept", accept(procu)
        if rng.random() < 0.06:
            yield u(8, 20), "not_prosecute", act("not_prosecute", procu, reason="犯罪情节轻微")
            return
        yield u(8, 25), "indict", act("indict", procu)
        procedure = rng.choice(["ordinary", "summary", "summary"])
        yield u(0.1, 2), "accept", accept(court, procedure=procedure)
        trial = {"summary": (8, 19), "ordinary": (20, 58)}[procedure]
        verdict = draw_verdict(rng, charge)
        yield u(*trial), "pronounce", act("pronounce", court, options={"verdict": verdict})
        # (the script runs on after each act has run, outside the timing: these reads are free)
        held = _to_release_on_judgment(c.case_id)
        if held:
            yield u(0.01, 0.5), "release_defendant", act("release_defendant", court, parties=held)
        yield u(0.1, 3), "serve_judgment", act("serve_judgment", court)
        due = Clock.objects.filter(case_id=c.case_id, rule="appeal_judgment").values_list("due_at", flat=True)
        wait = max(0.01, ((due[0] - c.at).total_seconds() / 86400 if due and c.at else 11) + 0.05)

        def effective() -> None:
            c.at = now()
            services.judgment_effective_auto(case_id=c.case_id)

        yield wait, "judgment_effective", effective
        if not verdict.get("guilty") or verdict.get("penalty") in {"none", "fine"}:
            yield u(1, 5), "close", act("close", court)
        elif Sentence.objects.filter(case_id=c.case_id, executing_unit__isnull=False).exists():
            # stops the clocks of the execution documents (the intake is the executing unit's)
            yield u(1, 4), "deliver_for_execution", act("deliver_for_execution", court)


@contextlib.contextmanager
def supervision_subscribed(on: bool) -> Iterator[None]:
    """The supervision subscriber of ``ledger.appended`` on or off (the baseline has no live path).
    The dispatcher has no unsubscribe: the bench edits its private list and puts it back."""
    from xietong import events
    from xietong.supervision import engine

    handlers = events._subscribers["ledger.appended"]
    present = engine.on_case_acted in handlers
    if on and not present:
        handlers.append(engine.on_case_acted)
    if not on and present:
        handlers.remove(engine.on_case_acted)
    try:
        yield
    finally:
        if present and engine.on_case_acted not in handlers:
            handlers.append(engine.on_case_acted)
        if not present and engine.on_case_acted in handlers:
            handlers.remove(engine.on_case_acted)


def _summary(samples: list[float]) -> dict[str, Any]:
    total = sum(samples)
    return {
        "acts": len(samples),
        "seconds": round(total, 3),
        "acts_per_s": round(len(samples) / total, 1) if total else 0.0,
        "p50_ms": round(percentile(samples, 50) * 1000, 2),
        "p95_ms": round(percentile(samples, 95) * 1000, 2),
        "max_ms": round(max(samples, default=0.0) * 1000, 2),
    }


class Worker(threading.Thread):
    """The embedded worker as ``tasks`` runs it: one thread that runs ``evaluate_dirty`` when asked,
    coalescing the requests that came in while it was busy into one more run. Its own connection."""

    def __init__(self) -> None:
        super().__init__(name="bench-supervision-worker", daemon=True)
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.stopping = False
        self.now: datetime | None = None  # the simulated time of the last act
        self.runs: list[tuple[float, float]] = []  # (start, end) of each run, perf_counter

    def request(self, now: datetime) -> None:
        self.now = now
        self.idle.clear()
        self.wake.set()

    def run(self) -> None:
        from django.db import connection

        from xietong import servertime
        from xietong.supervision import engine

        try:
            while True:
                self.wake.wait()
                if self.stopping:
                    return
                self.wake.clear()
                start = time.perf_counter()
                with servertime.simulated(self.now or datetime.now(UTC)):
                    engine.evaluate_dirty()
                self.runs.append((start, time.perf_counter()))
                if not self.wake.is_set():
                    self.idle.set()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.join()


def _lags(commits: list[float], runs: list[tuple[float, float]]) -> list[float]:
    """Seconds from each act's commit to the end of the first worker run that started after it."""
    out = []
    for t in commits:
        end = next((e for s, e in runs if s >= t), None)
        if end is not None:
            out.append(end - t)
    return out


MODES = ("baseline", "inline", "baseline", "worker")


def run_live(
    *, acts: int, inline_acts: int, block: int, warmup: int, interval: float, seed: int, write: Write
) -> dict[str, Any]:
    """``acts`` timed acts without supervision and with the worker, ``inline_acts`` with the evaluation
    inline after every act, in turns of ``block`` acts; ``warmup`` acts first, untimed, so the stream
    has cases in every stage. Returns the figures of each mode and their ratios to the baseline."""
    from django.utils import timezone

    from xietong import servertime
    from xietong.supervision import engine
    from xietong.supervision.models import Alert

    engine.rules()  # loaded and checked once, before any timing
    # about 17 acts a case, a case every ``interval`` days: the stream ends near today
    start = timezone.now() - timedelta(days=interval * (warmup + 2 * acts + inline_acts) / 17 + 150)
    stream = Stream(seed=seed, start=start, interval_days=interval)
    worker = Worker()
    worker.start()

    def one(mode: str) -> tuple[str, float, float, float]:
        at, action, call, after = stream.next()
        with servertime.simulated(at):
            t0 = time.perf_counter()
            call()
            t1 = time.perf_counter()
            if mode == "inline":
                engine.evaluate_dirty()
            elif mode == "worker":
                worker.request(at)  # what ``tasks.request`` does in the embedded mode
            t2 = time.perf_counter()
        after()
        return action, t1 - t0, t2 - t1, t1

    def catch_up() -> float:
        t = time.perf_counter()
        with servertime.simulated(stream.heap[0][0]):
            engine.evaluate_stale()  # the cases a baseline block acted on (it marked nothing), untimed
        return time.perf_counter() - t

    t = time.perf_counter()
    with supervision_subscribed(True):
        for _ in range(warmup):
            one("baseline")
        catch_up()
    write(f"  warm-up: {warmup} acts, {stream.made} cases in {time.perf_counter() - t:.1f} s")

    wanted = {"baseline": acts, "inline": inline_acts, "worker": acts}
    samples: dict[str, list[float]] = {mode: [] for mode in wanted}
    walls: dict[str, float] = dict.fromkeys(wanted, 0.0)
    evaluation: list[float] = []
    commits: list[float] = []
    mix: dict[str, Counter[str]] = {mode: Counter() for mode in wanted}
    alerts_before = Alert.objects.count()
    catch_up_s = drain_s = 0.0
    turn = 0
    while any(len(samples[m]) < wanted[m] for m in wanted):
        mode = MODES[turn % len(MODES)]
        turn += 1
        n = min(block, wanted[mode] - len(samples[mode]))
        if n <= 0:
            continue
        if mode != "baseline":
            catch_up_s += catch_up()
        with supervision_subscribed(mode != "baseline"):
            t = time.perf_counter()
            for _ in range(n):
                action, act_s, eval_s, committed = one(mode)
                samples[mode].append(act_s + (eval_s if mode == "inline" else 0.0))
                if mode == "inline":
                    evaluation.append(eval_s)
                if mode == "worker":
                    commits.append(committed)
                mix[mode][action] += 1
            walls[mode] += time.perf_counter() - t
            if mode == "worker":
                t = time.perf_counter()
                worker.idle.wait()
                drain_s += time.perf_counter() - t
    worker.stop()
    figures = {mode: _summary(values) for mode, values in samples.items()}
    for mode, wall in walls.items():
        figures[mode]["wall_acts_per_s"] = round(len(samples[mode]) / wall, 1) if wall else 0.0
    base = figures["baseline"]["wall_acts_per_s"]
    lags = _lags(commits, worker.runs)
    run_s = [e - s for s, e in worker.runs]
    return {
        **figures,
        "ratio": {
            mode: round(figures[mode]["wall_acts_per_s"] / base, 3) if base else 0.0
            for mode in ("inline", "worker")
        },
        "evaluate_dirty_inline_ms": {
            "mean": round(1000 * sum(evaluation) / max(len(evaluation), 1), 2),
            "p50": round(percentile(evaluation, 50) * 1000, 2),
            "p95": round(percentile(evaluation, 95) * 1000, 2),
        },
        "worker_runs": {
            "runs": len(run_s),
            "acts_per_run": round(len(commits) / max(len(run_s), 1), 1),
            "run_ms_p50": round(percentile(run_s, 50) * 1000, 1),
            "lag_ms_p50": round(percentile(lags, 50) * 1000, 1),
            "lag_ms_p95": round(percentile(lags, 95) * 1000, 1),
            "drain_s": round(drain_s, 2),
        },
        "alerts_raised": Alert.objects.count() - alerts_before,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cases": stream.made,
        "block": block,
        "warmup": warmup,
        "catch_up_s": round(catch_up_s, 2),
        "mix": {mode: dict(sorted(counts.items())) for mode, counts in mix.items()},
    }
