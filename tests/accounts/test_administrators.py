"""Who may manage whom (PRODUCT.md §1)."""

from __future__ import annotations

import pytest

from ucfleet.accounts.choices import Profile
from ucfleet.accounts.services import create_administrator, update_administrator
from ucfleet.core.errors import Forbidden, Invalid, NotFound

pytestmark = pytest.mark.django_db


def make(actor, profile, partner=None, name="new-admin"):
    return create_administrator(
        actor,
        username=name,
        password="long-enough-pass",
        profile=profile,
        partner=partner,
        email=f"{name}@x.example",
    )


def test_advanced_platform_admin_manages_platform_admins(advanced_platform_admin, platform_admin):
    assert make(advanced_platform_admin, Profile.PLATFORM).is_platform_admin
    with pytest.raises(Forbidden):
        make(platform_admin, Profile.PLATFORM, name="other")


def test_advanced_partner_admin_manages_own_partner_only(
    advanced_partner_admin, partner_a, partner_b
):
    created = make(advanced_partner_admin, Profile.PARTNER, partner=partner_a.pk)
    assert created.partner == partner_a
    with pytest.raises(NotFound):
        make(advanced_partner_admin, Profile.PARTNER, partner=partner_b.pk, name="x2")
    with pytest.raises(Forbidden):
        make(advanced_partner_admin, Profile.PLATFORM, name="x3")


def test_plain_partner_admin_manages_nobody(partner_admin, partner_a, partner_b_admin):
    with pytest.raises(Forbidden):
        make(partner_admin, Profile.PARTNER, partner=partner_a.pk)
    with pytest.raises(NotFound):
        update_administrator(partner_admin, partner_b_admin.pk, email="x@y.example")


def test_partner_admin_needs_partner_and_platform_admin_none(advanced_platform_admin, partner_a):
    with pytest.raises(Invalid):
        make(advanced_platform_admin, Profile.PARTNER)
    with pytest.raises(Invalid):
        make(advanced_platform_admin, Profile.PLATFORM, partner=partner_a.pk)


def test_short_password_is_refused(advanced_platform_admin):
    with pytest.raises(Invalid) as error:
        create_administrator(
            advanced_platform_admin, username="shorty", password="abc", profile=Profile.PLATFORM
        )
    assert "password" in error.value.errors
