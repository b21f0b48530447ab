"""Compare-and-set: the one way state changes are written.

`UPDATE … WHERE id = ? AND <expected> …` with the row count checked is correct on SQLite and
PostgreSQL alike; no correctness rests on SELECT … FOR UPDATE (a no-op on SQLite).
"""

from __future__ import annotations

from typing import Any

from django.db import models


def compare_and_set(model: type[models.Model], pk: Any, *, expected: dict[str, Any],
                    changes: dict[str, Any]) -> bool:
    """Apply `changes` to row `pk` only if its fields still equal `expected`.

    Returns True when this call changed the row, False when another writer got there first
    (or the row is gone).
    """
    return model._default_manager.filter(pk=pk, **expected).update(**changes) == 1
