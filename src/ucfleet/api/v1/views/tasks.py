"""Update tasks: list, detail, create and preview, reschedule, delete, retry. Every rule is
updates.services'; this only translates HTTP to service calls and back."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.keyset_pagination import KeysetPageNumberPagination
from ucfleet.api.params import validated_query
from ucfleet.api.v1.serializers.tasks import (
    BulkDeleteSerializer,
    BulkRescheduleSerializer,
    BulkResultSerializer,
    PreviewSerializer,
    RescheduleSerializer,
    ScheduleResultSerializer,
    ScheduleSerializer,
    TaskDetailSerializer,
    TaskListQuerySerializer,
    TaskSerializer,
    TenantFilterBodySerializer,
)
from ucfleet.api.v1.views.base import ApiViewSet
from ucfleet.api.v1.views.csv import (
    CsvListMixin,
    csv_export,
    csv_or,
    wants_csv,
)
from ucfleet.audit.exports import TASK_COLUMNS
from ucfleet.rollouts.queries import get_rollout_for
from ucfleet.tenants.queries import get_partner_for, get_tenant_for
from ucfleet.updates import services
from ucfleet.updates.models import TaskAttempt, TaskStep, UpdateTask
from ucfleet.updates.queries import get_task_for, tasks_visible_to, with_list_relations

FILTER_FIELDS = {
    "status": "status",
    "partner": "partner_id",
    "tenant": "tenant_id",
    "timing": "timing",
    "task_type": "task_type",
    "forced": "is_forced",
    "rollout": "rollout_id",
    "request": "request_id",
}


def filter_tasks(
    admin: Any, tasks: QuerySet[UpdateTask], filters: dict[str, Any]
) -> QuerySet[UpdateTask]:
    """The caller's tasks narrowed by the list filters. A partner or tenant filter outside
    the caller's scope is not found (R1) rather than an empty list, so that `all: true`
    never acts on a list the caller did not mean."""
    if "partner" in filters:
        get_partner_for(admin, filters["partner"])
    if "tenant" in filters:
        get_tenant_for(admin, filters["tenant"])
    if "rollout" in filters:
        get_rollout_for(admin, filters["rollout"])
    return tasks.filter(
        **{FILTER_FIELDS[name]: value for name, value in filters.items() if name in FILTER_FIELDS}
    )


def schedule_request(data: dict[str, Any]) -> services.ScheduleRequest:
    """The API body (API.md names) as the services' request."""
    return services.ScheduleRequest(
        tenant_ids=data.get("tenants"),
        partner_id=data.get("partner"),
        all_tenants=data["all"],
        filter=TenantFilterBodySerializer.to_filter(data["filter"]) if "filter" in data else None,
        timing=data["timing"],
        start=data.get("start"),
        target_version=data["target_version"],
        task_type=data["task_type"],
        forced=data["forced"],
        redeploy=data["redeploy"],
        notify_partner=data["notify_partner"],
        notify_customer=data["notify_customer"],
        confirm_downgrade=data["confirm_downgrade"],
        confirm_auto_update_disabled=data["confirm_auto_update_disabled"],
        wait_for_idle=data["wait_for_idle"],
        name=data.get("name") or "",
        waves=[dict(w) for w in data["waves"]] if data.get("waves") else None,
        soak_minutes=data.get("soak_minutes", 0),
        max_failures=(data.get("error_budget") or {}).get("max_failures"),
        max_failure_percent=(data.get("error_budget") or {}).get("max_failure_percent"),
    )


def bulk_answer(result: services.BulkResult) -> Response:
    return Response(BulkResultSerializer(result).data)


class UpdateTaskViewSet(CsvListMixin, ApiViewSet):
    queryset = UpdateTask.objects.none()
    serializer_class = TaskSerializer
    pagination_class = KeysetPageNumberPagination

    def detail_of(self, pk: int) -> UpdateTask:
        task = get_task_for(self.admin, pk)
        attempts = Prefetch("attempts", queryset=TaskAttempt.objects.order_by("started", "id"))
        steps = Prefetch("steps", queryset=TaskStep.objects.order_by("started", "id"))
        return (
            with_list_relations(tasks_visible_to(self.admin).filter(pk=task.pk))
            .prefetch_related(attempts, steps)
            .get()
        )

    def listed(self, pk: int) -> UpdateTask:
        return with_list_relations(tasks_visible_to(self.admin).filter(pk=pk)).get()

    @extend_schema(parameters=[TaskListQuerySerializer], responses=csv_or(TaskSerializer))
    def list(self, request: Request) -> Any:
        filters = validated_query(TaskListQuerySerializer, request)
        tasks = filter_tasks(self.admin, with_list_relations(tasks_visible_to(self.admin)), filters)
        tasks = tasks.order_by("earliest_start", "id")
        if wants_csv(request):
            return csv_export("update-tasks", tasks, TASK_COLUMNS)
        return self.paged(tasks)

    @extend_schema(responses=TaskDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.answer(self.detail_of(self.object_id()), TaskDetailSerializer)

    @extend_schema(request=ScheduleSerializer, responses={201: ScheduleResultSerializer})
    def create(self, request: Request) -> Response:
        """One task per selected tenant; skipped tenants and warnings say why (R2–R7)."""
        serializer = ScheduleSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        result = services.schedule_updates(self.admin, schedule_request(serializer.validated_data))
        return Response(
            ScheduleResultSerializer(
                {
                    "request_id": result.request_id,
                    "rollout": result.rollout.pk if result.rollout else None,
                    "created_count": result.created_count,
                    "created": with_list_relations(result.created),
                    "skipped": result.skipped,
                    "warnings": result.warnings,
                },
                context=self.get_serializer_context(),
            ).data,
            status=201,
        )

    @extend_schema(request=ScheduleSerializer, responses=PreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """What create would do now, per tenant; writes nothing."""
        serializer = ScheduleSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        plan = services.preview_updates(self.admin, schedule_request(serializer.validated_data))
        return Response(PreviewSerializer(plan).data)

    @extend_schema(request=RescheduleSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"], url_path="reschedule")
    def reschedule(self, request: Request, pk: str) -> Response:
        """Postpone a planned task to a new start (custom timing)."""
        task_id = get_task_for(self.admin, self.object_id()).pk  # 404 before reading the body
        serializer = RescheduleSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.reschedule_task(self.admin, task_id, **serializer.validated_data)
        return self.answer(self.listed(task_id))

    @extend_schema(
        operation_id="v1_update_tasks_reschedule_many",
        request=BulkRescheduleSerializer,
        responses=BulkResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="reschedule")
    def reschedule_many(self, request: Request) -> Response:
        """Reschedule a selection; the tasks that could not move are listed with the reason."""
        serializer = BulkRescheduleSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return bulk_answer(
            services.reschedule_tasks(
                self.admin, data["ids"], start=data["start"], notify_partner=data["notify_partner"]
            )
        )

    def destroy(self, request: Request, pk: str) -> Response:
        """Planned → cancelled; failed → removed from the list; otherwise 409."""
        services.delete_task(self.admin, self.object_id())
        return Response(status=204)

    @extend_schema(
        operation_id="v1_update_tasks_delete_many",
        request=BulkDeleteSerializer,
        responses=BulkResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="delete")
    def delete_many(self, request: Request) -> Response:
        """Delete a selection (`ids`) or every task of the filtered list (`all`)."""
        serializer = BulkDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("all"):
            tasks: Any = filter_tasks(self.admin, tasks_visible_to(self.admin), data)
        else:
            tasks = data["ids"]
        return bulk_answer(services.delete_tasks(self.admin, tasks))

    @extend_schema(request=None, responses={201: TaskSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        """A failed task gets a new planned, immediate task."""
        task = services.retry_task(self.admin, self.object_id())
        return self.answer(self.listed(task.pk), status=201)
