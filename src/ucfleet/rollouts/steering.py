"""Pause, resume, abort, retry failed (R22): the administrators' actions on a rollout.

Who may: an administrator who may change the rollout's tasks (R7, R9) — platform
administrators any rollout, partner administrators the rollouts of their tenants unless
forced. A partner administrator of a rollout that also concerns other partners' tenants
steers its own part only: pausing holds its tenants' tasks (the rollout runs on for the
others), resuming releases them again, aborting cancels them, retrying retries its failed
tenants. Every action is in the change log and emits its `rollout.*` webhook.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.core.errors import Conflict, Forbidden
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications import services as notify
from ucfleet.rollouts import events
from ucfleet.rollouts.choices import (
    ACTIVE_ROLLOUT_STATUSES,
    FINAL_ROLLOUT_STATUSES,
    RolloutStatus,
    WaveStatus,
)
from ucfleet.rollouts.models import Rollout
from ucfleet.rollouts.queries import concerns_other_partners, get_rollout_for, rollout_tasks
from ucfleet.rollouts.transitions import cancel_open, hold_planned, settle, unhold_released
from ucfleet.updates.choices import ENDED_STATUSES, Status, Timing
from ucfleet.updates.models import UpdateTask


def _steerable(actor: Actor, rollout_id: Any) -> tuple[Rollout, int | None]:
    """The rollout (404 outside the caller's scope) and the partner whose part the caller
    steers (None: the whole rollout)."""
    rollout = get_rollout_for(actor, rollout_id)
    if rollout.forced and not actor.is_platform_admin:
        raise Forbidden(_("Forced rollouts can only be changed by platform administrators."))
    part = partner_scope(actor) if concerns_other_partners(actor, rollout) else None
    return rollout, part


def _locked(rollout: Rollout) -> Rollout:
    return Rollout.objects.select_for_update().select_related("target_version").get(pk=rollout.pk)


def _refuse(code: str) -> Conflict:
    texts = {
        "not_running": _("Only a scheduled or running rollout can be paused."),
        "not_paused": _("Only a paused rollout can be resumed."),
        "finished": _("The rollout has already completed or been aborted."),
        "paused_for_all": _(
            "The rollout is paused for every partner; a platform administrator resumes it."
        ),
        "no_failures": _("The rollout has no failed tasks to retry."),
    }
    return Conflict(texts[code], code=code)


def pause(actor: Actor, rollout_id: Any) -> Rollout:
    """Nothing new starts: planned tasks are held; running tasks finish."""
    rollout, part = _steerable(actor, rollout_id)
    with transaction.atomic():
        rollout = _locked(rollout)
        if rollout.status not in ACTIVE_ROLLOUT_STATUSES:
            raise _refuse("not_running")
        if part is not None:
            if part in (rollout.paused_partners or []):
                raise _refuse("not_running")
            rollout.paused_partners = sorted({*(rollout.paused_partners or []), part})
            rollout.save(update_fields=["paused_partners"])
            hold_planned(actor, rollout, partner_id=part)
            events.log_change(
                actor, rollout, "pause", "status", rollout.status, "paused", partner_ids=[part]
            )
        else:
            old = rollout.status
            reason = _("Paused by %(name)s.") % {"name": actor.username}
            rollout.status, rollout.paused_reason = RolloutStatus.PAUSED, reason
            rollout.save(update_fields=["status", "paused_reason"])
            hold_planned(actor, rollout)
            events.log_change(actor, rollout, "pause", "status", old, RolloutStatus.PAUSED)
        events.emit("rollout.paused", rollout)
    return rollout


def resume(actor: Actor, rollout_id: Any) -> Rollout:
    """Held tasks of released waves continue (later waves wait for their release); a
    maintenance-window task whose latest start passed moves to the next occurrence (R12)."""
    rollout, part = _steerable(actor, rollout_id)
    with transaction.atomic():
        rollout = _locked(rollout)
        if part is not None:
            if rollout.status == RolloutStatus.PAUSED:
                raise _refuse("paused_for_all")
            if part not in (rollout.paused_partners or []):
                raise _refuse("not_paused")
            rollout.paused_partners = [p for p in rollout.paused_partners if p != part]
            rollout.save(update_fields=["paused_partners"])
            unhold_released(actor, rollout, partner_id=part)
            events.log_change(
                actor, rollout, "resume", "status", "paused", rollout.status, partner_ids=[part]
            )
        else:
            if rollout.status != RolloutStatus.PAUSED:
                raise _refuse("not_paused")
            started = (
                UpdateTask.objects.filter(rollout=rollout)
                .exclude(status__in=[Status.PLANNED, Status.HELD])
                .exists()
            )
            rollout.status = RolloutStatus.RUNNING if started else RolloutStatus.SCHEDULED
            rollout.paused_reason, rollout.paused_partners = "", []
            # The error budget starts afresh: what failed before the resume is known.
            ended = UpdateTask.objects.filter(rollout=rollout, status__in=ENDED_STATUSES)
            rollout.budget_ended_base = ended.count()
            rollout.budget_failed_base = ended.filter(status=Status.FAILED).count()
            rollout.save(
                update_fields=[
                    "status",
                    "paused_reason",
                    "paused_partners",
                    "budget_ended_base",
                    "budget_failed_base",
                ]
            )
            unhold_released(actor, rollout)
            events.log_change(
                actor, rollout, "resume", "status", RolloutStatus.PAUSED, rollout.status
            )
        events.emit("rollout.resumed", rollout)
        settle(rollout)
    return rollout


def abort(actor: Actor, rollout_id: Any) -> Rollout:
    """Every planned or held task is cancelled, with the cancellation e-mails of R16 to
    whoever was told a date; running tasks finish."""
    rollout, part = _steerable(actor, rollout_id)
    with transaction.atomic():
        rollout = _locked(rollout)
        if rollout.status in FINAL_ROLLOUT_STATUSES:
            raise _refuse("finished")
        _cancelled, announced = cancel_open(actor, rollout, partner_id=part)
        if part is None:
            old = rollout.status
            at = utcnow()
            rollout.status, rollout.paused_partners = RolloutStatus.ABORTED, []
            rollout.save(update_fields=["status", "paused_partners"])
            rollout.waves.exclude(status=WaveStatus.ENDED).update(
                status=WaveStatus.ENDED, ended_at=at
            )
            events.log_change(actor, rollout, "abort", "status", old, RolloutStatus.ABORTED)
        else:
            if part in (rollout.paused_partners or []):
                rollout.paused_partners = [p for p in rollout.paused_partners if p != part]
                rollout.save(update_fields=["paused_partners"])
            events.log_change(
                actor, rollout, "abort", "status", rollout.status, "aborted", partner_ids=[part]
            )
        if announced:
            notify.notify_tasks_cancelled(announced)
        events.emit("rollout.aborted", rollout)
        if part is not None:
            settle(rollout)
    return rollout


def retry_failed(actor: Actor, rollout_id: Any) -> Rollout:
    """One new rollout with the same options over the rollout's failed tenants (those the
    caller sees), in one wave; Custom time rollouts retry Immediately."""
    from ucfleet.updates.planning import ScheduleRequest
    from ucfleet.updates.services.creating import schedule_updates  # creating imports us

    rollout, _part = _steerable(actor, rollout_id)
    failed = list(
        rollout_tasks(actor, rollout)
        .filter(status=Status.FAILED)
        .order_by("tenant_id")
        .values_list("tenant_id", "pk")
    )
    if not failed:
        raise _refuse("no_failures")
    old_task = dict(failed)
    tenant_ids = sorted(old_task)
    request = ScheduleRequest(
        timing=Timing.IMMEDIATE if rollout.timing == Timing.CUSTOM else rollout.timing,
        target_version=rollout.target_version_id,
        tenant_ids=tenant_ids,
        includes_partners=True,
        task_type=rollout.task_type,
        forced=rollout.forced,
        redeploy=rollout.redeploy,
        notify_partner=rollout.notify_partner,
        notify_customer=rollout.notify_customer,
        confirm_downgrade=True,
        confirm_auto_update_disabled=True,
        wait_for_idle=rollout.wait_for_idle,
        name=_("%(name)s (retry)") % {"name": rollout.name},
        soak_minutes=rollout.soak_minutes,
        max_failures=rollout.max_failures,
        max_failure_percent=rollout.max_failure_percent,
    )
    with transaction.atomic():
        result = schedule_updates(
            actor,
            request,
            selection={"retry_of": rollout.pk, "tenants": tenant_ids[:1000]},
        )
        if result.rollout is None:
            skip = result.skipped[0]
            raise Conflict(skip.text, code=skip.reason)
        for task_id, tenant_id in result.created.values_list("pk", "tenant_id"):
            UpdateTask.objects.filter(pk=task_id).update(retry_of_id=old_task[tenant_id])
        events.log_change(
            actor,
            rollout,
            "retry",
            "retried_as",
            "",
            result.rollout.pk,
            partner_ids=events.partner_ids_of(result.rollout),
        )
    return result.rollout
