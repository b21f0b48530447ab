"""PostgreSQL's bulk path for new task rows (decision 0001, issue 13 point 4).

`COPY` cannot leave a row out on a conflict, and R4's partial unique index must decide races
(ON CONFLICT DO NOTHING). So the per-tenant columns are copied into a temporary table that
has no index (COPY, the cheapest way into PostgreSQL), and one
`INSERT … SELECT … FROM that table ORDER BY position ON CONFLICT DO NOTHING` writes the tasks:
the unique index still decides every race, and there is no per-row round trip, array literal
or parse (bench/scale.py measures it against a COPY of the same rows into the task table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, transaction

from ucfleet.updates.models import UpdateTask

# Columns are read from the plan this many tasks at a time (memory: one piece of lists).
PIECE = 50_000
STAGE = "ucfleet_new_tasks"


def insert_task_rows_pg(
    planned: Sequence[Any], constants: dict[str, Any], *, per_tenant: Sequence[str]
) -> int:
    """Insert one task per element of `planned` (its `per_tenant` attributes, each a column
    attname) plus the `constants`, in `planned`'s order; returns the number of rows written
    (a tenant with an open task gets none)."""
    opts = UpdateTask._meta
    fields = {f.attname: f for f in opts.concrete_fields}
    quote = connection.ops.quote_name
    names = (*per_tenant, *constants)
    staged = [f"c{i} {fields[name].db_type(connection)}" for i, name in enumerate(per_tenant)]
    selected = [f"s.c{i}" for i in range(len(per_tenant))] + [
        f"%s::{fields[name].db_type(connection)}" for name in constants
    ]
    insert = (
        f"INSERT INTO {quote(opts.db_table)} "
        f"({', '.join(quote(fields[name].column) for name in names)}) "
        f"SELECT {', '.join(selected)} FROM {STAGE} s ORDER BY s.position "
        "ON CONFLICT DO NOTHING"
    )
    prepared = [fields[n].get_db_prep_save(v, connection) for n, v in constants.items()]
    columns_of = _column_reader(planned, fields, per_tenant)
    # A savepoint at least: the temporary table goes with it when anything fails.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} (position bigint, {', '.join(staged)})")
        with cursor.cursor.copy(f"COPY {STAGE} FROM STDIN") as copy:
            for offset in range(0, len(planned), PIECE):
                pieces = columns_of(planned[offset : offset + PIECE])
                for position, row in enumerate(zip(*pieces, strict=True), start=offset):
                    copy.write_row((position, *row))
        cursor.execute(insert, prepared)
        written = max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {STAGE}")
    return written


def _column_reader(
    planned: Sequence[Any], fields: dict[str, Any], per_tenant: Sequence[str]
) -> Callable[[Sequence[Any]], list[list[Any]]]:
    """The per-tenant columns of a batch, prepared by their model fields. A plan's columns
    (updates.plan_rows) are read whole; values that need preparing (the periods: a
    request has few distinct ones) are prepared once each."""
    cache: dict[str, dict[Any, Any]] = {name: {} for name in per_tenant}

    def prepare(name: str, values: list[Any]) -> list[Any]:
        field = fields[name]
        if field.get_internal_type() in _PLAIN:
            return values
        seen = cache[name]
        out = []
        for value in values:
            if value not in seen:
                seen[value] = field.get_db_prep_save(value, connection)
            out.append(seen[value])
        return out

    def read(batch: Sequence[Any]) -> list[list[Any]]:
        if hasattr(batch, "column"):
            return [prepare(name, batch.column(name)) for name in per_tenant]
        return [prepare(name, [getattr(p, name) for p in batch]) for name in per_tenant]

    return read


# Columns whose Python values are already what PostgreSQL stores (no per-value preparation).
_PLAIN = {"ForeignKey", "IntegerField", "BigIntegerField", "PositiveIntegerField"}
