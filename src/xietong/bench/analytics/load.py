"""Writing the caseload of ``xietong bench analytics`` with COPY, month by month, ledger entries in the
order of their time (as a live system appends them), per-row triggers off as ``bench.bulk`` does."""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, transaction

from xietong.bench.analytics.caseload import LOCAL, load_city, month_starts, plan_counts
from xietong.bench.analytics.walk import Generator, utc_text
from xietong.bench.bulk import Write, reset_sequences

# ------------------------------------------------------------------ writing


CASE_COLUMNS = (
    "id", "number", "title", "charge", "facts", "occurred_at", "place", "town_id", "county_id", "stage",
    "holder_unit_id", "handler_id", "police_unit_id", "procuratorate_unit_id", "court_unit_id",
    "execution_unit_id", "plea", "fast_track", "trial_procedure", "supplementary_count", "remand_count",
    "verdict", "version", "created_at", "updated_at", "ledger_seq", "ledger_head",
)  # fmt: skip
PARTY_COLUMNS = (
    "id", "case_id", "ordinal", "name", "gender", "id_number", "birth_date", "address", "custody",
    "custody_since",
)  # fmt: skip
CLOCK_COLUMNS = (
    "case_id", "party_id", "rule", "unit_id", "started_at", "in_custody", "due", "due_at", "status",
    "stopped_at", "stopped_by",
)  # fmt: skip
LEDGER_COLUMNS = (
    "case_id", "seq", "recorded_at", "actor_id", "actor_name", "actor_duty", "unit_id", "unit_name", "action",
    "payload", "prev_hash", "entry_hash",
)  # fmt: skip


def copy_lines(table: str, columns: tuple[str, ...], lines: list[str]) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for start in range(0, len(lines), 5000):
            copy.write("".join(lines[start : start + 5000]))


def _flush(tables: dict[str, tuple[str, tuple[str, ...], list[str]]]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # bench rows are consistent by construction: skip the per-row FK triggers if allowed
        with contextlib.suppress(DatabaseError), transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
        for table, columns, lines in tables.values():
            if lines:
                copy_lines(table, columns, lines)
                lines.clear()


def generate(
    *,
    cases: int,
    persons: int,
    seed: int,
    now: datetime,
    write: Write,
    generator: Callable[..., Generator] = Generator,
) -> dict[str, Any]:
    """The org and ``cases`` cases over the last ``MONTHS`` months, month by month. ``generator``
    makes the cases (``bench rules`` passes a subclass that plants abnormalities)."""
    import numpy as np

    from xietong.cases.models import Case, Clock, Party
    from xietong.demo.crimes import CHARGES
    from xietong.demo.units import create_org
    from xietong.ledger.models import LedgerEntry

    started = time.perf_counter()
    create_org(seed=seed)
    city = load_city()
    months = month_starts(now)
    counts, surges = plan_counts(total=cases, towns=city.towns, months=months, now=now, seed=seed)
    gen = generator(city, seed=seed, now=now, total=cases, persons=persons)
    rng = random.Random(seed + 1)  # noqa: S311 (bench data)
    tables: dict[str, tuple[str, tuple[str, ...], list[str]]] = {
        "case": (Case._meta.db_table, CASE_COLUMNS, []),
        "party": (Party._meta.db_table, PARTY_COLUMNS, []),
        "clock": (Clock._meta.db_table, CLOCK_COLUMNS, []),
        "entries": (LedgerEntry._meta.db_table, LEDGER_COLUMNS, []),
    }
    pending: dict[str, list[tuple[str, str]]] = defaultdict(list)  # hour "YYYY-MM-DDTHH" → entries
    clocks = 0
    for i, month in enumerate(months):
        start = datetime.combine(month, datetime.min.time(), tzinfo=UTC) - LOCAL
        end = (
            datetime.combine(months[i + 1], datetime.min.time(), tzinfo=UTC) - LOCAL
            if i + 1 < len(months)
            else now
        )
        span = (end - start).total_seconds()
        towns, charges = np.nonzero(counts[i])
        todo = []
        for t, c in zip(towns.tolist(), charges.tolist(), strict=True):
            for _ in range(int(counts[i, t, c])):
                # 立案 in office hours mostly
                day = rng.uniform(0, span / 86400)
                at = start + timedelta(
                    days=math.floor(day), hours=rng.uniform(8, 21), microseconds=rng.randrange(10**6)
                )
                todo.append((min(at, end - timedelta(seconds=1)), t, c))
        todo.sort()
        for at, t, c in todo:
            y = (at - (datetime.combine(months[0], datetime.min.time(), tzinfo=UTC) - LOCAL)).days / 365.25
            rows = gen.case(town_index=t, charge=CHARGES[c], registered=at, y=y)
            tables["case"][2].extend(rows["case"])
            tables["party"][2].extend(rows["party"])
            tables["clock"][2].extend(rows["clock"])
            clocks += len(rows["clock"])
            for entry in rows["entries"]:
                pending[entry[0][:13]].append(entry)
        # entries before the next month's first possible 立案 are final: append them in time order
        bound = utc_text(end)[:13]
        ready = [e for hour in sorted(h for h in pending if h < bound) for e in pending.pop(hour)]
        ready.sort()
        tables["entries"][2].extend(line for _, line in ready)
        _flush(tables)
        if i % 12 == 11 or i == len(months) - 1:
            elapsed = time.perf_counter() - started
            write(
                f"  {month:%Y-%m}: {gen.made_cases:,} cases, {gen.made_persons:,} suspects, {gen.entries:,} "
                f"ledger entries, {clocks:,} clocks ({elapsed:.0f} s, "
                f"{gen.made_cases / elapsed:,.0f} cases/s)"
            )
    rest = sorted(e for hour in pending.values() for e in hour)
    tables["entries"][2].extend(line for _, line in rest)
    _flush(tables)
    reset_sequences(Case, Party, Clock, LedgerEntry)
    return {
        "cases": gen.made_cases,
        "suspects": gen.made_persons,
        "suspect_slots_reused": gen.reused,
        "entries": gen.entries,
        "clocks": clocks,
        "months": f"{months[0]:%Y-%m}–{months[-1]:%Y-%m}",
        "surges": [
            {"month": f"{months[m]:%Y-%m}", "town": city.towns[t][2], "charge": CHARGES[c].name}
            for m, t, c in surges
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }


def load_populations(seed: int) -> int:
    """常住人口 per town and county for every year of the data, through ``population_load``."""
    from xietong.analytics.services import population_load
    from xietong.orgs.models import Region

    rng = random.Random(seed)  # noqa: S311 (bench data)
    towns = list(Region.objects.filter(level="town").select_related("parent").order_by("code"))
    now_year = datetime.now(UTC).year
    lines = ["区划代码,年份,常住人口,来源"]
    per_county: dict[tuple[str, int], int] = defaultdict(int)
    for town in towns:
        size, growth = rng.uniform(40_000, 260_000), rng.uniform(-0.01, 0.03)
        for year in range(now_year - 11, now_year + 1):
            residents = round(size * (1 + growth) ** (year - now_year))
            lines.append(f"{town.code},{year},{residents},bench")
            per_county[(town.parent.code if town.parent else "", year)] += residents
    lines += [f"{code},{year},{n},bench" for (code, year), n in per_county.items()]
    return population_load("\n".join(lines))


# Anti-joins over the tables the load wrote (``{name}``: the models' tables); each count must be 0.
_CHECKS = {
    "party.case": "SELECT count(*) FROM {party} p "
    "WHERE NOT EXISTS (SELECT 1 FROM {case} c WHERE c.id = p.case_id)",
    "clock.case": "SELECT count(*) FROM {clock} k "
    "WHERE NOT EXISTS (SELECT 1 FROM {case} c WHERE c.id = k.case_id)",
    "clock.party": "SELECT count(*) FROM {clock} k WHERE k.party_id IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM {party} p WHERE p.id = k.party_id AND p.case_id = k.case_id)",
    "entry.case": "SELECT count(*) FROM {entry} e "
    "WHERE NOT EXISTS (SELECT 1 FROM {case} c WHERE c.id = e.case_id)",
    "case.town_of_county": "SELECT count(*) FROM {case} c JOIN {region} t ON t.id = c.town_id "
    "WHERE t.parent_id IS DISTINCT FROM c.county_id",
    "case.units": "SELECT count(*) FROM {case} c "
    "WHERE NOT EXISTS (SELECT 1 FROM {unit} u WHERE u.id = c.holder_unit_id) "
    "OR NOT EXISTS (SELECT 1 FROM {unit} u WHERE u.id = c.police_unit_id)",
}  # fmt: skip


def check_consistency() -> dict[str, int]:
    """Rows whose reference dangles after a load without FK triggers, and case rows whose chain head
    is not their last entry: all must be 0. Anti-joins (``NOT EXISTS``): ``bulk.check_references``
    asks ``NOT IN (subquery)``, which at a million cases no longer fits ``work_mem`` as a hash and
    turns into a comparison of every row against every case id."""
    from xietong.cases.models import Case, Clock, Party
    from xietong.ledger.models import LedgerEntry
    from xietong.ledger.selectors import stale_chain_heads
    from xietong.orgs.models import Region, Unit

    tables = {
        "case": Case._meta.db_table, "party": Party._meta.db_table, "clock": Clock._meta.db_table,
        "entry": LedgerEntry._meta.db_table, "region": Region._meta.db_table, "unit": Unit._meta.db_table,
    }  # fmt: skip
    counts = {}
    with connection.cursor() as cursor:
        for name, sql in _CHECKS.items():
            cursor.execute(sql.format(**tables))
            counts[name] = int(cursor.fetchone()[0])
    counts["case.ledger_head"] = stale_chain_heads()
    return counts
