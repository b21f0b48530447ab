"""createadmin, token, schedule and tasks through the management commands."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UpdateTaskFactory
from ucfleet.accounts.models import Administrator
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def test_createadmin_platform_and_partner(run, partner_a):
    made = run(
        "createadmin",
        "ops",
        "--profile",
        "platform_advanced",
        "--email",
        "ops@x.example",
        "--password-stdin",
        stdin="a-long-enough-password\n",
    )
    assert made.code == 0, made.err
    ops = Administrator.objects.get(username="ops")
    assert (
        ops.is_platform_admin and ops.is_advanced and ops.check_password("a-long-enough-password")
    )
    partner = run(
        "createadmin",
        "alice",
        "--profile",
        "partner",
        "--partner",
        "Alpha Telecom",
        "--password-stdin",
        stdin="another-long-password\n",
    )
    assert partner.code == 0, partner.err
    assert "of partner Alpha Telecom" in partner.out
    assert Administrator.objects.get(username="alice").partner == partner_a


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["bob", "--profile", "partner"], "long-password-1\n", "--partner is required"),
        (
            ["bob", "--profile", "partner", "--partner", "Nobody"],
            "long-password-1\n",
            "No such partner",
        ),
        (
            ["bob", "--profile", "platform", "--partner", "Alpha Telecom"],
            "long-password-1\n",
            "belong to no partner",
        ),
        (["bob", "--profile", "platform"], "short\n", "too short"),
        (["bob", "--profile", "platform"], None, "--password-stdin"),
    ],
)
def test_createadmin_refuses_clearly(run, partner_a, args, stdin, message):
    options = ["--password-stdin"] if stdin is not None else []
    result = run("createadmin", *args, *options, stdin=stdin or "")
    assert result.code == 1 and message in result.err
    assert not Administrator.objects.filter(username="bob").exists()


def test_createadmin_refuses_a_taken_username(run, platform_admin):
    result = run(
        "createadmin",
        platform_admin.username,
        "--profile",
        "platform",
        "--password-stdin",
        stdin="long-password-1\n",
    )
    assert result.code == 1 and "username" in result.err


def test_token_create_and_revoke(run, partner_admin, a_tenants):
    created = run("token", "create", partner_admin.username)
    assert created.code == 0
    key = created.out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/tenants/").status_code == 200
    second = run("token", "create", partner_admin.username).out.strip()
    assert second != key and client.get("/api/v1/tenants/").status_code == 200  # both work
    replaced = run("token", "create", partner_admin.username, "--replace").out.strip()
    assert replaced not in (key, second) and client.get("/api/v1/tenants/").status_code == 401
    revoked = run("token", "revoke", partner_admin.username)
    assert revoked.code == 0 and "Revoked" in revoked.out
    client.credentials(HTTP_AUTHORIZATION=f"Token {replaced}")
    assert client.get("/api/v1/tenants/").status_code == 401
    assert "had no API token" in run("token", "revoke", partner_admin.username).out
    assert run("token", "create", "nobody").code == 1


def test_schedule_yes_previews_then_creates(run, partner_admin, a_tenants, b_tenants):
    UpdateTaskFactory(tenant=a_tenants[0], target_version=a_tenants[0].version)
    result = run(
        "schedule",
        "--partner",
        "Alpha Telecom",
        "--timing",
        "custom",
        "--start",
        (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
        "--target-version",
        "14.10",
        "--notify-partner",
        "--as",
        partner_admin.username,
        "--yes",
    )
    assert result.code == 0, result.err
    assert "Target software version 14.10 · Custom time" in result.out
    assert "Planned: 2 UC tenant(s)" in result.out
    assert f"{a_tenants[0].name}: open_task_exists" in result.out
    assert "Created 2 update task(s)" in result.out
    created = UpdateTask.objects.filter(scheduled_by=partner_admin)
    assert {t.tenant_id for t in created} == {a_tenants[1].pk, a_tenants[2].pk}
    assert all(t.notify_partner and t.timing == "custom" for t in created)


def test_schedule_asks_and_creates_nothing_unless_confirmed(run, a_tenants):
    args = [
        "schedule",
        "--tenant",
        a_tenants[0].name,
        "--timing",
        "immediate",
        "--target-version",
        "14.10",
    ]
    declined = run(*args, stdin="n\n", tty=True)
    assert declined.code == 0 and "Create 1 update task(s)? [y/N]" in declined.out
    assert "Nothing was scheduled." in declined.out
    no_terminal = run(*args)
    assert no_terminal.code == 1 and "--yes" in no_terminal.err
    assert not UpdateTask.objects.exists()
    accepted = run(*args, stdin="y\n", tty=True)
    assert accepted.code == 0 and UpdateTask.objects.count() == 1


def test_schedule_keeps_the_rules(run, partner_admin, a_tenants, b_tenants):
    forced = run(
        "schedule",
        "--tenant",
        a_tenants[0].name,
        "--timing",
        "immediate",
        "--target-version",
        "14.10",
        "--forced",
        "--as",
        partner_admin.username,
        "--yes",
    )
    assert forced.code == 1 and "Forced update" in forced.err
    foreign = run(
        "schedule",
        "--tenant",
        b_tenants[0].name,
        "--timing",
        "immediate",
        "--target-version",
        "14.10",
        "--as",
        partner_admin.username,
        "--yes",
    )
    assert foreign.code == 1 and "no such UC tenant" in foreign.err
    past = run(
        "schedule",
        "--all",
        "--timing",
        "custom",
        "--start",
        "2001-01-01 10:00",
        "--target-version",
        "14.10",
        "--yes",
    )
    assert past.code == 1 and "future" in past.err
    bad = run(
        "schedule",
        "--all",
        "--timing",
        "custom",
        "--start",
        "tomorrow-ish",
        "--target-version",
        "14.10",
        "--yes",
    )
    assert bad.code == 1 and "is not a date and time" in bad.err
    assert not UpdateTask.objects.exists()


def test_tasks_lists_and_filters(run, a_tenants, b_tenants, partner_admin):
    planned = UpdateTaskFactory(tenant=a_tenants[0], target_version=a_tenants[0].version)
    failed = UpdateTaskFactory(
        tenant=a_tenants[1],
        target_version=a_tenants[1].version,
        status=Status.FAILED,
        is_forced=True,
    )
    foreign = UpdateTaskFactory(tenant=b_tenants[0], target_version=b_tenants[0].version)
    every = run("tasks")
    assert every.code == 0 and "3 of 3 task(s)" in every.out
    assert every.out.splitlines()[0].split() == [
        "ID",
        "UC",
        "tenant",
        "Partner",
        "Target",
        "Timing",
        "Start",
        "Status",
        "Forced",
    ]

    def ids(*args):
        result = run("tasks", "--json", *args)
        assert result.code == 0, result.err
        return {json.loads(line)["id"] for line in result.out.splitlines()}

    assert ids("--status", "failed") == {failed.pk}
    assert ids("--status", "planned", "--partner", "Beta Networks") == {foreign.pk}
    assert ids("--forced") == {failed.pk}
    assert ids("--not-forced") == {planned.pk, foreign.pk}
    assert ids("--tenant", str(a_tenants[0].pk)) == {planned.pk}
    assert ids("--as", partner_admin.username) == {planned.pk, failed.pk}
    assert "1 of 3 task(s)" in run("tasks", "--limit", "1").out
    assert run("tasks", "--status", "done").code == 1


@pytest.mark.parametrize("flag, waits", [([], True), (["--no-wait-for-idle"], False)])
def test_schedule_waits_for_idle_tenants_unless_told_not_to(
    run, partner_admin, a_tenants, flag, waits
):
    result = run(
        "schedule",
        "--tenant",
        str(a_tenants[0].pk),
        "--timing",
        "immediate",
        "--target-version",
        "14.10",
        *flag,
        "--as",
        partner_admin.username,
        "--yes",
    )
    assert result.code == 0, result.err
    assert UpdateTask.objects.get(tenant=a_tenants[0]).wait_for_idle is waits


def test_tasks_json_is_the_apis_task_object(run, a_tenants, platform_admin, versions):
    """`ucfleet tasks --json` prints what GET /api/v1/update-tasks/{id}/ answers (without
    the requester-specific `actions`), though the CLI does not use the API's serializer."""
    failed = UpdateTaskFactory(
        tenant=a_tenants[0],
        target_version=versions["new"],
        status=Status.FAILED,
        failure_reason="boom",
        started=timezone.now(),
        finished=timezone.now(),
        scheduled_by=platform_admin,
    )
    retry = UpdateTaskFactory(tenant=a_tenants[1], target_version=versions["new"], retry_of=failed)
    printed = {obj["id"]: obj for obj in map(json.loads, run("tasks", "--json").out.splitlines())}
    client = APIClient()
    client.force_login(platform_admin)
    for task in (failed, retry):
        answered = client.get(f"/api/v1/update-tasks/{task.pk}/").json()
        answered.pop("actions")
        answered.pop("attempts")
        for detail_only in ("steps", "next_check"):  # the detail's, like the attempts
            answered.pop(detail_only)
        assert printed[task.pk] == answered


@pytest.mark.parametrize("odd", ["²", "٣", "9" * 30])
def test_an_odd_id_is_a_clear_not_found_in_every_command(run, a_tenants, odd):
    """`str.isdigit()` accepts '²' (int() refuses it) and '٣' (int() reads 3): the commands
    use core.ids' parser, so such a reference is simply not found."""
    schedule = run(
        "schedule", "--tenant", odd, "--timing", "immediate", "--target-version", "14.10", "--yes"
    )
    assert schedule.code == 1 and f"no such UC tenant: {odd}" in schedule.err
    partner = run(
        "schedule", "--partner", odd, "--timing", "immediate", "--target-version", "14.10"
    )
    assert partner.code == 1 and f"no such partner: {odd}" in partner.err
    export = run("export_tenants", "--partner", odd)
    assert export.code == 1 and f"no partner called {odd!r}" in export.err
    tasks = run("tasks", "--tenant", odd)
    assert tasks.code == 0 and "0 of 0 task(s)" in tasks.out
    assert not UpdateTask.objects.exists()
