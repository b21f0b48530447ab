"""Reading a long ordered queryset in chunks by keyset ("after the last row seen"), not by
OFFSET and not through one cursor held open for the whole read: each chunk is a short
query that an index can answer, and memory holds one chunk at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Q, QuerySet


def _ordering(queryset: QuerySet[Any]) -> list[tuple[str, bool]]:
    """(field, descending) of the queryset's order, ending in the primary key (unique)."""
    names = list(queryset.query.order_by or queryset.model._meta.ordering or [])
    order: list[tuple[str, bool]] = []
    for name in names:
        if not isinstance(name, str) or name == "?":
            raise TypeError(f"keyset reads need field orderings, got {name!r}")
        field = name.lstrip("-")
        order.append(("pk" if field == "id" else field, name.startswith("-")))
    if not any(field == "pk" for field, _ in order):
        order.append(("pk", False))
    return order


def _after(order: Sequence[tuple[str, bool]], last: Sequence[Any]) -> Q:
    """Rows that come after `last` in `order`: (a > x) or (a = x and b > y) or …, and the
    first key's range up front so that an index on it narrows the read."""
    first, first_desc = order[0]
    condition = Q()
    equal = Q()
    for (field, descending), value in zip(order, last, strict=True):
        if value is None:
            raise ValueError(f"keyset reads need non-null keys, {field} is null")
        condition |= equal & Q(**{f"{field}__{'lt' if descending else 'gt'}": value})
        equal &= Q(**{field: value})
    return Q(**{f"{first}__{'lte' if first_desc else 'gte'}": last[0]}) & condition


def keyset_rows(
    queryset: QuerySet[Any], *, columns: Sequence[str], chunk_size: int = 2000
) -> Iterator[tuple[Any, ...]]:
    """The `columns` of every row of `queryset`, in its order, `chunk_size` rows a query."""
    order = _ordering(queryset)
    fetched = ["pk" if c == "id" else c for c in columns]
    fetched += [field for field, _ in order if field not in fetched]
    key_at = [fetched.index(field) for field, _ in order]
    width = len(columns)
    rows = queryset.order_by(*[f"-{f}" if desc else f for f, desc in order])
    last: tuple[Any, ...] | None = None
    while True:
        page = rows if last is None else rows.filter(_after(order, last))
        chunk = list(page.values_list(*fetched)[:chunk_size])
        for row in chunk:
            yield row[:width]
        if len(chunk) < chunk_size:
            return
        last = tuple(chunk[-1][i] for i in key_at)
