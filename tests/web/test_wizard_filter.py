"""The wizard's tenant picker filter, "select all N matching" and the grouped preview (R19),
and its rollout options (R18, R20, R21): what is posted, what is created, what is refused."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ScaleUnitFactory, TenantFactory
from tests.query_baselines import expect_queries
from ucfleet.tenants.models import Tenant
from ucfleet.updates import planning
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def _post(client, **fields):
    data = {"timing": "immediate", "task_type": "update", "action": "preview", **fields}
    return client.post("/updates/new/", data)


@pytest.fixture
def fleet(partner_a, partner_b, versions):
    unit = ScaleUnitFactory(name="ams-1")
    for i in range(8):
        TenantFactory(
            name=f"acme-{i:02d}",
            partner=partner_a,
            version=versions["current"],
            scale_unit=unit if i % 2 else None,
            is_test=i == 3,
        )
    TenantFactory(name="acme-foreign", partner=partner_b, version=versions["current"])
    return unit


def test_the_picker_counts_the_matching_tenants(partner_client, fleet, versions):
    page = partner_client.get(
        "/updates/new/matching/", {"f_search": "acme", "f_scale_unit": fleet.pk}
    ).content.decode()
    assert "4 UC tenants match the filter" in page
    assert "Select all 4 matching UC tenants" in page
    assert "acme-01" in page and "acme-00" not in page and "acme-foreign" not in page


def test_the_picker_lists_a_page_but_selects_every_match(platform_client, partner_a, versions):
    TenantFactory.create_batch(120, partner=partner_a, version=versions["current"])
    page = platform_client.get("/updates/new/matching/", {"f_search": "tenant"}).content.decode()
    assert "120 UC tenants match the filter" in page
    assert len(re.findall(r'name="tenants"', page)) == 50
    assert "… and 70 more matching UC tenants" in page


def test_a_foreign_filter_in_the_picker_matches_nothing_and_says_why(
    partner_client, fleet, partner_b, versions
):
    page = partner_client.get("/updates/new/matching/", {"f_scale_unit": 987_654})
    assert page.status_code == 200
    assert 'data-testid="matching-invalid"' in page.content.decode()


def test_select_all_matching_posts_the_filter_and_creates_every_match(
    partner_client, fleet, versions
):
    response = _post(
        partner_client,
        target_version=versions["new"].pk,
        f_search="acme",
        f_test="0",
        select_matching="on",
        action="confirm",
    )
    assert response.status_code == 302
    created = set(UpdateTask.objects.values_list("tenant__name", flat=True))
    assert created == {f"acme-{i:02d}" for i in range(8) if i != 3}


def test_ticks_are_ignored_when_all_matching_are_selected(partner_client, fleet, versions):
    other = Tenant.objects.get(name="acme-03")
    page = _post(
        partner_client,
        target_version=versions["new"].pk,
        f_scale_unit=fleet.pk,
        tenants=[other.pk],
        select_matching="on",
    ).content.decode()
    assert "4 tasks will be created" in page
    assert 'data-testid="preview-by-filter"' in page


@pytest.mark.parametrize(
    "fields",
    [
        {"f_partner": "PARTNER_B"},
        {"f_scale_unit": "987654"},
        {"f_version": "987654"},
        {"f_productive": "maybe"},
        {"f_search": "x" * 201},
    ],
)
def test_a_bad_or_foreign_filter_is_a_form_error_and_creates_nothing(
    platform_client, partner_client, fleet, partner_b, versions, fields
):
    fields = {k: str(partner_b.pk) if v == "PARTNER_B" else v for k, v in fields.items()}
    response = _post(
        partner_client,
        target_version=versions["new"].pk,
        select_matching="on",
        action="confirm",
        **fields,
    )
    assert response.status_code == 200
    assert 'data-testid="wizard-errors"' in response.content.decode()
    assert not UpdateTask.objects.exists()


def test_a_filter_that_matches_nothing_names_the_filter(partner_client, fleet, versions):
    page = _post(
        partner_client,
        target_version=versions["new"].pk,
        f_search="nothing-like-it",
        select_matching="on",
        action="confirm",
    ).content.decode()
    assert "No UC tenant matches the filter." in page
    assert not UpdateTask.objects.exists()


def test_the_preview_groups_skips_by_reason_and_planned_by_day(
    platform_client, partner_a, versions, schedule
):
    TenantFactory.create_batch(
        30, partner=partner_a, version=versions["current"], auto_update_allowed=False
    )
    TenantFactory.create_batch(25, partner=partner_a, version=versions["new"])
    TenantFactory.create_batch(40, partner=partner_a, version=versions["current"])
    page = _post(
        platform_client,
        target_version=versions["new"].pk,
        f_partner=partner_a.pk,
        select_matching="on",
    ).content.decode()
    assert "40 tasks will be created" in page
    assert "55 UC tenants are skipped" in page
    groups = dict(re.findall(r'data-reason="(\w+)".*?data-testid="skip-count">(\d+)<', page, re.S))
    assert groups == {"auto_update_disabled": "30", "same_version": "25"}
    assert "and 25 more" in page and "and 20 more" in page  # 5 names of each, then a count
    days = re.findall(r'data-testid="day-count">(\d+)<', page)
    assert days == ["40"]
    assert 'data-testid="preview-planned"' not in page  # no 40-row table: it reads as groups


def _preview_queries(client, partner, versions, n) -> int:
    client.get("/updates/new/")  # creates the window row and settles the session
    TenantFactory.create_batch(n, partner=partner, version=versions["current"])
    with CaptureQueriesContext(connection) as ctx:
        response = _post(
            client, target_version=versions["new"].pk, f_partner=partner.pk, select_matching="on"
        )
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_grouped_preview_costs_fixed_queries(platform_client, partner_a, partner_b, versions):
    small = _preview_queries(platform_client, partner_a, versions, 5)
    UpdateTask.objects.all().delete()
    large = _preview_queries(platform_client, partner_a, versions, 295)
    assert small == large, f"{small} queries for 5 tenants, {large} for 300"
    expect_queries("web wizard preview by filter as platform", large)


@pytest.mark.slow
def test_a_50000_tenant_request_reads_in_one_screen(platform_client, partner_a, versions):
    rows = [
        Tenant(
            name=f"bulk-{i:05d}",
            domain=f"bulk-{i:05d}.uc.example",
            partner=partner_a,
            version=versions["current"],
            instance_id=f"i-bulk{i:05d}",
            auto_update_allowed=i % 10 != 0,
        )
        for i in range(50_000)
    ]
    Tenant.objects.bulk_create(rows, batch_size=5000)
    page = _post(
        platform_client, target_version=versions["new"].pk, f_search="bulk-", select_matching="on"
    ).content.decode()
    assert "45000 tasks will be created" in page or "45,000 tasks will be created" in page
    preview = page[page.index('data-testid="preview-result"') :]
    assert len(re.findall(r"<tr", preview)) < 20  # grouped: a handful of rows, not 50,000
    assert "We suggest waves of 1%, 10%, rest" in page


# --- rollout options ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"waves": "1%, 10%, rest", "error_budget": "2%"},
            {
                "waves": [{"percent": 1}, {"percent": 10}, {"percent": 100}],
                "max_failures": None,
                "max_failure_percent": 2.0,
            },
        ),
        (
            {
                "waves": "1, rest",
                "soak_minutes": "30",
                "error_budget": "0",
                "rollout_name": "Canary",
            },
            {
                "waves": [{"count": 1}, {"percent": 100}],
                "soak_minutes": 30,
                "max_failures": 0,
                "name": "Canary",
            },
        ),
        (
            {"waves": "", "error_budget": ""},
            {"waves": None, "max_failures": None, "max_failure_percent": None, "soak_minutes": 0},
        ),
        (
            {"waves": "2.5 %; 50", "error_budget": "2,5 %"},
            {"waves": [{"percent": 2.5}, {"count": 50}], "max_failure_percent": 2.5},
        ),
    ],
)
def test_rollout_options_reach_the_request(
    partner_client, a_tenants, partner_a, versions, monkeypatch, fields, expected
):
    seen = []
    real = planning.plan_updates

    def spy(admin, request, **kwargs):
        seen.append(request)
        return real(admin, request, **kwargs)

    monkeypatch.setattr(planning, "plan_updates", spy)
    monkeypatch.setattr("ucfleet.updates.services.creating.plan_updates", spy)
    page = _post(
        partner_client, target_version=versions["new"].pk, partners=[partner_a.pk], **fields
    )
    assert 'data-testid="preview-result"' in page.content.decode()
    assert seen, "the preview planned the request"
    for name, value in expected.items():
        assert getattr(seen[-1], name) == value, name


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"waves": "10%, rest, 5"}, "waves"),
        ({"waves": "0"}, "waves"),
        ({"waves": "150%"}, "waves"),
        ({"waves": "ten"}, "waves"),
        ({"waves": ",".join(["1"] * 21)}, "waves"),
        ({"waves": "1, rest", "timing": "custom", "start": "2099-01-01T10:00"}, "waves"),
        ({"soak_minutes": "-5"}, "soak_minutes"),
        ({"soak_minutes": "99999999"}, "soak_minutes"),
        ({"error_budget": "lots"}, "error_budget"),
        ({"error_budget": "120%"}, "error_budget"),
        ({"error_budget": "1.5"}, "error_budget"),
        ({"rollout_name": "x" * 201}, "rollout_name"),
    ],
)
def test_bad_rollout_options_are_form_errors_and_create_nothing(
    partner_client, a_tenants, partner_a, versions, fields, field
):
    response = _post(
        partner_client,
        target_version=versions["new"].pk,
        partners=[partner_a.pk],
        action="confirm",
        **fields,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="wizard-errors"' in page
    assert re.search(rf'data-testid="errors-{field}"[^>]*><span class="field-error">', page)
    assert not UpdateTask.objects.exists()


def test_large_selections_are_offered_the_suggested_rollout(
    platform_client, partner_a, versions, monkeypatch
):
    monkeypatch.setattr("ucfleet.web.views.wizard.LARGE_SELECTION", 20)
    TenantFactory.create_batch(25, partner=partner_a, version=versions["current"])
    page = _post(platform_client, target_version=versions["new"].pk, partners=[partner_a.pk])
    text = page.content.decode()
    assert 'data-testid="rollout-suggestion"' in text
    assert 'data-fill-waves="1%, 10%, rest"' in text and 'data-fill-budget="2%"' in text
    chosen = _post(
        platform_client,
        target_version=versions["new"].pk,
        partners=[partner_a.pk],
        waves="1%, 10%, rest",
    )
    assert 'data-testid="rollout-suggestion"' not in chosen.content.decode()
