"""Shared fixtures: one administrator per profile, two partners (A and B) with tenants.

Partner A is the "own" partner of `partner_admin`; partner B is always foreign to it, so
isolation tests (R1) read naturally: partner_admin + b_tenant → 404.
"""

from __future__ import annotations

import os

import pytest

from tests.factories import (
    AdministratorFactory,
    PartnerFactory,
    ScaleUnitFactory,
    TenantFactory,
    VersionFactory,
)
from ucfleet.accounts.choices import Profile

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_skipped_browser_tests: list[str] = []


def pytest_collection_modifyitems(config, items):
    """`postgres_only` tests skip, with their reason, when the leg runs on SQLite."""
    if os.environ.get("UCFLEET_DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL leg)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_logreport(report):
    if report.skipped and "browser" in report.keywords:
        _skipped_browser_tests.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """CI sets UCFLEET_REQUIRE_BROWSER=1: a skipped browser test is then a failure."""
    if os.environ.get("UCFLEET_REQUIRE_BROWSER") == "1" and _skipped_browser_tests:
        print(
            f"\n{len(_skipped_browser_tests)} browser test(s) skipped but required, e.g. "
            f"{_skipped_browser_tests[0]}"
        )
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _no_login_throttling(settings):
    # django-axes is tested on purpose where it matters; elsewhere it would only add noise.
    settings.AXES_ENABLED = False


@pytest.fixture
def partner_a(db):
    return PartnerFactory(name="Alpha Telecom", language="en")


@pytest.fixture
def partner_b(db):
    return PartnerFactory(name="Beta Networks", language="de")


@pytest.fixture
def scale_unit(db):
    return ScaleUnitFactory(name="fra-1", max_concurrent_tasks=3)


@pytest.fixture
def versions(db):
    """Old, current, new, recommended-newest, prohibited and test versions."""
    return {
        "old": VersionFactory(name="14.8"),
        "current": VersionFactory(name="14.9"),
        "new": VersionFactory(name="14.10", recommend_update=True),
        "prohibited": VersionFactory(name="14.11", update_prohibited=True),
        "test": VersionFactory(name="15.0", for_testing=True),
        "en_only": VersionFactory(name="14.12", languages=["en"]),
    }


@pytest.fixture
def platform_admin(db):
    return AdministratorFactory(username="plat", profile=Profile.PLATFORM)


@pytest.fixture
def advanced_platform_admin(db):
    return AdministratorFactory(username="plat-adv", profile=Profile.PLATFORM_ADVANCED)


@pytest.fixture
def partner_admin(partner_a):
    return AdministratorFactory(username="alpha-admin", profile=Profile.PARTNER, partner=partner_a)


@pytest.fixture
def advanced_partner_admin(partner_a):
    return AdministratorFactory(
        username="alpha-adv", profile=Profile.PARTNER_ADVANCED, partner=partner_a
    )


@pytest.fixture
def partner_b_admin(partner_b):
    return AdministratorFactory(username="beta-admin", profile=Profile.PARTNER, partner=partner_b)


@pytest.fixture
def a_tenants(partner_a, versions, scale_unit):
    return [
        TenantFactory(partner=partner_a, version=versions["current"], scale_unit=scale_unit)
        for _ in range(3)
    ]


@pytest.fixture
def b_tenants(partner_b, versions, scale_unit):
    return [
        TenantFactory(
            partner=partner_b, version=versions["current"], scale_unit=scale_unit, language="de"
        )
        for _ in range(2)
    ]


def pytest_terminal_summary(terminalreporter):
    """The hostile crawls' figures: requests tried, 500s and reflected markup found."""
    from tests.hostile import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("hostile input crawl")
        for line in lines:
            terminalreporter.write_line(line)
