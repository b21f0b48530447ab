"""Events become deliveries in the transaction of the change, in bulk, and reach only the
endpoints that may see them (R1): a partner's endpoint never gets another partner's task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TenantFactory
from tests.webhooks.conftest import drain
from ucfleet.maintenance.services import create_maintenance, update_maintenance
from ucfleet.updates import execution
from ucfleet.updates.services import ScheduleRequest, delete_tasks, schedule_updates
from ucfleet.webhooks.delivery import send_due
from ucfleet.webhooks.emission import emit_event
from ucfleet.webhooks.models import WebhookDelivery
from ucfleet.webhooks.services import update_endpoint


def schedule(admin, tenants, version, **options):
    request = ScheduleRequest(
        tenant_ids=[t.pk for t in tenants],
        timing=options.pop("timing", "immediate"),
        target_version=version.pk,
        **options,
    )
    return list(schedule_updates(admin, request).created)


def events_of(receiver) -> list[tuple[str, dict]]:
    return [(r.json["event"], r.json["data"]) for r in receiver.delivered()]


@pytest.mark.django_db(transaction=True)
def test_a_partners_endpoint_receives_only_its_own_partners_task_events(
    platform_admin, partner_admin, partner_b_admin, a_tenants, b_tenants, versions,
    make_receiver, endpoint_for,
):  # fmt: skip
    own, other, platform = make_receiver(), make_receiver(), make_receiver()
    endpoint_for(partner_admin, own)
    endpoint_for(partner_b_admin, other)
    endpoint_for(platform_admin, platform)

    a_tasks = schedule(platform_admin, a_tenants, versions["new"])
    b_tasks = schedule(platform_admin, b_tenants, versions["new"])
    delete_tasks(platform_admin, [t.pk for t in a_tasks[:1] + b_tasks[:1]])
    expected = 3 + 2 + 2
    drain(send_due, lambda: len(platform.delivered()) == expected)
    drain(send_due, lambda: len(own.delivered()) == 4 and len(other.delivered()) == 3)

    a_ids, b_ids = {t.tenant_id for t in a_tasks}, {t.tenant_id for t in b_tasks}
    assert {d["tenant"]["id"] for _, d in events_of(own)} == a_ids
    assert {d["partner"]["id"] for _, d in events_of(own)} == {partner_admin.partner_id}
    assert {d["tenant"]["id"] for _, d in events_of(other)} == b_ids
    assert {d["partner"]["id"] for _, d in events_of(other)} == {partner_b_admin.partner_id}
    assert {d["tenant"]["id"] for _, d in events_of(platform)} == a_ids | b_ids
    for receiver, tasks in ((own, a_tasks), (other, b_tasks)):
        changes = sorted(
            (d["task"]["previous_status"] or "", d["task"]["status"])
            for _, d in events_of(receiver)
        )
        assert changes == sorted([("", "planned")] * len(tasks) + [("planned", "cancelled")])


@pytest.mark.django_db(transaction=True)
def test_worker_transitions_emit_status_changes_and_failures(
    platform_admin, a_tenants, versions, make_receiver, endpoint_for
):
    everything, failures = make_receiver(), make_receiver()
    endpoint_for(platform_admin, everything, events=["task.status_changed"])
    endpoint_for(platform_admin, failures, events=["task.failed"])
    schedule(platform_admin, a_tenants[:2], versions["new"])

    claims = execution.claim_due_tasks(worker_name="w1", limit=10)
    first, second = claims
    execution.complete_task(
        task_id=first.task_id, attempt_id=first.attempt_id, worker_name="w1", log_text="ok"
    )
    execution.fail_task(
        task_id=second.task_id,
        attempt_id=second.attempt_id,
        worker_name="w1",
        reason="backup failed",
        log_text="…",
    )
    drain(send_due, lambda: len(everything.delivered()) == 6 and len(failures.delivered()) == 1)

    changes = sorted(
        (d["task"]["id"], d["task"]["previous_status"] or "", d["task"]["status"])
        for _, d in events_of(everything)
    )
    assert changes == sorted(
        [(first.task_id, "", "planned"), (first.task_id, "planned", "in_progress"),
         (first.task_id, "in_progress", "executed"), (second.task_id, "", "planned"),
         (second.task_id, "planned", "in_progress"), (second.task_id, "in_progress", "failed")]
    )  # fmt: skip
    [(event, data)] = events_of(failures)
    assert event == "task.failed"
    assert data["task"]["id"] == second.task_id
    assert data["task"]["failure_reason"] == "backup failed"


@pytest.mark.django_db(transaction=True)
def test_maintenance_events_reach_every_endpoint_with_platform_data_only(
    platform_admin, partner_admin, make_receiver, endpoint_for
):
    partner, platform = make_receiver(), make_receiver()
    endpoint_for(partner_admin, partner)
    endpoint_for(platform_admin, platform)
    start = timezone.now() + timedelta(days=2)
    maintenance = create_maintenance(platform_admin, start=start, end=start + timedelta(hours=1))
    update_maintenance(platform_admin, maintenance.pk, message_de="Wartung")
    drain(send_due, lambda: len(partner.delivered()) == 2 and len(platform.delivered()) == 2)
    assert [e for e, _ in events_of(partner)] == ["maintenance.created", "maintenance.changed"]
    assert set(events_of(partner)[1][1]) == {"maintenance"}
    assert events_of(partner)[1][1]["maintenance"]["message_de"] == "Wartung"


@pytest.mark.django_db
def test_a_rollout_event_of_a_partner_goes_to_that_partner_and_the_platform_only(
    platform_admin, partner_admin, partner_b_admin, receiver, endpoint_for
):
    own = endpoint_for(partner_admin, receiver)
    foreign = endpoint_for(partner_b_admin, receiver)
    platform = endpoint_for(platform_admin, receiver)
    emit_event("rollout.paused", {"rollout": {"id": 1}}, partner_id=partner_admin.partner_id)
    emit_event("rollout.completed", {"rollout": {"id": 1}})  # platform-level, not broadcast
    got = sorted(WebhookDelivery.objects.values_list("endpoint_id", "event"))
    assert got == sorted(
        [(own.pk, "rollout.paused"), (platform.pk, "rollout.paused"),
         (platform.pk, "rollout.completed")]
    )  # fmt: skip
    assert not WebhookDelivery.objects.filter(endpoint=foreign).exists()
    with pytest.raises(ValueError):
        emit_event("rollout.exploded", {})


@pytest.mark.django_db
def test_deliveries_are_written_in_the_changes_transaction(platform_admin, receiver, endpoint_for):
    endpoint_for(platform_admin, receiver)
    start = timezone.now() + timedelta(days=2)
    with pytest.raises(RuntimeError), transaction.atomic():
        create_maintenance(platform_admin, start=start, end=start + timedelta(hours=1))
        assert WebhookDelivery.objects.count() == 1  # written with the maintenance …
        raise RuntimeError("the change fails")
    assert WebhookDelivery.objects.count() == 0  # … and gone with it


@pytest.mark.django_db
def test_an_inactive_endpoint_receives_no_new_events(platform_admin, receiver, endpoint_for):
    endpoint = endpoint_for(platform_admin, receiver)
    update_endpoint(platform_admin, endpoint.pk, is_active=False)
    start = timezone.now() + timedelta(days=2)
    create_maintenance(platform_admin, start=start, end=start + timedelta(hours=1))
    assert WebhookDelivery.objects.count() == 0


def _queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_scheduling_and_cancelling_emit_with_a_fixed_number_of_queries(
    platform_admin, partner_a, partner_admin, versions, scale_unit, receiver, endpoint_for
):
    """What webhooks add to scheduling and cancelling (queries with endpoints minus without)
    is the same for 20 and 200 tasks: one endpoint read, one task read, one INSERT (and the
    new tasks' ids when scheduling)."""
    endpoints = [endpoint_for(platform_admin, receiver), endpoint_for(partner_admin, receiver)]

    def run(size: int, *, listening: bool) -> tuple[int, int]:
        for endpoint in endpoints:
            update_endpoint(platform_admin, endpoint.pk, is_active=listening)
        tenants = [
            TenantFactory(partner=partner_a, version=versions["current"], scale_unit=scale_unit)
            for _ in range(size)
        ]
        task_events = WebhookDelivery.objects.filter(event__startswith="task.")
        before = task_events.count()
        completed = WebhookDelivery.objects.filter(event="rollout.completed").count()
        tasks: list = []
        scheduled = _queries(
            lambda: tasks.extend(schedule(platform_admin, tenants, versions["new"]))
        )
        cancelled = _queries(lambda: delete_tasks(platform_admin, [t.pk for t in tasks]))
        # 2 changes per task (created, cancelled) for 2 endpoints; cancelling every task
        # also completes the rollout (`rollout.completed`, one per endpoint).
        assert task_events.count() - before == (size * 2 * 2 if listening else 0)
        assert WebhookDelivery.objects.filter(event="rollout.completed").count() - completed == (
            2 if listening else 0
        )
        return scheduled, cancelled

    added = {}
    run(5, listening=False)  # warm the per-process caches (the server zone, …)
    for size in (20, 200):
        with_hooks, without = run(size, listening=True), run(size, listening=False)
        added[size] = tuple(a - b for a, b in zip(with_hooks, without, strict=True))
    # Cancelling: the tasks' events (2), and the completed rollout's (endpoints, INSERT).
    assert added[20] == added[200] == (3, 4)
