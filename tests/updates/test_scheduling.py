"""Scheduling rules R2, R4–R7 through updates.services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TenantFactory, UpdateTaskFactory
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.core.errors import Forbidden, Invalid, NotFound
from ucfleet.updates.choices import SkipReason, Status, Timing, WarningCode
from ucfleet.updates.execution import due_tasks
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.services import ScheduleRequest, preview_updates, schedule_updates

pytestmark = pytest.mark.django_db


def skip_reasons(result):
    return {s.tenant_id: s.reason for s in result.skipped}


def test_immediate_task_starts_now_without_latest_start(
    platform_admin, a_tenants, versions, request_for
):
    before = timezone.now()
    result = schedule_updates(platform_admin, request_for(a_tenants[:1], versions["new"]))
    task = result.created.get()
    assert before <= task.earliest_start <= timezone.now()
    assert task.latest_start is None
    assert (task.status, task.timing, task.target_version, task.from_version) == (
        Status.PLANNED,
        Timing.IMMEDIATE,
        versions["new"],
        versions["current"],
    )
    assert task.scheduled_by == platform_admin and task.partner == a_tenants[0].partner


def test_immediate_task_created_after_earlier_task_is_ordered_after_it(
    platform_admin, a_tenants, versions, request_for
):
    earlier = UpdateTaskFactory(
        tenant=a_tenants[0],
        target_version=versions["new"],
        earliest_start=timezone.now() - timedelta(minutes=5),
        created=timezone.now() - timedelta(minutes=5),
    )
    result = schedule_updates(platform_admin, request_for(a_tenants[1:2], versions["new"]))
    # The order the worker claims in (updates.execution.due_tasks), not one of the test's own.
    assert list(due_tasks(timezone.now())) == [earlier, result.created.get()]


def test_custom_time_sets_latest_start_after_grace(
    platform_admin, a_tenants, versions, request_for, settings
):
    settings.UCFLEET = {**settings.UCFLEET, "CUSTOM_START_GRACE_MINUTES": 90}
    start = timezone.now() + timedelta(days=2)
    task = schedule_updates(
        platform_admin, request_for(a_tenants[:1], versions["new"], timing="custom", start=start)
    ).created.get()
    assert task.earliest_start == start
    assert task.latest_start == start + timedelta(minutes=90)


def test_custom_time_in_the_past_is_refused_and_nothing_written(
    platform_admin, a_tenants, versions, request_for
):
    with pytest.raises(Invalid) as error:
        schedule_updates(
            platform_admin,
            request_for(
                a_tenants,
                versions["new"],
                timing="custom",
                start=timezone.now() - timedelta(minutes=1),
            ),
        )
    assert "start" in error.value.errors
    assert not UpdateTask.objects.exists()


def test_custom_time_inside_platform_maintenance_is_refused_naming_it(
    platform_admin, a_tenants, versions, request_for, maintenance_tomorrow
):
    with pytest.raises(Invalid) as error:
        schedule_updates(
            platform_admin,
            request_for(
                a_tenants,
                versions["new"],
                timing="custom",
                start=maintenance_tomorrow.start + timedelta(minutes=30),
            ),
        )
    assert error.value.code == "platform_maintenance"
    message = error.value.errors["start"][0]
    assert "platform maintenance" in message
    assert maintenance_tomorrow.start.strftime("%Y-%m-%d") in message
    assert not UpdateTask.objects.exists()


def test_custom_time_whose_grace_reaches_into_maintenance_is_refused(
    platform_admin, a_tenants, versions, request_for, maintenance_tomorrow
):
    with pytest.raises(Invalid):
        schedule_updates(
            platform_admin,
            request_for(
                a_tenants,
                versions["new"],
                timing="custom",
                start=maintenance_tomorrow.start - timedelta(minutes=30),
            ),
        )


def test_immediate_task_is_refused_while_maintenance_runs(
    platform_admin, a_tenants, versions, request_for, maintenance_tomorrow
):
    maintenance_tomorrow.start = timezone.now() - timedelta(minutes=1)
    maintenance_tomorrow.save()
    with pytest.raises(Invalid) as error:
        schedule_updates(platform_admin, request_for(a_tenants, versions["new"]))
    assert error.value.code == "platform_maintenance"


def test_window_timing_uses_next_occurrence_and_expected_duration(
    platform_admin, a_tenants, versions, request_for, sunday_window
):
    task = schedule_updates(
        platform_admin, request_for(a_tenants[:1], versions["new"], timing="maintenance_window")
    ).created.get()
    local = task.earliest_start.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour, local.minute) == (6, 1, 0)
    assert task.earliest_start > timezone.now()
    assert task.earliest_start - timezone.now() <= timedelta(days=7)
    assert task.latest_start == task.earliest_start + timedelta(hours=4) - timedelta(minutes=30)


def test_window_timing_skips_occurrence_blocked_by_maintenance(
    platform_admin, a_tenants, versions, request_for, sunday_window
):
    from ucfleet.maintenance.models import PlatformMaintenance
    from ucfleet.maintenance.queries import next_task_window

    first = next_task_window()
    PlatformMaintenance.objects.create(
        start=first.start - timedelta(hours=1), end=first.start + timedelta(hours=1)
    )
    task = schedule_updates(
        platform_admin, request_for(a_tenants[:1], versions["new"], timing="maintenance_window")
    ).created.get()
    assert task.earliest_start == first.start + timedelta(days=7)


def test_second_open_task_for_tenant_is_skipped(platform_admin, a_tenants, versions, request_for):
    UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])
    result = schedule_updates(platform_admin, request_for(a_tenants, versions["new"]))
    assert skip_reasons(result) == {a_tenants[0].pk: SkipReason.OPEN_TASK_EXISTS}
    assert result.created_count == 2


def test_database_refuses_second_open_task_even_without_services(a_tenants, versions):
    from django.db import IntegrityError, transaction

    UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])
    with pytest.raises(IntegrityError), transaction.atomic():
        UpdateTaskFactory(
            tenant=a_tenants[0], target_version=versions["new"], status=Status.IN_PROGRESS
        )
    UpdateTaskFactory(
        tenant=a_tenants[0], target_version=versions["new"], status=Status.EXECUTED
    )  # closed tasks do not count


def test_downgrade_needs_confirmation(platform_admin, a_tenants, versions, request_for):
    result = schedule_updates(platform_admin, request_for(a_tenants[:1], versions["old"]))
    assert skip_reasons(result) == {a_tenants[0].pk: SkipReason.DOWNGRADE_NOT_CONFIRMED}
    assert result.skipped[0].text == "Compatibility with older versions cannot be guaranteed."
    result = schedule_updates(
        platform_admin, request_for(a_tenants[:1], versions["old"], confirm_downgrade=True)
    )
    assert result.created_count == 1
    assert [w.code for w in result.warnings] == [WarningCode.DOWNGRADE]


def test_prohibited_version_is_never_a_target(platform_admin, a_tenants, versions, request_for):
    result = schedule_updates(platform_admin, request_for(a_tenants, versions["prohibited"]))
    assert set(skip_reasons(result).values()) == {SkipReason.VERSION_PROHIBITED}
    assert result.created_count == 0


def test_test_version_only_for_platform_admins(
    platform_admin, partner_admin, a_tenants, versions, request_for
):
    with pytest.raises(NotFound):  # as for a version that does not exist (no oracle)
        preview_updates(partner_admin, request_for(a_tenants, versions["test"]))
    plan = preview_updates(platform_admin, request_for(a_tenants, versions["test"]))
    assert len(plan.planned) == 3


def test_version_without_tenant_language_is_not_offered(
    platform_admin, partner_a, versions, request_for
):
    german = TenantFactory(partner=partner_a, version=versions["current"], language="de")
    english = TenantFactory(partner=partner_a, version=versions["current"], language="en")
    result = schedule_updates(platform_admin, request_for([german, english], versions["en_only"]))
    assert skip_reasons(result) == {german.pk: SkipReason.LANGUAGE_UNSUPPORTED}


def test_same_version_only_with_redeployment(platform_admin, a_tenants, versions, request_for):
    result = schedule_updates(platform_admin, request_for(a_tenants[:1], versions["current"]))
    assert skip_reasons(result) == {a_tenants[0].pk: SkipReason.SAME_VERSION}
    result = schedule_updates(
        platform_admin, request_for(a_tenants[:1], versions["current"], redeploy=True)
    )
    assert result.created.get().redeploy is True


def test_auto_update_off_is_left_out_of_bulk_and_needs_confirmation_alone(
    platform_admin, partner_a, a_tenants, versions, request_for
):
    blocked = TenantFactory(
        partner=partner_a, version=versions["current"], auto_update_allowed=False
    )
    bulk = schedule_updates(
        platform_admin,
        ScheduleRequest(
            partner_id=partner_a.pk, timing="immediate", target_version=versions["new"].pk
        ),
    )
    assert skip_reasons(bulk) == {blocked.pk: SkipReason.AUTO_UPDATE_DISABLED}
    alone = schedule_updates(platform_admin, request_for([blocked], versions["new"]))
    assert skip_reasons(alone) == {blocked.pk: SkipReason.AUTO_UPDATE_DISABLED}
    confirmed = schedule_updates(
        platform_admin, request_for([blocked], versions["new"], confirm_auto_update_disabled=True)
    )
    assert confirmed.created_count == 1


def test_inactive_tenants_may_be_selected(platform_admin, partner_a, versions, request_for):
    inactive = TenantFactory(partner=partner_a, version=versions["current"], is_active=False)
    assert schedule_updates(platform_admin, request_for([inactive], versions["new"])).created_count


def test_customer_email_missing_is_a_warning_not_a_skip(
    platform_admin, partner_a, versions, request_for
):
    silent = TenantFactory(partner=partner_a, version=versions["current"], notification_email="")
    result = schedule_updates(
        platform_admin, request_for([silent], versions["new"], notify_customer=True)
    )
    assert result.created_count == 1
    assert [(w.tenant_id, w.code) for w in result.warnings] == [
        (silent.pk, WarningCode.NO_CUSTOMER_EMAIL)
    ]


def test_all_tenants_for_platform_admin(platform_admin, a_tenants, b_tenants, versions):
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(all_tenants=True, timing="immediate", target_version="14.10"),
    )
    assert result.created_count == 5


def test_partner_admin_cannot_schedule_all_tenants_or_forced(
    partner_admin, a_tenants, versions, request_for
):
    with pytest.raises(Forbidden):
        schedule_updates(
            partner_admin,
            ScheduleRequest(
                all_tenants=True, timing="immediate", target_version=versions["new"].pk
            ),
        )
    with pytest.raises(Forbidden):
        schedule_updates(partner_admin, request_for(a_tenants, versions["new"], forced=True))
    assert not UpdateTask.objects.exists()


def test_partner_admin_cannot_preview_or_schedule_foreign_tenants(
    partner_admin, a_tenants, b_tenants, partner_b, versions, request_for
):
    with pytest.raises(NotFound):
        preview_updates(partner_admin, request_for([a_tenants[0], b_tenants[0]], versions["new"]))
    with pytest.raises(NotFound):
        schedule_updates(
            partner_admin,
            ScheduleRequest(
                partner_id=partner_b.pk, timing="immediate", target_version=versions["new"].pk
            ),
        )
    assert not UpdateTask.objects.exists()


def test_partner_admin_schedules_own_partner(
    partner_admin, partner_a, a_tenants, b_tenants, versions
):
    result = schedule_updates(
        partner_admin,
        ScheduleRequest(
            partner_id=partner_a.pk,
            timing="immediate",
            target_version=versions["new"].pk,
            notify_partner=True,
        ),
    )
    assert {t.tenant_id for t in result.created} == {t.pk for t in a_tenants}


def test_preview_writes_nothing_and_matches_create(
    platform_admin, a_tenants, versions, request_for
):
    UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])
    request = request_for(a_tenants, versions["new"])
    plan = preview_updates(platform_admin, request)
    assert UpdateTask.objects.count() == 1 and not ChangeLogEntry.objects.exists()
    result = schedule_updates(platform_admin, request)
    assert [p.tenant_id for p in plan.planned] == sorted(t.tenant_id for t in result.created)
    assert plan.skipped == result.skipped


def test_creation_is_in_the_change_log(platform_admin, a_tenants, b_tenants, versions):
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(all_tenants=True, timing="immediate", target_version=versions["new"].pk),
    )
    entries = ChangeLogEntry.objects.filter(object_id=str(result.request_id))
    assert {(e.partner_id, e.actor_name, e.action) for e in entries} == {
        (a_tenants[0].partner_id, "plat", "create"),
        (b_tenants[0].partner_id, "plat", "create"),
    }


def test_unknown_version_and_bad_timing_are_clear_errors(
    platform_admin, a_tenants, request_for, versions
):
    with pytest.raises(NotFound):
        schedule_updates(
            platform_admin,
            ScheduleRequest(
                tenant_ids=[a_tenants[0].pk], timing="immediate", target_version="99.99"
            ),
        )
    with pytest.raises(Invalid) as error:
        schedule_updates(platform_admin, request_for(a_tenants, versions["new"], timing="soon"))
    assert "timing" in error.value.errors
