from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from ucfleet.rollouts.choices import RolloutStatus, WaveStatus
from ucfleet.updates.choices import TaskType, Timing


class Rollout(models.Model):
    """One request that created update tasks (R18): its options, waves and error budget.

    Every task of a rollout carries the rollout's `request_id`, so code that works "per
    request" (the partner digest R15, failure digests) works per rollout.
    """

    name = models.CharField(_("name"), max_length=200)
    created_by = models.ForeignKey(
        "accounts.Administrator",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created = models.DateTimeField(_("created"), db_index=True)
    target_version = models.ForeignKey(
        "versions.SoftwareVersion",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("target version"),
    )
    timing = models.CharField(_("timing"), max_length=24, choices=Timing.choices)
    task_type = models.CharField(
        _("task type"), max_length=16, choices=TaskType.choices, default=TaskType.UPDATE
    )
    forced = models.BooleanField(_("Forced update"), default=False)
    redeploy = models.BooleanField(_("Redeployment"), default=False)
    notify_partner = models.BooleanField(_("Send E-mail"), default=False)
    notify_customer = models.BooleanField(_("Send e-mail (customer)"), default=False)
    wait_for_idle = models.BooleanField(_("Wait until no calls are active"), default=True)
    soak_minutes = models.PositiveIntegerField(_("soak time (minutes)"), default=0)
    max_failures = models.PositiveIntegerField(_("maximum failures"), null=True, blank=True)
    max_failure_percent = models.FloatField(_("maximum failure percentage"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RolloutStatus.choices, default=RolloutStatus.SCHEDULED
    )
    paused_reason = models.TextField(_("paused because"), blank=True, default="")
    # What the rollout was made from: {"tenants": [...]} | {"partner": id} | {"all": true}
    # | {"filter": {...}}; retry-failed writes {"retry_of": id, "tenants": [...]}.
    selection = models.JSONField(_("selection"), default=dict, blank=True)
    custom_start = models.DateTimeField(_("start"), null=True, blank=True)
    request_id = models.UUIDField(default=uuid.uuid4, unique=True)
    # Partners whose administrators paused their part of a rollout that also concerns other
    # partners (R18, R22): their tasks stay held; waves release the others' tasks.
    paused_partners = models.JSONField(default=list, blank=True)
    # R21 after a resume: the error budget counts the failures (and ended tasks) since the
    # last resume; these are the counts at that resume.
    budget_failed_base = models.PositiveIntegerField(default=0)
    budget_ended_base = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("rollout")
        verbose_name_plural = _("rollouts")
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "created"], name="rollout_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def error_budget(self) -> dict[str, float | int] | None:
        if self.max_failures is not None:
            return {"max_failures": self.max_failures}
        if self.max_failure_percent is not None:
            return {"max_failure_percent": self.max_failure_percent}
        return None


class RolloutWave(models.Model):
    """One wave of a rollout (R20); wave 1 is released at creation, later ones are held."""

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="waves")
    index = models.PositiveSmallIntegerField(_("wave"))
    size = models.PositiveIntegerField(_("size"))
    status = models.CharField(
        _("status"), max_length=16, choices=WaveStatus.choices, default=WaveStatus.HELD
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("wave")
        verbose_name_plural = _("waves")
        ordering = ["rollout", "index"]
        constraints = [
            models.UniqueConstraint(fields=["rollout", "index"], name="one_wave_per_index"),
        ]

    def __str__(self) -> str:
        return f"wave {self.index} of rollout {self.rollout_id}"
