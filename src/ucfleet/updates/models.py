from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ucfleet.updates.choices import (
    OPEN_STATUSES,
    AttemptOutcome,
    Status,
    StepName,
    StepOutcome,
    TaskType,
    Timing,
)


class UpdateTask(models.Model):
    """One update (or re-create) of one tenant; the worker's queue is this table (R11).

    `partner` repeats the tenant's partner (fixed after creation) so that scoping and the
    task list filter without a join.
    """

    # No single-column indexes where a composite index below starts with the column
    # (task_tenant_status, task_partner, task_rollout_wave): every index is written on every
    # status change, twice a task (docs/worker.md).
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    partner = models.ForeignKey(
        "tenants.Partner", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    task_type = models.CharField(
        _("task type"), max_length=16, choices=TaskType.choices, default=TaskType.UPDATE
    )
    target_version = models.ForeignKey(
        "versions.SoftwareVersion",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("target version"),
    )
    from_version = models.ForeignKey(
        "versions.SoftwareVersion",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("previous version"),
    )
    timing = models.CharField(_("timing"), max_length=24, choices=Timing.choices)
    earliest_start = models.DateTimeField(_("start"))
    latest_start = models.DateTimeField(_("latest start"), null=True, blank=True)
    is_forced = models.BooleanField(_("Forced update"), default=False)
    redeploy = models.BooleanField(_("Redeployment"), default=False)
    notify_partner = models.BooleanField(_("Send E-mail"), default=False)
    notify_customer = models.BooleanField(_("Send e-mail (customer)"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    # Failed tasks that an administrator deleted leave the list but stay for the record.
    is_archived = models.BooleanField(default=False)
    scheduled_by = models.ForeignKey(
        "accounts.Administrator",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("scheduled by"),
    )
    # All tasks made by one request share it: one digest e-mail per request (R15).
    request_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(_("created"), db_index=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=500, blank=True)
    # The worker holding the task while it is in progress (worker.md describes the claim).
    claimed_by = models.CharField(max_length=100, blank=True)
    # R25: wait while the tenant has active calls. A waiting task stays planned, says why
    # in `waiting_reason` ("busy: 3 active calls") and is not due before `next_check`;
    # `busy_since` is its first busy pre-check (an Immediately task waits that long at most).
    # Database defaults: the bulk insert of services.schedule_updates names its columns.
    wait_for_idle = models.BooleanField(
        _("Wait until no calls are active"), default=True, db_default=True
    )
    waiting_reason = models.CharField(
        _("waiting reason"), max_length=100, blank=True, default="", db_default=""
    )
    next_check = models.DateTimeField(null=True, blank=True)
    busy_since = models.DateTimeField(null=True, blank=True)
    # R18/R20: the rollout that created the task (null for tasks older than rollouts) and
    # the task's wave in it (from 1). The task carries the rollout's request_id as well.
    rollout = models.ForeignKey(
        "rollouts.Rollout",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("rollout"),
        db_index=False,
    )
    wave = models.PositiveSmallIntegerField(_("wave"), null=True, blank=True)

    class Meta:
        verbose_name = _("update task")
        verbose_name_plural = _("update tasks")
        ordering = ["earliest_start", "id"]
        constraints = [
            # R4: at most one planned, held or in-progress task per tenant, whoever races.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status__in=list(OPEN_STATUSES)),
                name="one_open_task_per_tenant",
            ),
            models.CheckConstraint(
                name="latest_start_not_before_earliest",
                condition=Q(latest_start__isnull=True)
                | Q(latest_start__gte=models.F("earliest_start")),
            ),
        ]
        indexes = [
            # The worker's due query and the list's default order. The included columns
            # (PostgreSQL), which every list filters on, let the bounded count of a status
            # (core.paging) read the index alone: 18 → 1.5 ms at 1,000,000 tasks.
            models.Index(
                fields=["status", "earliest_start", "created", "id"],
                include=["is_archived", "task_type"],
                name="task_due",
            ),
            # The task list's default order over every status (first page without a sort).
            models.Index(fields=["earliest_start", "id"], name="task_list_order"),
            # A partner's tasks; its count from the index alone too (23 → 2.3 ms).
            models.Index(
                fields=["partner", "status", "earliest_start"],
                include=["is_archived", "task_type"],
                name="task_partner",
            ),
            models.Index(fields=["tenant", "status"], name="task_tenant_status"),
            # A rollout's counts per wave and status, its waves' ends, its release.
            models.Index(fields=["rollout", "wave", "status"], name="task_rollout_wave"),
            # The error budget's counts (failed, ended) of a rollout, whatever the wave.
            models.Index(fields=["rollout", "status"], name="task_rollout_status"),
            # The rollouts a partner administrator sees (those with a task of its partner).
            models.Index(fields=["partner", "rollout"], name="task_partner_rollout"),
            # The worker's missed-window sweep (R12), every poll: planned tasks with a latest
            # start only. Without it the sweep read every planned task's entry of task_due
            # (a whole platform's request of Immediately tasks has none).
            models.Index(
                fields=["latest_start", "id"],
                condition=Q(status=Status.PLANNED, latest_start__isnull=False),
                name="task_missed_window",
            ),
            # The dashboard's recent failures, newest first: failed tasks only, so a task's
            # other transitions never write it (without it: 80 ms at 1,000,000 tasks).
            models.Index(
                fields=["-finished", "-id"],
                condition=Q(status=Status.FAILED),
                name="task_recent_failures",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TaskAttempt(models.Model):
    """One execution of a task by a worker: its steps with timestamps and output (R13)."""

    task = models.ForeignKey(UpdateTask, on_delete=models.CASCADE, related_name="attempts")
    worker_name = models.CharField(max_length=100)
    started = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=AttemptOutcome.choices, default=AttemptOutcome.RUNNING
    )
    log = models.TextField(blank=True)

    class Meta:
        ordering = ["started", "id"]


class TaskStep(models.Model):
    """One step of an attempt as the driver ran it (R24): the task page's timeline."""

    attempt = models.ForeignKey(TaskAttempt, on_delete=models.CASCADE, related_name="steps")
    # Repeats the attempt's task so that a task's steps are read without a join.
    # Indexed by task_step_order, which starts with it.
    task = models.ForeignKey(
        UpdateTask, on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    step = models.CharField(max_length=16, choices=StepName.choices)
    started = models.DateTimeField()
    finished = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=StepOutcome.choices)
    output = models.TextField(blank=True)

    class Meta:
        ordering = ["started", "id"]
        indexes = [models.Index(fields=["task", "started", "id"], name="task_step_order")]

    def __str__(self) -> str:
        return f"{self.step} of task {self.task_id} ({self.outcome})"
