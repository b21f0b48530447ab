"""Rollouts (API.md "Rollouts", R18–R22): list, detail, pause / resume / abort,
retry-failed, and a rollout's tasks. Every rule is the rollouts services'."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.params import validated_query
from ucfleet.api.v1.serializers.rollouts import (
    RolloutDetailSerializer,
    RolloutFilterSerializer,
    RolloutSerializer,
)
from ucfleet.api.v1.serializers.tasks import TaskFilterSerializer, TaskSerializer
from ucfleet.api.v1.views.base import ApiViewSet
from ucfleet.api.v1.views.tasks import filter_tasks
from ucfleet.rollouts import services
from ucfleet.rollouts.models import Rollout
from ucfleet.rollouts.queries import (
    filter_rollouts,
    get_rollout_for,
    rollout_tasks,
    rollouts_visible_to,
)
from ucfleet.tenants.queries import get_partner_for
from ucfleet.updates.queries import with_list_relations
from ucfleet.versions.queries import get_version_for


class RolloutViewSet(ApiViewSet):
    queryset = Rollout.objects.none()
    serializer_class = RolloutSerializer

    def answer_detail(self, pk: int, *, status: int = 200) -> Response:
        return self.answer(get_rollout_for(self.admin, pk), RolloutDetailSerializer, status=status)

    @extend_schema(parameters=[RolloutFilterSerializer])
    def list(self, request: Request) -> Response:
        """The rollouts the caller sees, newest first."""
        filters = validated_query(RolloutFilterSerializer, request)
        partner_id = None
        if "partner" in filters:
            partner_id = get_partner_for(self.admin, filters["partner"]).pk
        version_id = None
        if "target_version" in filters:
            version_id = get_version_for(self.admin, filters["target_version"]).pk
        rollouts = filter_rollouts(
            self.admin,
            rollouts_visible_to(self.admin).select_related("target_version", "created_by"),
            status=filters.get("status"),
            partner_id=partner_id,
            target_version_id=version_id,
        )
        return self.paged(rollouts)

    @extend_schema(responses=RolloutDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        """Its options, status, counts and waves (a partner administrator: its own part)."""
        return self.answer_detail(self.object_id())

    @extend_schema(request=None, responses=RolloutDetailSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        """Nothing new starts; running tasks finish. 409 unless scheduled or running."""
        rollout = services.pause(self.admin, self.object_id())
        return self.answer_detail(rollout.pk)

    @extend_schema(request=None, responses=RolloutDetailSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        """Held tasks of released waves continue. 409 unless paused."""
        rollout = services.resume(self.admin, self.object_id())
        return self.answer_detail(rollout.pk)

    @extend_schema(request=None, responses=RolloutDetailSerializer)
    @action(detail=True, methods=["post"])
    def abort(self, request: Request, pk: str) -> Response:
        """Every planned or held task is cancelled (cancellation e-mails); 409 when finished."""
        rollout = services.abort(self.admin, self.object_id())
        return self.answer_detail(rollout.pk)

    @extend_schema(request=None, responses={201: RolloutDetailSerializer})
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request: Request, pk: str) -> Response:
        """One new rollout with the same options over the failed tenants."""
        rollout = services.retry_failed(self.admin, self.object_id())
        return self.answer_detail(rollout.pk, status=201)

    @extend_schema(parameters=[TaskFilterSerializer], responses=TaskSerializer(many=True))
    @action(detail=True, methods=["get"])
    def tasks(self, request: Request, pk: str) -> Response:
        """Its tasks (the caller's part), with the task list's filters."""
        rollout = get_rollout_for(self.admin, self.object_id())
        filters = validated_query(TaskFilterSerializer, request)
        tasks = filter_tasks(
            self.admin, with_list_relations(rollout_tasks(self.admin, rollout)), filters
        )
        return self.paged(tasks.order_by("earliest_start", "id"), TaskSerializer)
