"""Partners, scale units and UC tenants. Reads go through tenants.queries (R1); writes
through tenants.services."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.keyset_pagination import KeysetPageNumberPagination
from ucfleet.api.params import validated_query
from ucfleet.api.v1.serializers.tenants import (
    PartnerSerializer,
    ScaleUnitSerializer,
    TenantFilterSerializer,
    TenantSerializer,
    TenantWriteSerializer,
)
from ucfleet.api.v1.views.base import ApiViewSet
from ucfleet.core.errors import NotFound
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.tenants.queries import (
    partners_with_tenant_counts,
    scale_units_visible_to,
    tenants_visible_to,
    with_markers,
)
from ucfleet.versions.queries import get_version_for


class PartnerViewSet(ApiViewSet):
    queryset = Partner.objects.none()
    serializer_class = PartnerSerializer

    def list(self, request: Request) -> Response:
        return self.paged(partners_with_tenant_counts(self.admin).order_by("name", "id"))

    def retrieve(self, request: Request, pk: str) -> Response:
        partner = partners_with_tenant_counts(self.admin).filter(pk=self.object_id()).first()
        if partner is None:
            raise NotFound("No such partner.")
        return self.answer(partner)


class ScaleUnitViewSet(ApiViewSet):
    queryset = ScaleUnit.objects.none()
    serializer_class = ScaleUnitSerializer

    def list(self, request: Request) -> Response:
        return self.paged(scale_units_visible_to(self.admin).order_by("name", "id"))

    def retrieve(self, request: Request, pk: str) -> Response:
        unit = scale_units_visible_to(self.admin).filter(pk=self.object_id()).first()
        if unit is None:
            raise NotFound("No such scale unit.")
        return self.answer(unit)


def filter_tenants(admin: Any, tenants: QuerySet[Tenant], filters: dict[str, Any]) -> QuerySet:
    if "partner" in filters:
        tenants = tenants.filter(partner_id=filters["partner"])
    if "version" in filters:
        try:
            tenants = tenants.filter(version=get_version_for(admin, filters["version"]))
        except NotFound:
            tenants = tenants.none()
    if filters.get("search"):
        text = filters["search"]
        tenants = tenants.filter(
            Q(name__icontains=text)
            | Q(domain__icontains=text)
            | Q(customer_id__icontains=text)
            | Q(instance_id__icontains=text)
        )
    for flag in ("update_scheduled", "auto_update_allowed"):
        if flag in filters:
            tenants = tenants.filter(**{flag: filters[flag]})
    return tenants


class TenantViewSet(ApiViewSet):
    queryset = Tenant.objects.none()
    serializer_class = TenantSerializer
    pagination_class = KeysetPageNumberPagination

    def visible(self) -> QuerySet[Tenant]:
        return with_markers(tenants_visible_to(self.admin))

    def load(self, pk: int) -> Tenant:
        tenant = self.visible().filter(pk=pk).first()
        if tenant is None:
            raise NotFound("No such UC tenant.")
        return tenant

    @extend_schema(parameters=[TenantFilterSerializer])
    def list(self, request: Request) -> Response:
        filters = validated_query(TenantFilterSerializer, request)
        tenants = filter_tenants(self.admin, self.visible(), filters)
        return self.paged(tenants.order_by("name", "id"))

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.answer(self.load(self.object_id()))

    @extend_schema(request=TenantWriteSerializer, responses={201: TenantSerializer})
    def create(self, request: Request) -> Response:
        from ucfleet.tenants.services import create_tenant

        serializer = TenantWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = create_tenant(self.admin, **serializer.validated_data)
        return self.answer(self.load(tenant.pk), status=201)

    @extend_schema(request=TenantWriteSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        from ucfleet.tenants.services import update_tenant

        tenant_id = self.object_id()
        self.load(tenant_id)  # 404 outside the caller's scope, before reading the body
        serializer = TenantWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        update_tenant(self.admin, tenant_id, **serializer.validated_data)
        return self.answer(self.load(tenant_id))
