from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ucfleet.core.models import TimestampedModel
from ucfleet.webhooks.choices import DeliveryStatus

MAX_URL_LENGTH = 2000


class WebhookEndpoint(TimestampedModel):
    """A receiver of events (R30): the platform's (partner null, every event) or a partner's
    (only events about its own tenants, R1). docs/webhooks.md describes the protocol."""

    url = models.CharField(_("URL"), max_length=MAX_URL_LENGTH)
    events = models.JSONField(_("events"), default=list)
    partner = models.ForeignKey(
        "tenants.Partner",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Kept in clear: signing needs it. Shown once, when it is created; never in an answer.
    secret = models.CharField(max_length=200)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint in the outbox: written in the transaction of the change
    that causes it, posted after commit by `delivery.send_due` (the e-mail outbox's claim
    protocol). Its id is the `X-Ucfleet-Delivery` header, the same on every attempt."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(_("event"), max_length=64)
    # The exact bytes posted (UTF-8 JSON): the signature is over them, on every attempt.
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at", "id"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "created"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"
