"""The portal's Rollouts list and rollout page (R18, R22, issue 12 point 8): progress,
waves, the timeline chart, failures with reasons, the actions through the rollouts
services, CSV of its tasks; a partner administrator sees its own tenants' part (R1)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.web.conftest import client_for
from tests.web.rollout_fixtures import a_only_rollout, rollout  # noqa: F401 (fixtures)
from ucfleet.rollouts.choices import RolloutStatus
from ucfleet.rollouts.models import Rollout
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_list_shows_rollouts_newest_first_with_filters(
    rollout,  # noqa: F811
    a_only_rollout,  # noqa: F811
    platform_admin,
    partner_b,
):
    client = client_for(platform_admin)
    page = client.get("/rollouts/")
    assert [r.pk for r in page.context["rollouts"]] == [a_only_rollout.pk, rollout.pk]
    html = page.content.decode()
    assert "Canary 14.10" in html and 'data-percent="40"' in html  # 2 of 5 done
    assert 'data-testid="nav-rollouts"' in html
    only_b = client.get(f"/rollouts/?partner={partner_b.pk}").context["rollouts"]
    assert [r.pk for r in only_b] == [rollout.pk]
    assert list(client.get("/rollouts/?status=aborted").context["rollouts"]) == []
    assert client.get("/rollouts/?status=nope&partner=x&version=%00").status_code == 200


@pytest.mark.parametrize(
    "query", ["status=nope", "partner=x", "partner=999999", "version=%00", "version=1.5"]
)
def test_a_filter_that_cannot_be_applied_lists_no_rollout_and_says_why(
    rollout,  # noqa: F811
    platform_admin,
    query,
):
    """Fail closed, as the task and tenant lists do: never every rollout instead."""
    page = client_for(platform_admin).get(f"/rollouts/?{query}")
    assert page.status_code == 200
    assert list(page.context["rollouts"]) == []
    html = page.content.decode()
    assert 'data-testid="filter-errors"' in html
    assert "These filters cannot be applied; no rollouts are listed." in html
    assert (
        'data-testid="filter-errors"'
        not in client_for(platform_admin).get("/rollouts/?status=running").content.decode()
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Waves", "Executed and failed over time", "1 failure", "Pause", "Abort"]),
        ("de", ["Wellen", "Ausgeführt und fehlgeschlagen im Zeitverlauf", "1 Fehler", "Anhalten"]),
    ],
)
def test_the_rollout_page_shows_progress_waves_chart_and_failures(
    rollout,  # noqa: F811
    platform_admin,
    language,
    words,
):
    platform_admin.language = language
    platform_admin.save(update_fields=["language"])
    html = client_for(platform_admin).get(f"/rollouts/{rollout.pk}/").content.decode()
    for word in words:
        assert word in html, word
    assert html.count('data-testid="rollout-wave"') == 2
    assert 'data-series="executed" data-total="1"' in html
    assert 'data-series="failed" data-total="1"' in html
    assert "Provisioning refused: disk full" in html
    assert 'data-count="executed">1<' in html and 'data-count="failed">1<' in html
    assert 'data-testid="rollout-retry"' in html and 'data-testid="rollout-resume"' not in html
    assert "<script>" not in html.split("</header>", 1)[1]  # no inline script (CSP)


def test_a_partner_admin_sees_and_exports_its_own_part(
    rollout,  # noqa: F811
    partner_admin,
    partner_b_admin,
    a_tenants,
    b_tenants,
):
    client = client_for(partner_admin)
    page = client.get(f"/rollouts/{rollout.pk}/")
    html = page.content.decode()
    assert 'data-testid="rollout-own-part"' in html
    assert sum(page.context["counts"].values()) == 3
    rows = read_csv(client.get(f"/rollouts/{rollout.pk}/export/"))
    assert {r["partner"] for r in rows} == {a_tenants[0].partner.name} and len(rows) == 3
    b_page = client_for(partner_b_admin).get(f"/rollouts/{rollout.pk}/")
    assert sum(b_page.context["counts"].values()) == 2
    assert "disk full" not in b_page.content.decode()  # A's failure is not B's to read
    b_rows = read_csv(client_for(partner_b_admin).get(f"/rollouts/{rollout.pk}/export/"))
    assert {r["tenant"] for r in b_rows} == {t.name for t in b_tenants}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/rollouts/{pk}/"),
        ("get", "/rollouts/{pk}/export/"),
        ("post", "/rollouts/{pk}/pause/"),
        ("post", "/rollouts/{pk}/resume/"),
        ("post", "/rollouts/{pk}/abort/"),
        ("post", "/rollouts/{pk}/retry_failed/"),
    ],
)
@pytest.mark.parametrize(
    ("who", "own_status", "foreign_status"),
    [
        ("platform_admin", None, None),
        ("advanced_platform_admin", None, None),
        ("partner_admin", None, 404),
        ("advanced_partner_admin", None, 404),
    ],
)
def test_authorization_of_the_rollout_pages(
    request,
    a_only_rollout,  # noqa: F811
    method,
    url,
    who,
    own_status,
    foreign_status,
    partner_b_admin,
):
    """Own: the page answers (200, or a redirect after an action); another partner's
    rollout: 404 (R1: ids are never confirmed); anonymous: the login page."""
    admin = request.getfixturevalue(who)
    path = url.format(pk=a_only_rollout.pk)
    answer = getattr(client_for(admin), method)(path)
    assert answer.status_code == (200 if method == "get" else 302)
    foreign = getattr(client_for(partner_b_admin), method)(path)
    assert foreign.status_code == 404
    assert Rollout.objects.get(pk=a_only_rollout.pk).status != RolloutStatus.ABORTED or (
        method == "post" and "abort" in url
    )
    from django.test import Client

    anonymous = getattr(Client(), method)(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_pause_resume_abort_and_retry_through_the_page(rollout, platform_admin):  # noqa: F811
    client = client_for(platform_admin)
    base = f"/rollouts/{rollout.pk}/"
    assert client.post(base + "pause/")["Location"] == base
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.PAUSED
    html = client.get(base).content.decode()
    assert 'data-testid="rollout-paused-reason"' in html and platform_admin.username in html
    assert 'data-testid="rollout-resume"' in html and 'data-testid="rollout-pause"' not in html
    again = client.post(base + "pause/", follow=True)  # refused by the service: a message
    assert "Only a scheduled or running rollout can be paused." in again.content.decode()
    client.post(base + "resume/")
    rollout.refresh_from_db()
    assert rollout.status != RolloutStatus.PAUSED
    retried = client.post(base + "retry_failed/")
    new = Rollout.objects.exclude(pk=rollout.pk).get()
    assert retried["Location"] == f"/rollouts/{new.pk}/"
    client.post(base + "abort/")
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ABORTED
    open_ones = UpdateTask.objects.filter(rollout=rollout, status__in=[Status.PLANNED, Status.HELD])
    assert not open_ones.exists()
    html = client.get(base).content.decode()
    assert 'data-testid="rollout-abort"' not in html and 'data-testid="rollout-pause"' not in html
    assert client.post(base + "explode/").status_code == 404


def test_a_forced_rollout_offers_partners_no_actions(schedule, a_tenants, partner_admin):
    [task] = schedule([a_tenants[0]], forced=True)
    html = client_for(partner_admin).get(f"/rollouts/{task.rollout_id}/").content.decode()
    for action in ("pause", "resume", "abort", "retry"):
        assert f'data-testid="rollout-{action}"' not in html
