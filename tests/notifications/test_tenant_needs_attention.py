"""R26: a failed restore tells the platform administrators at once — one e-mail naming the
tenant, over SMTP, in their language; never to partners, never twice."""

from __future__ import annotations

import pytest

from tests.factories import AdministratorFactory, PartnerFactory, TenantFactory, UpdateTaskFactory
from tests.notifications.helpers import deliver, in_transaction
from ucfleet.accounts.choices import Profile
from ucfleet.notifications.alerts import notify_tenant_needs_attention
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.notifications.queries import notifications_visible_to
from ucfleet.updates.choices import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken(versions):
    partner = PartnerFactory(name="Alpha Telecom")
    tenant = TenantFactory(
        partner=partner, name="alpha-one", domain="alpha-one.uc.example", instance_id="uc-0001"
    )
    return UpdateTaskFactory(
        tenant=tenant,
        from_version=versions["current"],
        target_version=versions["new"],
        status=Status.FAILED,
        failure_reason="restore failed: tenant needs attention",
    )


@pytest.mark.parametrize(
    "language, subject, line",
    [
        (
            "en",
            "UC Tenant alpha-one needs attention: restore failed",
            "restoring its backup failed",
        ),
        (
            "de",
            "UC-Tenant alpha-one braucht Aufmerksamkeit: Wiederherstellung fehlgeschlagen",
            "auch die Wiederherstellung der Sicherung ist fehlgeschlagen",
        ),
    ],
)
def test_one_mail_reaches_every_platform_administrator(smtp, broken, language, subject, line):
    ops = [
        AdministratorFactory(username=f"ops{i}", profile=profile, language=language)
        for i, profile in enumerate([Profile.PLATFORM, Profile.PLATFORM_ADVANCED])
    ]
    AdministratorFactory(username="ops-gone", profile=Profile.PLATFORM, is_active=False)
    AdministratorFactory(username="ops-silent", profile=Profile.PLATFORM, email="")
    AdministratorFactory(
        username="partner", profile=Profile.PARTNER, partner=broken.partner, language=language
    )

    in_transaction(notify_tenant_needs_attention, broken.pk)
    in_transaction(notify_tenant_needs_attention, broken.pk)  # the same event reported again

    assert deliver() == 1
    [mail] = smtp.messages
    assert sorted(mail.rcpt_tos) == sorted(a.email for a in ops)
    assert mail.subject == subject
    assert line in mail.body
    assert "alpha-one.uc.example" in mail.body and "uc-0001" in mail.body
    assert "restore failed: tenant needs attention" in mail.body
    assert "14.9" in mail.body and "14.10" in mail.body


def test_partners_do_not_see_the_platforms_alert(broken, partner_b_admin):
    partner_admin = AdministratorFactory(
        username="alpha", profile=Profile.PARTNER, partner=broken.partner
    )
    platform = AdministratorFactory(username="ops", profile=Profile.PLATFORM)
    in_transaction(notify_tenant_needs_attention, broken.pk)

    alert = Notification.objects.get(kind=Kind.TENANT_NEEDS_ATTENTION)
    assert list(notifications_visible_to(platform)) == [alert]
    assert not notifications_visible_to(partner_admin).exists()
    assert not notifications_visible_to(partner_b_admin).exists()


def test_no_platform_administrator_with_an_address_means_no_mail(broken):
    AdministratorFactory(username="ops-silent", profile=Profile.PLATFORM, email="")
    in_transaction(notify_tenant_needs_attention, broken.pk)
    assert not Notification.objects.exists()
