"""Webhook endpoints (R30): the platform's and every partner's for platform administrators,
their own partner's for partner administrators (a foreign id is 404, R1)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.v1.serializers.webhooks import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
)
from ucfleet.api.v1.views.base import ApiViewSet
from ucfleet.webhooks import services
from ucfleet.webhooks.models import WebhookEndpoint
from ucfleet.webhooks.queries import deliveries_of, endpoints_visible_to, get_endpoint_for


class WebhookEndpointViewSet(ApiViewSet):
    queryset = WebhookEndpoint.objects.none()
    serializer_class = WebhookEndpointSerializer

    def _input(self, request: Request, *, partial: bool) -> dict[str, Any]:
        serializer = WebhookEndpointSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "partner_id" in data:
            data["partner"] = data.pop("partner_id")
        if partial:  # what the caller sent, not the defaults
            data = {name: value for name, value in data.items() if name in request.data}
        return data

    def list(self, request: Request) -> Response:
        return self.paged(endpoints_visible_to(self.admin).order_by("id"))

    @extend_schema(
        request=WebhookEndpointSerializer, responses={201: WebhookEndpointCreatedSerializer}
    )
    def create(self, request: Request) -> Response:
        data = self._input(request, partial=False)
        partner = data.pop("partner") if "partner" in data else services.DEFAULT
        endpoint, _secret = services.create_endpoint(self.admin, partner=partner, **data)
        return self.answer(endpoint, WebhookEndpointCreatedSerializer, status=201)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.answer(get_endpoint_for(self.admin, self.object_id()))

    def partial_update(self, request: Request, pk: str) -> Response:
        endpoint_id = get_endpoint_for(self.admin, self.object_id()).pk  # 404 before the body
        data = self._input(request, partial=True)
        return self.answer(services.update_endpoint(self.admin, endpoint_id, **data))

    def destroy(self, request: Request, pk: str) -> Response:
        services.delete_endpoint(self.admin, self.object_id())
        return Response(status=204)

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        """The endpoint's deliveries, newest first, with their status."""
        return self.paged(deliveries_of(self.admin, self.object_id()), WebhookDeliverySerializer)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        """Queue a `webhook.test` delivery to this endpoint; the worker posts it."""
        delivery = services.send_test_event(self.admin, self.object_id())
        return self.answer(delivery, WebhookDeliverySerializer, status=202)
