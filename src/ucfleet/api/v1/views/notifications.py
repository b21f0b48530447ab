"""The outbox (R17): every e-mail ucfleet sends, scoped like everything else (R1)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.params import validated_query
from ucfleet.api.v1.serializers.notifications import (
    NotificationDetailSerializer,
    NotificationFilterSerializer,
    NotificationSerializer,
)
from ucfleet.api.v1.views.base import ApiViewSet
from ucfleet.core.errors import NotFound
from ucfleet.notifications.models import Notification
from ucfleet.notifications.queries import notifications_visible_to
from ucfleet.notifications.services import retry_notification
from ucfleet.updates.models import UpdateTask


def with_task_ids(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    return notifications.prefetch_related(
        Prefetch("tasks", queryset=UpdateTask.objects.only("id").order_by("id"))
    )


class NotificationViewSet(ApiViewSet):
    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer

    @extend_schema(parameters=[NotificationFilterSerializer])
    def list(self, request: Request) -> Response:
        filters = validated_query(NotificationFilterSerializer, request)
        notifications = notifications_visible_to(self.admin).defer("body")
        if "status" in filters:
            notifications = notifications.filter(status=filters["status"])
        if "kind" in filters:
            notifications = notifications.filter(kind=filters["kind"])
        if "task" in filters:
            notifications = notifications.filter(tasks__id=filters["task"])
        return self.paged(with_task_ids(notifications.order_by("-created", "-id")))

    @extend_schema(responses=NotificationDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        found = with_task_ids(notifications_visible_to(self.admin)).filter(pk=self.object_id())
        notification = found.first()
        if notification is None:
            raise NotFound("No such e-mail.")
        return self.answer(notification, NotificationDetailSerializer)

    @extend_schema(request=None, responses=NotificationDetailSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        """A failed e-mail goes back to the queue (platform administrators; 409 unless failed)."""
        notification = retry_notification(self.admin, self.object_id())
        return self.answer(
            with_task_ids(notifications_visible_to(self.admin).filter(pk=notification.pk)).get(),
            NotificationDetailSerializer,
        )
