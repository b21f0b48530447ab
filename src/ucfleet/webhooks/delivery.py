"""Posting the webhook outbox (R30) with the e-mail outbox's guarantees.

The claim protocol is the e-mail sender's (notifications/sender.py, decision 0005): stale
claims are taken back, due rows are claimed by one compare-and-set on status, each posted
row is marked by compare-and-set on (id, status='sending', claim_token). The back-off is
the e-mail's (`sender.backoff`, the OUTBOX_BACKOFF settings); what differs is the answer:

- 2xx: sent.
- 4xx except 408 and 429, a redirect (not followed: it could lead anywhere), a URL that
  cannot be posted: failed at once, the answer as the reason; retrying would not help.
- 5xx, 408, 429, timeouts, connection and TLS errors: queued again after the back-off,
  until the delivery is older than WEBHOOKS_RETRY_HOURS (24 h); the next failure fails it.

Delivery is at least once: a sender that dies between the receiver's answer and marking
the row posts it again later, with the same `X-Ucfleet-Delivery` id (receivers de-duplicate
by it). docs/webhooks.md is the receivers' side of this.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, QuerySet

from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.sender import backoff, claim_timeout
from ucfleet.webhooks.choices import DeliveryStatus
from ucfleet.webhooks.models import WebhookDelivery

log = logging.getLogger("ucfleet.webhooks")

MAX_ERROR = 2000
MAX_ANSWER_SHOWN = 500
RETRIED_STATUSES = frozenset({408, 429})
LOST_SENDER_ERROR = (
    "The sender stopped while posting this delivery; it is posted again "
    "(with the same X-Ucfleet-Delivery id)."
)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, "UCFLEET", {}).get(name, default))


def request_timeout() -> float:
    return _setting("WEBHOOKS_TIMEOUT_SECONDS", 5.0)


def retry_window() -> timedelta:
    return timedelta(hours=_setting("WEBHOOKS_RETRY_HOURS", 24.0))


def signature(secret: str, body: bytes) -> str:
    """The `X-Ucfleet-Signature` value: HMAC-SHA256 of the raw body with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx answer


# No proxies from the environment and no redirects: a delivery goes to the registered URL.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


class Retry(Exception):
    """A failure that may pass: try again after the back-off."""


class Refused(Exception):
    """A failure that will not pass by retrying: fail the delivery now."""


def _printable(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")[:MAX_ANSWER_SHOWN]
    return "".join(char if char.isprintable() else " " for char in text).strip()


def post(delivery: WebhookDelivery) -> int:
    """POST one delivery; returns the 2xx status, raises Retry or Refused otherwise."""
    body = delivery.body.encode()
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ucfleet-webhooks",
            "X-Ucfleet-Event": delivery.event,
            "X-Ucfleet-Delivery": str(delivery.pk),
            "X-Ucfleet-Signature": signature(delivery.endpoint.secret, body),
        },
    )
    try:
        with _opener.open(request, timeout=request_timeout()) as answer:
            answer.read(MAX_ANSWER_SHOWN)
            return int(answer.status)
    except urllib.error.HTTPError as error:
        with error:
            text = f"HTTP {error.code}: {_printable(error.read(MAX_ANSWER_SHOWN))}".strip(": ")
        if error.code >= 500 or error.code in RETRIED_STATUSES:
            raise Retry(text) from None
        raise Refused(text) from None
    except ValueError as error:  # a URL urllib cannot post (validated, so: changed rules)
        raise Refused(f"{type(error).__name__}: {error}") from None
    except Exception as error:  # timeouts, refused connections, TLS, broken answers
        reason = getattr(error, "reason", error)
        raise Retry(f"{type(reason).__name__}: {reason}") from None


def take_back_stale_claims() -> int:
    """Rows left in `sending` by a sender that died are queued again."""
    moment = utcnow()
    stale = WebhookDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=moment - claim_timeout()
    )
    if not stale.exists():  # the usual case: a read, no write
        return 0
    taken = stale.update(
        status=DeliveryStatus.QUEUED,
        claim_token="",
        claimed_at=None,
        next_attempt_at=moment,
        last_error=LOST_SENDER_ERROR,
    )
    log.warning("webhooks: took back %d stale claims", taken)
    return taken


def _mark_claimed(ids: list[int], token: str) -> None:
    """The compare-and-set that decides ownership: only rows still queued become ours."""
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            claimed_at=utcnow(),
            attempts=F("attempts") + 1,
        )


def _claim(*, due_at: datetime, limit: int, token: str) -> list[WebhookDelivery]:
    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.QUEUED, next_attempt_at__lte=due_at
    ).order_by("next_attempt_at", "id")
    if db_connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():  # PostgreSQL: concurrent senders skip each other's rows
            ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            _mark_claimed(ids, token)
    else:
        ids = list(due.values_list("pk", flat=True)[:limit])
        _mark_claimed(ids, token)
    if not ids:
        return []
    return list(
        WebhookDelivery.objects.filter(pk__in=ids, claim_token=token, status=DeliveryStatus.SENDING)
        .select_related("endpoint")
        .order_by("next_attempt_at", "id")
    )


def _ours(delivery: WebhookDelivery, token: str) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, claim_token=token
    )


def _finish(delivery: WebhookDelivery, token: str, **changes: Any) -> bool:
    done = _ours(delivery, token).update(claim_token="", claimed_at=None, **changes) == 1
    if not done:
        log.warning("webhooks: delivery %s finished after its claim expired", delivery.pk)
    return done


def _retry_or_fail(delivery: WebhookDelivery, token: str, text: str, *, due_at: datetime) -> None:
    if utcnow() - delivery.created >= retry_window():
        _finish(delivery, token, status=DeliveryStatus.FAILED, last_error=text[:MAX_ERROR])
        log.error("webhooks: delivery %s failed for good: %s", delivery.pk, text)
        return
    _finish(
        delivery,
        token,
        status=DeliveryStatus.QUEUED,
        last_error=text[:MAX_ERROR],
        next_attempt_at=due_at + backoff(delivery.attempts),
    )


def _release(deliveries: list[WebhookDelivery], token: str) -> None:
    """Hand back claimed rows we did not try: they keep their place and their attempts."""
    WebhookDelivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=DeliveryStatus.SENDING, claim_token=token
    ).update(
        status=DeliveryStatus.QUEUED, claim_token="", claimed_at=None, attempts=F("attempts") - 1
    )


def send_due(*, limit: int = 50, seconds: float = 5.0, now: datetime | None = None) -> int:
    """Post up to `limit` due deliveries for at most about `seconds` (plus one request's
    timeout); returns how many receivers accepted. The rest stays queued for the next turn,
    and so do an endpoint's further rows once it failed this turn: a dead receiver costs
    one timeout per turn, not one per delivery. `now` decides what is due (tests)."""
    take_back_stale_claims()
    due_at = now or utcnow()
    token = uuid.uuid4().hex
    claimed = _claim(due_at=due_at, limit=limit, token=token)
    if not claimed:
        return 0
    # Never past half the claim timeout: no one takes back rows we still work on.
    deadline = time.monotonic() + min(seconds, claim_timeout().total_seconds() / 2)
    sent = 0
    failing: set[int] = set()
    untried: list[WebhookDelivery] = []
    for delivery in claimed:
        if time.monotonic() > deadline or delivery.endpoint_id in failing:
            untried.append(delivery)
            continue
        try:
            post(delivery)
        except Refused as error:
            _finish(
                delivery, token, status=DeliveryStatus.FAILED, last_error=str(error)[:MAX_ERROR]
            )
        except Retry as error:
            failing.add(delivery.endpoint_id)
            _retry_or_fail(delivery, token, str(error), due_at=due_at)
        else:
            sent += _finish(delivery, token, status=DeliveryStatus.SENT, sent_at=utcnow())
    if untried:
        _release(untried, token)
    return sent
