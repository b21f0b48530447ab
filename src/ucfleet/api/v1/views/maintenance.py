"""The maintenance window and platform maintenances: everyone reads, platform administrators
write (maintenance.services refuses the others with 403)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.v1.serializers.maintenance import (
    MaintenanceWindowSerializer,
    PlatformMaintenanceSerializer,
    ResolveConflictsSerializer,
)
from ucfleet.api.v1.serializers.tasks import RefusalSerializer, TaskSerializer
from ucfleet.api.v1.views.base import ApiView, ApiViewSet
from ucfleet.core.chunks import chunks
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance import services
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.queries import all_maintenances, get_window, upcoming_occurrences
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.queries import tasks_visible_to, with_list_relations


def window_data() -> dict[str, Any]:
    window = get_window()
    return {
        "time_zone": window.time_zone,
        "slots": list(window.slots.all()),
        "expected_task_minutes": window.expected_task_minutes,
        "next_occurrences": upcoming_occurrences(5),
    }


class MaintenanceWindowView(ApiView):
    """The platform's recurring weekly window, in server time."""

    serializer_class = MaintenanceWindowSerializer

    @extend_schema(responses=MaintenanceWindowSerializer)
    def get(self, request: Request) -> Response:
        return Response(MaintenanceWindowSerializer(window_data()).data)

    @extend_schema(request=MaintenanceWindowSerializer, responses=MaintenanceWindowSerializer)
    def put(self, request: Request) -> Response:
        services.require_platform_admin(self.admin)  # 403 before looking at the body
        serializer = MaintenanceWindowSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.update_window(
            self.admin,
            time_zone=data["time_zone"],
            slots=[services.SlotInput(**slot) for slot in data["slots"]],
            expected_task_minutes=data["expected_task_minutes"],
        )
        return Response(MaintenanceWindowSerializer(window_data()).data)


BulkAnswer = inline_serializer(
    "ConflictsResolved",
    {
        "action": serializers.ChoiceField(choices=["delete", "move"]),
        "tasks": TaskSerializer(many=True),
        "refused": RefusalSerializer(many=True),
    },
)


def tasks_in_answer(admin: Any, task_ids: Sequence[int]) -> list[UpdateTask]:
    """The tasks `task_ids` as the caller's task list shows them, in its order.

    Read in chunks: the service has already committed, and one `IN (…)` list of every id
    (33,000 conflicting tasks) would pass SQLite's bound-variable limit and turn a done
    change into a 500."""
    visible = with_list_relations(tasks_visible_to(admin, include_archived=True))
    ids = list(task_ids)
    tasks: list[UpdateTask] = []
    for chunk in chunks(ids):
        tasks += visible.filter(pk__in=chunk)
    tasks.sort(key=lambda task: (task.earliest_start, task.pk))
    return tasks


class PlatformMaintenanceViewSet(ApiViewSet):
    queryset = PlatformMaintenance.objects.none()
    serializer_class = PlatformMaintenanceSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": utcnow()}

    def list(self, request: Request) -> Response:
        return self.paged(all_maintenances().order_by("start", "id"))

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.answer(services.get_maintenance(self.object_id()))

    def create(self, request: Request) -> Response:
        services.require_platform_admin(self.admin)
        serializer = PlatformMaintenanceSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        maintenance = services.create_maintenance(self.admin, **serializer.validated_data)
        return self.answer(maintenance, status=201)

    def partial_update(self, request: Request, pk: str) -> Response:
        services.require_platform_admin(self.admin)
        maintenance_id = services.get_maintenance(self.object_id()).pk
        serializer = PlatformMaintenanceSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        maintenance = services.update_maintenance(
            self.admin, maintenance_id, **serializer.validated_data
        )
        return self.answer(maintenance)

    def destroy(self, request: Request, pk: str) -> Response:
        services.require_platform_admin(self.admin)
        services.delete_maintenance(self.admin, self.object_id())
        return Response(status=204)

    @extend_schema(responses=TaskSerializer(many=True))
    @action(detail=True, methods=["get"])
    def conflicts(self, request: Request, pk: str) -> Response:
        """The planned tasks (visible to the caller) whose period overlaps the maintenance."""
        from ucfleet.updates.services import tasks_conflicting_with

        maintenance_id = services.get_maintenance(self.object_id()).pk
        tasks = with_list_relations(tasks_conflicting_with(self.admin, maintenance_id))
        return self.paged(tasks.order_by("earliest_start", "id"), TaskSerializer)

    @extend_schema(request=ResolveConflictsSerializer, responses=BulkAnswer)
    @action(detail=True, methods=["post"], url_path="resolve-conflicts")
    def resolve_conflicts(self, request: Request, pk: str) -> Response:
        """Delete the conflicting tasks or move them to the next allowed time (platform only)."""
        from ucfleet.updates.services import resolve_conflicts

        services.require_platform_admin(self.admin)
        maintenance_id = services.get_maintenance(self.object_id()).pk
        serializer = ResolveConflictsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = resolve_conflicts(
            self.admin, maintenance_id, action=serializer.validated_data["action"]
        )
        return Response(
            {
                "action": serializer.validated_data["action"],
                "tasks": TaskSerializer(tasks_in_answer(self.admin, result.done), many=True).data,
                "refused": [{"id": r.task_id, "reason": r.reason} for r in result.refused],
            }
        )
