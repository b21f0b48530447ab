"""A task whose restore failed (R26): it fails "restore failed: tenant needs attention" and
the platform administrators get one e-mail at once, in the same transaction."""

from __future__ import annotations

from django.db import transaction

from ucfleet.notifications.alerts import notify_tenant_needs_attention
from ucfleet.updates import execution


def fail_task_needing_attention(
    *, task_id: int, attempt_id: int, worker_name: str, reason: str, log_text: str
) -> bool:
    """`execution.fail_task`, and the platform's alert when it failed the task."""
    with transaction.atomic():
        held = execution.fail_task(
            task_id=task_id,
            attempt_id=attempt_id,
            worker_name=worker_name,
            reason=reason,
            log_text=log_text,
        )
        if held:
            notify_tenant_needs_attention(task_id)
    return held
