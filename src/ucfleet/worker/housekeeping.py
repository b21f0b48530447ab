"""Work the worker process does besides tasks: the e-mail and webhook outboxes and change-log
retention. It runs in the worker's loop, never on the heartbeat's thread."""

from __future__ import annotations

import logging
import time

from ucfleet.audit.services import purge_expired
from ucfleet.notifications.failures import compose_due as compose_failure_digests
from ucfleet.notifications.failures import purge_told
from ucfleet.notifications.sender import MailSession, send_due
from ucfleet.rollouts.services import release_due_waves
from ucfleet.webhooks import delivery as webhooks

log = logging.getLogger(__name__)

# E-mails claimed per call; one SMTP connection serves the whole turn.
MAIL_BATCH = 500
# A full batch means more is waiting: keep sending, but give the task loop its turn after
# this long (a 100,000-tenant request queues 100,000 customer e-mails). The sender checks
# it before every message, so a slow relay overruns it by one SMTP transaction at most.
MAIL_SECONDS_PER_TURN = 5.0
PURGE_EVERY_SECONDS = 3600.0
# The outboxes and waves are looked at at most this often, however short the poll: a short
# poll is for claiming freed slots soon, and a look is some ten statements on the loop's
# thread, which outcomes and claims wait behind (bench/fleet.py polls every 0.2 s).
MIN_MAIL_SECONDS = 1.0
# Webhooks per turn, and the time they may take (plus one request's timeout): a receiver
# that does not answer must not hold up the claiming of tasks.
WEBHOOK_BATCH = 50
WEBHOOK_SECONDS_PER_TURN = 5.0


class Housekeeping:
    """Releases due rollout waves and sends due e-mails and webhooks at most once per
    `mail_every` seconds, and purges the change log at most once an hour. Failures are
    logged, never fatal: tasks go on."""

    def __init__(self, *, mail_every: float, purge_every: float = PURGE_EVERY_SECONDS) -> None:
        self.mail_every = max(mail_every, MIN_MAIL_SECONDS)
        self.purge_every = purge_every
        self._next_mail = 0.0
        self._next_purge = 0.0

    def tick(self, *, force_mail: bool = False) -> None:
        now = time.monotonic()
        if force_mail or now >= self._next_mail:
            # Once a poll interval (a second at least), not every turn: a busy worker turns
            # many times a second.
            self._next_mail = now + self.mail_every
            try:
                release_due_waves()  # rollouts: release held waves whose turn came (R20)
            except Exception:
                log.exception("releasing rollout waves failed; retrying next turn")
            deadline = now + MAIL_SECONDS_PER_TURN
            try:
                compose_failure_digests()  # failures of closed hours: digests (§9)
            except Exception:
                log.exception("composing failure digests failed; retrying next turn")
            try:
                with MailSession() as session:
                    while (
                        send_due(limit=MAIL_BATCH, deadline=deadline, session=session) == MAIL_BATCH
                    ):
                        pass
                if time.monotonic() >= deadline:
                    self._next_mail = now  # the budget ran out, more may wait: send next turn
            except Exception:
                log.exception("sending due e-mails failed; retrying next turn")
            try:
                webhooks.send_due(limit=WEBHOOK_BATCH, seconds=WEBHOOK_SECONDS_PER_TURN)
            except Exception:
                log.exception("posting due webhooks failed; retrying next turn")
        if now >= self._next_purge:
            self._next_purge = now + self.purge_every
            try:
                purged = purge_expired()
                purge_told()
            except Exception:
                log.exception("purging the change log failed")
            else:
                if purged:
                    log.info("purged %d expired change-log entries", purged)
