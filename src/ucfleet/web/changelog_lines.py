"""The change log's lines in words (R31): a bulk action's entries as one line —
"rescheduled 5,000 tasks" — with a link to its entries, a single entry as before
(`changelog_readable`).

One page of lines costs the lines' query (`audit.grouping.change_log_lines`), one query for
the first entry of each line on the page, and the name queries of `make_readable`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy, ngettext_lazy

from ucfleet.audit.grouping import SINGLE, first_entries
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.web.changelog_readable import ServerZone, make_readable, readable_value

# (action, object type) → the line's words: `n` chooses the plural form, `%(count)s` shows
# the number of objects with its grouping (5,000 / 5.000).
SUMMARIES: dict[tuple[str, str], Any] = {
    ("reschedule", "update_task"): ngettext_lazy(
        "rescheduled %(count)s task", "rescheduled %(count)s tasks", "n"
    ),
    ("cancel", "update_task"): ngettext_lazy(
        "cancelled %(count)s task", "cancelled %(count)s tasks", "n"
    ),
    ("delete", "update_task"): ngettext_lazy(
        "deleted %(count)s task", "deleted %(count)s tasks", "n"
    ),
    ("start", "update_task"): ngettext_lazy(
        "started %(count)s task", "started %(count)s tasks", "n"
    ),
    ("complete", "update_task"): ngettext_lazy(
        "completed %(count)s task", "completed %(count)s tasks", "n"
    ),
    ("fail", "update_task"): ngettext_lazy("%(count)s task failed", "%(count)s tasks failed", "n"),
    ("wait", "update_task"): ngettext_lazy(
        "%(count)s task waits for a busy tenant", "%(count)s tasks wait for busy tenants", "n"
    ),
    ("retry", "update_task"): ngettext_lazy(
        "retried %(count)s task", "retried %(count)s tasks", "n"
    ),
    ("create", "update_request"): ngettext_lazy(
        "created an update request for %(count)s partner",
        "created an update request for %(count)s partners",
        "n",
    ),
    ("create", "tenant"): ngettext_lazy(
        "created %(count)s tenant", "created %(count)s tenants", "n"
    ),
    ("import", "tenant"): ngettext_lazy(
        "imported %(count)s tenant", "imported %(count)s tenants", "n"
    ),
    ("update", "tenant"): ngettext_lazy(
        "changed %(count)s tenant", "changed %(count)s tenants", "n"
    ),
    ("update", "update_task"): ngettext_lazy(
        "changed %(count)s task", "changed %(count)s tasks", "n"
    ),
}
# Objects logged once per partner (a request over several partners): counted in partners.
PER_PARTNER = {"update_request"}
GENERIC = gettext_lazy("%(action)s: %(count)s × %(object_type)s")


def summary(action: str, object_type: str, object_label: str, count: int) -> str:
    """The words of a bulk line in the active language, the count with its grouping."""
    number = number_format(count, force_grouping=True)
    words = SUMMARIES.get((action, object_type))
    if words is None:
        return str(GENERIC) % {"action": action, "count": number, "object_type": object_label}
    return str(words % {"n": count, "count": number})


def drill_down_url(key: str) -> str:
    return f"{reverse('web:change-log')}?{urlencode({'group': key})}"


def make_readable_lines(
    lines: Iterable[dict[str, Any]], admin: Any, entries: QuerySet[ChangeLogEntry]
) -> list[ChangeLogEntry]:
    """The first entry of each line (read from `entries`, the scoped list), readable, with
    `group_size`, `group_objects`, `summary` (empty for a single entry) and `group_url`
    set; a bulk line shows an old or new value only where all its entries have the same."""
    lines = list(lines)
    readable = make_readable(first_entries(entries, lines), admin)
    zone = ServerZone()
    for line, entry in zip(lines, readable, strict=True):
        count = line["partner_count"] if entry.object_type in PER_PARTNER else line["object_count"]
        grouped = not line["key"].startswith(SINGLE) and line["size"] > 1
        # One object logged once per partner (a rollout paused for 3 partners) reads as
        # that object's entry, with a link to all of them.
        bulk = grouped and (line["object_count"] > 1 or entry.object_type in PER_PARTNER)
        entry.group_key = line["key"]  # type: ignore[attr-defined]
        entry.group_size = line["size"]  # type: ignore[attr-defined]
        entry.group_objects = line["object_count"]  # type: ignore[attr-defined]
        entry.at = line["last_at"]
        entry.summary = ""  # type: ignore[attr-defined]
        entry.group_url = drill_down_url(line["key"]) if grouped else ""  # type: ignore[attr-defined]
        if not bulk:
            continue
        entry.summary = summary(  # type: ignore[attr-defined]
            entry.action,
            entry.object_type,
            entry.object_label,  # type: ignore[attr-defined]
            count,
        )
        same_old = line["old_low"] == line["old_high"]
        same_new = line["new_low"] == line["new_high"]
        entry.old_text = readable_value(entry.field, entry.old, zone) if same_old else "…"  # type: ignore[attr-defined]
        entry.new_text = readable_value(entry.field, entry.new, zone) if same_new else "…"  # type: ignore[attr-defined]
    return readable
