"""The portal keeps the maintenance services' limits (issue 9): messages of at most 2,000
characters, and an expected task duration that fits in every recurrence of the window."""

from __future__ import annotations

import pytest

from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.queries import get_window

pytestmark = pytest.mark.django_db

MAX_MESSAGE = 2000  # characters of a maintenance message (issue 9)


def _window_data(**overrides):
    data = {
        "time_zone": "Europe/Berlin",
        "expected_task_minutes": "30",
        "slots-TOTAL_FORMS": "1",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "1000",
        "slots-0-weekdays": ["6"],
        "slots-0-start": "01:00",
        "slots-0-duration_hours": "1",
        "slots-0-duration_minutes": "30",
    }
    data.update(overrides)
    return data


def test_window_form_refuses_an_expected_duration_longer_than_the_window(platform_client):
    response = platform_client.post(
        "/maintenance-window/", _window_data(expected_task_minutes="91")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "is longer than the shortest recurrence of the window (90 minutes)" in page
    window = get_window()
    assert window.expected_task_minutes == 30 and not window.slots.exists()
    saved = platform_client.post("/maintenance-window/", _window_data(expected_task_minutes="90"))
    assert saved.status_code == 302
    assert get_window().expected_task_minutes == 90


@pytest.mark.parametrize("field", ["message_en", "message_de"])
def test_new_maintenance_refuses_a_message_over_2000_characters(field, platform_client):
    body = {"start": "2030-01-01T00:00", "end": "2030-01-01T04:00"}
    response = platform_client.post("/maintenance/new/", {**body, field: "x" * (MAX_MESSAGE + 1)})
    assert response.status_code == 200
    assert "at most 2000 characters" in response.content.decode()
    assert not PlatformMaintenance.objects.exists()
    response = platform_client.post("/maintenance/new/", {**body, field: "x" * MAX_MESSAGE})
    assert response.status_code == 302
    assert len(getattr(PlatformMaintenance.objects.get(), field)) == MAX_MESSAGE
