"""The change log as lines (R31): the entries one bulk action wrote share a group key
(`services.group_keys`) and read as one line ("rescheduled 5,000 tasks"), an entry that
stands alone is a line of its own.

`change_log_lines(entries)` is one query over entries that are already scoped to the viewer
(`queries.change_log_visible_to`): a partner administrator's line of a platform-wide action
counts that partner's own entries, never the others' (R1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import CharField, Count, Max, Min, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat

from ucfleet.audit.models import ChangeLogEntry

# The key of an entry's line: its group, or `#<id>` for an entry that stands alone.
SINGLE = "#"


def line_key() -> Coalesce:
    return Coalesce(
        "group",
        Concat(Value(SINGLE), Cast("id", output_field=CharField())),
        output_field=CharField(),
    )


def change_log_lines(entries: QuerySet[ChangeLogEntry]) -> QuerySet[Any]:
    """One dict per line, newest first: `key`, `size` (entries), `object_count` and
    `partner_count` (distinct), `first` (the id of its first entry), `last_at` (its latest
    time), and the lowest/highest old and new values (equal where all entries agree)."""
    return (
        entries.order_by()
        .annotate(key=line_key())
        .values("key")
        .annotate(
            size=Count("id"),
            object_count=Count("object_id", distinct=True),
            partner_count=Count("partner_id", distinct=True),
            first=Min("id"),
            last=Max("id"),
            last_at=Max("at"),
            old_low=Min("old"),
            old_high=Max("old"),
            new_low=Min("new"),
            new_high=Max("new"),
        )
        .order_by("-last_at", "-last")
    )


def first_entries(
    entries: QuerySet[ChangeLogEntry], lines: Sequence[dict[str, Any]]
) -> list[ChangeLogEntry]:
    """The first entry of each line, read from `entries` (scoped), in the lines' order."""
    found = entries.order_by().in_bulk([line["first"] for line in lines])
    return [found[line["first"]] for line in lines]


def entries_of_line(entries: QuerySet[ChangeLogEntry], key: str) -> QuerySet[ChangeLogEntry]:
    """The entries of one line (a drill-down), of those in `entries` (already scoped)."""
    if key.startswith(SINGLE):
        single = key[len(SINGLE) :]
        return entries.filter(pk=int(single)) if single.isdigit() else entries.none()
    return entries.filter(group=key)


def group_sizes(entries: QuerySet[ChangeLogEntry], keys: Sequence[str]) -> dict[str, int]:
    """How many of `entries` each group in `keys` has (one query)."""
    if not keys:
        return {}
    rows = (
        entries.order_by()
        .filter(group__in=set(keys))
        .values("group")
        .annotate(size=Count("id"))
        .values_list("group", "size")
    )
    return {group: size for group, size in rows if group}
