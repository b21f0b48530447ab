"""`ucfleet schedule` selects by filter (R19): --filter-partner/-version/-scale-unit,
--productive/--test/--nfr and --search, in the acting administrator's scope (R1)."""

from __future__ import annotations

import pytest

from tests.factories import ScaleUnitFactory, TenantFactory
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(partner_a, partner_b, versions):
    unit_a, unit_b = ScaleUnitFactory(name="fra-a"), ScaleUnitFactory(name="fra-b")
    return {
        "acme-prod": TenantFactory(
            name="acme-prod", partner=partner_a, version=versions["current"], scale_unit=unit_a
        ),
        "acme-test": TenantFactory(
            name="acme-test",
            partner=partner_a,
            version=versions["old"],
            scale_unit=unit_a,
            is_productive=False,
            is_test=True,
        ),
        "acme-nfr": TenantFactory(
            name="acme-nfr",
            partner=partner_a,
            version=versions["current"],
            is_productive=False,
            is_nfr=True,
        ),
        "acme-b": TenantFactory(
            name="acme-b", partner=partner_b, version=versions["current"], scale_unit=unit_b
        ),
    }


def _schedule(run, *args, who=None):
    extra = ["--as", who.username] if who is not None else []
    return run(
        "schedule", *args, "--timing", "immediate", "--target-version", "14.10", "--yes", *extra
    )


def _created() -> set[str]:
    return set(UpdateTask.objects.values_list("tenant__name", flat=True))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--search", "acme", "--productive"], {"acme-prod", "acme-b"}),
        (["--filter-partner", "Alpha Telecom", "--no-productive"], {"acme-test", "acme-nfr"}),
        (["--filter-version", "14.8"], {"acme-test"}),
        (
            ["--filter-version", "14.8", "--filter-version", "14.9", "--no-test"],
            {"acme-prod", "acme-nfr", "acme-b"},
        ),
        (["--filter-scale-unit", "fra-a", "--no-test"], {"acme-prod"}),
        (["--nfr"], {"acme-nfr"}),
        (["--test", "--search", "ACME"], {"acme-test"}),
    ],
)
def test_filter_options_select_the_matching_tenants(run, platform_admin, fleet, args, expected):
    result = _schedule(run, *args, who=platform_admin)
    assert result.code == 0, result.err
    assert f"Created {len(expected)} update task(s)" in result.out
    assert _created() == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter-partner", "Beta Networks"], "no such partner: Beta Networks"),
        (["--filter-scale-unit", "fra-b"], "no such scale unit: fra-b"),
        (["--filter-scale-unit", "nowhere"], "no such scale unit: nowhere"),
        (["--filter-version", "99.99"], "No such software version"),
        (["--search", "acme-b"], "No UC tenant matches the filter"),
        (["--search", "acme", "--partner", "Alpha Telecom"], "or a filter"),
    ],
)
def test_a_partner_filter_never_reaches_foreign_tenants(run, partner_admin, fleet, args, message):
    result = _schedule(run, *args, who=partner_admin)
    assert result.code == 1
    assert message in result.err
    assert not UpdateTask.objects.exists()


def test_a_partner_filter_stays_in_its_scope(run, partner_admin, fleet):
    result = _schedule(run, "--search", "acme", who=partner_admin)
    assert result.code == 0, result.err
    assert _created() == {"acme-prod", "acme-test", "acme-nfr"}


def test_a_large_preview_groups_skips_by_reason(run, platform_admin, partner_a, versions):
    TenantFactory.create_batch(
        30, partner=partner_a, version=versions["current"], auto_update_allowed=False
    )
    TenantFactory.create_batch(2, partner=partner_a, version=versions["current"])
    result = _schedule(run, "--filter-partner", "Alpha Telecom", who=platform_admin)
    assert result.code == 0, result.err
    assert "Skipped: 30" in result.out
    assert "auto_update_disabled — " in result.out and ": 30 (" in result.out
    assert "Created 2 update task(s)" in result.out
