"""Pages of long lists whose cost does not grow with the table: keyset cursors and counts
that stop counting.

- A page after (or before) a cursor is one `WHERE (keys) > (last row's keys) ORDER BY keys
  LIMIT n+1` query that the list's index answers, however deep the page; `OFFSET` (the
  page number) keeps working but costs the rows it skips.
- `bounded_count` counts at most EXACT_COUNT_LIMIT + 1 rows. Above that the count is the
  planner's estimate (PostgreSQL's EXPLAIN of the same filtered query; SQLite has none and
  counts exactly), and the page says so ("about").

A cursor names the list's order and the key values of the row it stands at, as URL-safe
base64 of JSON. It is not a secret and grants nothing: the rows always come from the
caller's scoped queryset, the cursor only says where in it to start.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections
from django.db.models import QuerySet

from ucfleet.core.keyset import _after, _ordering

EXACT_COUNT_LIMIT = 10_000


def exact_count_limit() -> int:
    return int(getattr(settings, "UCFLEET", {}).get("EXACT_COUNT_LIMIT", EXACT_COUNT_LIMIT))


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    order: tuple[str, ...]  # the queryset's order_by, as given
    values: tuple[Any, ...]  # the key values of the row the cursor stands at
    backwards: bool = False  # the page before that row (a "previous" link)

    def encode(self) -> str:
        data = {"o": list(self.order), "v": [_plain(v) for v in self.values], "b": self.backwards}
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            order, values, backwards = data["o"], data["v"], data["b"]
        except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
            raise InvalidCursor("not a cursor") from None
        if not (
            isinstance(order, list)
            and isinstance(values, list)
            and isinstance(backwards, bool)
            and all(isinstance(o, str) for o in order)
            and all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values)
        ):
            raise InvalidCursor("not a cursor")
        return cls(tuple(order), tuple(values), backwards)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def _order_of(queryset: QuerySet[Any]) -> tuple[str, ...]:
    return tuple(str(name) for name in queryset.query.order_by)


def _key_of(obj: Any, field: str) -> Any:
    value = obj
    for part in field.split("__"):
        value = getattr(value, part)
    return value


@dataclass
class KeysetSlice:
    rows: list[Any]
    has_before: bool  # rows exist before the first one (for a forward page: we came from there)
    has_after: bool
    first: Cursor | None  # the cursor of the page before these rows
    last: Cursor | None  # the cursor of the page after them


def keyset_slice(queryset: QuerySet[Any], size: int, cursor: Cursor | None) -> KeysetSlice:
    """`size` rows of the ordered `queryset` after (or, backwards, before) `cursor`: one
    query. A cursor made for another order is refused (InvalidCursor)."""
    given = _order_of(queryset)
    order = _ordering(queryset)
    ordered = queryset.order_by(*[f"-{f}" if desc else f for f, desc in order])
    if cursor is None:
        rows = list(ordered[: size + 1])
        has_after, has_before = len(rows) > size, False
        rows = rows[:size]
    else:
        if cursor.order != given or len(cursor.values) != len(order):
            raise InvalidCursor("the cursor belongs to another order")
        try:
            if cursor.backwards:
                flipped = [(f, not desc) for f, desc in order]
                page = ordered.filter(_after(flipped, cursor.values)).order_by(
                    *[f"-{f}" if desc else f for f, desc in flipped]
                )
                rows = list(page[: size + 1])
                has_before, has_after = len(rows) > size, True
                rows = rows[:size][::-1]
            else:
                rows = list(ordered.filter(_after(order, cursor.values))[: size + 1])
                has_after, has_before = len(rows) > size, True
                rows = rows[:size]
        except (ValueError, TypeError, ArithmeticError, ValidationError) as error:
            raise InvalidCursor(str(error)) from None  # a forged key value

    return _slice(queryset, rows, has_before, has_after)


def offset_slice(queryset: QuerySet[Any], size: int, number: int) -> KeysetSlice:
    """Page `number` (from 1) by OFFSET, with the cursors around it: `?page=N` keeps
    working, and its Next link continues by keyset."""
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return _slice(queryset, rows[:size], number > 1, len(rows) > size)


def _slice(queryset: QuerySet[Any], rows: list[Any], before: bool, after: bool) -> KeysetSlice:
    given = _order_of(queryset)
    order = _ordering(queryset)

    def at(obj: Any, backwards: bool) -> Cursor:
        return Cursor(given, tuple(_plain(_key_of(obj, f)) for f, _ in order), backwards)

    return KeysetSlice(
        rows,
        before and bool(rows),
        after and bool(rows),
        at(rows[0], True) if rows else None,
        at(rows[-1], False) if rows else None,
    )


def bounded_count(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """(count, estimated): exact up to EXACT_COUNT_LIMIT, else the planner's estimate of the
    same filtered query (never below the limit). PostgreSQL: one round trip, the function
    of migration core 0001 (count up to the limit, then EXPLAIN). SQLite has no estimate:
    it counts, exactly."""
    limit = exact_count_limit()
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        counted = queryset.order_by().values("pk")[: limit + 1].count()
        return (counted, False) if counted <= limit else (queryset.order_by().count(), False)
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # .none(), or a filter that can match nothing
        return 0, False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n, estimated FROM ucfleet_bounded_count(%s, %s)",
            [connection.ops.compose_sql(sql, params), limit],  # type: ignore[attr-defined]
        )
        count, estimated = cursor.fetchone()
    return int(count), bool(estimated)
