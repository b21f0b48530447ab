"""Issue 12's API scenarios (R18, R20–R22): waves held until the wave before ended, the
error budget's automatic pause, resume, abort with cancellation e-mails, retry-failed, R4
with held tasks and partner scoping. The tasks run in the real worker loop (simulated
driver); the e-mails are rows of the real outbox."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.api.conftest import BASE
from tests.factories import TenantFactory, UpdateTaskFactory
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.rollouts.models import Rollout
from ucfleet.rollouts.services import release_due_waves
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def create(api, tenants, versions, **body):
    answer = api.post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [t.pk for t in tenants],
            "timing": "immediate",
            "target_version": versions["new"].pk,
            **body,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def statuses(rollout_id):
    return dict(
        UpdateTask.objects.filter(rollout_id=rollout_id).order_by("id").values_list("id", "status")
    )


def by_wave(rollout_id):
    waves: dict[int, set[str]] = {}
    for wave, status in UpdateTask.objects.filter(rollout_id=rollout_id).values_list(
        "wave", "status"
    ):
        waves.setdefault(wave, set()).add(status)
    return waves


def test_wave_two_stays_held_until_wave_one_ended_then_starts(
    platform_api, burst, a_tenants, versions
):
    created = create(
        platform_api, a_tenants, versions, waves=[{"count": 1}, {"percent": 100}], name="Canary"
    )
    rollout_id = created["rollout"]
    assert created["created_count"] == 3
    assert {t["rollout"] for t in created["created"]} == {rollout_id}
    assert sorted((t["wave"], t["status"]) for t in created["created"]) == [
        (1, "planned"),
        (2, "held"),
        (2, "held"),
    ]
    detail = platform_api.get(f"{BASE}/rollouts/{rollout_id}/").json()
    assert detail["name"] == "Canary" and detail["status"] == "scheduled"
    assert [(w["index"], w["size"], w["status"]) for w in detail["waves"]] == [
        (1, 1, "released"),
        (2, 2, "held"),
    ]
    assert detail["counts"]["planned"] == 1 and detail["counts"]["held"] == 2

    assert release_due_waves() == 0  # wave 1 has not ended: nothing is released
    assert by_wave(rollout_id)[2] == {"held"}

    burst()  # runs wave 1 only: held tasks are never claimed
    wave_one = UpdateTask.objects.get(rollout_id=rollout_id, wave=1)
    assert wave_one.status == Status.EXECUTED
    assert (
        UpdateTask.objects.filter(rollout_id=rollout_id, wave=2, started__isnull=False).count() == 0
    )
    release_due_waves()  # the worker's tick (its last one may have done it already)
    assert by_wave(rollout_id)[2] == {"planned"}
    waves = platform_api.get(f"{BASE}/rollouts/{rollout_id}/").json()["waves"]
    assert [w["status"] for w in waves] == ["ended", "released"]

    burst()
    assert set(statuses(rollout_id).values()) == {Status.EXECUTED}
    for task in UpdateTask.objects.filter(rollout_id=rollout_id, wave=2):
        assert task.started >= wave_one.finished
        assert task.earliest_start >= wave_one.finished
    detail = platform_api.get(f"{BASE}/rollouts/{rollout_id}/").json()
    assert detail["status"] == "completed"
    assert detail["counts"]["executed"] == 3
    assert ChangeLogEntry.objects.filter(
        object_type="rollout", object_id=str(rollout_id), action="complete"
    ).exists()


@pytest.fixture
def four_tenants(partner_a, versions, scale_unit):
    return [
        TenantFactory(partner=partner_a, version=versions["current"], scale_unit=scale_unit)
        for _ in range(4)
    ]


def test_error_budget_pauses_once_then_resume_continues_and_retry_failed(
    platform_api, burst, ucfleet_settings, four_tenants, versions, platform_admin
):
    created = create(
        platform_api,
        four_tenants,
        versions,
        name="Budgeted",
        waves=[{"count": 2}, {"percent": 100}],
        error_budget={"max_failures": 1},
    )
    rollout_id = created["rollout"]
    ucfleet_settings(SIMULATED_FAILURE_SHARE=1.0)  # both tenants of wave 1 fail

    burst()
    release_due_waves()

    rollout = Rollout.objects.get(pk=rollout_id)
    assert rollout.status == "paused"
    assert by_wave(rollout_id) == {1: {Status.FAILED}, 2: {Status.HELD}}
    failed_names = sorted(
        UpdateTask.objects.filter(rollout_id=rollout_id, wave=1).values_list(
            "tenant__name", flat=True
        )
    )
    assert "Error budget exceeded: 2 of 2 ended tasks failed (budget: 1 failure)." in (
        rollout.paused_reason
    )
    for name in failed_names:
        assert name in rollout.paused_reason
    [mail] = Notification.objects.filter(kind=Kind.ROLLOUT_PAUSED)
    assert "Budgeted" in mail.subject
    assert all(name in mail.body for name in failed_names)
    assert platform_admin.email in mail.recipients
    detail = platform_api.get(f"{BASE}/rollouts/{rollout_id}/").json()
    assert detail["status"] == "paused" and detail["paused_reason"] == rollout.paused_reason
    assert detail["error_budget"] == {"max_failures": 1}
    assert platform_api.post(f"{BASE}/rollouts/{rollout_id}/pause/").status_code == 409

    # Retry-failed: one new rollout with the same options over the two failed tenants.
    retried = platform_api.post(f"{BASE}/rollouts/{rollout_id}/retry-failed/")
    assert retried.status_code == 201, retried.json()
    retry = retried.json()
    assert retry["id"] != rollout_id and retry["name"] == "Budgeted (retry)"
    assert retry["error_budget"] == {"max_failures": 1}
    assert retry["counts"]["planned"] == 2
    assert set(
        UpdateTask.objects.filter(rollout_id=retry["id"]).values_list("tenant__name", flat=True)
    ) == set(failed_names)

    ucfleet_settings(SIMULATED_FAILURE_SHARE=0.0)
    resumed = platform_api.post(f"{BASE}/rollouts/{rollout_id}/resume/")
    assert resumed.status_code == 200, resumed.json()
    assert resumed.json()["status"] == "running" and resumed.json()["paused_reason"] == ""
    burst()  # the retry's tasks; the resumed rollout's wave 2 is released by the tick
    release_due_waves()
    burst()
    assert by_wave(rollout_id) == {1: {Status.FAILED}, 2: {Status.EXECUTED}}
    assert Rollout.objects.get(pk=rollout_id).status == "completed"
    assert Rollout.objects.get(pk=retry["id"]).status == "completed"
    assert Notification.objects.filter(kind=Kind.ROLLOUT_PAUSED).count() == 1
    actions = set(
        ChangeLogEntry.objects.filter(object_type="rollout", object_id=str(rollout_id)).values_list(
            "action", flat=True
        )
    )
    assert {"create", "pause", "resume", "retry", "release", "complete"} <= actions


def test_abort_cancels_every_planned_and_held_task_with_cancellation_emails(
    platform_api, partner_admin, a_tenants, versions
):
    created = create(
        platform_api,
        a_tenants,
        versions,
        waves=[{"count": 1}, {"percent": 100}],
        notify_partner=True,
        notify_customer=True,
    )
    rollout_id = created["rollout"]
    wave_one = UpdateTask.objects.get(rollout_id=rollout_id, wave=1)
    # Held tenants are told their date at release, not at creation.
    assert set(
        Notification.objects.filter(kind=Kind.CREATED_CUSTOMER).values_list("tasks", flat=True)
    ) == {wave_one.pk}

    answer = platform_api.post(f"{BASE}/rollouts/{rollout_id}/abort/")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "aborted"
    assert set(statuses(rollout_id).values()) == {Status.CANCELLED}
    assert [w["status"] for w in answer.json()["waves"]] == ["ended", "ended"]
    [customer] = Notification.objects.filter(kind=Kind.CANCELLED_CUSTOMER)
    assert list(customer.tasks.values_list("pk", flat=True)) == [wave_one.pk]
    [digest] = Notification.objects.filter(kind=Kind.CANCELLED_PARTNER)
    assert digest.recipients == [partner_admin.email]
    assert platform_api.post(f"{BASE}/rollouts/{rollout_id}/abort/").status_code == 409
    assert platform_api.post(f"{BASE}/rollouts/{rollout_id}/resume/").status_code == 409


def test_abort_of_a_paused_rollout_after_release_tells_the_released_tenants(
    platform_api, burst, a_tenants, versions
):
    created = create(
        platform_api,
        a_tenants,
        versions,
        waves=[{"count": 1}, {"percent": 100}],
        notify_customer=True,
    )
    rollout_id = created["rollout"]
    burst()
    release_due_waves()
    wave_two = set(
        UpdateTask.objects.filter(rollout_id=rollout_id, wave=2).values_list("pk", flat=True)
    )
    released_mails = Notification.objects.filter(kind=Kind.CREATED_CUSTOMER, tasks__in=wave_two)
    assert released_mails.count() == 2  # told their real date at release
    assert platform_api.post(f"{BASE}/rollouts/{rollout_id}/pause/").json()["status"] == "paused"
    assert by_wave(rollout_id)[2] == {Status.HELD}

    platform_api.post(f"{BASE}/rollouts/{rollout_id}/abort/")

    cancelled = Notification.objects.filter(kind=Kind.CANCELLED_CUSTOMER)
    assert set(cancelled.values_list("tasks", flat=True)) == wave_two


def test_held_tasks_count_as_open_for_r4(platform_api, a_tenants, versions):
    created = create(platform_api, a_tenants, versions, waves=[{"count": 1}, {"percent": 100}])
    held = UpdateTask.objects.filter(rollout_id=created["rollout"], status=Status.HELD).first()

    again = create(platform_api, [held.tenant], versions)

    assert again["created_count"] == 0 and again["rollout"] is None
    assert [s["reason"] for s in again["skipped"]] == ["open_task_exists"]
    with pytest.raises(IntegrityError), transaction.atomic():
        UpdateTaskFactory(tenant=held.tenant, target_version=versions["new"])


def test_partner_administrators_see_and_steer_their_part_only(
    client_for, platform_api, partner_admin, partner_b_admin, a_tenants, b_tenants, versions
):
    created = create(platform_api, [*a_tenants, *b_tenants], versions)
    rollout_id = created["rollout"]
    alpha, beta = client_for(partner_admin), client_for(partner_b_admin)

    seen = alpha.get(f"{BASE}/rollouts/{rollout_id}/").json()
    assert seen["counts"]["planned"] == 3
    assert beta.get(f"{BASE}/rollouts/{rollout_id}/").json()["counts"]["planned"] == 2
    assert {
        t["partner"]["id"]
        for t in alpha.get(f"{BASE}/rollouts/{rollout_id}/tasks/").json()["results"]
    } == {partner_admin.partner_id}

    paused = alpha.post(f"{BASE}/rollouts/{rollout_id}/pause/")
    assert paused.status_code == 200, paused.json()
    assert paused.json()["status"] == "paused"  # its part
    platform_view = platform_api.get(f"{BASE}/rollouts/{rollout_id}/").json()
    assert platform_view["status"] == "scheduled"
    assert platform_view["counts"]["held"] == 3 and platform_view["counts"]["planned"] == 2
    assert set(
        UpdateTask.objects.filter(
            rollout_id=rollout_id, partner=partner_b_admin.partner
        ).values_list("status", flat=True)
    ) == {Status.PLANNED}
    assert alpha.post(f"{BASE}/rollouts/{rollout_id}/pause/").status_code == 409
    assert alpha.post(f"{BASE}/rollouts/{rollout_id}/resume/").json()["status"] == "scheduled"

    aborted = beta.post(f"{BASE}/rollouts/{rollout_id}/abort/")
    assert aborted.status_code == 200
    assert set(
        UpdateTask.objects.filter(
            rollout_id=rollout_id, partner=partner_b_admin.partner
        ).values_list("status", flat=True)
    ) == {Status.CANCELLED}
    assert set(
        UpdateTask.objects.filter(rollout_id=rollout_id, partner=partner_admin.partner).values_list(
            "status", flat=True
        )
    ) == {Status.PLANNED}

    # A rollout of partner B's tenants only does not exist for partner A.
    b_only = create(
        platform_api,
        [TenantFactory(partner=partner_b_admin.partner, version=versions["current"])],
        versions,
    )
    assert alpha.get(f"{BASE}/rollouts/{b_only['rollout']}/").status_code == 404
    assert alpha.post(f"{BASE}/rollouts/{b_only['rollout']}/pause/").status_code == 404
    listed = {r["id"] for r in alpha.get(f"{BASE}/rollouts/").json()["results"]}
    assert listed == {rollout_id}
    assert (
        alpha.get(f"{BASE}/rollouts/", {"partner": partner_b_admin.partner_id}).status_code == 404
    )


def test_preview_answers_each_tenants_wave_and_writes_nothing(platform_api, a_tenants, versions):
    answer = platform_api.post(
        f"{BASE}/update-tasks/preview/",
        {
            "tenants": [t.pk for t in a_tenants],
            "timing": "immediate",
            "target_version": versions["new"].pk,
            "waves": [{"percent": 34}, {"count": 1}, {"percent": 100}],
        },
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["waves"] == [
        {"index": 1, "size": 2, "status": "released"},  # 34 % of 3, rounded up
        {"index": 2, "size": 1, "status": "held"},
    ]
    assert [p["wave"] for p in body["planned"]] == [1, 1, 2]
    assert not Rollout.objects.exists() and not UpdateTask.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"waves": [{"count": 0}, {"percent": 100}]}, "waves.0.count"),
        ({"waves": [{"count": 1, "percent": 5}]}, "waves.0.non_field_errors"),
        ({"waves": [{"percent": 0}]}, "waves.0.percent"),
        ({"waves": "1,rest"}, "waves"),
        ({"soak_minutes": -5}, "soak_minutes"),
        (
            {"error_budget": {"max_failures": 1, "max_failure_percent": 2}},
            "error_budget.non_field_errors",
        ),
        ({"error_budget": {"max_failure_percent": 120}}, "error_budget.max_failure_percent"),
        ({"name": "x" * 201}, "name"),
        (
            {
                "timing": "custom",
                "start": "2099-01-01T10:00:00Z",
                "waves": [{"count": 1}, {"percent": 100}],
            },
            "waves",
        ),
    ],
)
def test_bad_rollout_options_answer_400_naming_the_field(
    platform_api, a_tenants, versions, extra, field
):
    answer = platform_api.post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [t.pk for t in a_tenants],
            "timing": "immediate",
            "target_version": versions["new"].pk,
            **extra,
        },
        format="json",
    )
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["errors"], answer.json()
    assert not Rollout.objects.exists() and not UpdateTask.objects.exists()


def test_rollout_list_filters_and_order(platform_api, a_tenants, b_tenants, versions):
    first = create(platform_api, a_tenants[:1], versions)["rollout"]
    second = create(platform_api, b_tenants[:1], versions)["rollout"]
    listed = platform_api.get(f"{BASE}/rollouts/").json()["results"]
    assert [r["id"] for r in listed] == [second, first]
    by_partner = platform_api.get(f"{BASE}/rollouts/", {"partner": b_tenants[0].partner_id})
    assert [r["id"] for r in by_partner.json()["results"]] == [second]
    assert platform_api.get(f"{BASE}/rollouts/", {"status": "completed"}).json()["count"] == 0
    by_version = platform_api.get(f"{BASE}/rollouts/", {"target_version": "14.10"}).json()
    assert by_version["count"] == 2
    assert platform_api.get(f"{BASE}/rollouts/", {"status": "bogus"}).status_code == 400
    tasks = platform_api.get(f"{BASE}/update-tasks/", {"rollout": first}).json()["results"]
    assert [t["rollout"] for t in tasks] == [first]
