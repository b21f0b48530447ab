from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ucfleet.accounts.choices import Language
from ucfleet.notifications.choices import Kind, Status


class Notification(models.Model):
    """One e-mail in the outbox (R17): written in the transaction of the change that causes
    it, sent after commit by `sender.send_due`. docs/decisions/0005-outbox-delivery.md
    describes the claim and why delivery is at-least-once with a stable Message-ID.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # The partner the e-mail concerns: partner administrators see their partner's outbox (R1).
    partner = models.ForeignKey(
        "tenants.Partner", verbose_name=_("partner"), on_delete=models.CASCADE, related_name="+"
    )
    recipients = models.JSONField(_("recipients"), default=list)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("body"))
    tasks = models.ManyToManyField(
        "updates.UpdateTask", verbose_name=_("tasks"), blank=True, related_name="notifications"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    # Delivery attempts started (counted when a sender claims the row).
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(_("created"), db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # One key per message and event; it is also the Message-ID, so a copy delivered twice
    # (a sender that died between the SMTP answer and marking the row) is recognisable.
    idempotency_key = models.CharField(max_length=200, unique=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at", "id"], name="notification_due"),
            models.Index(fields=["partner", "created"], name="notification_partner"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {', '.join(self.recipients)}"


class PendingFailure(models.Model):
    """A task's failure, to be told to its partner's administrators in a digest: one e-mail
    per partner administrator per request (rollout) and hour (§9).

    Written in the transaction that fails the task, unique per (task, failure time): a
    failure reported twice is one row, a retried task that fails again is a new one.
    `failures.compose_due` claims the rows of a period that has closed by compare-and-set
    (`claim_token` from '' to its own) and queues their digest in the same transaction, so
    each failure is in exactly one digest whatever the number of worker processes
    (docs/decisions/0008-failure-digests.md). Told rows stay (with their token) so that a
    late second report of the same failure is still recognised, and are purged after
    `PURGE_TOLD_AFTER_DAYS`.
    """

    task = models.ForeignKey("updates.UpdateTask", on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey("tenants.Partner", on_delete=models.CASCADE, related_name="+")
    request_id = models.UUIDField()
    # The start of the digest period the failure fell into (server clock, UTC).
    period = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    # The task's `finished` when it failed (what the digest shows), and the failure's
    # identity with the task: `finished`, or the task's planned start if it had none.
    finished = models.DateTimeField(null=True)
    failed_at = models.DateTimeField()
    # '' while waiting; the composing transaction's token once told.
    claim_token = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "failed_at"], name="pending_failure_once")
        ]
        indexes = [
            models.Index(fields=["claim_token", "period"], name="pending_failure_due"),
        ]

    def __str__(self) -> str:
        return f"failure of task {self.task_id} at {self.failed_at:%Y-%m-%d %H:%M:%S}"
