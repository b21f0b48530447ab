"""Postpone, reschedule, delete, retry (R9), forced tasks (R7) and isolation (R1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UpdateTaskFactory
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.queries import tasks_visible_to
from ucfleet.updates.services import (
    delete_task,
    delete_tasks,
    reschedule_task,
    reschedule_tasks,
    retry_task,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_task(a_tenants, versions):
    return UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])


@pytest.fixture
def b_task(b_tenants, versions):
    return UpdateTaskFactory(tenant=b_tenants[0], target_version=versions["new"])


def later(hours=24):
    return timezone.now() + timedelta(hours=hours)


def test_postpone_moves_task_and_logs_old_and_new(partner_admin, a_task):
    start = later(30)
    task = reschedule_task(partner_admin, a_task.pk, start=start, notify_partner=False)
    assert (task.earliest_start, task.timing) == (start, Timing.CUSTOM)
    entry = ChangeLogEntry.objects.get(action="reschedule")
    assert entry.object_id == str(a_task.pk)
    assert entry.old == a_task.earliest_start.isoformat() and entry.new == start.isoformat()
    assert entry.partner_id == a_task.partner_id and entry.actor_name == "alpha-admin"


def test_reschedule_into_maintenance_is_refused(platform_admin, a_task):
    from ucfleet.maintenance.models import PlatformMaintenance

    m = PlatformMaintenance.objects.create(start=later(10), end=later(12))
    with pytest.raises(Invalid) as error:
        reschedule_task(
            platform_admin, a_task.pk, start=m.start + timedelta(minutes=5), notify_partner=False
        )
    assert error.value.code == "platform_maintenance"
    a_task.refresh_from_db()
    assert a_task.timing == Timing.IMMEDIATE


def test_only_planned_tasks_can_be_postponed(platform_admin, a_task):
    UpdateTask.objects.filter(pk=a_task.pk).update(status=Status.IN_PROGRESS)
    with pytest.raises(Conflict):
        reschedule_task(platform_admin, a_task.pk, start=later(), notify_partner=False)


def test_reschedule_selection_reports_refusals(partner_admin, platform_admin, a_tenants, versions):
    plain = UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])
    forced = UpdateTaskFactory(tenant=a_tenants[1], target_version=versions["new"], is_forced=True)
    running = UpdateTaskFactory(
        tenant=a_tenants[2], target_version=versions["new"], status=Status.IN_PROGRESS
    )
    result = reschedule_tasks(
        partner_admin, [plain.pk, forced.pk, running.pk], start=later(), notify_partner=True
    )
    assert result.done == [plain.pk]
    assert {(r.task_id, r.reason) for r in result.refused} == {
        (forced.pk, "forced"),
        (running.pk, "not_planned"),
    }


def test_delete_planned_task_cancels_it(partner_admin, a_task):
    delete_task(partner_admin, a_task.pk)
    a_task.refresh_from_db()
    assert a_task.status == Status.CANCELLED and a_task.finished is not None
    assert ChangeLogEntry.objects.filter(action="cancel", object_id=str(a_task.pk)).exists()


def test_delete_failed_task_removes_it_from_the_list(partner_admin, a_task):
    UpdateTask.objects.filter(pk=a_task.pk).update(status=Status.FAILED)
    delete_task(partner_admin, a_task.pk)
    assert not tasks_visible_to(partner_admin).filter(pk=a_task.pk).exists()
    assert UpdateTask.objects.get(pk=a_task.pk).status == Status.FAILED  # kept for the record


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.EXECUTED, Status.CANCELLED])
def test_delete_refuses_tasks_that_are_not_planned_or_failed(platform_admin, a_task, status):
    UpdateTask.objects.filter(pk=a_task.pk).update(status=status)
    with pytest.raises(Conflict):
        delete_task(platform_admin, a_task.pk)
    assert UpdateTask.objects.get(pk=a_task.pk).status == status


def test_partner_admin_cannot_delete_forced_task(partner_admin, platform_admin, a_task):
    UpdateTask.objects.filter(pk=a_task.pk).update(is_forced=True)
    with pytest.raises(Forbidden):
        delete_task(partner_admin, a_task.pk)
    with pytest.raises(Forbidden):
        reschedule_task(partner_admin, a_task.pk, start=later(), notify_partner=False)
    assert UpdateTask.objects.get(pk=a_task.pk).status == Status.PLANNED
    delete_task(platform_admin, a_task.pk)
    assert UpdateTask.objects.get(pk=a_task.pk).status == Status.CANCELLED


def test_partner_admin_cannot_see_or_change_foreign_tasks(partner_admin, a_task, b_task):
    assert list(tasks_visible_to(partner_admin)) == [a_task]
    for change in (
        lambda: delete_task(partner_admin, b_task.pk),
        lambda: reschedule_task(partner_admin, b_task.pk, start=later(), notify_partner=False),
        lambda: reschedule_tasks(
            partner_admin, [a_task.pk, b_task.pk], start=later(), notify_partner=False
        ),
        lambda: delete_tasks(partner_admin, [b_task.pk]),
        lambda: retry_task(partner_admin, b_task.pk),
    ):
        with pytest.raises(NotFound):
            change()
    b_task.refresh_from_db()
    a_task.refresh_from_db()
    assert b_task.status == a_task.status == Status.PLANNED
    assert b_task.earliest_start == b_task.created or b_task.timing == Timing.IMMEDIATE


def test_delete_all_of_a_filtered_list(platform_admin, a_tenants, b_tenants, versions):
    for tenant in a_tenants + b_tenants:
        UpdateTaskFactory(tenant=tenant, target_version=versions["new"])
    UpdateTask.objects.filter(tenant=a_tenants[0]).update(status=Status.IN_PROGRESS)
    result = delete_tasks(
        platform_admin, tasks_visible_to(platform_admin).filter(partner=a_tenants[0].partner)
    )
    assert len(result.done) == 2 and [r.reason for r in result.refused] == ["not_planned"]
    assert UpdateTask.objects.filter(status=Status.PLANNED).count() == 2  # partner B's


def test_retry_failed_task_creates_new_planned_task(platform_admin, a_task):
    UpdateTask.objects.filter(pk=a_task.pk).update(
        status=Status.FAILED, failure_reason="health check failed"
    )
    retried = retry_task(platform_admin, a_task.pk)
    assert retried.pk != a_task.pk and retried.status == Status.PLANNED
    assert retried.retry_of_id == a_task.pk and retried.target_version == a_task.target_version
    with pytest.raises(Conflict):
        retry_task(platform_admin, retried.pk)  # planned, not failed


def test_retry_respects_one_open_task_per_tenant(platform_admin, a_task, versions):
    UpdateTask.objects.filter(pk=a_task.pk).update(status=Status.FAILED)
    UpdateTaskFactory(tenant=a_task.tenant, target_version=versions["new"])
    with pytest.raises(Conflict) as error:
        retry_task(platform_admin, a_task.pk)
    assert error.value.code == "open_task_exists"


def test_garbage_ids_are_not_found(platform_admin):
    for bad in ("abc", None, "1; drop table", 10**12):
        with pytest.raises(NotFound):
            delete_task(platform_admin, bad)


def test_delete_all_planned_tasks_over_several_batches(
    platform_admin, partner_a, versions, monkeypatch
):
    """A list filtered by status shrinks while it is deleted: no batch may be skipped."""
    from tests.factories import TenantFactory
    from ucfleet.updates import services

    monkeypatch.setattr(services.deleting, "BATCH", 2)
    for _ in range(7):
        UpdateTaskFactory(tenant=TenantFactory(partner=partner_a), target_version=versions["new"])
    result = delete_tasks(
        platform_admin, tasks_visible_to(platform_admin).filter(status=Status.PLANNED)
    )
    assert len(result.done) == 7 and not result.refused
    assert not UpdateTask.objects.filter(status=Status.PLANNED).exists()


def test_partner_admin_cannot_remove_forced_failed_task_in_bulk(partner_admin, a_task):
    UpdateTask.objects.filter(pk=a_task.pk).update(is_forced=True, status=Status.FAILED)
    with pytest.raises(Forbidden):
        delete_task(partner_admin, a_task.pk)
    result = delete_tasks(partner_admin, [a_task.pk])
    assert result.done == [] and [r.reason for r in result.refused] == ["forced"]
    assert tasks_visible_to(partner_admin).filter(pk=a_task.pk).exists()


def test_a_failed_task_is_retried_once(platform_admin, a_task):
    UpdateTask.objects.filter(pk=a_task.pk).update(status=Status.FAILED)
    retry_task(platform_admin, a_task.pk)
    UpdateTask.objects.filter(tenant=a_task.tenant, status=Status.PLANNED).update(
        status=Status.EXECUTED
    )  # the retry ran; the failed task is still "failed"
    with pytest.raises(NotFound):
        retry_task(platform_admin, a_task.pk)  # a late second retry: it left the list
    assert UpdateTask.objects.filter(retry_of=a_task).count() == 1
