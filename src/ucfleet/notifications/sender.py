"""Delivering the outbox over Django's e-mail framework (SMTP, or files in the demo).

The protocol, once (docs/decisions/0005-outbox-delivery.md says why):

1. Take back stale claims: a row in `sending` whose claim is older than the claim timeout
   belongs to a sender that died; it is queued again (or failed when out of attempts).
2. Claim: pick due rows (queued, next attempt passed), then one compare-and-set
   `UPDATE … SET status='sending', claim_token=T WHERE id IN (…) AND status='queued'`; the
   rows carrying T are ours. Correct on SQLite (writers are serialised) and PostgreSQL (the
   WHERE is re-checked on a row another transaction changed); SKIP LOCKED on PostgreSQL only
   keeps concurrent senders from picking the same candidates.
3. Send each claimed row with its idempotency key as Message-ID, then mark it sent by
   compare-and-set on (id, status='sending', claim_token=T). A transient failure goes back
   to the queue with capped exponential back-off until the retry window is used up; a
   permanent one (a 5xx about this message) is `failed` at once (`smtp.py` tells them apart).

A sender stops using its claim at half the timeout, so a live sender's rows are never taken
back while it still works on them.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, QuerySet

from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.choices import Status
from ucfleet.notifications.models import Notification
from ucfleet.notifications.smtp import (
    DeliveryFailed,
    Envelope,
    MailSession,
    as_failure,
    deliver,
    prepare,
    refused_note,
)

log = logging.getLogger("ucfleet.notifications")

# Accepted messages are marked sent in batches of this many, or after this long.
FLUSH_EVERY = 100
FLUSH_SECONDS = 1.0

LOST_SENDER_ERROR = (
    "The sender stopped while delivering this e-mail; it is sent again "
    "(if the first copy arrived, both carry the same Message-ID)."
)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, "UCFLEET", {}).get(name, default))


def claim_timeout() -> timedelta:
    return timedelta(seconds=_setting("OUTBOX_CLAIM_TIMEOUT_SECONDS", 300))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 30 s, 1 min, 2 min, … capped at 15 min (defaults)."""
    base = _setting("OUTBOX_BACKOFF_SECONDS", 30)
    cap = _setting("OUTBOX_BACKOFF_MAX_SECONDS", 900)
    return timedelta(seconds=min(cap, base * 2 ** min(max(0, attempts - 1), 64)))


def retry_window() -> timedelta:
    return timedelta(hours=_setting("OUTBOX_RETRY_HOURS", 24))


def attempts_budget() -> int:
    """The attempts after which a transient failure is final: the first number whose
    back-off waits so far add up to the retry window. Attempt n starts at least
    backoff(1) + … + backoff(n-1) after the first one (a sender that is down only makes the
    gaps longer), so the outbox keeps trying for at least the whole window; the count needs
    no extra column and restarts with a platform administrator's retry (attempts = 0)."""
    window = retry_window().total_seconds()
    waited, attempts = 0.0, 1
    while waited < window:
        step = backoff(attempts).total_seconds()
        if step <= 0:
            return 2**31  # no back-off configured: the window never fills; never give up
        if step >= _setting("OUTBOX_BACKOFF_MAX_SECONDS", 900):
            # Capped from here on: the rest of the window is a whole number of caps.
            return attempts + math.ceil((window - waited) / step)
        waited += step
        attempts += 1
    return attempts


def message_id(idempotency_key: str) -> str:
    """The key as Message-ID: the same on every attempt, so copies are recognisable."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "ucfleet.localhost"
    return f"<{idempotency_key}@{domain}>"


def build_message(
    notification: Notification, connection: BaseEmailBackend | None = None
) -> EmailMessage:
    return EmailMessage(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(notification.recipients),
        connection=connection,
        headers={
            "Message-ID": message_id(notification.idempotency_key),
            "Content-Language": notification.language,
            "Auto-Submitted": "auto-generated",
            "X-Ucfleet-Kind": notification.kind,
        },
    )


def take_back_stale_claims() -> int:
    """Rows left in `sending` by a sender that died are queued again (or failed)."""
    moment = utcnow()
    stale = Notification.objects.filter(
        status=Status.SENDING, claimed_at__lt=moment - claim_timeout()
    )
    if not stale.exists():  # the usual case: a read, no write
        return 0
    failed = stale.filter(attempts__gte=attempts_budget()).update(
        status=Status.FAILED, claim_token="", claimed_at=None, last_error=LOST_SENDER_ERROR
    )
    requeued = stale.update(
        status=Status.QUEUED,
        claim_token="",
        claimed_at=None,
        next_attempt_at=moment,
        last_error=LOST_SENDER_ERROR,
    )
    if failed or requeued:
        log.warning("outbox: took back %d stale claims (%d failed)", failed + requeued, failed)
    return failed + requeued


def _claim(*, due_at: datetime, limit: int, token: str) -> list[Notification]:
    due = Notification.objects.filter(status=Status.QUEUED, next_attempt_at__lte=due_at).order_by(
        "next_attempt_at", "id"
    )
    if db_connection.features.has_select_for_update_skip_locked:
        # PostgreSQL: concurrent senders skip each other's candidates (a speed-up only).
        with transaction.atomic():
            ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            _mark_claimed(ids, token)
    else:
        # SQLite: an idle outbox costs one read, no write lock.
        ids = list(due.values_list("pk", flat=True)[:limit])
        _mark_claimed(ids, token)
    if not ids:
        return []
    return list(
        Notification.objects.filter(pk__in=ids, claim_token=token, status=Status.SENDING).order_by(
            "next_attempt_at", "id"
        )
    )


def _mark_claimed(ids: list[int], token: str) -> None:
    """The compare-and-set that decides ownership: only rows still queued become ours."""
    if ids:
        Notification.objects.filter(pk__in=ids, status=Status.QUEUED).update(
            status=Status.SENDING,
            claim_token=token,
            claimed_at=utcnow(),
            attempts=F("attempts") + 1,
        )


def _ours(notification: Notification, token: str) -> QuerySet[Notification]:
    return Notification.objects.filter(pk=notification.pk, status=Status.SENDING, claim_token=token)


def _mark_sent(notification: Notification, token: str, *, note: str = "") -> bool:
    changes = {"status": Status.SENT, "sent_at": utcnow(), "claim_token": "", "claimed_at": None}
    if note:  # some recipients refused it for good: the outbox shows which and why
        changes["last_error"] = note
    is_ours = _ours(notification, token).update(**changes) == 1
    if not is_ours:
        # Our claim was taken back while we sent: another sender may send it again.
        log.warning("outbox: e-mail %s was sent after its claim expired", notification.pk)
    return is_ours


def _mark_all_sent(ids: list[int], token: str) -> int:
    """Accepted messages marked sent in one compare-and-set (still ours: sending, our token)."""
    if not ids:
        return 0
    marked = Notification.objects.filter(
        pk__in=ids, status=Status.SENDING, claim_token=token
    ).update(status=Status.SENT, sent_at=utcnow(), claim_token="", claimed_at=None)
    if marked != len(ids):
        log.warning("outbox: %d e-mails were sent after their claim expired", len(ids) - marked)
    return marked


class _Accepted:
    """Messages the server accepted, marked sent together: one UPDATE per `FLUSH_EVERY`
    messages or `FLUSH_SECONDS`, whichever comes first, and before anything else is
    written. A sender that dies in between leaves at most that many accepted rows in
    `sending`; they are sent again with the same Message-ID after the claim timeout —
    decision 0005's at-least-once window, a batch wide instead of one message."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.ids: list[int] = []
        self.marked = 0
        self._since = time.monotonic()

    def add(self, pk: int) -> None:
        self.ids.append(pk)
        if len(self.ids) >= FLUSH_EVERY or time.monotonic() - self._since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.marked += _mark_all_sent(self.ids, self.token)
        self.ids = []
        self._since = time.monotonic()


def _mark_failed(
    notification: Notification, token: str, failure: DeliveryFailed, *, due_at: datetime
) -> None:
    attempts = notification.attempts  # read after the claim, which counted this attempt
    if failure.permanent or attempts >= attempts_budget():
        text = failure.text
        if not failure.permanent:
            text = f"{text} (still failing after {attempts} attempts over the retry window)"
        _ours(notification, token).update(
            status=Status.FAILED, last_error=text[:2000], claim_token="", claimed_at=None
        )
        log.error("outbox: e-mail %s failed for good: %s", notification.pk, text)
    else:
        _ours(notification, token).update(
            status=Status.QUEUED,
            last_error=failure.text,
            claim_token="",
            claimed_at=None,
            next_attempt_at=due_at + backoff(attempts),
        )


def _release(notifications: list[Notification], token: str) -> None:
    """Hand back claimed rows we did not try: they keep their place and their attempts."""
    Notification.objects.filter(
        pk__in=[n.pk for n in notifications], status=Status.SENDING, claim_token=token
    ).update(status=Status.QUEUED, claim_token="", claimed_at=None, attempts=F("attempts") - 1)


def send_due(
    *,
    limit: int = 100,
    now: datetime | None = None,
    deadline: float | None = None,
    session: MailSession | None = None,
) -> int:
    """Send up to `limit` due e-mails; returns how many the mail server accepted.

    The worker calls this every loop turn. `now` decides what is due (tests pass a later
    time instead of waiting for a back-off); claims always use the real clock. `deadline`
    (a `time.monotonic()` value) is checked before each message: what is left then is handed
    back untried, so a slow mail server holds the caller up by one message at most.
    `session` keeps one SMTP connection across calls; without it the call opens its own.
    """
    if deadline is not None and time.monotonic() >= deadline:
        return 0
    take_back_stale_claims()
    due_at = now or utcnow()
    token = uuid.uuid4().hex
    claimed = _claim(due_at=due_at, limit=limit, token=token)
    if not claimed:
        return 0
    own = session is None
    mail_session = session or MailSession()
    try:
        return _send_claimed(claimed, token, mail_session, due_at=due_at, deadline=deadline)
    finally:
        if own:
            mail_session.close()


def _send_claimed(
    claimed: list[Notification],
    token: str,
    session: MailSession,
    *,
    due_at: datetime,
    deadline: float | None,
) -> int:
    # Stop at half the claim timeout so that no one takes back rows we still work on.
    stop_at = time.monotonic() + claim_timeout().total_seconds() / 2
    if deadline is not None:
        stop_at = min(stop_at, deadline)
    accepted = _Accepted(token)
    noted = 0
    # The messages are built in a second thread while this one waits for the server's
    # answers (building needs no database); a message that cannot be built fails its row.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-build") as builder:
        built = builder.map(_prepared, claimed)
        try:
            noted = _deliver_all(
                claimed, built, token, session, accepted, due_at=due_at, stop_at=stop_at
            )
        finally:
            builder.shutdown(cancel_futures=True)
    accepted.flush()
    return accepted.marked + noted


def _prepared(notification: Notification) -> Envelope | Exception:
    try:
        return prepare(build_message(notification))
    except Exception as error:  # this message's failure, handled where it is sent
        return error


def _deliver_all(
    claimed: list[Notification],
    built: Iterator[Envelope | Exception],
    token: str,
    session: MailSession,
    accepted: _Accepted,
    *,
    due_at: datetime,
    stop_at: float,
) -> int:
    noted = 0
    for index, (notification, envelope) in enumerate(zip(claimed, built, strict=True)):
        if time.monotonic() > stop_at:
            accepted.flush()
            _release(claimed[index:], token)
            break
        try:
            mail = session.open()
        except Exception as error:  # no server: every claimed row failed
            accepted.flush()
            failure = as_failure(error)
            for rest in claimed[index:]:
                _mark_failed(rest, token, failure, due_at=due_at)
            return noted
        try:
            if isinstance(envelope, Exception):
                raise envelope
            refused = deliver(mail, envelope)
        except Exception as error:  # any failure is this attempt's failure
            accepted.flush()
            _mark_failed(notification, token, as_failure(error), due_at=due_at)
            if not isinstance(error, DeliveryFailed):  # else the session was reset cleanly
                session.discard()
            continue
        if refused:  # accepted for some recipients only: its own row, with the note
            accepted.flush()
            noted += _mark_sent(notification, token, note=refused_note(refused))
        else:
            accepted.add(notification.pk)
    return noted
