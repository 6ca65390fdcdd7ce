"""Hand-written SQL for fixed, hot statements, with the ORM's own value handling.

Building and compiling a query through the ORM costs about 0.3 ms of CPU per statement, three
quarters of the client's CPU in an act of ``cases.services``. The statements of an act are fixed in
shape, so here their SQL text is made once per connection from the models' metadata (table and
column names, the backend's quoting) and reused; values still go through each field's
``get_db_prep_save`` on the way in and the backend's and field's from-database converters on the way
out, so rows read and written are exactly what the ORM would read and write, on PostgreSQL and
SQLite alike. No signals are sent (the project uses none), no ``pre_save`` runs (the models written
here have no ``auto_now`` fields): callers pass complete values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


class _Plan:
    """What is needed to read and write whole rows of one model on one connection."""

    def __init__(self, model: type[Model], conn: Any) -> None:
        opts = model._meta
        qn = conn.ops.quote_name
        self.model = model
        self.conn = conn
        self.table = qn(opts.db_table)
        self.fields = list(opts.concrete_fields)
        self.by_attname = {f.attname: f for f in self.fields}
        self.column = {f.attname: qn(f.column) for f in self.fields}
        self.attnames = [f.attname for f in self.fields]
        self.pk = opts.pk.attname
        self.select_list = ", ".join(f"{self.table}.{self.column[a]}" for a in self.attnames)
        self.converters: list[tuple[int, list[Converter], Any]] = []
        for i, f in enumerate(self.fields):
            col = f.get_col(opts.db_table)
            funcs = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
            if funcs:
                self.converters.append((i, funcs, col))
        self.sql: dict[Any, str] = {}  # statement text by shape

    def build(self, row: Sequence[Any]) -> Any:
        values = list(row)
        for i, funcs, col in self.converters:
            value = values[i]
            for func in funcs:
                value = func(value, col, self.conn)
            values[i] = value
        return self.model.from_db(self.conn.alias, self.attnames, values)

    def prep(self, attname: str, value: Any) -> Any:
        return self.by_attname[attname].get_db_prep_save(value, self.conn)


def plan(model: type[Model]) -> _Plan:
    """The model's plan on the current thread's connection (made on first use)."""
    plans: dict[type[Model], _Plan] | None = getattr(connection, "_xietong_fastsql", None)
    if plans is None:
        plans = {}
        connection._xietong_fastsql = plans  # type: ignore[attr-defined]
    found = plans.get(model)
    if found is None:
        found = plans[model] = _Plan(model, connection)
    return found


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def fetch(model: type[M], tail: str, params: Sequence[Any], *, extra: str = "") -> list[tuple[M, tuple]]:
    """``SELECT <every column of model>[, extra] FROM <its table> <tail>``; each row as the model
    instance and a tuple of the ``extra`` columns. ``tail`` may name the table as ``{t}``."""
    p = plan(model)
    key = ("fetch", tail, extra)
    sql = p.sql.get(key)
    if sql is None:
        select = p.select_list + (f", {extra.format(t=p.table)}" if extra else "")
        sql = p.sql[key] = f"SELECT {select} FROM {p.table} {tail.format(t=p.table)}"  # noqa: S608 (names from the models)
    width = len(p.attnames)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(p.build(row[:width]), tuple(row[width:])) for row in cursor.fetchall()]


def fetch_models(model: type[M], tail: str, params: Sequence[Any]) -> list[M]:
    return [obj for obj, _ in fetch(model, tail, params)]


def update(obj: Model, attnames: Iterable[str]) -> int:
    """``UPDATE`` the listed columns of ``obj``'s row from the instance; returns the rows changed."""
    names = tuple(attnames)
    p = plan(type(obj))
    key = ("update", names)
    sql = p.sql.get(key)
    if sql is None:
        sets = ", ".join(f"{p.column[a]} = %s" for a in names)
        sql = p.sql[key] = f"UPDATE {p.table} SET {sets} WHERE {p.column[p.pk]} = %s"  # noqa: S608 (names from the models)
    params = [p.prep(a, getattr(obj, a)) for a in names]
    params.append(obj.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def update_where(model: type[Model], values: dict[str, Any], where: str, params: Sequence[Any]) -> int:
    """``UPDATE <table> SET <values> WHERE <where>``: ``where`` is the caller's SQL with %s
    placeholders for ``params``, naming columns by their column names."""
    p = plan(model)
    sets = ", ".join(f"{p.column[a]} = %s" for a in values)
    args = [p.prep(a, v) for a, v in values.items()]
    args.extend(params)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {p.table} SET {sets} WHERE {where}", args)  # noqa: S608 (names from the models)
        return int(cursor.rowcount)


def insert(objs: Sequence[M], *, ignore_conflicts: bool = False) -> list[M]:
    """One multi-row ``INSERT`` of unsaved instances (all of one model, every column but the
    auto primary key); sets their ``pk`` from the database unless ``ignore_conflicts``."""
    if not objs:
        return list(objs)
    p = plan(type(objs[0]))
    names = [a for a in p.attnames if a != p.pk]
    key = ("insert", len(objs), ignore_conflicts)
    sql = p.sql.get(key)
    returning = not ignore_conflicts and connection.features.can_return_rows_from_bulk_insert
    if sql is None:
        row = f"({placeholders(len(names))})"
        columns = ", ".join(p.column[a] for a in names)
        sql = f"INSERT INTO {p.table} ({columns}) VALUES {', '.join([row] * len(objs))}"  # noqa: S608 (names from the models)
        if ignore_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        elif returning:
            sql += f" RETURNING {p.column[p.pk]}"
        p.sql[key] = sql
    params = [p.prep(a, getattr(obj, a)) for obj in objs for a in names]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if ignore_conflicts:
            ids: list[Any] = [None] * len(objs)
        elif returning:
            ids = [row[0] for row in cursor.fetchall()]
        else:  # one row at a time has a lastrowid
            if len(objs) != 1:
                raise NotImplementedError("multi-row insert needs RETURNING")
            ids = [cursor.lastrowid]
    for obj, pk in zip(objs, ids, strict=True):
        if pk is not None:
            setattr(obj, p.pk, pk)
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objs)
