"""Long lists in bounded pieces, and the one limit that decides their size.

SQLite binds at most SQLITE_MAX_VARIABLES parameters per statement (32,766 since SQLite
3.32; PostgreSQL allows 65,535). Every `pk__in=` list of ids is cut with `chunks()` into
IN_LIST_SIZE ids, far below that limit, so the rest of the statement keeps room for its own
parameters and no request of 100,000 ids fails with "too many SQL variables".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

SQLITE_MAX_VARIABLES = 32_766
IN_LIST_SIZE = 5000


def chunks(items: Sequence[T], size: int = IN_LIST_SIZE) -> Iterator[Sequence[T]]:
    """`items` in consecutive pieces of at most `size`."""
    if size < 1:
        raise ValueError("size must be positive")
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]
