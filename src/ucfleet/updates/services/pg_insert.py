"""PostgreSQL's bulk path for new task rows (decision 0001, issue 13 point 4).

`COPY` cannot leave a row out on a conflict, and R4's partial unique index must decide races
(ON CONFLICT DO NOTHING). So each batch is one statement that reads its per-tenant columns
from arrays, `INSERT … SELECT … FROM unnest(%s::bigint[], …) ON CONFLICT DO NOTHING`: one
round trip and one parse per 5,000 rows instead of 5,000 executions, close to COPY's cost
(bench/scale.py measures it against a COPY of the same rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from ucfleet.core.chunks import chunks
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import BATCH


def insert_task_rows_pg(
    planned: Sequence[Any], constants: dict[str, Any], *, per_tenant: Sequence[str]
) -> int:
    """Insert one task per element of `planned` (its `per_tenant` attributes, each a column
    attname) plus the `constants`; returns the number of rows written."""
    opts = UpdateTask._meta
    fields = {f.attname: f for f in opts.concrete_fields}
    quote = connection.ops.quote_name
    names = (*per_tenant, *constants)
    columns = ", ".join(quote(fields[name].column) for name in names)
    arrays = ", ".join(f"%s::{fields[name].db_type(connection)}[]" for name in per_tenant)
    aliases = [f"c{i}" for i in range(len(per_tenant))]
    selected = [f"u.{alias}" for alias in aliases] + [
        f"%s::{fields[name].db_type(connection)}" for name in constants
    ]
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({columns}) "
        f"SELECT {', '.join(selected)} FROM unnest({arrays}) AS u({', '.join(aliases)}) "
        "ON CONFLICT DO NOTHING"
    )
    prepared = [fields[n].get_db_prep_save(v, connection) for n, v in constants.items()]
    written = 0
    with connection.cursor() as cursor:
        for batch in chunks(planned, BATCH):
            columns_of_batch = [
                [fields[name].get_db_prep_save(getattr(p, name), connection) for p in batch]
                if fields[name].get_internal_type() not in _PLAIN
                else [getattr(p, name) for p in batch]
                for name in per_tenant
            ]
            # Parameters in the order their %s appear: the SELECT list's constants first.
            cursor.execute(sql, [*prepared, *columns_of_batch])
            written += max(cursor.rowcount, 0)
    return written


# Columns whose Python values are already what PostgreSQL stores (no per-value preparation).
_PLAIN = {"ForeignKey", "IntegerField", "BigIntegerField", "PositiveIntegerField"}
