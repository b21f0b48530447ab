import logging

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operating ucfleet: metrics, health probes, request logs, backups (R29)."""

    name = "ucfleet.ops"
    label = "ops"

    def ready(self) -> None:
        from django.conf import settings

        if settings.UCFLEET.get("LOG_FORMAT") == "json":
            logging.captureWarnings(True)
