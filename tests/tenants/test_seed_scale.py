"""`ucfleet seed-scale`: the platform it creates, its spread, and its refusal of a database
that already has tenants."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def test_seed_scale_creates_a_spread_platform():
    call_command("seed_scale", tenants=3000, partners=12, tasks=True, stdout=StringIO())
    assert Tenant.objects.count() == 3000 and Partner.objects.count() == 12
    assert ScaleUnit.objects.count() >= 2 and UpdateTask.objects.count() == 3000
    sizes = sorted(Partner.objects.annotate(n=Count("tenants")).values_list("n", flat=True))
    assert sizes[-1] > 3 * sizes[0] > 0  # a few large partners, a long tail
    assert Tenant.objects.filter(auto_update_allowed=False).exists()
    assert Tenant.objects.filter(is_test=True, test_until__isnull=False).exists()
    assert Tenant.objects.values("version").distinct().count() >= 8
    with pytest.raises(CommandError, match="already has UC tenants"):
        call_command("seed_scale", tenants=10)
