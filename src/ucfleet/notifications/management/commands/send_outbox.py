"""`ucfleet send-outbox`: deliver the e-mail outbox and the webhook outbox on its own.

The worker process already sends the outbox every loop turn; this command is for sending
without a worker (a dedicated sender, or `--burst` from scripts and tests).
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connection

from ucfleet.notifications.failures import compose_due
from ucfleet.notifications.sender import MailSession, send_due
from ucfleet.webhooks import delivery as webhooks

log = logging.getLogger("ucfleet.notifications")


class Command(BaseCommand):
    help = "Send due e-mails (R17) and webhooks (R30); --burst stops when nothing is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--burst", action="store_true", help="stop as soon as no e-mail could be sent"
        )
        parser.add_argument(
            "--limit", type=int, default=500, help="e-mails claimed per turn (default 500)"
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=float(getattr(settings, "UCFLEET", {}).get("WORKER_POLL_SECONDS", 1.0)),
            help="seconds to wait when the outbox is idle",
        )

    def handle(self, *args: Any, burst: bool, limit: int, poll: float, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True  # finish the turn in hand: no claim is left behind

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        total = 0
        with MailSession() as session:
            while not stopping:
                try:
                    compose_due()  # failure digests of the hours that closed (decision 0008)
                    sent = send_due(limit=limit, session=session) + webhooks.send_due(limit=limit)
                except DatabaseError:
                    # The database went away (a restart, a fail-over): drop the connection and
                    # try again, like the worker. A claim cut short is taken back after the
                    # claim timeout (decision 0005); nothing is lost.
                    if burst:
                        raise
                    log.exception("database error in send-outbox; retrying")
                    session.close()
                    connection.close()
                    time.sleep(poll)
                    continue
                total += sent
                if sent == 0:
                    session.close()  # idle: no connection held open meanwhile
                    if burst:
                        break
                    time.sleep(poll)
        self.stdout.write(f"sent {total} e-mail(s) and webhook(s)")
