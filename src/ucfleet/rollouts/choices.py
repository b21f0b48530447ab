from django.db import models
from django.utils.translation import gettext_lazy as _


class RolloutStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    RUNNING = "running", _("running")
    PAUSED = "paused", _("paused")
    COMPLETED = "completed", _("completed")
    ABORTED = "aborted", _("aborted")


# A rollout in one of these may still start tasks, be paused or aborted.
ACTIVE_ROLLOUT_STATUSES = (RolloutStatus.SCHEDULED, RolloutStatus.RUNNING)
FINAL_ROLLOUT_STATUSES = (RolloutStatus.COMPLETED, RolloutStatus.ABORTED)


class WaveStatus(models.TextChoices):
    HELD = "held", _("held")
    RELEASED = "released", _("released")
    ENDED = "ended", _("ended")
