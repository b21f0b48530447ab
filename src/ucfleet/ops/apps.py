from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operating ucfleet: metrics, health probes, request logs, backups (R29)."""

    name = "ucfleet.ops"
    label = "ops"
