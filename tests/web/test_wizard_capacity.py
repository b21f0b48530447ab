"""R23 in the portal: the wizard's preview shows each tenant's date and the occurrences used
(the same window and unit as tests/api/test_capacity_api.py)."""

from __future__ import annotations

import pytest

from tests.api.test_capacity_api import many, window  # noqa: F401 (fixtures)
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def test_the_wizard_preview_shows_the_dates(
    platform_client,
    window,  # noqa: F811
    many,  # noqa: F811
    versions,
):
    first, second, _ = window
    answer = platform_client.post(
        "/updates/new/",
        {
            "timing": "maintenance_window",
            "task_type": "update",
            "action": "preview",
            "tenants": [t.pk for t in many],
            "target_version": versions["new"].pk,
        },
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert 'data-testid="preview-periods"' in page
    assert f"{first.start:%Y-%m-%d %H:%M}" in page and f"{second.start:%Y-%m-%d %H:%M}" in page
    assert page.count(f"{second.start:%Y-%m-%d %H:%M}") >= 4  # 3 rows and the summary
    assert not UpdateTask.objects.exists()
