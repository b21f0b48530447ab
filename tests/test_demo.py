"""The first-start demo data: what the README promises is there."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.utils import timezone

from ucfleet.accounts.models import Administrator
from ucfleet.demo import DEMO_PASSWORD, seed_demo
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.queries import get_window
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.updates.models import UpdateTask
from ucfleet.versions.models import SoftwareVersion

pytestmark = pytest.mark.django_db


def test_demo_data_matches_the_promise():
    credentials = seed_demo()
    assert Partner.objects.count() == 3
    for partner in Partner.objects.all():
        assert Administrator.objects.filter(partner=partner).count() == 2
    assert Tenant.objects.count() == 60 and ScaleUnit.objects.count() == 2
    assert Tenant.objects.filter(auto_update_allowed=False).exists()
    assert Tenant.objects.filter(is_test=True, test_until__isnull=False).exists()
    assert Tenant.objects.filter(is_nfr=True).exists()
    assert set(Tenant.objects.values_list("language", flat=True)) == {"en", "de"}
    assert SoftwareVersion.objects.count() == 6
    for flag in ("update_prohibited", "for_testing"):
        assert SoftwareVersion.objects.filter(**{flag: True}).count() == 1
    # "Update recommended" marks tenants on old versions: updating them clears the marker.
    recommended = set(
        SoftwareVersion.objects.filter(recommend_update=True).values_list("name", flat=True)
    )
    assert recommended == {"14.7", "14.8"}
    assert Tenant.objects.filter(version__recommend_update=True).exists()
    assert not Tenant.objects.filter(version__name="14.10", version__recommend_update=True).exists()
    window = get_window()
    assert window.time_zone == "Europe/Berlin"
    [slot] = window.slots.all()
    assert (slot.weekdays, slot.start.hour, slot.duration_minutes) == ([6], 1, 240)
    [maintenance] = PlatformMaintenance.objects.all()
    assert 0 < (maintenance.start - timezone.now()).days <= 14
    assert UpdateTask.objects.filter(status="planned").count() >= 5
    for c in credentials:
        assert authenticate(username=c.username, password=DEMO_PASSWORD) is not None
