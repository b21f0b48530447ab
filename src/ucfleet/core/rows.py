"""Query rows as dataclasses, field by field by name: no positional coupling between a
`values_list(...)` and a dataclass's field order.

`sources` maps each field of the dataclass to the ORM path it is read from; `rows_as`
checks once that they name exactly the dataclass's fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from django.db.models import QuerySet

T = TypeVar("T")


def check_sources(cls: type, sources: Mapping[str, str], *, besides: tuple[str, ...] = ()) -> None:
    """Raise unless `sources` (plus `besides`, set by the caller) names every field of `cls`."""
    wanted = {f.name for f in fields(cls)} - set(besides)
    if set(sources) != wanted:
        raise TypeError(
            f"{cls.__name__}: sources name {sorted(sources)}, fields are {sorted(wanted)}"
        )


def rows_as(
    cls: type[T],
    queryset: QuerySet[Any],
    sources: Mapping[str, str],
    *,
    chunk_size: int | None = None,
) -> Iterator[T]:
    """Each row of `queryset` as `cls(**{field: value of its path})`."""
    check_sources(cls, sources)
    names = list(sources)
    rows = queryset.values_list(*(sources[name] for name in names))
    iterator = rows.iterator(chunk_size=chunk_size) if chunk_size else iter(rows)
    for row in iterator:
        yield cls(**dict(zip(names, row, strict=True)))
