"""The refusals' texts and errors, and loading a selection of tasks. Whether a task may be
changed is decided by `updates.rules.refusal`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.core.chunks import chunks
from ucfleet.core.errors import Conflict, Forbidden, NotFound
from ucfleet.core.ids import lookup_id
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.queries import tasks_visible_to

REFUSAL_TEXT = {
    "forced": lambda: _("Forced tasks can only be changed by platform administrators."),
    "not_planned": lambda: _("Only planned tasks can be changed."),
    "not_failed": lambda: _("Only failed tasks can be retried."),
    "changed": lambda: _("The task changed in the meantime."),
}


def raise_refusal(reason: str) -> None:
    if reason == "forced":
        raise Forbidden(REFUSAL_TEXT[reason]())
    raise Conflict(REFUSAL_TEXT[reason](), code=reason)


def visible_tasks(admin: Actor, task_ids: Iterable[Any]) -> list[UpdateTask]:
    """The tasks with these ids, all visible to `admin`, or NotFound (R1: one foreign id
    fails the whole request, without saying which)."""
    ids = sorted({lookup_id(i) for i in task_ids})
    tasks: list[UpdateTask] = []
    for chunk in chunks(ids):
        tasks += tasks_visible_to(admin).filter(pk__in=chunk)
    if len(tasks) != len(ids):
        raise NotFound(_("No such update task."))
    return tasks
