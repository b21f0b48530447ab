"""The change log in words (R31): each entry's object by its name, with a link, and its
old and new values in the viewer's language.

Names are read for one page of entries at a time, one query per object type on the page,
each through the type's `*_visible_to(admin)` chokepoint: a partner administrator never
learns a name it could not look up itself (R1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from ucfleet.accounts.queries import administrators_visible_to
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.core.timeutils import format_server_time
from ucfleet.maintenance.queries import all_maintenances, server_zone
from ucfleet.rollouts.choices import RolloutStatus
from ucfleet.rollouts.queries import rollouts_visible_to
from ucfleet.tenants.queries import partners_visible_to, scale_units_visible_to, tenants_visible_to
from ucfleet.updates.choices import Status, TaskType, Timing
from ucfleet.updates.queries import tasks_visible_to
from ucfleet.versions.queries import versions_visible_to

# (name, url) of each visible object of one type, by id.
Names = dict[int, tuple[str, str]]


def _tenants(admin: Any, ids: list[int]) -> Names:
    rows = tenants_visible_to(admin).filter(pk__in=ids).values_list("pk", "name")
    return {pk: (name, reverse("web:tenant", args=[pk])) for pk, name in rows}


def _tasks(admin: Any, ids: list[int]) -> Names:
    rows = (
        tasks_visible_to(admin, include_archived=True)
        .filter(pk__in=ids)
        .values_list("pk", "tenant_id", "tenant__name", "target_version__name")
    )
    return {
        pk: (f"{tenant} → {version}", reverse("web:tenant", args=[tenant_id]))
        for pk, tenant_id, tenant, version in rows
    }


def _partners(admin: Any, ids: list[int]) -> Names:
    rows = partners_visible_to(admin).filter(pk__in=ids).values_list("pk", "name")
    link = admin.is_platform_admin
    return {pk: (name, reverse("web:partner-edit", args=[pk]) if link else "") for pk, name in rows}


def _versions(admin: Any, ids: list[int]) -> Names:
    rows = versions_visible_to(admin).filter(pk__in=ids).values_list("pk", "name")
    return {pk: (name, reverse("web:versions")) for pk, name in rows}


def _scale_units(admin: Any, ids: list[int]) -> Names:
    rows = scale_units_visible_to(admin).filter(pk__in=ids).values_list("pk", "name")
    return {pk: (name, reverse("web:scale-units")) for pk, name in rows}


def _administrators(admin: Any, ids: list[int]) -> Names:
    rows = administrators_visible_to(admin).filter(pk__in=ids).values_list("pk", "username")
    return {pk: (name, reverse("web:administrator-edit", args=[pk])) for pk, name in rows}


def _maintenances(admin: Any, ids: list[int]) -> Names:
    # Platform maintenance is visible to every administrator (R8): no scoping to apply.
    rows = all_maintenances().filter(pk__in=ids).values_list("pk", "start")
    tz = server_zone()
    return {
        pk: (format_server_time(start, tz), reverse("web:maintenance", args=[pk]))
        for pk, start in rows
    }


def _rollouts(admin: Any, ids: list[int]) -> Names:
    rows = rollouts_visible_to(admin).filter(pk__in=ids).values_list("pk", "name")
    return {pk: (name, reverse("web:rollout", args=[pk])) for pk, name in rows}


RESOLVERS: dict[str, Callable[[Any, list[int]], Names]] = {
    "rollout": _rollouts,
    "tenant": _tenants,
    "update_task": _tasks,
    "partner": _partners,
    "software_version": _versions,
    "scale_unit": _scale_units,
    "administrator": _administrators,
    "platform_maintenance": _maintenances,
}

# Fields whose stored values are codes or booleans, shown as the portal shows them.
_LABELS = {
    "status": {**dict(Status.choices), **dict(RolloutStatus.choices)},
    "timing": dict(Timing.choices),
    "task_type": dict(TaskType.choices),
}


# Fields whose values are times (ISO 8601 with offset): shown in server time (R3).
TIME_FIELDS = {"earliest_start", "latest_start", "start", "end", "started", "finished"}


class ServerZone:
    """The server's zone, read once per page and only where a time is shown."""

    def __init__(self) -> None:
        self._zone: Any = None

    def __call__(self) -> Any:
        if self._zone is None:
            self._zone = server_zone()
        return self._zone


def _time_text(value: str, zone: Callable[[], Any]) -> str | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return format_server_time(moment, zone()) if moment.tzinfo else None


def readable_value(field: str, value: str, zone: Callable[[], Any] | None = None) -> str:
    if field in TIME_FIELDS and value:
        text = _time_text(value, zone or ServerZone())
        if text is not None:
            return text
    labels = _LABELS.get(field)
    if labels is not None and value in labels:
        return str(labels[value])
    if value in ("True", "False"):
        return _("yes") if value == "True" else _("no")
    return value


def make_readable(entries: Iterable[ChangeLogEntry], admin: Any) -> list[ChangeLogEntry]:
    """`entries` with `object_label`, `object_name`, `object_url`, `old_text`, `new_text`
    set for the template."""
    entries = list(entries)
    wanted: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        if entry.object_type in RESOLVERS and entry.object_id.isdigit():
            wanted[entry.object_type].append(int(entry.object_id))
    names = {kind: RESOLVERS[kind](admin, ids) for kind, ids in wanted.items()}
    from ucfleet.web.views.changelog import ChangeLogFilterForm  # the view imports this module

    labels = {code: str(label) for code, label in ChangeLogFilterForm.OBJECT_TYPES}
    zone = ServerZone()
    for entry in entries:
        found = names.get(entry.object_type, {}).get(
            int(entry.object_id) if entry.object_id.isdigit() else -1
        )
        entry.object_label = labels.get(entry.object_type, entry.object_type)  # type: ignore[attr-defined]
        entry.object_name, entry.object_url = found or ("", "")  # type: ignore[attr-defined]
        entry.old_text = readable_value(entry.field, entry.old, zone)  # type: ignore[attr-defined]
        entry.new_text = readable_value(entry.field, entry.new, zone)  # type: ignore[attr-defined]
    return entries
