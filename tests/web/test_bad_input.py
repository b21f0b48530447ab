"""Bad input anywhere answers with a page or a clear error, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import UpdateTaskFactory
from ucfleet.core.ids import MAX_ID, parse_id, parse_ids
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

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


# --- dates at the ends of the calendar --------------------------------------------------------


def test_task_list_start_to_on_the_last_day_of_the_calendar(
    partner_client, a_tenants, versions, schedule, sunday_window
):
    # 9999-12-31 has no next day; 0001-01-01 starts before datetime's range east of UTC
    # (the window's zone, server time, is Europe/Berlin). The filters apply; no 500.
    schedule(a_tenants[:1])
    name = a_tenants[0].name
    for query in ("start_to=9999-12-31", "start_from=0001-01-01&start_to=9999-12-31"):
        response = partner_client.get(f"/tasks/?{query}")
        assert response.status_code == 200, query
        assert name in response.content.decode()
    for query in ("start_from=9999-12-31&start_to=9999-12-31", "start_to=0001-01-01"):
        response = partner_client.get(f"/tasks/?{query}")
        assert response.status_code == 200, query
        assert name not in response.content.decode()


# --- ids: ASCII digits within the database's range only ----------------------------------------

TOO_BIG = str(2**63)
NOT_IDS = ["²", "٣", "１", TOO_BIG, "9" * 5000, "-1", "+1", "1_0", "1.0"]


def test_parse_id_takes_ascii_digits_within_bigint_only():
    assert parse_id("42") == 42
    assert parse_id(" 42 ") == 42
    assert parse_id(str(MAX_ID)) == MAX_ID
    assert parse_id("0" * 30 + "7") == 7
    assert parse_id(7) == 7
    for value in [*NOT_IDS, "", None, True, "abc"]:
        assert parse_id(value) is None, value
    assert parse_ids(["1,²,2", "٣", TOO_BIG, " 3 "]) == [1, 2, 3]


@pytest.mark.parametrize("bad", NOT_IDS)
def test_ids_that_are_not_ascii_digits_or_too_big_never_break_a_page(
    bad, partner_client, partner_a, a_tenants, versions
):
    gets = [
        f"/tasks/statuses/?ids={bad}",
        f"/tasks/statuses/?ids=1,{bad}",
        f"/updates/new/partners/{partner_a.pk}/?tenants={bad}&partners={bad}",
        f"/updates/new/?tenant={bad}",
        f"/updates/new/?partner={bad}",
        f"/updates/new/?version={bad}",
    ]
    for url in gets:
        assert partner_client.get(url).status_code in (200, 404), url
    posts = [
        ("/tasks/bulk/", {"action": "delete", "ids": [bad]}),
        ("/tasks/bulk/", {"action": "reschedule", "ids": [bad], "start": "2031-01-01T10:00"}),
        ("/updates/new/", {"timing": "immediate", "target_version": versions["new"].pk}),
    ]
    for url, data in posts:
        for selection in ("tenants", "partners"):
            body = {**data, selection: [bad]} if url == "/updates/new/" else data
            for headers in ({}, {"HX-Request": "true"}):
                response = partner_client.post(url, body, headers=headers)
                assert response.status_code in (200, 204, 302), (url, body, response.status_code)


def test_wizard_refuses_a_selection_of_non_ids(partner_client, a_tenants, versions):
    # '٣' reads as 3 with int(): it must not select tenant 3 (or any tenant).
    for bad in ("²", "٣", TOO_BIG):
        response = partner_client.post(
            "/updates/new/",
            {"timing": "immediate", "target_version": versions["new"].pk, "tenants": [bad]},
        )
        assert response.status_code == 200
        assert "Invalid selection." in response.content.decode()
    assert not UpdateTask.objects.exists()


def test_live_status_polls_only_ascii_ids(partner_client, a_tenants, versions):
    task = UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])
    arabic = str(task.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    polled = partner_client.get(f"/tasks/statuses/?ids={task.pk}").content.decode()
    assert f'id="task-status-{task.pk}"' in polled
    polled = partner_client.get(f"/tasks/statuses/?ids={arabic},{TOO_BIG}").content.decode()
    assert f'id="task-status-{task.pk}"' not in polled
