"""Partners, scale units and UC tenants. Reads go through tenants.queries (R1); writes
through tenants.services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
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
from ucfleet.api.v1.views.csv import (
    CsvListMixin,
    csv_export,
    csv_or,
    wants_csv,
)
from ucfleet.audit.exports import TENANT_COLUMNS
from ucfleet.core.errors import NotFound
from ucfleet.tenants.filtering import TenantFilter, filter_tenants
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.tenants.queries import (
    partners_with_tenant_counts,
    scale_units_visible_to,
    tenants_visible_to,
    with_markers,
)


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


def listed_tenants(admin: Any, filters: dict[str, Any]) -> QuerySet[Tenant]:
    """`GET /tenants/`: tenants.filtering (the R19 definition a schedule request's `filter`
    uses too), then the R10 marker filters. A partner, version or scale unit the caller
    cannot see matches nothing here (the list stays a 200, as before)."""
    chosen = TenantFilter.of(
        partner_ids=[filters["partner"]] if "partner" in filters else [],
        versions=[filters["version"]] if "version" in filters else [],
        scale_unit_ids=[filters["scale_unit"]] if "scale_unit" in filters else [],
        is_productive=filters.get("is_productive"),
        is_test=filters.get("is_test"),
        is_nfr=filters.get("is_nfr"),
        search=filters.get("search"),
    )
    try:
        tenants = with_markers(filter_tenants(admin, chosen))
    except NotFound:
        # Matches nothing, but keeps the markers: the flag filters and the CSV read them.
        tenants = with_markers(Tenant.objects.none())
    for flag in ("update_scheduled", "auto_update_allowed"):
        if flag in filters:
            tenants = tenants.filter(**{flag: filters[flag]})
    return tenants


class TenantViewSet(CsvListMixin, ApiViewSet):
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

    @extend_schema(parameters=[TenantFilterSerializer], responses=csv_or(TenantSerializer))
    def list(self, request: Request) -> Any:
        filters = validated_query(TenantFilterSerializer, request)
        tenants = listed_tenants(self.admin, filters).order_by("name", "id")
        if wants_csv(request):
            return csv_export("tenants", tenants, TENANT_COLUMNS)
        return self.paged(tenants)

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
