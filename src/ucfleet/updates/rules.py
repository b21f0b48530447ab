"""What an administrator may do to a task (R7, R9, R14): the one place that decides.

The services refuse by it, the portal's action buttons (`web/tasks/_actions.html`) and the
API's `actions` field show it; none of them repeats the rule.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from ucfleet.accounts.actors import Actor
from ucfleet.updates.choices import Status


class TaskAction(StrEnum):
    # In the order the portal shows the buttons.
    POSTPONE = "postpone"
    RETRY = "retry"
    DELETE = "delete"


class TaskState(Protocol):
    """What the rule reads of a task: a model instance or a row of these two fields."""

    @property
    def status(self) -> str: ...

    @property
    def is_forced(self) -> bool: ...


# The statuses in which each action is possible, and the refusal code outside them.
ACTION_STATUSES: dict[TaskAction, frozenset[str]] = {
    TaskAction.POSTPONE: frozenset({Status.PLANNED}),  # R9
    TaskAction.DELETE: frozenset({Status.PLANNED, Status.FAILED}),  # R9: failed leave the list
    TaskAction.RETRY: frozenset({Status.FAILED}),  # R14
}
WRONG_STATUS = {
    TaskAction.POSTPONE: "not_planned",
    TaskAction.DELETE: "not_planned",
    TaskAction.RETRY: "not_failed",
}


def refusal(admin: Actor, task: TaskState, action: TaskAction) -> str | None:
    """Why `admin` may not do `action` to `task` (a stable code), or None when it may.

    A forced task is changed only by platform administrators (R7), whatever its status
    ("forced"); retrying first asks whether the task failed at all. Outside the action's
    statuses the code is `WRONG_STATUS[action]`.
    """
    forced = task.is_forced and not admin.is_platform_admin
    if forced and action != TaskAction.RETRY:
        return "forced"
    if task.status not in ACTION_STATUSES[action]:
        return WRONG_STATUS[action]
    return "forced" if forced else None


def allowed_actions(admin: Actor, task: TaskState) -> list[TaskAction]:
    """The actions `admin` may take on `task`, in the order the portal shows them."""
    return [action for action in TaskAction if refusal(admin, task, action) is None]
