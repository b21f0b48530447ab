"""Delivery from the outbox over real SMTP (R17): back-off while the server is down, every
message exactly once when it is back, failed after the last attempt and retryable, and
what happens to a claim whose sender died."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from tests.notifications.conftest import REJECTED
from tests.notifications.helpers import deliver, in_transaction, task, tenant
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.core.errors import Conflict, Forbidden, NotFound
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.choices import Status
from ucfleet.notifications.models import Notification
from ucfleet.notifications.queries import notifications_visible_to
from ucfleet.notifications.sender import (
    LOST_SENDER_ERROR,
    attempts_budget,
    backoff,
    message_id,
    send_due,
)
from ucfleet.notifications.services import notify_tasks_created, retry_notification

pytestmark = pytest.mark.django_db


def queue_customer_mails(partner, versions, count, *, prefix="t"):
    """`count` customer e-mails of one request, half English, half German."""
    request_id = uuid.uuid4()
    for i in range(count):
        language = "de" if i % 2 else "en"
        t = tenant(partner, versions["current"], f"{prefix}-{i:03d}", language=language)
        task(t, versions["new"], request_id=request_id, notify_customer=True)
    in_transaction(notify_tasks_created, request_id)
    assert Notification.objects.filter(status=Status.QUEUED).count() == count


@pytest.fixture
def max_three_attempts(settings):
    """A retry window that the default back-off (30 s, 60 s) fills after three attempts."""
    settings.UCFLEET = {**settings.UCFLEET, "OUTBOX_RETRY_HOURS": 90 / 3600}
    assert attempts_budget() == 3


def test_smtp_down_then_up_delivers_every_message_exactly_once(
    smtp_down, berlin, partner_a, versions
):
    queue_customer_mails(partner_a, versions, 200)

    first = utcnow()
    assert send_due(limit=200, now=first) == 0  # nothing listens on the port
    rows = list(Notification.objects.all())
    assert {(r.status, r.attempts) for r in rows} == {(Status.QUEUED, 1)}
    assert {r.next_attempt_at for r in rows} == {first + backoff(1)}
    assert all("ConnectionRefusedError" in r.last_error for r in rows)

    # Back-off holds: not due a second before, then the wait doubles after another failure.
    assert send_due(limit=200, now=first + backoff(1) - timedelta(seconds=1)) == 0
    assert Notification.objects.filter(attempts=1).count() == 200
    second = first + backoff(1)
    assert send_due(limit=200, now=second) == 0
    assert backoff(2) == 2 * backoff(1)
    assert set(Notification.objects.values_list("next_attempt_at", flat=True)) == {
        second + backoff(2)
    }

    smtp_down.start()
    assert deliver(now=second + backoff(2)) == 200

    received = Counter(m.message_id for m in smtp_down.messages)
    expected = {
        message_id(k) for k in Notification.objects.values_list("idempotency_key", flat=True)
    }
    assert set(received) == expected and len(expected) == 200
    assert set(received.values()) == {1}
    assert set(Notification.objects.values_list("status", "attempts")) == {(Status.SENT, 3)}
    assert deliver(now=second + timedelta(days=1)) == 0  # nothing is sent twice


def test_after_the_last_attempt_the_mail_is_failed_and_a_platform_admin_can_retry_it(
    smtp_down, berlin, partner_a, versions, platform_admin, max_three_attempts
):
    queue_customer_mails(partner_a, versions, 1)
    moment = utcnow()
    for _ in range(3):
        moment += timedelta(days=1)
        send_due(now=moment)
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == (Status.FAILED, 3)
    assert "ConnectionRefusedError" in notification.last_error
    assert notifications_visible_to(platform_admin).filter(status=Status.FAILED).count() == 1
    assert send_due(now=moment + timedelta(days=30)) == 0  # failed stays failed

    smtp_down.start()
    retried = retry_notification(platform_admin, notification.pk)
    assert (retried.status, retried.attempts) == (Status.QUEUED, 0)
    assert deliver() == 1
    assert len(smtp_down.messages) == 1
    assert Notification.objects.get().status == Status.SENT
    entry = ChangeLogEntry.objects.get(action="retry", object_type="notification")
    assert (entry.old, entry.new, entry.actor_name) == ("failed", "queued", "plat")


def test_only_platform_admins_retry_and_only_failed_mails(
    smtp, berlin, partner_a, versions, platform_admin, partner_admin
):
    queue_customer_mails(partner_a, versions, 1)
    notification = Notification.objects.get()
    with pytest.raises(Conflict):  # queued: it is going out anyway
        retry_notification(platform_admin, notification.pk)
    deliver()
    with pytest.raises(Conflict):  # sent: retrying would send it twice
        retry_notification(platform_admin, notification.pk)
    Notification.objects.update(status=Status.FAILED)
    with pytest.raises(Forbidden):
        retry_notification(partner_admin, notification.pk)
    with pytest.raises(NotFound):
        retry_notification(platform_admin, notification.pk + 1000)
    assert Notification.objects.get().status == Status.FAILED
    assert len(smtp.messages) == 1


def test_refused_recipient_fails_only_its_own_mail_at_once(smtp, berlin, partner_a, versions):
    request_id = uuid.uuid4()
    good = tenant(partner_a, versions["current"], "good", language="en")
    bad = tenant(partner_a, versions["current"], "bad", language="en", email="reject@bad.example")
    for t in (bad, good):
        task(t, versions["new"], request_id=request_id, notify_customer=True)
    in_transaction(notify_tasks_created, request_id)

    assert send_due() == 1
    assert [m.rcpt_tos for m in smtp.messages] == [["it@good.example"]]
    refused = Notification.objects.get(recipients=["reject@bad.example"])
    assert (refused.status, refused.attempts) == (Status.FAILED, 1)
    assert refused.last_error == f"{REJECTED} (reject@bad.example)"


def simulate_dead_sender(*, minutes_ago: float, **fields):
    """The state a sender leaves when it dies after claiming (possibly after the SMTP server
    accepted the message, before the row was marked sent)."""
    Notification.objects.update(
        status=Status.SENDING,
        claim_token="dead-sender",
        claimed_at=utcnow() - timedelta(minutes=minutes_ago),
        sent_at=None,
        **fields,
    )


def test_sender_lost_after_smtp_accepted_is_resent_with_the_same_message_id(
    smtp, berlin, partner_a, versions
):
    queue_customer_mails(partner_a, versions, 1)
    assert deliver() == 1
    simulate_dead_sender(minutes_ago=10)

    assert deliver() == 1  # at-least-once: never lost ...
    first, second = smtp.messages
    assert first.message_id == second.message_id  # ... and the copy is recognisable
    notification = Notification.objects.get()
    assert (notification.status, notification.last_error) == (Status.SENT, LOST_SENDER_ERROR)


def test_a_live_claim_is_not_taken_back(smtp, berlin, partner_a, versions):
    queue_customer_mails(partner_a, versions, 1)
    simulate_dead_sender(minutes_ago=1)  # younger than the claim timeout: still working
    assert deliver() == 0
    assert smtp.messages == []
    assert Notification.objects.get().claim_token == "dead-sender"


def test_a_lost_claim_on_its_last_attempt_ends_failed(
    smtp, berlin, partner_a, versions, max_three_attempts
):
    queue_customer_mails(partner_a, versions, 1)
    simulate_dead_sender(minutes_ago=10, attempts=3)
    assert deliver() == 0
    notification = Notification.objects.get()
    assert (notification.status, notification.last_error) == (Status.FAILED, LOST_SENDER_ERROR)


def test_message_carries_language_and_auto_submitted_headers(smtp, berlin, partner_a, versions):
    queue_customer_mails(partner_a, versions, 2)
    deliver()
    assert sorted(m.message["Content-Language"] for m in smtp.messages) == ["de", "en"]
    assert {m.message["Auto-Submitted"] for m in smtp.messages} == {"auto-generated"}
    assert {m.message_id.split("@")[1] for m in smtp.messages} == {"ucfleet.example>"}


def test_without_smtp_server_mail_goes_to_files(settings, tmp_path, berlin, partner_a, versions):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    queue_customer_mails(partner_a, versions, 3)
    assert deliver() == 3
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    for key in Notification.objects.values_list("idempotency_key", flat=True):
        assert f"Message-ID: {message_id(key)}" in text
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


def test_send_outbox_command_sends_everything_in_burst_mode(smtp, berlin, partner_a, versions):
    queue_customer_mails(partner_a, versions, 150)
    call_command("send_outbox", "--burst", "--limit", "60")
    assert len(smtp.messages) == 150
    assert not Notification.objects.exclude(status=Status.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_each_message_once(smtp, berlin, partner_a, versions):
    queue_customer_mails(partner_a, versions, 200)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            deliver(limit=20)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    deliver()  # a sender that found every candidate claimed by another may have stopped early
    assert Counter(Counter(m.message_id for m in smtp.messages).values()) == {1: 200}
    assert set(Notification.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}
