from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskType(models.TextChoices):
    UPDATE = "update", _("Update")
    RECREATE = "recreate", _("Re-create")


class Timing(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately")
    MAINTENANCE_WINDOW = "maintenance_window", _("Maintenance window (server time)")
    CUSTOM = "custom", _("Custom time")


class Status(models.TextChoices):
    PLANNED = "planned", _("planned")
    IN_PROGRESS = "in_progress", _("in progress")
    EXECUTED = "executed", _("executed")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")
    # R20: a task of a wave not yet released, or of a paused rollout; it exists (R4 counts
    # it) but no worker claims it (the due query reads `planned` only).
    HELD = "held", _("held")


OPEN_STATUSES = (Status.PLANNED, Status.IN_PROGRESS, Status.HELD)
# A task in one of these has ended; its rollout's hooks count it (rollouts.hooks).
ENDED_STATUSES = (Status.EXECUTED, Status.FAILED, Status.CANCELLED)


class SkipReason(models.TextChoices):
    """Stable codes (API.md) with the readable text shown beside them."""

    OPEN_TASK_EXISTS = "open_task_exists", _("The UC tenant already has an open update task.")
    AUTO_UPDATE_DISABLED = (
        "auto_update_disabled",
        _(
            "Automatic update is not allowed for this UC tenant; update it on its own after "
            "confirming."
        ),
    )
    VERSION_PROHIBITED = "version_prohibited", _("Updates to this software version are prohibited.")
    LANGUAGE_UNSUPPORTED = (
        "language_unsupported",
        _("The software version does not offer the UC tenant's language."),
    )
    SAME_VERSION = (
        "same_version",
        _("The UC tenant already runs this version; choose Redeployment to redeploy it."),
    )
    DOWNGRADE_NOT_CONFIRMED = (
        "downgrade_not_confirmed",
        _("Compatibility with older versions cannot be guaranteed."),
    )
    TEST_VERSION_FORBIDDEN = (
        "test_version_forbidden",
        _("Test versions are available to platform administrators only."),
    )
    # R19: not a skip of one tenant but the whole filter: the request is a 400 naming it.
    FILTER_MATCHED_NONE = "filter_matched_none", _("No UC tenant matches the filter.")


class WarningCode(models.TextChoices):
    NO_CUSTOMER_EMAIL = (
        "no_customer_email",
        _("The UC tenant has no e-mail address for notifications; the customer gets no e-mail."),
    )
    DOWNGRADE = "downgrade", _("Compatibility with older versions cannot be guaranteed.")
    AUTO_UPDATE_DISABLED = (
        "auto_update_disabled",
        _("Automatic update is not allowed for this UC tenant; it is updated as confirmed."),
    )


class AttemptOutcome(models.TextChoices):
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    INTERRUPTED = "interrupted", _("interrupted")
    # R25: the pre-check found active calls; the task waits (planned) for another attempt.
    WAITING = "waiting", _("waiting")


class StepName(models.TextChoices):
    """The steps of the driver contract (docs/drivers.md), as on the wire."""

    PRE_CHECK = "pre_check", _("Pre-check")
    BACKUP = "backup", _("Backup")
    UPDATE = "update", _("Update")
    REDEPLOY = "redeploy", _("Redeploy")
    HEALTH_CHECK = "health_check", _("Health check")
    RESTORE = "restore", _("Restore")


class StepOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
