from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeLogEntry(models.Model):
    """Who changed what and when; kept for the configured retention (90 days)."""

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        "accounts.Administrator", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The name survives the administrator's deletion; "system" for the worker.
    actor_name = models.CharField(_("user"), max_length=150)
    action = models.CharField(_("action"), max_length=40)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.CharField(_("object ID"), max_length=64)
    field = models.CharField(_("field"), max_length=64, blank=True)
    old = models.TextField(_("old value"), blank=True)
    new = models.TextField(_("new value"), blank=True)
    # Entries one bulk action wrote about several objects (same call of `record_many`, same
    # action and object type) share a key: the change log shows them as one line (R31).
    # Null for an entry that stands alone.
    group = models.CharField(_("group"), max_length=32, null=True, blank=True)
    # Scope for partner administrators: entries about one partner's objects (R1).
    partner = models.ForeignKey(
        "tenants.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("change log entry")
        verbose_name_plural = _("change log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="changelog_object"),
            # Equality only: no pattern index beside it (db_index=True on a CharField adds one).
            models.Index(fields=["group"], name="changelog_group"),
        ]
