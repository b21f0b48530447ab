"""The update workflow in a real browser, walked as a user would (issue 4, "What must show")."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wall(dt) -> str:
    """A datetime-local value in server time (Europe/Berlin after `sunday_window`)."""
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")


def test_partner_admin_updates_all_its_tenants_in_the_maintenance_window(
    page, live_server, login, screenshot, partner_admin, a_tenants, b_tenants, sunday_window
):
    login(partner_admin.username)
    page.get_by_role("link", name="Update UC Tenants").first.click()
    expect(page.get_by_role("heading", name="Update UC Tenants")).to_be_visible()

    page.get_by_label("Maintenance window (server time)").check()
    page.get_by_label("Send E-mail", exact=True).check()
    group = page.locator("[data-testid=partner-group]")
    expect(group).to_have_count(1)  # its own partner only (R1)
    group.locator("input[name=partners]").check()
    tenant_boxes = group.locator("input[name=tenants]")
    expect(tenant_boxes).to_have_count(3)
    for i in range(3):
        expect(tenant_boxes.nth(i)).to_be_checked()
    screenshot("wizard-selection")

    page.get_by_test_id("preview").click()
    preview = page.get_by_test_id("preview-result")
    expect(preview).to_contain_text("3 tasks will be created")
    for tenant in a_tenants:
        expect(page.get_by_test_id("preview-planned")).to_contain_text(tenant.name)
    expect(page.get_by_test_id("preview-planned")).to_contain_text("CET")
    screenshot("wizard-preview")
    assert not UpdateTask.objects.exists()  # the preview writes nothing

    page.get_by_test_id("confirm").click()
    page.wait_for_url(f"{live_server.url}/tasks/")
    expect(page.get_by_test_id("messages")).to_contain_text("3 update tasks were created.")
    table = page.get_by_test_id("task-table")
    for tenant in a_tenants:
        row = table.locator(f"tr[data-tenant='{tenant.name}']")
        expect(row).to_contain_text("Maintenance window (server time)")
        expect(row).to_contain_text("planned")
    screenshot("task-list")

    page.get_by_role("link", name="UC Tenants", exact=True).click()
    tenant_table = page.get_by_test_id("tenant-table")
    for tenant in a_tenants:
        marker = tenant_table.locator(f"tr[data-tenant='{tenant.name}'] [data-testid=markers]")
        expect(marker.get_by_role("img", name="Update scheduled")).to_be_visible()
    for tenant in b_tenants:
        expect(tenant_table).not_to_contain_text(tenant.name)
    screenshot("tenant-list-marked")
    tasks = UpdateTask.objects.all()
    assert tasks.count() == 3 and all(t.notify_partner for t in tasks)


def test_platform_admin_forces_a_custom_time_task_the_partner_cannot_delete(
    page,
    live_server,
    login,
    screenshot,
    accept_dialogs,
    platform_admin,
    partner_admin,
    a_tenants,
    sunday_window,
):
    tenant = a_tenants[0]
    start = timezone.now() + timedelta(days=3)
    login(platform_admin.username)
    page.goto(f"{live_server.url}/tenants/{tenant.pk}/")
    page.get_by_test_id("update-tenant").click()
    page.get_by_label("Custom time", exact=True).check()
    page.locator("input[name=start]").fill(_wall(start))
    page.get_by_label("Forced update").check()
    expect(page.locator(f"input[name=tenants][value='{tenant.pk}']")).to_be_checked()
    page.get_by_test_id("preview").click()
    expect(page.get_by_test_id("preview-result")).to_contain_text("1 task will be created")
    page.get_by_test_id("confirm").click()
    page.wait_for_url(f"{live_server.url}/tasks/")
    task = UpdateTask.objects.get()
    assert task.is_forced and task.timing == "custom"
    page.get_by_role("button", name="Log out").click()

    login(partner_admin.username)
    page.goto(f"{live_server.url}/tasks/")
    row = page.locator(f"tr[data-tenant='{tenant.name}']")
    expect(row.get_by_test_id("forced-marker")).to_be_visible()
    expect(row.get_by_test_id("delete-task")).to_be_disabled()
    expect(row.get_by_test_id("postpone-task")).to_have_count(0)
    screenshot("task-list-forced-partner-view")
    # Selecting it and using the bulk Delete is refused too, with the reason.
    row.locator("input[name=ids]").check()
    page.get_by_test_id("bulk-toolbar").get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_test_id("messages")).to_contain_text(
        "Forced tasks can only be changed by platform administrators."
    )
    task.refresh_from_db()
    assert task.status == Status.PLANNED


def test_partner_admin_reschedules_selected_tasks_and_postpones_one(
    page, live_server, login, screenshot, partner_admin, a_tenants, schedule, sunday_window
):
    schedule(a_tenants)
    login(partner_admin.username)
    page.goto(f"{live_server.url}/tasks/")
    first, second, third = (page.locator(f"tr[data-tenant='{t.name}']") for t in a_tenants)
    first.locator("input[name=ids]").check()
    second.locator("input[name=ids]").check()
    expect(page.locator("[data-selection-count]")).to_have_text("2 selected")
    page.get_by_role("button", name="Reschedule selected tasks").click()
    new_start = timezone.now() + timedelta(days=4)
    panel = page.get_by_test_id("reschedule-panel")
    panel.get_by_test_id("reschedule-start").fill(_wall(new_start))
    panel.get_by_label("Send E-mail").check()
    screenshot("reschedule-selected")
    panel.get_by_role("button", name="Reschedule", exact=True).click()
    expect(page.get_by_test_id("messages")).to_contain_text("2 tasks rescheduled.")
    wall = _wall(new_start).replace("T", " ")
    expect(page.locator(f"tr[data-tenant='{a_tenants[0].name}']")).to_contain_text(wall)
    expect(page.locator(f"tr[data-tenant='{a_tenants[2].name}']")).to_contain_text("Immediately")

    # Postpone one task in the dialog; a time in the past is a field error first.
    third = page.locator(f"tr[data-tenant='{a_tenants[2].name}']")
    third.get_by_test_id("postpone-task").click()
    dialog = page.locator("dialog#modal")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=start]").fill(_wall(timezone.now() - timedelta(days=1)))
    dialog.get_by_role("button", name="Postpone").click()
    expect(dialog).to_contain_text("The time must lie in the future.")
    later = timezone.now() + timedelta(days=6)
    dialog.locator("input[name=start]").fill(_wall(later))
    screenshot("postpone-dialog")
    dialog.get_by_role("button", name="Postpone").click()
    expect(page.get_by_test_id("messages")).to_contain_text("was postponed")
    expect(page.locator(f"tr[data-tenant='{a_tenants[2].name}']")).to_contain_text(
        _wall(later).replace("T", " ")
    )
    moved = UpdateTask.objects.get(tenant=a_tenants[2])
    assert moved.timing == "custom"


def test_platform_maintenance_conflicts_are_deleted(
    page,
    live_server,
    login,
    screenshot,
    accept_dialogs,
    platform_admin,
    a_tenants,
    schedule,
    sunday_window,
):
    start = timezone.now() + timedelta(days=2)
    conflicting = schedule(a_tenants[:2], timing="custom", start=start + timedelta(minutes=30))
    login(platform_admin.username)
    page.get_by_role("link", name="Platform maintenance").click()
    page.get_by_test_id("new-maintenance").click()
    form = page.get_by_test_id("maintenance-form")
    form.locator("input[name=start]").fill(_wall(start))
    form.locator("input[name=end]").fill(_wall(start + timedelta(hours=3)))
    form.locator("textarea[name=message_en]").fill("Storage upgrade")
    form.locator("textarea[name=message_de]").fill("Speicher-Aktualisierung")
    page.get_by_test_id("save-maintenance").click()
    expect(page.get_by_test_id("messages")).to_contain_text(
        "2 planned tasks conflict with this maintenance."
    )
    conflicts = page.get_by_test_id("conflict-table")
    for task in conflicting:
        expect(conflicts).to_contain_text(task.tenant.name)
    screenshot("maintenance-conflicts")
    page.get_by_test_id("resolve-delete").click()
    expect(page.get_by_test_id("messages")).to_contain_text("2 conflicting tasks deleted.")
    expect(page.get_by_test_id("no-conflicts")).to_be_visible()
    assert set(UpdateTask.objects.values_list("status", flat=True)) == {Status.CANCELLED}
    assert PlatformMaintenance.objects.count() == 1


def test_task_list_shows_status_changes_while_a_worker_runs(
    page, live_server, login, screenshot, settings, platform_admin, a_tenants, schedule
):
    from django.db import connections

    from ucfleet.worker.runner import run_worker

    settings.UCFLEET = {**settings.UCFLEET, "SIMULATED_SECONDS": 1.5, "WORKER_POLL_SECONDS": 0.2}
    (task,) = schedule(a_tenants[:1])
    login(platform_admin.username)
    page.goto(f"{live_server.url}/tasks/")
    badge = page.locator(f"#task-status-{task.pk} .badge")
    expect(badge).to_have_text("planned")

    def work() -> None:
        try:
            run_worker(burst=True, name="browser-test")
        finally:
            connections.close_all()  # this thread's own connection: Django closes none here

    worker = threading.Thread(target=work)
    worker.start()
    try:
        expect(badge).to_have_text(re.compile("in progress|executed"), timeout=15_000)
        expect(badge).to_have_text("executed", timeout=20_000)
    finally:
        worker.join(timeout=30)
    # The details row shows the execution log the worker wrote.
    page.locator(f"tr[data-task-id='{task.pk}'] button.disclosure").click()
    details = page.get_by_test_id("task-details")
    expect(details).to_contain_text(a_tenants[0].instance_id)
    expect(page.locator(f"#task-details-{task.pk} pre.log")).not_to_have_text("—")
    screenshot("task-details-after-run")
