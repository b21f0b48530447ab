"""Work the worker process does besides tasks: the e-mail outbox and change-log retention."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable

from ucfleet.audit.services import purge_expired

log = logging.getLogger(__name__)

SENDER_MODULE = "ucfleet.notifications.sender"
MAIL_BATCH = 100
PURGE_EVERY_SECONDS = 3600.0


def find_mail_sender() -> Callable[..., int] | None:
    """`ucfleet.notifications.sender.send_due(*, limit) -> int` when that module provides it."""
    try:
        module = importlib.import_module(SENDER_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != SENDER_MODULE:
            raise
        return None
    return getattr(module, "send_due", None)


class Housekeeping:
    """Sends due e-mails at most once per `mail_every` seconds and purges the change log at
    most once an hour. Failures are logged, never fatal: tasks go on."""

    def __init__(self, *, mail_every: float, purge_every: float = PURGE_EVERY_SECONDS) -> None:
        self.send_due = find_mail_sender()
        self.mail_every = mail_every
        self.purge_every = purge_every
        self._next_mail = 0.0
        self._next_purge = 0.0

    def tick(self, *, force_mail: bool = False) -> None:
        now = time.monotonic()
        if self.send_due is not None and (force_mail or now >= self._next_mail):
            self._next_mail = now + self.mail_every
            try:
                self.send_due(limit=MAIL_BATCH)
            except Exception:
                log.exception("sending due e-mails failed; retrying next turn")
        if now >= self._next_purge:
            self._next_purge = now + self.purge_every
            try:
                purged = purge_expired()
            except Exception:
                log.exception("purging the change log failed")
            else:
                if purged:
                    log.info("purged %d expired change-log entries", purged)
