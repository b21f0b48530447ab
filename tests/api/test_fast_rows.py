"""The list serializers read their fields directly (speed, bench/lists.py); what they answer
is exactly what DRF's field-by-field path answers for the same declared fields."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from tests.factories import AdministratorFactory, TenantFactory, UpdateTaskFactory
from ucfleet.accounts.choices import Profile
from ucfleet.api.v1.serializers.tasks import TaskDetailSerializer, TaskSerializer
from ucfleet.api.v1.serializers.tenants import TenantSerializer
from ucfleet.tenants.queries import tenants_visible_to, with_markers
from ucfleet.updates.choices import Status
from ucfleet.updates.queries import tasks_visible_to, with_list_relations

pytestmark = pytest.mark.django_db


def _generic(serializer: serializers.Serializer, instance: object) -> dict:
    return serializers.ModelSerializer.to_representation(serializer, instance)


def _context(admin: object) -> dict:
    request = APIRequestFactory().get("/api/v1/update-tasks/")
    request.user = admin
    return {"request": request}


def test_task_rows_equal_drf_output(platform_admin, partner_a, versions):
    now = timezone.now()
    first = UpdateTaskFactory(tenant__partner=partner_a, target_version=versions["new"])
    UpdateTaskFactory(
        tenant__partner=partner_a,
        target_version=versions["new"],
        status=Status.FAILED,
        latest_start=now + timedelta(hours=1),
        started=now,
        finished=now,
        failure_reason="precheck_failed",
        scheduled_by=AdministratorFactory(profile=Profile.PLATFORM),
        retry_of=first,
        is_forced=True,
        redeploy=True,
        notify_partner=True,
        notify_customer=True,
        wait_for_idle=False,
        waiting_reason="busy: 3 active calls",
        wave=2,
    )
    partner_admin = AdministratorFactory(profile=Profile.PARTNER, partner=partner_a)
    for admin in (platform_admin, partner_admin, None):
        context = _context(admin) if admin else {}
        tasks = with_list_relations(tasks_visible_to(platform_admin)).order_by("id")
        for task in tasks:
            serializer = TaskSerializer(context=context)
            fast = serializer.to_representation(task)
            assert fast == _generic(serializer, task)
            assert list(fast) == list(_generic(serializer, task))  # the same order
    detail = TaskDetailSerializer(context=_context(platform_admin))
    assert "attempts" in detail.to_representation(first)  # a subclass keeps DRF's path


def test_tenant_rows_equal_drf_output(platform_admin, partner_a, versions):
    TenantFactory(partner=partner_a, version=versions["current"])
    TenantFactory(
        partner=partner_a,
        version=versions["new"],
        is_test=True,
        is_productive=False,
        is_nfr=True,
        is_active=False,
        auto_update_allowed=False,
        test_until=date(2030, 1, 31),
        description="<b>x</b>",
        notification_email="",
    )
    tenant = TenantFactory(partner=partner_a, version=versions["current"])
    UpdateTaskFactory(tenant=tenant, target_version=versions["new"])
    for tenant in with_markers(tenants_visible_to(platform_admin)).order_by("id"):
        serializer = TenantSerializer()
        fast = serializer.to_representation(tenant)
        assert fast == _generic(serializer, tenant)
        assert list(fast) == list(_generic(serializer, tenant))
