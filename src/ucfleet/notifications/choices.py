from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What an e-mail is about and to whom; each has a template per language."""

    CREATED_PARTNER = "created_partner", _("Tasks created (partner)")
    CREATED_CUSTOMER = "created_customer", _("Task created (customer)")
    CANCELLED_PARTNER = "cancelled_partner", _("Tasks cancelled (partner)")
    CANCELLED_CUSTOMER = "cancelled_customer", _("Task cancelled (customer)")
    RESCHEDULED_PARTNER = "rescheduled_partner", _("Tasks rescheduled (partner)")
    RESCHEDULED_CUSTOMER = "rescheduled_customer", _("Task rescheduled (customer)")
    FAILED_PARTNER = "failed_partner", _("Task failed (partner)")
    # R26: a restore failed; the platform administrators must look at the tenant now.
    TENANT_NEEDS_ATTENTION = "tenant_needs_attention", _("Tenant needs attention (platform)")
    # R21: a rollout exceeded its error budget and paused itself.
    ROLLOUT_PAUSED = "rollout_paused", _("Rollout paused (platform)")


# E-mails to platform administrators only: partner administrators do not see them (R1).
PLATFORM_KINDS = (Kind.TENANT_NEEDS_ATTENTION, Kind.ROLLOUT_PAUSED)


class Status(models.TextChoices):
    QUEUED = "queued", _("queued")
    # Claimed by a sender that is handing it to the SMTP server right now.
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
