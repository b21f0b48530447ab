"""Statements over many rows whose text does not grow with the rows (the worker's hot path).

A statement with one placeholder per value (`IN (%s, %s, …)`, `VALUES (…), (…)`) is parsed
again for every batch: psycopg splits the query text in Python for each execution (a long
query is not cached), and Django's SQLite backend rewrites every placeholder. At 500 tasks
a turn that cost more than running the statements (docs/worker.md, "Claim"). Here the rows
travel as one parameter: a JSON array of row arrays, read by `json_array_elements`
(PostgreSQL) or `json_each` (SQLite ≥ 3.38, which ships with Python 3.11+), and lists of ids
as one array (PostgreSQL) or JSON (SQLite). The statement's text then depends only on the
columns; the parameter is made by the json module's C encoder (psycopg's own list adapter
works per element in Python, and cost as much as the rest of a completion).

Values are passed as the database stores them (`get_db_prep_save` where a field prepares
them); datetimes travel as text (`stamp`). JSON carries integers, strings, booleans and null.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

# Rows per statement: bounds one statement's memory and the time a lock is held.
BATCH = 5000


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _column_type(model: type[models.Model], attname: str) -> str:
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    db_type = field.db_type(connection) or "text"
    # A serial key is a plain integer as an element of an array.
    return {"bigserial": "bigint", "serial": "integer"}.get(db_type, db_type)


def id_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """`column` is one of the integers `ids`: the condition and its one parameter."""
    if _postgres():
        return f"{column} = ANY(%s::bigint[])", [_int_array(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [_json(ids)]


def id_not_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """`column` is none of the integers `ids`."""
    if _postgres():
        return f"NOT ({column} = ANY(%s::bigint[]))", [_int_array(ids)]
    return f"{column} NOT IN (SELECT value FROM json_each(%s))", [_json(ids)]


def _int_array(ids: Sequence[int]) -> str:
    # The array's text form, made here: psycopg's list adapter works per element in Python.
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


def stamp(value: datetime) -> str:
    """An aware datetime as a batch value: text, in the form this database stores."""
    return stamper()(value)


def stamper() -> Callable[[datetime], str]:
    """`stamp` for many values: the database is asked once (each look-up of `connection`
    goes through Django's connection handler)."""
    if _postgres():
        return datetime.isoformat
    adapt = connection.ops.adapt_datetimefield_value
    return lambda value: str(adapt(value))


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be a batch value")


def _json(rows: Sequence[Any]) -> str:
    return json.dumps(rows, default=_json_value, separators=(",", ":"))


def _rows_source(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """A FROM item `r` with one column per name (c0, c1, …) holding `rows`, read from one
    JSON parameter (an array of row arrays)."""
    if _postgres():
        picks = ", ".join(
            f"(j.e ->> {i})::{_column_type(model, name)} AS c{i}" for i, name in enumerate(columns)
        )
        source = f"(SELECT {picks} FROM json_array_elements(%s::json) AS j(e)) AS r"
    else:
        picks = ", ".join(f"j.value ->> {i} AS c{i}" for i in range(len(columns)))
        source = f"(SELECT {picks} FROM json_each(%s) j) AS r"
    return source, [_json(rows)]


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    constants: dict[str, Any] | None = None,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT `rows` (values for the attnames `columns`) plus the same `constants` in every
    row; the `returning` columns of the rows written, in batches of BATCH."""
    constants = constants or {}
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = [*columns, *constants]
    target = ", ".join(quote(fields[n].column) for n in names)
    const_marks = [f"%s::{_column_type(model, n)}" if _postgres() else "%s" for n in constants]
    picked = [f"r.c{i}" for i in range(len(columns))] + const_marks
    back = f" RETURNING {', '.join(quote(c) for c in returning)}" if returning else ""
    written: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), BATCH):
            source, params = _rows_source(model, columns, rows[offset : offset + BATCH])
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({target}) "
                f"SELECT {', '.join(picked)} FROM {source}{back}",
                # The SELECT list's constants come before the FROM's rows.
                [*constants.values(), *params],
            )
            if returning:
                written += cursor.fetchall()
    return written


def update_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    constants: dict[str, Any] | None = None,
    where: str = "",
    where_params: Sequence[Any] = (),
) -> int:
    """UPDATE by primary key: each row is (pk, value for each of `columns`); `constants` set
    the same in every row; `where` adds a condition on the table (alias `t`). Returns the
    number of rows changed."""
    constants = constants or {}
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    pk = model._meta.pk.attname
    assignments = [f"{quote(fields[n].column)} = r.c{i + 1}" for i, n in enumerate(columns)]
    assignments += [f"{quote(fields[n].column)} = %s" for n in constants]
    condition = f"t.{quote(model._meta.pk.column)} = r.c0" + (f" AND {where}" if where else "")
    changed = 0
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), BATCH):
            source, params = _rows_source(model, [pk, *columns], rows[offset : offset + BATCH])
            cursor.execute(
                f"UPDATE {quote(model._meta.db_table)} AS t SET {', '.join(assignments)} "
                f"FROM {source} WHERE {condition}",
                [*constants.values(), *params, *where_params],
            )
            changed += max(cursor.rowcount, 0)
    return changed
