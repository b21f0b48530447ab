"""R8: a platform maintenance over planned tasks lists them as conflicts; delete or move."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UpdateTaskFactory
from ucfleet.core.errors import Forbidden
from ucfleet.maintenance.services import create_maintenance
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.services import resolve_conflicts, tasks_conflicting_with

pytestmark = pytest.mark.django_db


T0 = timezone.now().replace(microsecond=0) + timedelta(hours=1)


def at(hours):
    """A fixed grid of instants, so that "ends when the other starts" is exact."""
    return T0 + timedelta(hours=hours)


@pytest.fixture
def tasks(a_tenants, b_tenants, versions):
    inside = UpdateTaskFactory(
        tenant=a_tenants[0],
        target_version=versions["new"],
        timing=Timing.CUSTOM,
        earliest_start=at(11),
        latest_start=at(13),
    )
    reaching_in = UpdateTaskFactory(
        tenant=b_tenants[0],
        target_version=versions["new"],
        timing=Timing.CUSTOM,
        earliest_start=at(9),
        latest_start=at(10.5),
    )
    before = UpdateTaskFactory(
        tenant=a_tenants[1],
        target_version=versions["new"],
        timing=Timing.CUSTOM,
        earliest_start=at(5),
        latest_start=at(7),
    )
    after = UpdateTaskFactory(
        tenant=a_tenants[2],
        target_version=versions["new"],
        timing=Timing.CUSTOM,
        earliest_start=at(12),
        latest_start=at(14),
    )
    return {"inside": inside, "reaching_in": reaching_in, "before": before, "after": after}


def test_conflicts_are_planned_tasks_overlapping_the_maintenance(
    platform_admin, partner_admin, tasks
):
    m = create_maintenance(platform_admin, start=at(10), end=at(12))
    assert list(tasks_conflicting_with(platform_admin, m.pk)) == [
        tasks["reaching_in"],
        tasks["inside"],
    ]
    # A partner administrator sees only its own partner's conflicts.
    assert list(tasks_conflicting_with(partner_admin, m.pk)) == [tasks["inside"]]


def test_delete_conflicts_cancels_them(platform_admin, tasks):
    m = create_maintenance(platform_admin, start=at(10), end=at(12))
    result = resolve_conflicts(platform_admin, m.pk, action="delete")
    assert sorted(result.done) == sorted([tasks["inside"].pk, tasks["reaching_in"].pk])
    for name, status in [
        ("inside", Status.CANCELLED),
        ("reaching_in", Status.CANCELLED),
        ("before", Status.PLANNED),
        ("after", Status.PLANNED),
    ]:
        tasks[name].refresh_from_db()
        assert tasks[name].status == status


def test_move_conflicts_to_the_end_of_the_maintenance(platform_admin, tasks):
    m = create_maintenance(platform_admin, start=at(10), end=at(12))
    resolve_conflicts(platform_admin, m.pk, action="move")
    tasks["inside"].refresh_from_db()
    assert tasks["inside"].earliest_start == m.end
    assert not tasks_conflicting_with(platform_admin, m.pk).exists()


def test_only_platform_admins_resolve_conflicts(partner_admin, platform_admin, tasks):
    m = create_maintenance(platform_admin, start=at(10), end=at(12))
    with pytest.raises(Forbidden):
        resolve_conflicts(partner_admin, m.pk, action="delete")
    with pytest.raises(Forbidden):
        create_maintenance(partner_admin, start=at(20), end=at(21))
    assert tasks_conflicting_with(platform_admin, m.pk).count() == 2
