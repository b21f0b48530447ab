"""Which delivery failures the outbox retries, and for how long (R17, decision 0005): an
outage longer than any attempt count loses nothing; a 550 fails at once with the server's
answer; a 451 is retried; one bad recipient among several does not hold up the others."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from tests.notifications.conftest import GREYLISTED, REJECTED
from tests.notifications.helpers import deliver
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.choices import Kind, Status
from ucfleet.notifications.models import Notification
from ucfleet.notifications.outbox import Draft, enqueue
from ucfleet.notifications.sender import attempts_budget, backoff, send_due

pytestmark = pytest.mark.django_db

OLD_ATTEMPT_BUDGET = 10  # what the outbox used to try before giving up for ever


def queue(partner, *recipients: str, count: int = 1) -> list[Notification]:
    """`count` e-mails, each to all of `recipients`."""
    enqueue(
        Draft(
            kind=Kind.CREATED_PARTNER,
            partner_id=partner.pk,
            recipients=recipients,
            language="en",
            subject=f"Update {i}",
            body="Your tenants will be updated.",
            idempotency_key=f"test.{uuid.uuid4().hex}",
            task_ids=(),
        )
        for i in range(count)
    )
    return list(Notification.objects.order_by("id"))


def message_ids(server) -> Counter:
    return Counter(m.message_id for m in server.messages)


def test_an_outage_longer_than_the_old_attempt_budget_loses_nothing(smtp_down, partner_a, settings):
    # The real clock with a short back-off (10 ms doubling to 50 ms); the window stays 24 h.
    settings.UCFLEET = {
        **settings.UCFLEET,
        "OUTBOX_BACKOFF_SECONDS": 0.01,
        "OUTBOX_BACKOFF_MAX_SECONDS": 0.05,
    }
    queue(partner_a, "ops@alpha.example", count=3)
    wanted = 3 * OLD_ATTEMPT_BUDGET
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        send_due()
        if min(Notification.objects.values_list("attempts", flat=True)) >= wanted:
            break
        time.sleep(0.01)

    rows = list(Notification.objects.all())
    assert all(r.attempts >= wanted for r in rows)
    assert {r.status for r in rows} == {Status.QUEUED}
    assert all("ConnectionRefusedError" in r.last_error for r in rows)

    smtp_down.start()
    deadline = time.monotonic() + 30
    while Notification.objects.exclude(status=Status.SENT).exists():
        assert time.monotonic() < deadline, list(Notification.objects.values("status"))
        send_due()
        time.sleep(0.01)
    assert set(message_ids(smtp_down).values()) == {1} and len(smtp_down.messages) == 3
    assert deliver(now=utcnow() + timedelta(days=2)) == 0  # nothing goes out twice


def test_a_transient_failure_is_final_only_after_the_retry_window(smtp_down, partner_a, settings):
    settings.UCFLEET = {**settings.UCFLEET, "OUTBOX_RETRY_HOURS": 2.0}
    [notification] = queue(partner_a, "ops@alpha.example")
    first = moment = utcnow()
    last_attempt = first
    while Notification.objects.filter(status=Status.QUEUED).exists():
        assert moment - first < timedelta(hours=3)
        send_due(now=moment)
        notification.refresh_from_db()
        last_attempt = moment
        moment += backoff(notification.attempts)  # exactly when it is due again

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert last_attempt - first >= timedelta(hours=2)  # tried for the whole window ...
    assert notification.attempts == attempts_budget() > OLD_ATTEMPT_BUDGET  # ... not 10 times
    assert "ConnectionRefusedError" in notification.last_error
    assert "retry window" in notification.last_error


def test_a_550_fails_after_one_attempt_with_the_servers_answer(smtp, partner_a):
    [notification] = queue(partner_a, "reject@alpha.example")
    assert send_due() == 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)
    assert "550 5.1.1 mailbox unavailable" in notification.last_error
    assert send_due(now=utcnow() + timedelta(days=3)) == 0
    notification.refresh_from_db()
    assert notification.attempts == 1  # never tried again
    assert smtp.messages == []


def test_a_451_is_retried_until_the_server_accepts(smtp, partner_a):
    [notification] = queue(partner_a, "greylist@alpha.example")
    first = utcnow()
    assert send_due(now=first) == 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.QUEUED, 1)
    assert notification.last_error == f"{GREYLISTED} (greylist@alpha.example)"
    assert notification.next_attempt_at == first + backoff(1)

    second = first + backoff(1)
    assert send_due(now=second) == 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.QUEUED, 2)

    smtp.recorder.greylisting = False
    assert send_due(now=second + backoff(2)) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 3)
    assert [m.rcpt_tos for m in smtp.messages] == [["greylist@alpha.example"]]


def test_one_recipient_refused_for_good_does_not_hold_up_the_others(smtp, partner_a):
    [notification] = queue(partner_a, "reject@alpha.example", "ops@alpha.example")
    assert send_due() == 1
    assert [m.rcpt_tos for m in smtp.messages] == [["ops@alpha.example"]]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 1)
    assert REJECTED in notification.last_error and "reject@alpha.example" in notification.last_error
    assert deliver(now=utcnow() + timedelta(days=1)) == 0  # the accepted one gets it once


def test_one_recipient_refused_for_now_delays_the_message_for_everyone_once(smtp, partner_a):
    [notification] = queue(partner_a, "greylist@alpha.example", "ops@alpha.example")
    first = utcnow()
    assert send_due(now=first) == 0
    assert smtp.messages == []  # nobody got it: a later attempt cannot duplicate it
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.QUEUED, 1)

    smtp.recorder.greylisting = False
    assert send_due(now=first + backoff(1)) == 1
    assert [sorted(m.rcpt_tos) for m in smtp.messages] == [
        ["greylist@alpha.example", "ops@alpha.example"]
    ]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 2)


def test_a_slow_server_holds_the_sender_up_by_one_message_past_its_deadline(smtp, partner_a):
    queue(partner_a, "ops@alpha.example", count=20)
    assert send_due(deadline=time.monotonic()) == 0  # no time left: nothing is claimed
    assert set(Notification.objects.values_list("status", "attempts")) == {(Status.QUEUED, 0)}

    smtp.recorder.delay = 0.2  # 20 messages would take 4 s
    sent = send_due(limit=20, deadline=time.monotonic() + 0.5)
    assert 1 <= sent < 20
    rest = Notification.objects.exclude(status=Status.SENT)
    assert set(rest.values_list("status", "attempts")) == {(Status.QUEUED, 0)}  # untried
    smtp.recorder.delay = 0.0
    assert deliver() == 20 - sent
    assert set(message_ids(smtp).values()) == {1} and len(smtp.messages) == 20
