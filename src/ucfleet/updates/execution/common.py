"""What the execution transitions share: failure texts and the change-log row of a task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucfleet.audit.services import Change

START_WINDOW_MISSED = "start window missed"
WORKER_LOST = "interrupted: worker lost"
MAX_REASON = 500


def task_change(task: Mapping[str, Any], action: str, fld: str, old: object, new: object) -> Change:
    """A change-log entry about a task given as a row with `pk` and `partner_id`."""
    return Change(action, "update_task", task["pk"], fld, old, new, partner_id=task["partner_id"])
