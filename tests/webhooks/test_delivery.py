"""Posting the webhook outbox to a real local HTTP receiver: signature, retries with
back-off, exactly-once acceptance, permanent failures, timeouts, the retry window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.webhooks.conftest import SECRET, drain
from ucfleet.maintenance.services import create_maintenance
from ucfleet.webhooks.choices import DeliveryStatus
from ucfleet.webhooks.delivery import send_due
from ucfleet.webhooks.models import WebhookDelivery
from ucfleet.worker.housekeeping import Housekeeping

pytestmark = pytest.mark.django_db(transaction=True)


def announce(admin):
    start = timezone.now() + timedelta(days=3)
    return create_maintenance(admin, start=start, end=start + timedelta(hours=2), message_en="Up")


def test_a_delivery_reaches_the_receiver_signed_with_the_endpoint_secret(
    platform_admin, receiver, endpoint_for
):
    endpoint = endpoint_for(platform_admin, receiver)
    maintenance = announce(platform_admin)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    assert send_due() == 1

    [got] = receiver.received
    assert got.signed_with(SECRET)
    assert not got.signed_with("another-secret-0123456789")
    assert got.delivery_id == str(delivery.pk)
    assert got.headers["x-ucfleet-event"] == "maintenance.created"
    assert got.headers["content-type"] == "application/json"
    assert got.json["event"] == "maintenance.created"
    assert got.json["at"].endswith("Z")
    assert got.json["data"]["maintenance"]["id"] == maintenance.pk
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert delivery.sent_at is not None
    assert send_due() == 0 and len(receiver.received) == 1  # never twice


def test_a_failing_receiver_is_retried_with_back_off_and_accepted_exactly_once(
    platform_admin, receiver, endpoint_for
):
    receiver.script = [500, 500]  # then 200
    endpoint_for(platform_admin, receiver)
    announce(platform_admin)
    delivery = WebhookDelivery.objects.get()

    assert send_due() == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 1
    assert "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()  # backed off …
    assert send_due() == 0 and len(receiver.received) == 1  # … so not posted again yet

    drain(send_due, lambda: bool(receiver.delivered()))
    for _ in range(3):
        send_due()

    assert [r.answered for r in receiver.received] == [500, 500, 200]
    assert {r.delivery_id for r in receiver.received} == {str(delivery.pk)}
    assert len(receiver.delivered()) == 1
    assert all(r.signed_with(SECRET) for r in receiver.received)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 3


@pytest.mark.parametrize("status", [408, 429, 503])
def test_timeouts_and_overload_answers_are_retried(platform_admin, receiver, endpoint_for, status):
    receiver.script = [status]
    endpoint_for(platform_admin, receiver)
    announce(platform_admin)
    send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED and f"HTTP {status}" in delivery.last_error


def test_a_410_fails_at_once_with_the_answer_as_reason(platform_admin, receiver, endpoint_for):
    receiver.default = 410
    receiver.answer_text = "endpoint <gone>\x1b[31m"
    endpoint_for(platform_admin, receiver)
    announce(platform_admin)

    assert send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error.startswith("HTTP 410: endpoint <gone>")
    assert "\x1b" not in delivery.last_error
    send_due(now=timezone.now() + timedelta(days=1))
    assert len(receiver.received) == 1


def test_a_receiver_slower_than_the_timeout_is_retried(
    platform_admin, receiver, endpoint_for, settings
):
    settings.UCFLEET = {**settings.UCFLEET, "WEBHOOKS_TIMEOUT_SECONDS": 0.3}
    receiver.delay = 1.0
    endpoint_for(platform_admin, receiver)
    announce(platform_admin)
    send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED
    assert "timed out" in delivery.last_error.lower()


def test_a_receiver_that_is_not_there_is_retried(platform_admin, make_receiver, endpoint_for):
    gone = make_receiver()
    endpoint_for(platform_admin, gone)
    gone.server.shutdown()
    gone.server.server_close()
    announce(platform_admin)
    send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED and delivery.last_error


def test_a_delivery_older_than_the_retry_window_fails_on_its_next_failure(
    platform_admin, receiver, endpoint_for
):
    receiver.default = 500
    endpoint_for(platform_admin, receiver)
    announce(platform_admin)
    WebhookDelivery.objects.update(created=timezone.now() - timedelta(hours=24, minutes=1))
    send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "HTTP 500" in delivery.last_error


def test_a_delivery_younger_than_the_retry_window_is_queued_again(
    platform_admin, receiver, endpoint_for
):
    receiver.default = 500
    endpoint_for(platform_admin, receiver)
    announce(platform_admin)
    WebhookDelivery.objects.update(created=timezone.now() - timedelta(hours=23), attempts=40)
    send_due()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.QUEUED


def test_a_stale_claim_is_taken_back_and_posted_again_with_the_same_id(
    platform_admin, receiver, endpoint_for
):
    endpoint_for(platform_admin, receiver)
    announce(platform_admin)
    delivery = WebhookDelivery.objects.get()
    # A sender claimed it and died before marking it.
    WebhookDelivery.objects.update(
        status=DeliveryStatus.SENDING,
        claim_token="dead",
        claimed_at=timezone.now() - timedelta(hours=1),
        attempts=1,
    )
    assert send_due() == 1
    assert [r.delivery_id for r in receiver.received] == [str(delivery.pk)]


def test_send_outbox_and_the_worker_housekeeping_post_webhooks(
    platform_admin, make_receiver, endpoint_for
):
    by_command, by_worker = make_receiver(), make_receiver()
    endpoint_for(platform_admin, by_command)
    announce(platform_admin)
    call_command("send_outbox", "--burst")
    assert len(by_command.delivered()) == 1

    endpoint_for(platform_admin, by_worker)
    announce(platform_admin)
    Housekeeping(mail_every=0).tick()
    assert len(by_worker.delivered()) == 1
    assert len(by_command.delivered()) == 2
