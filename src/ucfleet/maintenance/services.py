"""The only writers of the maintenance window and platform maintenances (platform only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.accounts.models import Administrator
from ucfleet.audit.services import Change, record
from ucfleet.core.errors import Forbidden, Invalid
from ucfleet.core.text import refuse_control_characters
from ucfleet.core.timebounds import require_within
from ucfleet.core.timeutils import is_valid_zone
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.models import MaintenanceWindow, PlatformMaintenance, WindowSlot
from ucfleet.maintenance.queries import get_maintenance, get_window
from ucfleet.webhooks.choices import Event
from ucfleet.webhooks.emission import emit_maintenance

MAX_SLOT_MINUTES = 7 * 24 * 60
# A platform maintenance's message is an announcement on the login page, not a document.
MAX_MESSAGE = 2000


@dataclass(frozen=True)
class SlotInput:
    weekdays: list[int]
    start: time
    duration_minutes: int


def require_platform_admin(admin: Actor) -> None:
    if not admin.is_platform_admin:
        raise Forbidden(_("Only platform administrators may do this."))


def _validate_slots(slots: list[SlotInput]) -> None:
    for index, slot in enumerate(slots):
        where = f"slots[{index}]"
        if not slot.weekdays or any(d not in range(7) for d in slot.weekdays):
            raise Invalid.field(where, _("Weekdays must be numbers from 0 (Monday) to 6 (Sunday)."))
        if not 1 <= slot.duration_minutes <= MAX_SLOT_MINUTES:
            raise Invalid.field(where, _("The duration must lie between 1 minute and 7 days."))


def _validate_expected_duration(expected_task_minutes: int, slots: list[SlotInput]) -> None:
    """A window task must start `expected_task_minutes` before its occurrence ends (R2): a
    slot shorter than that could never take a task, so such settings are refused."""
    if expected_task_minutes < 1:
        raise Invalid.field("expected_task_minutes", _("Must be at least 1 minute."))
    shortest = min((s.duration_minutes for s in slots), default=None)
    if shortest is not None and expected_task_minutes > shortest:
        raise Invalid.field(
            "expected_task_minutes",
            _(
                "The expected task duration (%(expected)d minutes) is longer than the "
                "shortest recurrence of the window (%(shortest)d minutes): no task could "
                "start in it."
            )
            % {"expected": expected_task_minutes, "shortest": shortest},
            code="longer_than_window",
        )


def update_window(
    admin: Actor, *, time_zone: str, slots: list[SlotInput], expected_task_minutes: int
) -> MaintenanceWindow:
    require_platform_admin(admin)
    if not is_valid_zone(time_zone):
        raise Invalid.field("time_zone", _("Unknown time zone: %(zone)s") % {"zone": time_zone})
    _validate_slots(slots)
    _validate_expected_duration(expected_task_minutes, slots)
    with transaction.atomic():
        window = get_window()
        old = describe_window(window)
        window.time_zone = time_zone
        window.expected_task_minutes = expected_task_minutes
        window.save()
        window.slots.all().delete()
        WindowSlot.objects.bulk_create(
            WindowSlot(
                window=window,
                weekdays=sorted(set(s.weekdays)),
                start=s.start,
                duration_minutes=s.duration_minutes,
            )
            for s in slots
        )
        record(
            admin,
            Change(
                "update", "maintenance_window", window.pk, "settings", old, describe_window(window)
            ),
        )
    return window


def describe_window(window: MaintenanceWindow) -> str:
    slots = "; ".join(
        f"{','.join(str(d) for d in s.weekdays)} {s.start:%H:%M} +{s.duration_minutes}min"
        for s in window.slots.all()
    )
    return f"{window.time_zone} [{slots}] expected {window.expected_task_minutes}min"


def _validate_period(start: datetime, end: datetime) -> None:
    require_within(start, "start")
    require_within(end, "end")
    if end <= start:
        raise Invalid.field("end", _("The end must lie after the start."))
    if end <= utcnow():
        raise Invalid.field("end", _("The end must lie in the future."))


def _validate_messages(**messages: str) -> None:
    for name, text in messages.items():
        if len(text) > MAX_MESSAGE:
            raise Invalid.field(
                name,
                _("At most %(max)d characters (this one has %(count)d).")
                % {"max": MAX_MESSAGE, "count": len(text)},
                code="too_long",
            )


def create_maintenance(
    admin: Actor, *, start: datetime, end: datetime, message_en: str = "", message_de: str = ""
) -> PlatformMaintenance:
    """Announce a platform maintenance. Planned tasks it overlaps become its conflicts,
    which updates.services lists and resolves (R8)."""
    require_platform_admin(admin)
    refuse_control_characters(multi_line=True, message_en=message_en, message_de=message_de)
    _validate_period(start, end)
    _validate_messages(message_en=message_en, message_de=message_de)
    with transaction.atomic():
        maintenance = PlatformMaintenance.objects.create(
            start=start,
            end=end,
            message_en=message_en,
            message_de=message_de,
            created_by=admin if isinstance(admin, Administrator) else None,
        )
        record(
            admin,
            Change(
                "create", "platform_maintenance", maintenance.pk, "period", "", str(maintenance)
            ),
        )
        emit_maintenance(maintenance, event=Event.MAINTENANCE_CREATED)
    return maintenance


def update_maintenance(admin: Actor, pk: Any, **changes: Any) -> PlatformMaintenance:
    require_platform_admin(admin)
    with transaction.atomic():
        maintenance = get_maintenance(pk)
        old = str(maintenance)
        for name in ("start", "end", "message_en", "message_de"):
            if name in changes and changes[name] is not None:
                setattr(maintenance, name, changes[name])
        refuse_control_characters(
            multi_line=True, message_en=maintenance.message_en, message_de=maintenance.message_de
        )
        _validate_period(maintenance.start, maintenance.end)
        _validate_messages(message_en=maintenance.message_en, message_de=maintenance.message_de)
        maintenance.save()
        record(
            admin,
            Change(
                "update", "platform_maintenance", maintenance.pk, "period", old, str(maintenance)
            ),
        )
        emit_maintenance(maintenance, event=Event.MAINTENANCE_CHANGED)
    return maintenance


def delete_maintenance(admin: Actor, pk: Any) -> None:
    require_platform_admin(admin)
    with transaction.atomic():
        maintenance = get_maintenance(pk)
        record(
            admin,
            Change(
                "delete", "platform_maintenance", maintenance.pk, "period", str(maintenance), ""
            ),
        )
        emit_maintenance(maintenance, event=Event.MAINTENANCE_CHANGED, deleted=True)
        maintenance.delete()
