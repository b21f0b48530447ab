"""Retrying a failed task (R14)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record
from ucfleet.core.cas import compare_and_set
from ucfleet.core.errors import Conflict
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import ScheduleRequest
from ucfleet.updates.queries import get_task_for
from ucfleet.updates.rules import TaskAction, refusal
from ucfleet.updates.services.creating import schedule_updates
from ucfleet.updates.services.refusals import raise_refusal


def retry_task(admin: Actor, task_id: Any) -> UpdateTask:
    """A failed task gets a new planned, immediate task with the same options (R14), under
    every scheduling rule; the failed one leaves the list."""
    task = get_task_for(admin, task_id)
    reason = refusal(admin, task, TaskAction.RETRY)
    if reason:
        raise_refusal(reason)
    with transaction.atomic():
        # Compare-and-set first: of two racing retries of one task, only one goes on.
        if not compare_and_set(
            UpdateTask,
            task.pk,
            expected={"status": Status.FAILED, "is_archived": False},
            changes={"is_archived": True},
        ):
            raise Conflict(_("The task was retried or deleted meanwhile."), code="changed")
        result = schedule_updates(
            admin,
            ScheduleRequest(
                timing=Timing.IMMEDIATE,
                target_version=task.target_version_id,
                tenant_ids=[task.tenant_id],
                task_type=task.task_type,
                forced=task.is_forced,
                redeploy=task.redeploy,
                notify_partner=task.notify_partner,
                notify_customer=task.notify_customer,
                wait_for_idle=task.wait_for_idle,
                confirm_downgrade=True,
                confirm_auto_update_disabled=True,
            ),
        )
        if not result.created_count:
            skip = result.skipped[0]
            raise Conflict(skip.text, code=skip.reason)  # also undoes the archiving
        new_task = result.created.get()
        UpdateTask.objects.filter(pk=new_task.pk).update(retry_of=task)
        record(
            admin,
            Change(
                "retry",
                "update_task",
                task.pk,
                "retried_as",
                "",
                new_task.pk,
                partner_id=task.partner_id,
            ),
        )
    new_task.retry_of = task
    return new_task
