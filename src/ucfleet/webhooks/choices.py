"""The events an endpoint can subscribe to (API.md "Operations") and a delivery's states."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    TASK_STATUS_CHANGED = "task.status_changed", _("Task status changed")
    TASK_FAILED = "task.failed", _("Task failed")
    ROLLOUT_PAUSED = "rollout.paused", _("Rollout paused")
    ROLLOUT_RESUMED = "rollout.resumed", _("Rollout resumed")
    ROLLOUT_COMPLETED = "rollout.completed", _("Rollout completed")
    ROLLOUT_ABORTED = "rollout.aborted", _("Rollout aborted")
    MAINTENANCE_CREATED = "maintenance.created", _("Platform maintenance created")
    MAINTENANCE_CHANGED = "maintenance.changed", _("Platform maintenance changed")


# `"events": ["*"]` subscribes to every event, including ones added later.
ALL_EVENTS = "*"
# What "Send test event" sends; no endpoint subscribes to it, it goes to the one asked.
TEST_EVENT = "webhook.test"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    # Claimed by a sender that is posting it right now.
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
