"""Gap-free numbering shared by 案件编号 (``cases.InstrumentCounter``) and 文号
(``instruments.NumberCounter``): per unit, kind and year, one atomic upsert (PostgreSQL and
SQLite ≥ 3.35 both have ON CONFLICT … RETURNING). The row stays locked until the caller's
transaction ends, so a rolled-back caller gives its number back and two callers never share one."""

from __future__ import annotations

from django.db import connection, models


def next_in_sequence(counter: type[models.Model], *, unit_id: int, kind: str, year: int) -> int:
    """The next number of ``counter`` (a model with unit, kind, year, last and a unique key on the
    first three), in one round trip whoever else is numbering at the same moment."""
    table = counter._meta.db_table
    sql = (
        f"INSERT INTO {table} (unit_id, kind, year, last) VALUES (%s, %s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (unit_id, kind, year) DO UPDATE SET last = {table}.last + 1 RETURNING last"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [unit_id, kind, year])
        return int(cursor.fetchone()[0])
