from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ucfleet.core.models import TimestampedModel


class MaintenanceWindow(TimestampedModel):
    """The platform's recurring weekly window for UC tenant tasks (a single row).

    Its time zone is the platform's server time, used everywhere times are shown.
    """

    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    expected_task_minutes = models.PositiveIntegerField(
        _("expected task duration (minutes)"), default=30
    )

    class Meta:
        verbose_name = _("maintenance window for UC tenants")


class WindowSlot(models.Model):
    """One weekly recurrence: these weekdays (0 = Monday), this local start, this long."""

    window = models.ForeignKey(MaintenanceWindow, on_delete=models.CASCADE, related_name="slots")
    weekdays = models.JSONField(_("weekdays"))
    start = models.TimeField(_("start"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))

    class Meta:
        ordering = ["id"]


class PlatformMaintenance(TimestampedModel):
    """A one-off period in which the platform itself is serviced (R8)."""

    start = models.DateTimeField(_("start"), db_index=True)
    end = models.DateTimeField(_("end"), db_index=True)
    message_en = models.TextField(_("message (English)"), blank=True)
    message_de = models.TextField(_("message (German)"), blank=True)
    created_by = models.ForeignKey(
        "accounts.Administrator", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("platform maintenance")
        verbose_name_plural = _("platform maintenances")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                name="maintenance_ends_after_start", condition=models.Q(end__gt=models.F("start"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"

    def message(self, language: str) -> str:
        return (self.message_de if language == "de" else self.message_en) or self.message_en
