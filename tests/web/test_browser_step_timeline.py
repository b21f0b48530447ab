"""The task page's step timeline (R24) and a waiting task (R25) in a real browser, in
English and German, after the real worker loop drove the UC provisioning simulator (its own
process) through the http driver. Screenshots: test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import AdministratorFactory
from tests.worker.processes import SimulatorProcess
from ucfleet.accounts.choices import Profile
from ucfleet.updates.choices import Status
from ucfleet.worker.runner import run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def simulator(tmp_path, settings):
    sim = SimulatorProcess(token="t", step_seconds=0.3, log_to=tmp_path / "sim.log")
    settings.UCFLEET = {
        **settings.UCFLEET,
        "DRIVER": "http",
        "HTTP_URL": sim.url,
        "HTTP_TOKEN": "t",
        "HTTP_POLL_SECONDS": 0.05,
        "WORKER_POLL_SECONDS": 0.05,
    }
    yield sim
    sim.stop()


def test_the_task_details_show_the_steps_as_a_timeline_in_both_languages(
    page, live_server, login, screenshot, simulator, platform_admin, a_tenants, schedule
):
    restored, updated, busy = schedule(a_tenants[:3])
    simulator.fault(restored.tenant.instance_id, step="health_check", times=1)
    simulator.fault(busy.tenant.instance_id, busy_seconds=600, calls=3)
    run_worker(burst=True, name="browser-timeline")
    for task in (restored, updated, busy):
        task.refresh_from_db()
    assert restored.failure_reason == "health check failed: restored to 14.9"
    assert updated.status == Status.EXECUTED
    assert busy.status == Status.PLANNED and busy.waiting_reason == "busy: 3 active calls"
    german = AdministratorFactory(username="plat-de", profile=Profile.PLATFORM, language="de")

    for admin, texts in (
        (platform_admin, ("waiting: 3 active calls", "Health check", "Restore", "Steps")),
        (
            german,
            ("wartet: 3 aktive Gespräche", "Funktionsprüfung", "Wiederherstellung", "Schritte"),
        ),
    ):
        page.context.clear_cookies()
        login(admin.username)
        page.goto(f"{live_server.url}/tasks/")
        waiting, health, restore, heading = texts
        expect(page.locator(f"tr[data-task-id='{busy.pk}']")).to_contain_text(waiting)
        for task in (restored, updated):
            page.locator(f"tr[data-task-id='{task.pk}'] button.disclosure").click()
        timeline = page.locator(f"#task-details-{restored.pk} [data-testid=step-timeline]")
        expect(timeline).to_have_count(1)
        steps = timeline.locator("g.step")
        expect(steps).to_have_count(5)
        expect(steps.nth(3)).to_have_attribute("data-outcome", "failed")
        expect(timeline).to_contain_text(health)
        expect(timeline).to_contain_text(restore)
        expect(page.locator(f"#task-details-{restored.pk}")).to_contain_text(heading)
        done = page.locator(f"#task-details-{updated.pk} [data-testid=step-timeline] g.step")
        expect(done).to_have_count(4)
        box = steps.nth(2).locator("rect").bounding_box()
        assert box is not None and box["width"] > 20  # a real bar, not a dot
        screenshot(f"task-step-timeline-{admin.language}")
