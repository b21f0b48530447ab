"""A task as plain JSON values, in the shape of the API's task object (API.md), for
`ucfleet tasks --json`: the CLI needs nothing from the API layer. A test
(tests/cli/test_commands.py) checks that both answer the same.

Times are UTC with a `Z` (API.md); versions by name, their ids beside them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ucfleet.updates.models import UpdateTask


def utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def task_record(task: UpdateTask) -> dict[str, Any]:
    """`task` as the API's task object; its relations are read as loaded
    (`updates.queries.with_list_relations` loads them in the same query)."""
    return {
        "id": task.pk,
        "tenant": {
            "id": task.tenant.pk,
            "name": task.tenant.name,
            "instance_id": task.tenant.instance_id,
        },
        "partner": {"id": task.partner.pk, "name": task.partner.name},
        "task_type": task.task_type,
        "from_version": task.from_version.name,
        "from_version_id": task.from_version_id,
        "target_version": task.target_version.name,
        "target_version_id": task.target_version_id,
        "timing": task.timing,
        "earliest_start": utc_text(task.earliest_start),
        "latest_start": utc_text(task.latest_start),
        "forced": task.is_forced,
        "redeploy": task.redeploy,
        "notify_partner": task.notify_partner,
        "notify_customer": task.notify_customer,
        "status": task.status,
        "scheduled_by": task.scheduled_by.username if task.scheduled_by else None,
        "created": utc_text(task.created),
        "started": utc_text(task.started),
        "finished": utc_text(task.finished),
        "failure_reason": task.failure_reason,
        "request_id": str(task.request_id) if task.request_id else None,
        "retry_of": task.retry_of_id,
        "wait_for_idle": task.wait_for_idle,
        "waiting_reason": task.waiting_reason,
        "rollout": task.rollout_id,
        "wave": task.wave,
    }
