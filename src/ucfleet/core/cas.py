"""Compare-and-set: the one way state changes are written.

`UPDATE … WHERE id = ? AND <expected> …` with the row count checked is correct on SQLite and
PostgreSQL alike; no correctness rests on SELECT … FOR UPDATE (a no-op on SQLite).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from ucfleet.core.chunks import IN_LIST_SIZE, chunks


def compare_and_set(
    model: type[models.Model], pk: Any, *, expected: dict[str, Any], changes: dict[str, Any]
) -> bool:
    """Apply `changes` to row `pk` only if its fields still equal `expected`.

    Returns True when this call changed the row, False when another writer got there first
    (or the row is gone).
    """
    return model._default_manager.filter(pk=pk, **expected).update(**changes) == 1


# Ids per statement (core.chunks documents the limit).
CHUNK = IN_LIST_SIZE


def bulk_compare_and_set(
    model: type[models.Model], pks: list[Any], *, expected: dict[str, Any], changes: dict[str, Any]
) -> list[Any]:
    """Compare-and-set for many rows; returns the pks this call changed.

    One UPDATE per chunk in the common case. If its row count shows that another writer
    changed some rows in between, the chunk is rolled back to a savepoint and retried row by
    row, so the answer is exact without relying on row locks.
    """
    from django.db import transaction

    changed: list[Any] = []
    with transaction.atomic():
        for chunk in chunks(pks):
            sid = transaction.savepoint()
            if model._default_manager.filter(pk__in=chunk, **expected).update(**changes) == len(
                chunk
            ):
                transaction.savepoint_commit(sid)
                changed += chunk
                continue
            transaction.savepoint_rollback(sid)
            changed += [
                pk for pk in chunk if compare_and_set(model, pk, expected=expected, changes=changes)
            ]
    return changed
