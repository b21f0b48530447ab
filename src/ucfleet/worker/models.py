"""Worker processes as rows: who is alive is read from heartbeats (docs/worker.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerStatus(models.TextChoices):
    ALIVE = "alive", _("alive")
    STOPPED = "stopped", _("stopped")
    LOST = "lost", _("lost")


class Worker(models.Model):
    """One running (or once running) worker process.

    `name` is what `UpdateTask.claimed_by` holds; a worker whose `heartbeat` is older than the
    TTL is declared lost by any other worker, which fails the tasks it held (R14).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    hostname = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process ID"))
    concurrency = models.PositiveIntegerField(_("concurrency"))
    status = models.CharField(
        _("status"), max_length=16, choices=WorkerStatus.choices, default=WorkerStatus.ALIVE
    )
    started = models.DateTimeField(_("started"))
    heartbeat = models.DateTimeField(_("last heartbeat"))
    stopped = models.DateTimeField(_("stopped"), null=True, blank=True)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "heartbeat"], name="worker_liveness")]

    def __str__(self) -> str:
        return self.name
