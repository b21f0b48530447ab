"""Through the scheduling services and the worker's state changes, out over real SMTP:
who is told when tasks are created, deleted, rescheduled, moved by a missed window, or fail."""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from tests.notifications.helpers import close_failure_digests, deliver, task, tenant
from ucfleet.core.timeutils import format_server_time
from ucfleet.maintenance.services import SlotInput, update_window
from ucfleet.notifications.models import Notification
from ucfleet.notifications.sender import message_id
from ucfleet.updates.choices import Timing
from ucfleet.updates.execution import START_WINDOW_MISSED, handle_missed_windows
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.services import (
    ScheduleRequest,
    delete_task,
    reschedule_task,
    schedule_updates,
)

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
ALPHA_ADMINS = ["alpha-admin@ucfleet.example", "alpha-adv@ucfleet.example"]


@pytest.fixture
def sunday_window(platform_admin):
    return update_window(
        platform_admin,
        time_zone="Europe/Berlin",
        slots=[SlotInput(weekdays=[6], start=time(1, 0), duration_minutes=240)],
        expected_task_minutes=30,
    )


@pytest.fixture
def admins(partner_admin, advanced_partner_admin, partner_b_admin):
    return partner_admin


def server_time(value):
    return format_server_time(value, BERLIN)


def schedule(admin, **fields):
    fields.setdefault("timing", Timing.MAINTENANCE_WINDOW)
    return schedule_updates(admin, ScheduleRequest(**fields))


def recipients(messages):
    return Counter(r for m in messages for r in m.rcpt_tos)


def test_fifty_tenant_request_sends_one_digest_per_partner_admin(
    smtp, sunday_window, admins, partner_a, versions
):
    for i in range(50):
        tenant(partner_a, versions["current"], f"fifty-{i:02d}", language="de" if i % 3 else "en")
    result = schedule(
        admins,
        partner_id=partner_a.pk,
        target_version=versions["new"].pk,
        notify_partner=True,
        notify_customer=True,
    )
    assert result.created_count == 50
    assert deliver() == 52

    start = server_time(result.created.first().earliest_start)
    assert start.endswith("(Europe/Berlin)") and " 01:00 " in start
    digests = [m for m in smtp.messages if m.rcpt_tos[0] in ALPHA_ADMINS]
    assert recipients(digests) == dict.fromkeys(ALPHA_ADMINS, 1)
    assert {m.message_id for m in smtp.messages} == {
        message_id(key) for key in Notification.objects.values_list("idempotency_key", flat=True)
    }
    for digest in digests:
        assert digest.subject == "Update to 14.10 scheduled for 50 UC Tenants of Alpha Telecom"
        assert digest.body.count(f"  Maintenance window (server time): {start}, latest start") == 50
        for i in range(50):
            assert f"- fifty-{i:02d} (fifty-{i:02d}.uc.example): Update from 14.9 to 14.10" in (
                digest.body
            )
    customers = [m for m in smtp.messages if m.rcpt_tos[0] not in ALPHA_ADMINS]
    assert recipients(customers) == {f"it@fifty-{i:02d}.example": 1 for i in range(50)}
    for mail in customers:
        name = mail.rcpt_tos[0][3:].removesuffix(".example")
        german = int(name.rsplit("-", 1)[1]) % 3
        expected = (
            f"Update Ihres UC-Systems {name} am {start}"
            if german
            else f"Update of your UC system {name} on {start}"
        )
        assert mail.subject == expected


def test_platform_wide_request_gives_each_partner_admin_only_its_partners_tenants(
    smtp, sunday_window, platform_admin, admins, a_tenants, b_tenants, versions
):
    schedule(
        platform_admin, all_tenants=True, target_version=versions["new"].pk, notify_partner=True
    )
    assert deliver() == 3
    alpha = smtp.to("alpha-admin@ucfleet.example")[0]
    beta = smtp.to("beta-admin@ucfleet.example")[0]
    assert alpha.subject == "Update to 14.10 scheduled for 3 UC Tenants of Alpha Telecom"
    assert beta.subject == "Update auf 14.10 geplant für 2 UC-Tenants von Beta Networks"
    assert all(t.name in alpha.body and t.name not in beta.body for t in a_tenants)
    assert all(t.name in beta.body and t.name not in alpha.body for t in b_tenants)


def test_deleting_a_notified_task_tells_the_same_addresses(
    smtp, sunday_window, admins, a_tenants, versions
):
    result = schedule(
        admins,
        tenant_ids=[a_tenants[0].pk],
        target_version=versions["new"].pk,
        notify_partner=True,
        notify_customer=True,
    )
    deliver()
    told_at_creation = recipients(smtp.messages)
    smtp.messages.clear()

    delete_task(admins, result.created.get().pk)
    assert deliver() == 3
    assert recipients(smtp.messages) == told_at_creation
    subjects = sorted(m.subject for m in smtp.messages)
    assert subjects == sorted(
        ["Update cancelled for 1 UC Tenant of Alpha Telecom"] * 2
        + [f"Update of your UC system {a_tenants[0].name} cancelled"]
    )


def test_postponing_with_notification_tells_old_and_new_time(
    smtp, sunday_window, admins, a_tenants, versions
):
    result = schedule(
        admins,
        tenant_ids=[a_tenants[0].pk],
        target_version=versions["new"].pk,
        notify_customer=True,
    )
    old = result.created.get()
    deliver()
    smtp.messages.clear()

    new_start = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    reschedule_task(admins, old.pk, start=new_start, notify_partner=True)
    assert deliver() == 3
    for mail in smtp.messages:
        assert f"{server_time(old.earliest_start)}" in mail.body
        assert f"{server_time(new_start)}" in mail.body
    assert recipients(smtp.messages) == {
        **dict.fromkeys(ALPHA_ADMINS, 1),
        a_tenants[0].notification_email: 1,
    }


def test_missed_window_moves_and_tells_recipients_custom_time_fails_and_tells_partner(
    smtp, sunday_window, admins, a_tenants, versions
):
    past = timezone.now() - timedelta(hours=5)
    window_task = task(
        a_tenants[0],
        versions["new"],
        timing=Timing.MAINTENANCE_WINDOW,
        earliest_start=past,
        latest_start=past + timedelta(hours=3),
        notify_partner=True,
        notify_customer=True,
    )
    custom_task = task(
        a_tenants[1],
        versions["new"],
        timing=Timing.CUSTOM,
        earliest_start=past,
        latest_start=past + timedelta(hours=2),
    )
    result = handle_missed_windows()
    assert (result.moved, result.failed) == ([window_task.pk], [custom_task.pk])

    close_failure_digests()  # the hour has closed: the failure digest
    assert deliver() == 5
    moved = UpdateTask.objects.get(pk=window_task.pk)
    rescheduled = [m for m in smtp.messages if "rescheduled" in m.subject or "moved" in m.subject]
    assert recipients(rescheduled) == {
        **dict.fromkeys(ALPHA_ADMINS, 1),
        a_tenants[0].notification_email: 1,
    }
    for mail in rescheduled:
        assert server_time(past) in mail.body and server_time(moved.earliest_start) in mail.body
    failed = [m for m in smtp.messages if "failed" in m.subject]
    assert recipients(failed) == dict.fromkeys(ALPHA_ADMINS, 1)
    assert all(f"Reason: {START_WINDOW_MISSED}\n" in m.body for m in failed)


@pytest.mark.django_db(transaction=True)
def test_scheduling_rolled_back_by_the_caller_leaves_no_email(
    sunday_window, admins, a_tenants, versions
):
    with pytest.raises(RuntimeError), transaction.atomic():
        result = schedule(
            admins,
            partner_id=a_tenants[0].partner_id,
            target_version=versions["new"].pk,
            notify_partner=True,
            notify_customer=True,
        )
        assert result.created_count == 3 and Notification.objects.count() == 5
        raise RuntimeError("a later step of the same change fails")
    assert not Notification.objects.exists()
    assert not UpdateTask.objects.exists()


def test_unnotified_request_queues_nothing(sunday_window, admins, a_tenants, versions):
    schedule(admins, partner_id=a_tenants[0].partner_id, target_version=versions["new"].pk)
    assert not Notification.objects.exists()
