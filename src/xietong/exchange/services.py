"""Writes of the exchange: a batch of checked packages becomes cases, in one transaction.

This is the one path besides ``cases.services`` that creates cases, for the same reason as
``demo.history``: the door makes a handful of cases a second and replays acts that happened in
another system; a migration brings thousands of concluded or ongoing cases whose history already
happened. It keeps the ledger's guarantees: the ledger only grows (INSERTs), each imported case gets
its own chain whose hashes are computed here over this database's ids (``ledger verify`` passes), the
sender's chain is verified first and its hashes are kept on ``CaseOrigin`` and anchored by a final
``case_import`` entry that names the sender's head.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from xietong import servertime
from xietong.cases.models import Case, Clock, InstrumentCounter, Participation, Party
from xietong.exchange import materialise
from xietong.exchange.models import CaseOrigin, ImportRun
from xietong.exchange.package import Problem, parse_date, parse_timestamp, problem
from xietong.ledger.chain import GENESIS, canonical_payload, entry_hash, timestamp_text
from xietong.ledger.models import LedgerEntry

MAX_PROBLEMS = 10_000  # rejected packages kept on a run for the report; the counts are complete
IMPORT_ACTION = "case_import"
IMPORT_ACTOR = ("协同平台", "数据迁移")
_ENTRY_COLUMNS = (
    "case_id", "seq", "recorded_at", "actor_id", "actor_name", "actor_duty", "unit_id", "unit_name",
    "action", "payload", "prev_hash", "entry_hash",
)  # fmt: skip
_MAX_PARAMS = 30_000  # per statement (SQLite allows 32,766; PostgreSQL 65,535)
_NUMBER = re.compile(r"^A(\d+)(\d{4})(\d{2})(\d{5})$")


@dataclass(frozen=True)
class Refs:
    """This database's ids by code: units (单位代码 → id), towns (区划代码 → (id, county id))."""

    units: Mapping[str, int]
    towns: Mapping[str, tuple[int, int]]


@dataclass
class BatchOutcome:
    imported: int = 0
    skipped: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # imported, but with a problem


@dataclass
class Context:
    """What one batch's write needs besides the packages: the run, the ``--files`` directory, the
    blobs found for each package (by line) and the import user (looked up only when needed)."""

    run: ImportRun | None
    files_dir: Path | None = None
    plans: dict[int, Any] = field(default_factory=dict)
    user_id: int | None = None


def _allocate_ids(model: type[Any], count: int) -> list[int]:
    """``count`` fresh primary keys of ``model``'s table, taken inside the caller's transaction:
    on PostgreSQL from its sequence (safe beside concurrent writers), on SQLite past the largest id
    (the IMMEDIATE transaction already holds the database's only write lock)."""
    if count == 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [int(row[0]) for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(column)}), 0) FROM {table}")  # noqa: S608 (names from the model)
        row = cursor.fetchone()
        largest = int(row[0] if row else 0)
        # AUTOINCREMENT never hands out an id again, even of a deleted row: neither do we (a
        # deleted case's ledger chain stays under its id).
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(largest, int(row[0]) if row else 0) + 1
        return list(range(start, start + count))


def _existing(numbers: list[str]) -> dict[str, tuple[int, str | None, int | None]]:
    """Case number → (case id, source system, source case id) for the numbers already here."""
    rows = list(Case.objects.filter(number__in=numbers).values_list("number", "pk"))
    origins = {
        case_id: (system, source_id)
        for case_id, system, source_id in CaseOrigin.objects.filter(
            case_id__in=[pk for _, pk in rows]
        ).values_list("case_id", "source_system", "source_case_id")
    }
    return {number: (pk, *origins.get(pk, (None, None))) for number, pk in rows}


def _head(package: Mapping[str, Any]) -> str:
    events = package["events"]
    return str(events[-1]["entry_hash"]) if events else GENESIS


def _native_heads(
    existing: Mapping[str, tuple[int, str | None, int | None]], items: Sequence[tuple[int, dict[str, Any]]]
) -> dict[str, int]:
    """For packages whose number is a case of this platform that was not imported (a package this
    platform exported, coming back): entry hash → case id of the packages' last entries that are in
    this ledger. Such a package is the same case, to skip, even if the case moved on since."""
    heads = [
        _head(p)
        for _, p in items
        if (here := existing.get(p["case"]["number"])) is not None and here[1] is None
    ]
    if not heads:
        return {}
    return dict(LedgerEntry.objects.filter(entry_hash__in=heads).values_list("entry_hash", "case_id"))


def cases_import_batch(
    *,
    run: ImportRun | None,
    items: Sequence[tuple[int, dict[str, Any]]],
    refs: Refs,
    lines_read: int,
    rejected: Sequence[dict[str, Any]] = (),
    dry_run: bool = False,
    files_dir: Path | None = None,
) -> BatchOutcome:
    """Write the checked packages ``items`` (line number, package) as cases, all or nothing, and
    move ``run`` forward by ``lines_read`` lines in the same transaction. A package whose case
    number is already here from the same source (or repeated in the batch) is skipped; one whose
    number belongs to another case is rejected (``number_conflict``). ``rejected``: the problems
    found before this step, recorded on the run with the batch. ``dry_run`` writes the batch and
    rolls it back, so the database checks it too. The files the packages name are taken from
    ``files_dir`` (or this platform's store) and checked first: a package with a file whose bytes
    do not match its hash is rejected (``file_hash_mismatch``); see ``materialise``."""
    outcome = BatchOutcome(rejected=list(rejected))
    with transaction.atomic():
        existing = _existing([p["case"]["number"] for _, p in items])
        fresh: list[tuple[int, dict[str, Any]]] = []
        seen: dict[str, tuple[str, int]] = {}
        native = _native_heads(existing, items)
        for line, package in items:
            number = package["case"]["number"]
            source = (package["source"]["system"], int(package["source"]["case_id"]))
            here = existing.get(number)
            if here is not None:
                same = here[1:] == source or native.get(_head(package)) == here[0]
            elif number in seen:
                same = seen[number] == source
            else:
                seen[number] = source
                fresh.append((line, package))
                continue
            if same:
                outcome.skipped += 1
            else:
                outcome.rejected.append(_rejection(line, number, [problem("number_conflict", number)]))
        context = Context(run=run, files_dir=files_dir)
        if any(materialise.has_attachments(p) for _, p in fresh):
            context.plans, refused = materialise.prepare(fresh, files_dir)
            if refused:
                gone = {line for line, _ in refused}
                numbers = {line: p["case"]["number"] for line, p in fresh}
                outcome.rejected.extend(_rejection(line, numbers[line], found) for line, found in refused)
                fresh = [(line, p) for line, p in fresh if line not in gone]
            # Here, not in ``_write``: a savepoint that fails must not roll back the user it uses.
            context.user_id = materialise.import_user_id()
        outcome.imported, failed, notes = _write_safely(fresh, refs, context)
        outcome.rejected.extend(failed)
        outcome.notes.extend(notes)
        if dry_run:  # everything was written, to be checked by the database too: undo it
            transaction.set_rollback(True)
        if run is not None and not dry_run:
            run.position += lines_read
            run.imported += outcome.imported
            run.skipped += outcome.skipped
            run.rejected += len(outcome.rejected)
            room = MAX_PROBLEMS - len(run.problems)
            if room > 0 and outcome.rejected:
                run.problems = [*run.problems, *outcome.rejected[:room]]
            if outcome.notes and len(run.notes) < MAX_PROBLEMS:
                run.notes = [*run.notes, *outcome.notes[: MAX_PROBLEMS - len(run.notes)]]
            run.save(update_fields=["position", "imported", "skipped", "rejected", "problems", "notes"])
    return outcome


def _write_safely(
    items: list[tuple[int, dict[str, Any]]], refs: Refs, context: Context
) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """Write ``items`` in a savepoint; if the database or a value refuses them (a date such as
    2021-02-30 that the schema's pattern lets through, a constraint), write them one by one so
    that only the offending packages are refused. Returns the number written, the refusals and the
    notes on packages written (missing files, 文号 taken)."""
    try:
        with transaction.atomic():
            notes = _write(items, refs, context) or []  # (a test wraps ``_write``)
        return len(items), [], notes
    except (DatabaseError, ValueError, KeyError, TypeError) as error:
        if len(items) == 1:
            line, package = items[0]
            code = "write_failed" if isinstance(error, DatabaseError) else "value_invalid"
            detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            return 0, [_rejection(line, package["case"]["number"], [problem(code, detail)])], []
    written, refused, noted = 0, [], []
    for item in items:
        ok, bad, notes = _write_safely([item], refs, context)
        written += ok
        refused.extend(bad)
        noted.extend(notes)
    return written, refused, noted


def _rejection(line: int, number: str | None, problems: list[Problem]) -> dict[str, Any]:
    return {"line": line, "number": number, "problems": [p.as_json() for p in problems]}


def _write(items: list[tuple[int, dict[str, Any]]], refs: Refs, context: Context) -> list[dict[str, Any]]:
    if not items:
        return []
    run = context.run
    attached = materialise.Rows()
    now = servertime.now()
    now_text = timestamp_text(now)
    case_ids = _allocate_ids(Case, len(items))
    party_ids = iter(_allocate_ids(Party, sum(len(p["parties"]) for _, p in items)))
    units = refs.units
    cases: list[dict[str, Any]] = []
    parties: list[dict[str, Any]] = []
    participations: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    clocks: list[dict[str, Any]] = []
    origins: list[dict[str, Any]] = []
    counters: dict[tuple[int, int], int] = {}
    for case_id, (line, package) in zip(case_ids, items, strict=True):
        data = package["case"]
        source = package["source"]
        events = package["events"]
        prev = GENESIS
        for event in events:
            unit_code = event["unit"]["code"]
            fields: dict[str, Any] = {
                "case_id": case_id,
                "seq": event["seq"],
                "actor_id": None,  # the sender's user ids mean nothing here; names and duties stay
                "actor_name": event["actor"]["name"],
                "actor_duty": event["actor"]["duty"],
                "unit_id": units[unit_code] if unit_code else None,
                "unit_name": event["unit"]["name"],
                "action": event["action"],
                "payload": event["payload"],
                "prev_hash": prev,
            }
            prev = entry_hash(**fields, recorded_at=event["recorded_at"])
            fields["recorded_at"] = parse_timestamp(event["recorded_at"])
            fields["entry_hash"] = prev
            entries.append(tuple(fields[c] for c in _ENTRY_COLUMNS))
        source_head = events[-1]["entry_hash"] if events else GENESIS
        anchor: dict[str, Any] = {
            "case_id": case_id,
            "seq": len(events) + 1,
            "actor_id": None,
            "actor_name": IMPORT_ACTOR[0],
            "actor_duty": IMPORT_ACTOR[1],
            "unit_id": None,
            "unit_name": "",
            "action": IMPORT_ACTION,
            "payload": canonical_payload(
                {
                    "label": "案件导入",
                    "source_system": source["system"],
                    "source_case_id": source["case_id"],
                    "source_number": data["number"],
                    "source_seq": len(events),
                    "source_head": source_head,
                    "file": run.file_name if run else "",
                    "file_sha256": run.file_sha256 if run else "",
                    "line": line,
                }
            ),
            "prev_hash": prev,
        }
        head = entry_hash(**anchor, recorded_at=now_text)
        anchor.update(recorded_at=now, entry_hash=head)
        entries.append(tuple(anchor[c] for c in _ENTRY_COLUMNS))
        town_id, county_id = refs.towns[data["town"]]
        police_id = units[data["police_unit"]]
        cases.append(
            dict(
                id=case_id,
                number=data["number"],
                title=data["title"],
                charge=data["charge"],
                facts=data["facts"],
                occurred_at=parse_timestamp(data["occurred_at"]),
                place=data.get("place", ""),
                town_id=town_id,
                county_id=county_id,
                stage=data["stage"],
                holder_unit_id=units[data["holder_unit"]],
                handler_id=None,
                police_unit_id=police_id,
                procuratorate_unit_id=_unit(units, data.get("procuratorate_unit")),
                court_unit_id=_unit(units, data.get("court_unit")),
                execution_unit_id=_unit(units, data.get("execution_unit")),
                plea=data.get("plea", False),
                fast_track=data.get("fast_track", False),
                trial_procedure=data.get("trial_procedure", ""),
                supplementary_count=data.get("supplementary_count", 0),
                remand_count=data.get("remand_count", 0),
                verdict=data.get("verdict"),
                version=data.get("version", 1) + 1,
                created_at=_at(data.get("created_at"), now) or now,
                updated_at=_at(data.get("updated_at"), now) or now,
                ledger_seq=len(events) + 1,
                ledger_head=head,
            )
        )
        _count_number(counters, data["number"], police_id)
        ordinals: dict[int, int] = {}
        for p in package["parties"]:
            pk = next(party_ids)
            ordinals[p["ordinal"]] = pk
            parties.append(
                dict(
                    id=pk,
                    case_id=case_id,
                    ordinal=p["ordinal"],
                    name=p["name"],
                    gender=p["gender"],
                    id_number=p.get("id_number", ""),
                    birth_date=parse_date(p.get("birth_date")),
                    address=p.get("address", ""),
                    custody=p.get("custody") or "none",
                    custody_since=_at(p.get("custody_since"), None),
                )
            )
        participations.extend(
            (case_id, units[x["unit"]], parse_timestamp(x["since"]))
            for x in {x["unit"]: x for x in package["participations"]}.values()
        )
        for c in package.get("clocks", ()):
            clocks.append(
                dict(
                    case_id=case_id,
                    party_id=ordinals[c["party"]] if c.get("party") is not None else None,
                    rule=c["rule"],
                    unit_id=units[c["unit"]],
                    started_at=parse_timestamp(c["started_at"]),
                    in_custody=c["in_custody"],
                    due=date.fromisoformat(c["due"]),
                    due_at=parse_timestamp(c["due_at"]),
                    status=c["status"],
                    stopped_at=_at(c.get("stopped_at"), None),
                    stopped_by=c.get("stopped_by", ""),
                )
            )
        if context.user_id is not None and materialise.has_attachments(package):
            attached.notes.extend((line, p) for p in getattr(context.plans.get(line), "notes", ()))
            materialise.add_case(
                attached,
                case_id=case_id,
                line=line,
                package=package,
                plan=context.plans.get(line),
                units=units,
                user_id=context.user_id,
            )
        origins.append(
            dict(
                case_id=case_id,
                source_system=source["system"],
                source_case_id=source["case_id"],
                source_number=data["number"],
                source_seq=len(events),
                source_head=source_head,
                source_chain=[[e["actor"]["id"], e["unit"]["id"], e["entry_hash"]] for e in events],
                attachments={k: package[k] for k in ("instruments", "files") if package.get(k)},
                run_id=run.pk if run else None,
                line=line,
                imported_at=now,
            )
        )
    _insert_dicts(Case, cases)
    _insert_dicts(Party, parties)
    _insert_rows(Participation, ("case_id", "unit_id", "since"), participations)
    _insert_rows(LedgerEntry, _ENTRY_COLUMNS, entries)
    _insert_dicts(Clock, clocks)
    _insert_dicts(CaseOrigin, origins)
    _raise_counters(counters)
    if context.user_id is None:
        return []
    from xietong.dossier.tasks import volume_process_task
    from xietong.jobs import enqueue_on_commit

    for volume_id in materialise.insert(attached, _insert_dicts, _allocate_ids):
        enqueue_on_commit(volume_process_task, volume_id)  # OCR and search text, as after an upload
    numbers = {line: p["case"]["number"] for line, p in items}
    by_line: dict[int, list[Problem]] = {}
    for line, found in attached.notes:
        by_line.setdefault(line, []).append(found)
    return [_rejection(line, numbers[line], found) for line, found in sorted(by_line.items())]


def _insert_dicts(model: type[Any], rows: list[dict[str, Any]]) -> None:
    """``_insert_rows`` for rows given as dicts with the same keys (attribute names)."""
    if rows:
        _insert_rows(model, tuple(rows[0]), [tuple(r.values()) for r in rows])


def _insert_rows(model: type[Any], attnames: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Multi-row ``INSERT``s of plain tuples, for every table the import writes: building model
    instances and preparing them through the ORM cost more than the database's own work. Values
    must be what the ORM would store: ints, strings, booleans, dates, aware datetimes, and Python
    objects for JSON fields (encoded here)."""
    if not rows:
        return
    opts = model._meta
    qn = connection.ops.quote_name
    fields = [opts.get_field(a) for a in attnames]
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    if json_at:
        rows = [
            tuple(
                (None if v is None else json.dumps(v, ensure_ascii=False)) if i in json_at else v
                for i, v in enumerate(row)
            )
            for row in rows
        ]
    columns = ", ".join(qn(f.column) for f in fields)
    table = qn(opts.db_table)
    if connection.vendor == "postgresql":
        # Django's psycopg cursors bind values on the client: every value quoted in Python and a
        # statement of thousands of placeholders parsed on each call. Here a cursor that binds on
        # the server, on the same connection (so in the same transaction), sends one array per
        # column and the server unnests them: one short statement per chunk.
        import psycopg

        types = ["text" if i in json_at else f.db_type(connection) for i, f in enumerate(fields)]
        arrays = ", ".join(f"%b::{t}[]" for t in types)  # binary: no text escaping
        aliases = [f"x{i}" for i in range(len(fields))]
        select = ", ".join(f"{a}::jsonb" if i in json_at else a for i, a in enumerate(aliases))
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT {select} "  # noqa: S608 (names from the model)
            f"FROM unnest({arrays}) AS t({', '.join(aliases)})"
        )
        with psycopg.Cursor(connection.connection) as raw:
            for start in range(0, len(rows), 5000):
                raw.execute(sql, [list(column) for column in zip(*rows[start : start + 5000], strict=True)])
        return
    ops = connection.ops
    rows = [
        tuple(
            ops.adapt_datetimefield_value(v)
            if isinstance(v, datetime)
            else ops.adapt_datefield_value(v)
            if isinstance(v, date)
            else v
            for v in row
        )
        for row in rows
    ]
    per = max(1, _MAX_PARAMS // len(attnames))
    row_sql = f"({', '.join(['%s'] * len(attnames))})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))}"  # noqa: S608 (names from the model)
            cursor.execute(sql, [v for row in chunk for v in row])


def _unit(units: Mapping[str, int], code: str | None) -> int | None:
    return units[code] if code else None


def _at(text: str | None, default: datetime | None) -> datetime | None:
    return parse_timestamp(text) if text else default


def _count_number(counters: dict[tuple[int, int], int], number: str, police_id: int) -> None:
    """Note the sequence of a number in this platform's own style (A + unit digits + year, month
    + five digits), so that the filing unit's counter moves past it and no case filed later here
    is given a number an imported case already has."""
    match = _NUMBER.match(number)
    if match:
        key = (police_id, int(match.group(2)))
        counters[key] = max(counters.get(key, 0), int(match.group(4)))


def _raise_counters(counters: dict[tuple[int, int], int]) -> None:
    for (unit_id, year), last in counters.items():
        counter, created = InstrumentCounter.objects.get_or_create(
            unit_id=unit_id, kind="案件编号", year=year, defaults={"last": last}
        )
        if not created and counter.last < last:
            InstrumentCounter.objects.filter(pk=counter.pk).update(last=Greatest(F("last"), last))
