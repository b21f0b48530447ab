"""R24–R25 in the portal: the step timeline in a task's details, "waiting: N active calls"
in the task list, the wizard's "Wait until no calls are active" — in English and German."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.web.conftest import client_for
from ucfleet.updates.models import TaskAttempt, TaskStep, UpdateTask
from ucfleet.web.charts import step_timeline

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def _ran(task, steps, *, outcome="failed", at=None):
    at = at or timezone.now()
    attempt = TaskAttempt.objects.create(
        task=task, worker_name="w1", started=at, finished=at, outcome=outcome
    )
    for i, (step, result) in enumerate(steps):
        TaskStep.objects.create(
            task=task,
            attempt=attempt,
            step=step,
            started=at + timedelta(seconds=i),
            finished=at + timedelta(seconds=i + 0.8),
            outcome=result,
            output=f"{step} said <b>hello</b>",
        )
    return attempt


def test_the_timeline_puts_each_step_on_its_own_row_in_time_order():
    chart = step_timeline(
        [
            ("pre_check", "Pre-check", T0, T0 + timedelta(seconds=1), "succeeded"),
            ("backup", "Backup", T0 + timedelta(seconds=1), T0 + timedelta(seconds=3), "succeeded"),
            ("update", "Update", T0 + timedelta(seconds=3), T0 + timedelta(seconds=10), "failed"),
            (
                "restore",
                "Restore",
                T0 + timedelta(seconds=10),
                T0 + timedelta(seconds=10),
                "succeeded",
            ),
        ]
    )
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs) and xs[0] == chart.plot_left
    assert [b.y for b in chart.bars] == sorted({b.y for b in chart.bars})  # one row each
    update = chart.bars[2]
    assert update.x + update.width == pytest.approx(chart.plot_right, abs=0.2)  # ends last
    assert chart.bars[1].width == pytest.approx(2 * chart.bars[0].width, rel=0.01)
    assert chart.bars[3].width == 3.0  # an instant step still shows
    assert chart.total_seconds == 10 and [t.seconds for t in chart.ticks] == [0, 2, 4, 6, 8, 10]


def test_an_empty_timeline_has_no_bars_and_no_ticks():
    chart = step_timeline([])
    assert chart.bars == [] and chart.ticks == [] and chart.total_seconds == 0


@pytest.mark.parametrize(
    "language, labels, failed",
    [
        ("en", ["Pre-check", "Backup", "Update", "Restore"], "failed"),
        (
            "de",
            ["Vorabprüfung", "Sicherung", "Aktualisierung", "Wiederherstellung"],
            "fehlgeschlagen",
        ),
    ],
)
def test_details_show_each_attempts_steps_as_a_timeline(
    platform_admin, a_tenants, schedule, language, labels, failed
):
    platform_admin.language = language
    platform_admin.save()
    (task,) = schedule(a_tenants[:1])
    _ran(
        task,
        [
            ("pre_check", "succeeded"),
            ("backup", "succeeded"),
            ("update", "failed"),
            ("restore", "succeeded"),
        ],
    )
    page = client_for(platform_admin).get(f"/tasks/{task.pk}/details/").content.decode()

    svg = page[page.index("<svg") : page.index("</svg>")]
    assert re.findall(r'data-step="(\w+)"', svg) == ["pre_check", "backup", "update", "restore"]
    assert re.findall(r'data-outcome="(\w+)"', svg)[2] == "failed"
    for label in labels:
        assert f">{label}</text>" in svg
    assert failed in page
    # Step output is shown escaped.
    assert "update said &lt;b&gt;hello&lt;/b&gt;" in page and "<b>hello</b>" not in page


def test_details_without_steps_say_so(platform_client, a_tenants, schedule):
    (task,) = schedule(a_tenants[:1])
    page = platform_client.get(f"/tasks/{task.pk}/details/").content.decode()
    assert 'data-testid="no-steps"' in page and "<svg" not in page


@pytest.mark.parametrize(
    "language, text",
    [("en", "waiting: 3 active calls"), ("de", "wartet: 3 aktive Gespräche")],
)
def test_the_task_list_shows_waiting_tasks(platform_admin, a_tenants, schedule, language, text):
    platform_admin.language = language
    platform_admin.save()
    (waiting, plain) = schedule(a_tenants[:2])
    UpdateTask.objects.filter(pk=waiting.pk).update(
        waiting_reason="busy: 3 active calls", next_check=timezone.now() + timedelta(minutes=1)
    )
    client = client_for(platform_admin)

    page = client.get("/tasks/").content.decode()
    statuses = client.get(f"/tasks/statuses/?ids={waiting.pk}&ids={plain.pk}").content.decode()
    details = client.get(f"/tasks/{waiting.pk}/details/").content.decode()

    assert page.count(text) == 1 and statuses.count(text) == 1
    assert text in details


def test_the_wizard_offers_wait_for_idle_checked(platform_client):
    page = platform_client.get("/updates/new/").content.decode()
    box = re.search(r'<input type="checkbox" name="wait_for_idle"[^>]*>', page)
    assert box is not None and "checked" in box.group(0)
    assert "Wait until no calls are active" in page


def test_the_german_wizard_names_the_option(platform_admin):
    platform_admin.language = "de"
    platform_admin.save()
    page = client_for(platform_admin).get("/updates/new/").content.decode()
    assert "Warten, bis keine Gespräche aktiv sind" in page


@pytest.mark.parametrize("checked, waits", [({"wait_for_idle": "on"}, True), ({}, False)])
def test_the_wizard_creates_tasks_with_the_option_as_checked(
    partner_client, a_tenants, versions, checked, waits
):
    data = {
        "timing": "immediate",
        "task_type": "update",
        "action": "confirm",
        "tenants": [a_tenants[0].pk],
        "target_version": versions["new"].pk,
        **checked,
    }
    assert partner_client.post("/updates/new/", data).status_code == 302
    assert UpdateTask.objects.get().wait_for_idle is waits
