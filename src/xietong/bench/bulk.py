"""Bench data: throwaway PostgreSQL databases, a million ledger rows, and 100k cases in bulk.

Why this module bypasses the one door (``cases.services``)
-----------------------------------------------------------
Every product write goes through ``cases.services``; this module is the exception, and it exists only
to build *bench* databases that are thrown away afterwards. Replaying 100,000 cases through the door
takes two to six hours on the 2-core reference machine (the demo generator makes 4-15 cases/s), which
would make ``xietong bench pages`` useless. So:

* ``copy_ledger_entries`` writes ledger rows with PostgreSQL ``COPY``: per-case hash chains computed
  with ``ledger.chain.entry_hash`` exactly as ``ledger_append`` does, so ``ledger verify`` passes.
* ``clone_cases`` first lets the real door make a few hundred *template* cases (``demo.generator``,
  every act through ``cases.services``), then copies them until the database holds the requested
  number of cases. Every clone has the rows the services produced for its template — case, parties,
  participations, transfers, instruments, clocks, requests, ledger entries — with new ids, all times
  moved back by a whole number of days, new case numbers from the same per-unit counters
  (``InstrumentCounter`` is brought up to date; instruments are cloned as drafts), clock due
  dates recomputed by ``cases.deadlines`` for the moved start, ledger payloads re-pointed at the
  clone's own ids and numbers, and the clone's hash chain recomputed (its head too, on the case
  row). ``ledger verify`` passes on the result. Rows go in with ``COPY`` with the per-row
  foreign-key triggers off (``session_replication_role = replica``, when the role may), and
  ``check_references`` then confirms that no reference dangles.

Nothing here is imported by product code; nothing here runs outside ``xietong bench``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dj_database_url
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from xietong.cases.procedure import ACTIONS
from xietong.ledger.chain import GENESIS, canonical_payload, entry_hash, timestamp_text

Write = Callable[[str], None]
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


# ------------------------------------------------------------------ throwaway databases


def server_url(explicit: str | None = None) -> str:
    """The PostgreSQL server to create throwaway databases on: ``explicit``, else the configured
    database's server when that is PostgreSQL, else the local server."""
    if explicit:
        return explicit
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.postgresql":
        return _url(db.get("USER") or "", db.get("PASSWORD") or "", db.get("HOST") or "", db.get("PORT"), "")
    return DEFAULT_SERVER_URL


def _url(user: str, password: str, host: str, port: Any, name: str) -> str:
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    location = quote(host or "127.0.0.1", safe="") + (f":{port}" if port else "")
    return f"postgres://{auth}@{location}/{name}"


def _connect(url: str, dbname: str = "postgres") -> Any:
    import psycopg

    cfg = dj_database_url.parse(url)
    return psycopg.connect(
        host=cfg.get("HOST") or "127.0.0.1",
        port=int(cfg.get("PORT") or 5432),
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        dbname=dbname,
        autocommit=True,
        connect_timeout=5,
    )


def postgres_unavailable(url: str) -> str | None:
    """None when a server answers at ``url`` and lets us create databases; else why not."""
    try:
        with _connect(url) as conn:
            row = conn.execute(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if row and row[0] else "the PostgreSQL role may not create databases"


def database_url(server: str, name: str) -> str:
    cfg = dj_database_url.parse(server)
    return _url(
        cfg.get("USER") or "", cfg.get("PASSWORD") or "", cfg.get("HOST") or "", cfg.get("PORT"), name
    )


def create_database(server: str, bench: str) -> str:
    name = f"xietong_bench_{bench.replace('-', '_')}_{os.getpid()}_{secrets.token_hex(3)}"
    with _connect(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(server: str, name: str) -> None:
    with _connect(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_in_throwaway_database(
    *,
    bench: str,
    args: list[str],
    server: str,
    keep: bool,
    write: Write,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``xietong bench BENCH ARGS`` in a child process whose DATABASE_URL is a fresh PostgreSQL
    database (migrated by the child), relay its output, drop the database, return its JSON result."""
    problem = postgres_unavailable(server)
    if problem:
        raise RuntimeError(f"PostgreSQL at {server.rsplit('@', 1)[-1]} is needed for the bench: {problem}")
    name = create_database(server, bench)
    tmp = Path(tempfile.mkdtemp(prefix="xietong-bench-"))
    key_dir = Path(settings.XIETONG_HOME) / "bench-keys" if keep else tmp
    key_dir.mkdir(parents=True, exist_ok=True)
    result_path = tmp / "result.json"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(server, name),
        "DJANGO_SETTINGS_MODULE": "xietong.settings",
        "XIETONG_INPROCESS_TASKS": "0",
        "XIETONG_LEDGER_ENABLED": "1",
        "XIETONG_LEDGER_KEY_FILE": str(key_dir / f"{name}.pem"),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    cmd = [sys.executable, "-m", "xietong", "bench", bench, *args, "--inner-result", str(result_path)]
    write(f"# database {name} (throwaway, PostgreSQL at {server.rsplit('@', 1)[-1]})")
    try:
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        for line in proc.stdout or ():
            write(line.rstrip("\n"))
        code = proc.wait()
        if code != 0 or not result_path.exists():
            raise RuntimeError(f"bench {bench} failed (exit status {code})")
        result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    finally:
        if not keep:
            drop_database(server, name)
        shutil.rmtree(tmp, ignore_errors=True)
    result["database"] = {"vendor": "postgresql", "name": name, "kept": keep}
    if keep:
        result["database"]["url"] = database_url(server, name)
        result["database"]["ledger_key_file"] = str(key_dir / f"{name}.pem")
    return result


def run_in_throwaway_sqlite(*, bench: str, args: list[str], write: Write) -> dict[str, Any]:
    """Like ``run_in_throwaway_database`` with a fresh SQLite file and data folder, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="xietong-bench-sqlite-"))
    result_path = tmp / "result.json"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "XIETONG_HOME": str(tmp),
        "DJANGO_SETTINGS_MODULE": "xietong.settings",
        "XIETONG_INPROCESS_TASKS": "0",
        "XIETONG_LEDGER_KEY_FILE": str(tmp / "ledger.pem"),
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "xietong", "bench", bench, *args, "--inner-result", str(result_path)]
    write(f"# database {tmp / 'bench.sqlite3'} (throwaway, SQLite)")
    try:
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        for line in proc.stdout or ():
            write(line.rstrip("\n"))
        code = proc.wait()
        if code != 0 or not result_path.exists():
            raise RuntimeError(f"bench {bench} failed (exit status {code})")
        result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["database"] = {"vendor": "sqlite"}
    return result


# ------------------------------------------------------------------ small helpers


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)}


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def cpu_busy_snapshot() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat (Linux)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return (0.0, 0.0)
    values = [float(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)
    return (sum(values) - idle, sum(values))


def _columns(model: type[models.Model], *, skip: Iterable[str] = ()) -> list[models.Field[Any, Any]]:
    skipped = set(skip)
    return [f for f in model._meta.concrete_fields if f.attname not in skipped]


def copy_rows(model: type[models.Model], fields: list[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY ``rows`` (values in ``fields`` order, attnames) into the model's table; returns the count."""
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    columns = ", ".join(f'"{by_name[name].column}"' for name in fields)
    json_at = [i for i, name in enumerate(fields) if isinstance(by_name[name], models.JSONField)]
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY
        with raw.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = None if row[i] is None else json.dumps(row[i], ensure_ascii=False)
                copy.write_row(row)
                count += 1
    return count


def reset_sequences(*models_: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (model names)
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# ------------------------------------------------------------------ a million ledger rows

# A plausible history, one ledger entry per step (the actions of procedure.ACTIONS, "accept" = 受理).
_LEDGER_SCRIPT = (
    "register",
    "detain",
    "deliver_to_jail",
    "notify_detention",
    "interrogate",
    "request_arrest",
    "accept",
    "approve_arrest",
    "notify_arrest",
    "interrogate",
    "return_arrest_receipt",
    "transfer_for_prosecution",
    "accept",
    "indict",
    "accept",
    "pronounce",
    "serve_judgment",
    "judgment_effective",
    "deliver_for_execution",
    "accept",
)
_LEDGER_FIELDS = [
    "case_id",
    "seq",
    "recorded_at",
    "actor_id",
    "actor_name",
    "actor_duty",
    "unit_id",
    "unit_name",
    "action",
    "payload",
    "prev_hash",
    "entry_hash",
]


@dataclass(frozen=True)
class _Actor:
    user_id: int
    name: str
    duty: str
    unit_id: int
    unit_name: str


def _synthetic_actors(rng: random.Random) -> list[dict[str, _Actor]]:
    """Per county: who acts for police, procuratorate and court (names fictitious, as in the demo)."""
    from xietong.demo.people import fictitious_name
    from xietong.demo.suzhou import COUNTIES

    crews = []
    for i, county in enumerate(COUNTIES):
        base = 100 + i * 10
        crews.append(
            {
                "police": _Actor(base + 1, fictitious_name(rng)[0], "分管领导", base + 1, county.police),
                "procuratorate": _Actor(
                    base + 2, fictitious_name(rng)[0], "承办人", base + 2, county.procuratorate
                ),
                "court": _Actor(base + 3, fictitious_name(rng)[0], "承办人", base + 3, county.court),
            }
        )
    return crews


def _synthetic_payload(
    action: str, case_id: int, seq: int, crew: dict[str, _Actor], names: list[str]
) -> dict:
    if action == "accept":
        return {
            "label": "受理（移送）",
            "transfer_id": case_id * 4 + seq,
            "from_unit": crew["police"].unit_name,
            "stage_to": "prosecution_review",
            "trial_procedure": None,
        }
    spec = ACTIONS[action]
    body: dict[str, Any] = {"label": spec.label, "articles": list(spec.articles)}
    if spec.to_stage is not None:
        body["stage_from"], body["stage_to"] = "investigation", spec.to_stage.value
    if spec.per_party:
        body["party_ids"] = [case_id * 3 + i for i in range(len(names))]
        body["party_names"] = names
    if spec.instrument:
        body["instrument"] = {
            "kind": spec.instrument,
            "number": f"苏{spec.instrument[:2]}〔2025〕{case_id}-{seq}号",
            "claimed_date": None,
        }
    if spec.approval:
        body["approved_by"] = {"id": crew["police"].user_id, "name": crew["police"].name, "duty": "分管领导"}
    if spec.transfer_to is not None:
        body["to_unit"] = crew["procuratorate"].unit_name
        body["transfer_id"] = case_id * 4 + seq
    if action == "pronounce":
        body["verdict"] = {"guilty": True, "penalty": "fixed_term", "months": 14, "probation_months": 0}
    return body


def _actor_for(action: str, crew: dict[str, _Actor]) -> _Actor:
    if action == "accept" or ACTIONS[action].agency == "procuratorate":
        return crew["procuratorate"]
    if ACTIONS[action].agency == "court":
        return crew["court"]
    return crew["police"]


def copy_ledger_entries(*, entries: int, per_case: int, seed: int, write: Write) -> dict[str, Any]:
    """``entries`` ledger rows, ``per_case`` per case, with valid chains, written with COPY in the
    order a live system writes them: round by round across all cases (a case's entries are far apart
    in the table, as acts on one case are weeks apart), not case by case."""
    from xietong.demo.people import fictitious_name
    from xietong.ledger.models import LedgerEntry

    rng = random.Random(seed)  # noqa: S311 (bench data, not security)
    crews = _synthetic_actors(rng)
    cases = -(-entries // per_case)
    start = timezone.now() - timedelta(days=800)
    case_start = [start + timedelta(seconds=rng.randrange(0, 400 * 86400)) for _ in range(cases)]
    names = [[fictitious_name(rng)[0] for _ in range(1 + (c % 3 == 0))] for c in range(cases)]
    prev = [GENESIS] * cases
    started = time.perf_counter()

    def rows() -> Iterator[tuple[Any, ...]]:
        made = 0
        for seq in range(1, per_case + 1):
            action = _LEDGER_SCRIPT[(seq - 1) % len(_LEDGER_SCRIPT)]
            for c in range(cases):
                if made >= entries:
                    return
                case_id = c + 1
                crew = crews[c % len(crews)]
                actor = _actor_for(action, crew)
                at = case_start[c] + timedelta(days=seq * 3, microseconds=(case_id * 7919 + seq) % 999_983)
                payload = canonical_payload(_synthetic_payload(action, case_id, seq, crew, names[c]))
                fields = (
                    case_id,
                    seq,
                    at,
                    actor.user_id,
                    actor.name,
                    actor.duty,
                    actor.unit_id,
                    actor.unit_name,
                    action,
                    payload,
                    prev[c],
                )
                digest = entry_hash(
                    case_id=case_id,
                    seq=seq,
                    recorded_at=timestamp_text(at),
                    actor_id=actor.user_id,
                    actor_name=actor.name,
                    actor_duty=actor.duty,
                    unit_id=actor.unit_id,
                    unit_name=actor.unit_name,
                    action=action,
                    payload=payload,
                    prev_hash=prev[c],
                )
                prev[c] = digest
                made += 1
                if made % 200_000 == 0:
                    write(f"  {made:,} entries generated ({time.perf_counter() - started:.0f} s)")
                yield (*fields, digest)

    with transaction.atomic():
        written = copy_rows(LedgerEntry, _LEDGER_FIELDS, rows())
    return {"entries": written, "cases": cases, "per_case": per_case}


# ------------------------------------------------------------------ 100k cases from templates


class _Table:
    """One table to clone into: its COPY fields, where the id, case and times sit in a row, and the
    rows waiting to be written."""

    def __init__(self, model: type[models.Model], moved: tuple[str, ...]) -> None:
        self.model = model
        self.fields = [f.attname for f in _columns(model)]
        self.pos = {name: i for i, name in enumerate(self.fields)}
        self.moved = [self.pos[name] for name in moved]
        self.id = self.pos["id"]
        self.case = self.pos.get("case_id", -1)
        self.pending: list[list[Any]] = []
        top = model._default_manager.aggregate(m=models.Max("id"))["m"]
        self.last_id = int(top or 0)

    def load(self) -> list[list[Any]]:
        return [list(r) for r in self.model._default_manager.order_by("id").values_list(*self.fields)]

    def clone(self, base: list[Any], case_id: int | None, delta: timedelta) -> list[Any]:
        row = base.copy()
        self.last_id += 1
        row[self.id] = self.last_id
        if self.case >= 0:
            row[self.case] = case_id
        for i in self.moved:
            if row[i] is not None:
                row[i] = row[i] - delta
        self.pending.append(row)
        return row


@dataclass
class _Entry:
    """A template ledger entry, its payload as canonical text with placeholders where a clone's own
    ids and numbers go (the canonical form does not depend on those values, only on the keys)."""

    row: dict[str, Any]
    text: str
    subs: list[tuple[str, str, Any]]


def _entry_template(row: dict[str, Any], case_number: str) -> _Entry:
    data = json.loads(row["payload"])
    subs: list[tuple[str, str, Any]] = []

    def hole(kind: str, old: Any) -> str:
        mark = f"§{len(subs)}§"
        subs.append((json.dumps(mark, ensure_ascii=False), kind, old))
        return mark

    for key, kind in (("transfer_id", "transfer"), ("request_id", "request")):
        if isinstance(data.get(key), int):
            data[key] = hole(kind, data[key])
    if isinstance(data.get("party_ids"), list):
        data["party_ids"] = [hole("party", p) if isinstance(p, int) else p for p in data["party_ids"]]
    if data.get("number") == case_number:
        data["number"] = hole("case_number", case_number)
    instrument = data.get("instrument")
    if isinstance(instrument, dict) and isinstance(instrument.get("id"), int):
        instrument["id"] = hole("instrument", instrument["id"])
    text = canonical_payload(data)
    if not subs and text != row["payload"]:
        text = row["payload"]  # never re-encode differently what needs no change
    return _Entry(row=row, text=text, subs=subs)


@dataclass
class _Template:
    case: list[Any]
    rows: dict[str, list[list[Any]]] = field(default_factory=lambda: defaultdict(list))
    entries: list[_Entry] = field(default_factory=list)


class _Numbers:
    """案件编号 and 文号 for clones, from the same (unit, kind, year) counters the services use."""

    def __init__(self) -> None:
        from xietong.cases.models import InstrumentCounter
        from xietong.orgs.models import Unit

        self.last: dict[tuple[int, str, int], int] = {
            (c.unit_id, c.kind, c.year): c.last for c in InstrumentCounter.objects.all()
        }
        self.unit_digits = {
            u.pk: "".join(ch for ch in u.code if ch.isdigit()).ljust(9, "0")[:12] for u in Unit.objects.all()
        }

    def bump(self, unit_id: int, kind: str, year: int) -> int:
        key = (unit_id, kind, year)
        self.last[key] = seq = self.last.get(key, 0) + 1
        return seq

    def case_number(self, police_unit_id: int, created_at: datetime) -> str:
        # as services._case_number: A + the filing unit's code digits + year and month + sequence
        local = timezone.localtime(created_at)
        seq = self.bump(police_unit_id, "案件编号", local.year)
        return f"A{self.unit_digits[police_unit_id]}{local:%Y%m}{seq:05d}"

    def save(self) -> None:
        from xietong.cases.models import InstrumentCounter

        existing = {(c.unit_id, c.kind, c.year): c for c in InstrumentCounter.objects.all()}
        changed, new = [], []
        for (unit_id, kind, year), last in self.last.items():
            row = existing.get((unit_id, kind, year))
            if row is None:
                new.append(InstrumentCounter(unit_id=unit_id, kind=kind, year=year, last=last))
            elif row.last != last:
                row.last = last
                changed.append(row)
        InstrumentCounter.objects.bulk_create(new, batch_size=2000)
        InstrumentCounter.objects.bulk_update(changed, ["last"], batch_size=2000)


class _Deadlines:
    """Clock due dates for moved starts, computed by ``cases.deadlines`` (memoised: clones of one
    template clock share its time of day, so starts recur)."""

    def __init__(self) -> None:
        from xietong.cases import clocks

        self.calendar = clocks.holiday_calendar()
        self.memo: dict[tuple[str, datetime, bool], tuple[date, datetime]] = {}

    def due(self, rule: str, start: datetime, in_custody: bool) -> tuple[date, datetime]:
        from xietong.cases import deadlines

        key = (rule, start, in_custody)
        hit = self.memo.get(key)
        if hit is None:
            result = deadlines.compute_deadline(rule, start, in_custody=in_custody, calendar=self.calendar)
            hit = self.memo[key] = (result.due, result.due_at)
        return hit


class _Cloner:
    """Copies template cases (rows the services wrote) with new ids, moved times, new numbers,
    recomputed due dates and recomputed hash chains."""

    def __init__(self, seed: int, spread_days: int) -> None:
        from xietong.cases.models import (
            ActionRequest,
            Case,
            Clock,
            Participation,
            Party,
            Transfer,
        )
        from xietong.instruments.models import Instrument

        self.rng = random.Random(seed)  # noqa: S311 (bench data, not security)
        self.spread_days = spread_days
        self.t = {
            "case": _Table(Case, ("occurred_at", "created_at", "updated_at")),
            "party": _Table(Party, ("custody_since",)),
            "participation": _Table(Participation, ("since",)),
            "transfer": _Table(Transfer, ("sent_at", "decided_at")),
            "instrument": _Table(
                Instrument,
                ("issued_at", "claimed_date", "submitted_at", "approved_at", "sealed_at", "revoked_at"),
            ),
            "clock": _Table(Clock, ("started_at", "stopped_at")),
            "request": _Table(ActionRequest, ("requested_at", "decided_at")),
        }
        self.numbers = _Numbers()
        self.deadlines = _Deadlines()
        self.entries: list[tuple[datetime, tuple[Any, ...]]] = []
        self.templates, self.orphans = self._load()

    def _load(self) -> tuple[list[_Template], list[list[Any]]]:
        from xietong.ledger.models import LedgerEntry

        case_t = self.t["case"]
        templates = {row[case_t.id]: _Template(case=row) for row in case_t.load()}
        orphans = []
        for name in ("party", "participation", "transfer", "instrument", "clock", "request"):
            table = self.t[name]
            for row in table.load():
                if row[table.case] is None:
                    orphans.append(row)  # a 立案 request still waiting: no case yet
                else:
                    templates[row[table.case]].rows[name].append(row)
        number_at = case_t.pos["number"]
        names = [f.attname for f in _columns(LedgerEntry)]
        for values in LedgerEntry.objects.order_by("case_id", "seq").values_list(*names):
            entry = dict(zip(names, values, strict=True))
            template = templates[entry["case_id"]]
            template.entries.append(_entry_template(entry, template.case[number_at]))
        return list(templates.values()), orphans

    def clone(self, t: _Template) -> None:
        delta = timedelta(days=self.rng.randint(0, self.spread_days))
        tc, tp, tt, ti, tk, tr = (
            self.t[n] for n in ("case", "party", "transfer", "instrument", "clock", "request")
        )
        case = tc.clone(t.case, None, delta)
        case_id = case[tc.id]
        old_number = t.case[tc.pos["number"]]
        case[tc.pos["number"]] = self.numbers.case_number(
            case[tc.pos["police_unit_id"]], case[tc.pos["created_at"]]
        )
        maps: dict[str, dict[Any, Any]] = {
            "party": {},
            "transfer": {},
            "request": {},
            "instrument": {},
            "case_number": {old_number: case[tc.pos["number"]]},
        }
        for base in t.rows["party"]:
            maps["party"][base[tp.id]] = tp.clone(base, case_id, delta)[tp.id]
        for base in t.rows["participation"]:
            self.t["participation"].clone(base, case_id, delta)
        party_ids_at = tt.pos["party_ids"]
        for base in t.rows["transfer"]:
            row = tt.clone(base, case_id, delta)
            maps["transfer"][base[tt.id]] = row[tt.id]
            row[party_ids_at] = [maps["party"].get(p, p) for p in base[party_ids_at] or []]
        # A clone's instruments are drafts: a 文号, a sealed PDF and its verification token belong
        # to one instrument only (the clones' ledger entries keep the template's text).
        unsealed = {
            n: ti.pos[n] for n in ("number", "number_year", "number_seq", "public_token", "pdf_id", "seal_id")
        }
        for base in t.rows["instrument"]:
            row = ti.clone(base, case_id, delta)
            for at in unsealed.values():
                row[at] = None
            row[ti.pos["status"]] = "draft"
            row[ti.pos["supersedes_id"]] = None
            maps["instrument"][base[ti.id]] = row[ti.id]
        party_at, rule_at, start_at, custody_at = (
            tk.pos[n] for n in ("party_id", "rule", "started_at", "in_custody")
        )
        due_at, due_at_at = tk.pos["due"], tk.pos["due_at"]
        for base in t.rows["clock"]:
            row = tk.clone(base, case_id, delta)
            if row[party_at] is not None:
                row[party_at] = maps["party"].get(row[party_at], row[party_at])
            row[due_at], row[due_at_at] = self.deadlines.due(row[rule_at], row[start_at], row[custody_at])
        for base in t.rows["request"]:
            row = tr.clone(base, case_id, delta)
            maps["request"][base[tr.id]] = row[tr.id]
            row[tr.pos["payload"]] = self._request_payload(base[tr.pos["payload"]], delta, maps["party"])
        prev = GENESIS
        for entry in t.entries:
            text = entry.text
            for mark, kind, old in entry.subs:
                new = maps[kind].get(old, old)
                text = text.replace(
                    mark, json.dumps(new, ensure_ascii=False) if isinstance(new, str) else str(new)
                )
            er = entry.row
            at = er["recorded_at"] - delta
            digest = entry_hash(
                case_id=case_id,
                seq=er["seq"],
                recorded_at=timestamp_text(at),
                actor_id=er["actor_id"],
                actor_name=er["actor_name"],
                actor_duty=er["actor_duty"],
                unit_id=er["unit_id"],
                unit_name=er["unit_name"],
                action=er["action"],
                payload=text,
                prev_hash=prev,
            )
            self.entries.append(
                (
                    at,
                    (
                        case_id,
                        er["seq"],
                        at,
                        er["actor_id"],
                        er["actor_name"],
                        er["actor_duty"],
                        er["unit_id"],
                        er["unit_name"],
                        er["action"],
                        text,
                        prev,
                        digest,
                    ),
                )
            )
            prev = digest
        # the clone's chain head, kept on its case row as ``ledger_append`` keeps it
        case[tc.pos["ledger_seq"]] = t.entries[-1].row["seq"] if t.entries else 0
        case[tc.pos["ledger_head"]] = prev

    @staticmethod
    def _request_payload(payload: Any, delta: timedelta, parties: dict[int, int]) -> Any:
        if not isinstance(payload, dict):
            return payload
        payload = json.loads(json.dumps(payload))
        if isinstance(payload.get("party_ids"), list):
            payload["party_ids"] = [parties.get(p, p) for p in payload["party_ids"]]
        register = payload.get("register")
        if isinstance(register, dict) and register.get("occurred_at"):
            register["occurred_at"] = (datetime.fromisoformat(register["occurred_at"]) - delta).isoformat()
        return payload

    def orphan(self, base: list[Any]) -> None:
        table = self.t["request"]
        delta = timedelta(days=self.rng.randint(0, self.spread_days))
        row = table.clone(base, None, delta)
        row[table.pos["payload"]] = self._request_payload(base[table.pos["payload"]], delta, {})

    def flush(self) -> dict[str, int]:
        from xietong.ledger.models import LedgerEntry

        written: dict[str, int] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            # bench data is consistent by construction: skip the per-row foreign-key triggers if
            # allowed (superuser); check_references() confirms afterwards
            with contextlib.suppress(DatabaseError), transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
            for table in self.t.values():
                if table.pending:
                    written[table.model.__name__] = copy_rows(table.model, table.fields, table.pending)
                    table.pending = []
            # ledger ids follow time, as appends do, so a case's entries lie apart in the table
            self.entries.sort(key=lambda r: r[0])
            written["LedgerEntry"] = copy_rows(LedgerEntry, _LEDGER_FIELDS, (r for _, r in self.entries))
            self.entries.clear()
        return written

    def finish(self) -> None:
        self.numbers.save()
        reset_sequences(*(table.model for table in self.t.values()))


def check_references() -> dict[str, int]:
    """Rows whose foreign key points nowhere (must all be 0 after a bulk load without FK triggers)."""
    from xietong.cases.models import ActionRequest, Case, Clock, Participation, Party, Transfer
    from xietong.instruments.models import Instrument
    from xietong.ledger.selectors import stale_chain_heads

    def orphans(model: Any, field: str, target: Any) -> Any:
        # NOT EXISTS, not NOT IN: at a million cases the hashed NOT IN subplan no longer fits work_mem
        # and PostgreSQL compares every row with every id (measured: cancelled after 8 minutes).
        qs = model.objects.filter(**{f"{field}__isnull": False})
        return qs.filter(~Exists(target.objects.filter(pk=OuterRef(field))))

    checks = {
        "party.case": orphans(Party, "case_id", Case),
        "participation.case": orphans(Participation, "case_id", Case),
        "transfer.case": orphans(Transfer, "case_id", Case),
        "instrument.case": orphans(Instrument, "case_id", Case),
        "clock.case": orphans(Clock, "case_id", Case),
        "clock.party": orphans(Clock, "party_id", Party),
        "request.case": orphans(ActionRequest, "case_id", Case),
    }
    counts = {name: qs.count() for name, qs in checks.items()}
    counts["case.ledger_head"] = stale_chain_heads()  # a head that is not the chain's last entry
    return counts


def clone_cases(*, total: int, seed: int, spread_days: int, chunk: int, write: Write) -> dict[str, int]:
    """Copy the cases in the database (made through the door) until there are ``total`` cases."""
    cloner = _Cloner(seed, spread_days)
    if not cloner.templates:
        raise RuntimeError("no template cases to clone")
    counts: dict[str, int] = defaultdict(int)
    have = len(cloner.templates)
    started = time.perf_counter()
    pending = 0
    while have < total:
        for t in cloner.templates:
            if have >= total:
                break
            cloner.clone(t)
            have += 1
            pending += 1
            if pending >= chunk:
                for name, n in cloner.flush().items():
                    counts[name] += n
                pending = 0
                if have % (chunk * 4) == 0 or have == total:
                    write(f"  {have:,}/{total:,} cases ({time.perf_counter() - started:.0f} s)")
        for row in cloner.orphans:  # 立案 requests still waiting, as many per round as the templates have
            cloner.orphan(row)
    for name, n in cloner.flush().items():
        counts[name] += n
    cloner.finish()
    return dict(counts)


__all__ = [
    "analyze",
    "clone_cases",
    "copy_ledger_entries",
    "copy_rows",
    "cpu_busy_snapshot",
    "machine",
    "percentile",
    "postgres_unavailable",
    "run_in_throwaway_database",
    "server_url",
]
