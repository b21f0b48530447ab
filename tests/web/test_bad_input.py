"""Bad input anywhere answers with a page or a clear error, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import UpdateTaskFactory
from ucfleet.updates.choices import Status

pytestmark = pytest.mark.django_db

BAD_GETS = [
    "/tasks/?page=abc",
    "/tasks/?page=-1",
    "/tasks/?page_size=100000",
    "/tasks/?sort=;drop",
    "/tasks/?partner=abc&status=nope&timing=x&forced=2&start_from=31.02.2026",
    "/tasks/all/?task_type=evil",
    "/tenants/?version=999999&partner=x&marker=y&kind=z",
    "/tenants/?active=maybe&sort=-nothing",
    "/tasks/statuses/?ids=abc,,1e9",
    "/change-log/?date_from=garbage&date_to=2026-13-45&object_type=x",
    "/change-log/?format=csv&date_from=nope",
    "/outbox/?status=x&kind=y",
    "/administrators/?profile=x&partner=y",
    "/updates/new/?version=abc",
    "/updates/new/?tenant=abc",
    "/updates/new/?partner=0",
]


@pytest.mark.parametrize("url", BAD_GETS)
def test_bad_query_strings_never_break_a_page(url, partner_client, a_tenants, versions):
    assert partner_client.get(url).status_code in (200, 404)


def test_bad_posts_answer_with_errors_not_500(platform_client, a_tenants, versions):
    executed = UpdateTaskFactory(
        tenant=a_tenants[0], target_version=versions["new"], status=Status.EXECUTED
    )
    cases = [
        ("/tasks/bulk/", {"action": "reschedule", "ids": ["abc"], "start": "x"}),
        ("/tasks/bulk/", {"action": "explode", "ids": [executed.pk]}),
        ("/tasks/bulk/", {"action": "delete", "ids": [executed.pk]}),
        (f"/tasks/{executed.pk}/postpone/", {"start": "2031-01-01T10:00"}),
        (f"/tasks/{executed.pk}/retry/", {}),
        ("/updates/new/", {"timing": "never", "target_version": "x", "tenants": ["a"]}),
        (
            "/updates/new/",
            {
                "timing": "custom",
                "start": "2031-02-30T10:00",
                "target_version": versions["new"].pk,
                "tenants": [a_tenants[0].pk],
                "action": "confirm",
            },
        ),
        ("/maintenance/new/", {"start": "soon", "end": ""}),
        ("/maintenance-window/", {"time_zone": "Mars/Olympus", "slots-TOTAL_FORMS": "x"}),
        ("/maintenance-window/preview/", {"slots-TOTAL_FORMS": "1"}),
        ("/maintenance/999/conflicts/", {"action": "nuke"}),
        (f"/versions/{versions['new'].pk}/flags/", {"for_testing": "on"}),
        ("/account/language/", {"language": "xx"}),
        ("/administrators/new/", {"username": "", "profile": "root"}),
        ("/tenants/new/", {"name": "x", "partner": "abc", "version": "zzz"}),
        ("/partners/new/", {"name": ""}),
        ("/scale-units/new/", {"name": "u", "max_concurrent_tasks": "-3"}),
        ("/outbox/999/retry/", {}),
    ]
    for url, data in cases:
        response = platform_client.post(url, data)
        assert response.status_code in (200, 204, 302, 400, 404, 409), (url, response.status_code)
    executed.refresh_from_db()
    assert executed.status == Status.EXECUTED
