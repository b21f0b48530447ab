"""Loading many rows of one model fast: PostgreSQL's COPY, elsewhere executemany in batches.

For generated data (`ucfleet seed-scale`, benchmarks): no model instances, no signals, no
conflict handling. Every concrete column the caller does not name gets the field's default,
prepared by the field itself, so the rows are what the ORM would have written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

BATCH = 10_000


def load_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert `rows` (values for `columns`, attribute names such as `partner_id`, already as
    the database stores them) into `model`'s table; returns the number of rows written."""
    opts = model._meta
    fields = {f.attname: f for f in opts.concrete_fields}
    missing = [
        f for f in opts.concrete_fields if not f.primary_key and f.attname not in set(columns)
    ]
    fixed = tuple(f.get_db_prep_save(f.get_default(), connection) for f in missing)
    names = [*columns, *(f.attname for f in missing)]
    quoted = ", ".join(connection.ops.quote_name(fields[n].column) for n in names)
    table = connection.ops.quote_name(opts.db_table)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *fixed))
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(names))})"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append((*row, *fixed))
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def analyze(*models_: type[models.Model]) -> None:
    """Fresh planner statistics after a bulk load, and on PostgreSQL outside a transaction
    the visibility map too (`VACUUM (ANALYZE)`, as its manual's "Populating a Database"
    advises). Without the map an index-only scan visits the table, so the planner reads
    the whole table instead: the count of a partner's 100,000 tenants (core.paging) took
    11 ms instead of 2 ms until autovacuum came by."""
    command = "ANALYZE"
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        command = "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
