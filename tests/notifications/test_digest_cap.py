"""A partner digest lists at most 200 tenants, then "and N more" with a link to the task
list filtered to exactly the digest's tasks; the link shows a partner only its own tasks."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest

from tests.factories import TenantFactory, UpdateTaskFactory
from tests.notifications.helpers import close_failure_digests, deliver, partner_admin_of
from ucfleet.notifications.models import Notification
from ucfleet.notifications.services import notify_tasks_failed
from ucfleet.tenants.models import Tenant
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.services import ScheduleRequest, schedule_updates

pytestmark = pytest.mark.django_db

A_TENANTS = 230


@pytest.fixture
def fleet(partner_a, partner_b, versions):
    for i in range(A_TENANTS):
        TenantFactory(
            partner=partner_a,
            version=versions["current"],
            name=f"alpha-{i:03d}",
            domain=f"alpha-{i:03d}.uc.example",
        )
    for i in range(3):
        TenantFactory(partner=partner_b, version=versions["current"], name=f"beta-{i}")


def _link(body: str) -> str:
    [url] = [line.strip() for line in body.splitlines() if "/tasks/all/?" in line]
    return url


@pytest.mark.parametrize("language", ["en", "de"])
def test_platform_wide_digest_lists_200_then_links_to_exactly_the_partners_tasks(
    smtp, settings, client, platform_admin, fleet, partner_a, partner_b, versions, language
):
    settings.UCFLEET = {**settings.UCFLEET, "PORTAL_URL": "https://ucfleet.example.net/"}
    partner_a.language = language
    partner_a.save()
    a_admin = partner_admin_of(partner_a, "alpha-reader")
    b_admin = partner_admin_of(partner_b, "beta-reader")
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(
            timing=Timing.IMMEDIATE,
            target_version=versions["new"].pk,
            all_tenants=True,
            notify_partner=True,
        ),
    )
    deliver()
    [alpha] = smtp.to(a_admin.email)
    [beta] = smtp.to(b_admin.email)
    # The first 200 tenants (by name), then the rest as a count and a link.
    assert alpha.body.count(".uc.example): Update ") == 200
    assert "- alpha-199 (" in alpha.body and "- alpha-200 (" not in alpha.body
    more = "and 30 more (the first 200" if language == "en" else "und 30 weitere (die ersten 200"
    assert more in alpha.body
    assert len(alpha.body) < 60_000
    url = _link(alpha.body)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://ucfleet.example.net"
    assert f"request={result.request_id}" in parts.query
    # Beta's digest is short: all three listed, no link.
    assert beta.body.count(".uc.example): Update ") == 3
    assert "/tasks/all/?" not in beta.body

    # The link opens exactly the 230 tasks of this request for partner A.
    path = f"{parts.path}?{parts.query}"
    client.force_login(a_admin)
    shown = _shown(client, path)
    expected = UpdateTask.objects.filter(request_id=result.request_id, partner=partner_a)
    assert {t.pk for t in shown} == set(expected.values_list("pk", flat=True))
    assert expected.count() == A_TENANTS

    # Partner B following A's link sees nothing of A's (the partner filter is refused).
    client.force_login(b_admin)
    assert _shown(client, path) == []
    # Without the partner filter, B sees only its own tasks of the request.
    shown = _shown(client, f"{parts.path}?request={result.request_id}")
    assert {t.partner_id for t in shown} == {partner_b.pk}


def _shown(client, path):
    """Every task the portal's task list shows for `path`, page by page."""
    shown, number = [], 1
    while True:
        answer = client.get(f"{path}&page_size=200&page={number}")
        assert answer.status_code == 200
        page = answer.context["page"]
        shown += list(page.object_list)
        if not page.has_next():
            return shown
        number += 1


def test_failure_digest_of_a_large_rollout_is_capped_and_links_the_failed_tasks(
    smtp, client, fleet, partner_a, versions
):
    admin = partner_admin_of(partner_a, "alpha-reader")
    request_id = uuid.uuid4()
    for t in Tenant.objects.filter(partner=partner_a):
        UpdateTaskFactory(tenant=t, target_version=versions["new"], request_id=request_id)
    tasks = UpdateTask.objects.filter(request_id=request_id)
    assert tasks.count() == A_TENANTS
    ids = list(tasks.values_list("pk", flat=True))
    # 210 fail (told in one digest), 20 run fine (not in the link's list).
    failed = ids[:210]
    UpdateTask.objects.filter(pk__in=failed).update(
        status=Status.FAILED, failure_reason="update failed: restored to 14.9"
    )
    UpdateTask.objects.filter(pk__in=ids[210:]).update(status=Status.EXECUTED)
    notify_tasks_failed(failed)
    assert close_failure_digests() == 210
    assert deliver() == 1
    [mail] = smtp.messages
    assert mail.body.count("  Reason: update failed: restored to 14.9") == 200
    assert "and 10 more" in mail.body
    parts = urlsplit(_link(mail.body))
    assert "status=failed" in parts.query
    client.force_login(admin)
    shown = _shown(client, f"{parts.path}?{parts.query}")
    assert {t.pk for t in shown} == set(failed)
    assert Notification.objects.get().tasks.count() == 210
