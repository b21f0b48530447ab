"""The automatic pause's webhook and e-mail (R21, R30, R1): the platform's endpoint gets the
whole rollout, each partner's endpoint its own part; the e-mail is in the platform
administrators' language."""

from __future__ import annotations

import json

import pytest

from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.notifications.queries import notifications_visible_to
from ucfleet.rollouts.models import Rollout
from ucfleet.updates.choices import Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import ScheduleRequest
from ucfleet.updates.services import schedule_updates
from ucfleet.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def endpoint(partner=None):
    return WebhookEndpoint.objects.create(
        url="https://hooks.example/x",
        events=["rollout.paused"],
        partner=partner,
        secret="a-secret-of-enough-length-0123456789",
    )


def bodies(endpoint_):
    return [
        json.loads(d.body)["data"]["rollout"]
        for d in WebhookDelivery.objects.filter(endpoint=endpoint_, event="rollout.paused")
    ]


def test_paused_webhook_and_email_respect_partner_scope(
    burst, ucfleet_settings, platform_admin, partner_admin, a_tenants, b_tenants, versions
):
    platform_admin.language = "de"
    platform_admin.save(update_fields=["language"])
    platform_hook, a_hook, b_hook = (
        endpoint(),
        endpoint(a_tenants[0].partner),
        endpoint(b_tenants[0].partner),
    )
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(
            timing=Timing.IMMEDIATE,
            target_version=versions["new"].pk,
            tenant_ids=[t.pk for t in [*a_tenants, *b_tenants]],
            name="Shared",
            waves=[{"count": 3}, {"percent": 100}],  # wave 1: partner A's tenants
            max_failures=1,
        ),
    )
    ucfleet_settings(SIMULATED_FAILURE_SHARE=1.0, WORKER_CONCURRENCY=1)

    burst()

    rollout = Rollout.objects.get(pk=result.rollout.pk)
    assert rollout.status == "paused"
    [whole] = bodies(platform_hook)
    assert whole["paused_reason"] == rollout.paused_reason
    # Concurrency 1: the second failure pauses; the third tenant of wave 1 is held too.
    assert whole["counts"] == {"failed": 2, "held": 3}
    [a_part] = bodies(a_hook)
    [b_part] = bodies(b_hook)
    assert a_part["counts"] == {"failed": 2, "held": 1}
    assert set(b_part["counts"]) == {"held"} and b_part["counts"]["held"] == 2
    a_total = UpdateTask.objects.filter(rollout=rollout, partner=a_tenants[0].partner).count()
    assert sum(a_part["counts"].values()) == a_total == 3
    # Partner B's endpoint never reads partner A's tenant names (the summary line only).
    assert "\n" not in b_part["paused_reason"]
    assert all(t.name not in b_part["paused_reason"] for t in a_tenants)
    assert b_part["paused_reason"].startswith("Error budget exceeded")

    [mail] = Notification.objects.filter(kind=Kind.ROLLOUT_PAUSED)
    assert mail.language == "de"
    assert mail.subject.startswith("Rollout „Shared“ angehalten")
    assert "Fehlerbudget" in mail.body
    # A platform e-mail: not in a partner's outbox.
    assert not notifications_visible_to(partner_admin).filter(pk=mail.pk).exists()
