"""`ucfleet schedule` with waves and an error budget, and `ucfleet rollouts` (R18, R22)."""

from __future__ import annotations

import json

import pytest

from tests.factories import TenantFactory
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.rollouts.models import Rollout
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten_tenants(partner_a, versions):
    return [TenantFactory(partner=partner_a, version=versions["current"]) for _ in range(10)]


def schedule(run, *extra):
    return run(
        "schedule", "--partner", "Alpha Telecom", "--timing", "immediate",
        "--target", "14.10", "--yes", *extra,
    )  # fmt: skip


def test_schedule_with_waves_soak_and_budget_makes_one_rollout(run, ten_tenants):
    done = schedule(
        run, "--waves", "1,20%,rest", "--soak-minutes", "15", "--max-failures", "2",
        "--name", "Alpha canary",
    )  # fmt: skip
    assert done.code == 0, done.err
    assert "Waves: 1: 1, 2: 2, 3: 7" in done.out
    rollout = Rollout.objects.get()
    assert f"rollout {rollout.pk}" in done.out
    assert (rollout.name, rollout.soak_minutes, rollout.max_failures) == ("Alpha canary", 15, 2)
    assert rollout.selection == {"partner": ten_tenants[0].partner_id}
    assert [w.size for w in rollout.waves.order_by("index")] == [1, 2, 7]
    statuses = UpdateTask.objects.filter(rollout=rollout).values_list("wave", "status")
    assert sorted(set(statuses)) == [(1, Status.PLANNED), (2, Status.HELD), (3, Status.HELD)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--waves", "rest,1"], '"rest" can only be the last wave'),
        (["--waves", "1,x%"], "Give waves as counts or percentages"),
        (["--waves", "0,rest"], "count must be a whole number"),
        (["--waves", "150%,rest"], "percentage must lie above 0"),
        (["--soak-minutes", "-1"], "soak time must be a whole number"),
        (["--max-failure-percent", "101"], "percentage must lie between 0 and 100"),
    ],
)
def test_bad_rollout_options_are_refused_and_change_nothing(run, ten_tenants, args, message):
    done = schedule(run, *args)
    assert done.code == 1 and message in done.err, done.err
    assert not Rollout.objects.exists() and not UpdateTask.objects.exists()


def test_rollouts_list_show_pause_resume_abort(run, ten_tenants, partner_admin):
    schedule(run, "--waves", "50%,rest", "--name", "Half")
    rollout = Rollout.objects.get()

    listed = run("rollouts", "list")
    assert listed.code == 0 and "Half" in listed.out and "scheduled" in listed.out
    shown = run("rollouts", "show", str(rollout.pk), "--json")
    record = json.loads(shown.out)
    assert record["counts"]["planned"] == 5 and record["counts"]["held"] == 5
    assert [(w["index"], w["status"]) for w in record["waves"]] == [(1, "released"), (2, "held")]

    paused = run("rollouts", "--as", partner_admin.username, "pause", str(rollout.pk))
    assert paused.code == 0, paused.err
    assert "Paused rollout" in paused.out
    assert set(UpdateTask.objects.values_list("status", flat=True)) == {Status.HELD}
    again = run("rollouts", "pause", str(rollout.pk))
    assert again.code == 1 and "Only a scheduled or running rollout" in again.err
    assert run("rollouts", "resume", str(rollout.pk)).code == 0
    assert UpdateTask.objects.filter(wave=1, status=Status.PLANNED).count() == 5
    assert run("rollouts", "abort", str(rollout.pk)).code == 0
    assert set(UpdateTask.objects.values_list("status", flat=True)) == {Status.CANCELLED}
    assert run("rollouts", "list", "--status", "aborted").out.count("Half") == 1
    entries = ChangeLogEntry.objects.filter(object_type="rollout").values_list(
        "action", "actor_name"
    )
    assert {("pause", partner_admin.username), ("resume", "cli"), ("abort", "cli")} <= set(entries)
    assert run("rollouts", "retry-failed", str(rollout.pk)).code == 1


def test_rollouts_of_another_partner_are_not_found(run, ten_tenants, partner_b_admin):
    schedule(run)
    rollout = Rollout.objects.get()
    assert run("rollouts", "--as", partner_b_admin.username, "list").out.strip() == "0 rollout(s)"
    shown = run("rollouts", "--as", partner_b_admin.username, "show", str(rollout.pk))
    assert shown.code == 1 and "No such rollout" in shown.err
