"""The portal as a new user tried it (issue: "the portal, tried as a new user would"): each
finding of that walk, checked through the real pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UpdateTaskFactory
from tests.web.conftest import client_for
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.queries import next_task_window, upcoming_occurrences
from ucfleet.updates.models import TaskAttempt, UpdateTask

pytestmark = pytest.mark.django_db


def _wall(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _page(client, url) -> str:
    return client.get(url).content.decode()


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "An update away from this version is recommended"),
        ("de", "Ein Update weg von dieser Version wird empfohlen"),
    ],
)
def test_the_versions_list_explains_recommend_update(platform_admin, versions, language, text):
    platform_admin.language = language
    platform_admin.save()
    assert text in _page(client_for(platform_admin), "/versions/")


def test_the_tenant_list_filters_update_recommended(platform_client, a_tenants, versions):
    from ucfleet.tenants.models import Tenant

    Tenant.objects.filter(pk=a_tenants[0].pk).update(version=versions["new"])
    page = _page(platform_client, "/tenants/")
    assert '<option value="recommended">update recommended</option>' in page
    page = _page(platform_client, "/tenants/?marker=recommended")
    assert a_tenants[0].name in page and a_tenants[1].name not in page


def test_send_email_is_on_by_default_in_postpone_and_reschedule_selected(
    partner_client, a_tenants, schedule
):
    (task,) = schedule(a_tenants[:1])  # created without Send E-mail
    postpone = _page(partner_client, f"/tasks/{task.pk}/postpone/")
    assert re.search(r'<input type="checkbox" name="notify_partner"[^>]* checked', postpone)
    listing = _page(partner_client, "/tasks/")
    assert re.search(r'id="reschedule-notify" checked', listing)


def test_a_refused_reschedule_keeps_the_selection(partner_client, a_tenants, schedule):
    tasks = schedule(a_tenants[:2])
    response = partner_client.post(
        "/tasks/bulk/",
        {
            "action": "reschedule",
            "ids": [tasks[0].pk, tasks[1].pk],
            "start": _wall(timezone.now() - timedelta(days=1)),
            "next": "/tasks/",
        },
    )
    assert response.status_code == 302
    listing = _page(partner_client, "/tasks/")
    assert "The time must lie in the future." in listing
    for task in tasks:
        assert f'name="ids" value="{task.pk}" form="bulk-form" checked' in listing
    # Shown once: the next visit starts with an empty selection.
    assert f'value="{tasks[0].pk}" form="bulk-form" checked' not in _page(partner_client, "/tasks/")


def test_immediately_during_a_running_maintenance_is_not_reported_as_custom_time(
    platform_client, a_tenants, versions
):
    PlatformMaintenance.objects.create(
        start=timezone.now() - timedelta(minutes=5), end=timezone.now() + timedelta(hours=1)
    )
    page = platform_client.post(
        "/updates/new/",
        {
            "timing": "immediate",
            "task_type": "update",
            "action": "preview",
            "tenants": [a_tenants[0].pk],
            "target_version": versions["new"].pk,
        },
    ).content.decode()
    assert "the platform maintenance from" in page
    assert "Custom time: The time overlaps" not in page
    assert not UpdateTask.objects.exists()


def test_confirm_is_disabled_when_nothing_would_be_created(platform_client, a_tenants, versions):
    UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])
    page = platform_client.post(
        "/updates/new/",
        {
            "timing": "immediate",
            "task_type": "update",
            "action": "preview",
            "tenants": [a_tenants[0].pk],
            "target_version": versions["new"].pk,
        },
    ).content.decode()
    button = re.search(r'<button[^>]*data-testid="confirm"[^>]*>', page, re.S)
    assert button and "disabled" in button.group(0)
    assert "Confirm: create 0 tasks" in page


def test_moving_conflicts_says_to_when(platform_client, a_tenants, schedule):
    start = timezone.now() + timedelta(days=2)
    tasks = schedule(a_tenants[:2], timing="custom", start=start + timedelta(minutes=30))
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=2))
    platform_client.post(f"/maintenance/{maintenance.pk}/conflicts/", {"action": "move"})
    page = _page(platform_client, f"/maintenance/{maintenance.pk}/")
    moved_to = UpdateTask.objects.get(pk=tasks[0].pk).earliest_start
    when = timezone.localtime(moved_to).strftime("%Y-%m-%d %H:%M")
    assert f"2 conflicting tasks moved to {when}" in page


def test_the_dashboard_marks_a_window_a_maintenance_blocks(platform_client, sunday_window):
    first = upcoming_occurrences(1)[0]
    PlatformMaintenance.objects.create(
        start=first.start - timedelta(minutes=10), end=first.start + timedelta(hours=1)
    )
    page = _page(platform_client, "/")
    assert 'data-testid="blocked-window"' in page
    assert "blocked by a platform maintenance: no tasks" in page
    free = next_task_window()
    assert free is not None and free.start > first.start
    shown = re.search(r'data-testid="next-task-window">.*?<time datetime="([^"]+)"', page, re.S)
    assert shown and shown.group(1) == free.start.isoformat()


def test_execution_log_times_are_server_time(platform_client, a_tenants, versions, sunday_window):
    task = UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])
    TaskAttempt.objects.create(
        task=task,
        worker_name="w",
        started=timezone.now(),
        finished=timezone.now(),
        outcome="failed",
        log="2026-12-01T20:00:00.123Z pre-check: started\n2026-12-01T20:00:01.000Z pre-check: done",
    )
    page = _page(platform_client, f"/tasks/{task.pk}/details/")
    assert "2026-12-01 21:00:00.123 CET pre-check: started" in page  # Europe/Berlin
    assert "20:00:00.123Z" not in page


def test_demo_credentials_prints_the_sign_ins_again(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from ucfleet.accounts.models import Administrator
    from ucfleet.demo import DEMO_PASSWORD, seed_demo

    seed_demo()
    changed = Administrator.objects.get(username="beta-ops")
    changed.set_password("a-new-and-private-password")
    changed.save()
    out = StringIO()
    call_command("demo_credentials", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text and "platform" in text and "alpha-admin" in text
    assert "beta-ops" not in text
