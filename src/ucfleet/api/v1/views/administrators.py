"""Administrators. Reads go through accounts.queries (R1); writes through accounts.services,
which holds the rule of who manages whom (the portal's rule)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.accounts import services
from ucfleet.accounts.choices import PARTNER_PROFILES
from ucfleet.accounts.models import Administrator
from ucfleet.accounts.queries import administrators_visible_to, get_administrator_for
from ucfleet.api.v1.serializers.administrators import (
    AdministratorCreateSerializer,
    AdministratorSerializer,
    AdministratorUpdateSerializer,
)
from ucfleet.api.v1.views.base import ApiViewSet
from ucfleet.core.errors import Invalid

FIXED_FIELDS = ("username", "profile", "partner")


class AdministratorViewSet(ApiViewSet):
    queryset = Administrator.objects.none()
    serializer_class = AdministratorSerializer

    def list(self, request: Request) -> Response:
        return self.paged(administrators_visible_to(self.admin).order_by("username", "id"))

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.answer(get_administrator_for(self.admin, self.object_id()))

    @extend_schema(request=AdministratorCreateSerializer, responses={201: AdministratorSerializer})
    def create(self, request: Request) -> Response:
        serializer = AdministratorCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        if (
            self.admin.is_partner_admin
            and data["profile"] in PARTNER_PROFILES
            and data.get("partner") is None
        ):
            data["partner"] = self.admin.partner_id
        admin = services.create_administrator(self.admin, **data)
        return self.answer(admin, status=201)

    @extend_schema(request=AdministratorUpdateSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        admin_id = self.object_id()
        get_administrator_for(self.admin, admin_id)  # 404 outside the scope, before the body
        if isinstance(request.data, dict):
            for name in FIXED_FIELDS:
                if name in request.data:
                    raise Invalid.field(name, _("This field cannot be changed."))
        serializer = AdministratorUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        admin = services.update_administrator(self.admin, admin_id, **serializer.validated_data)
        return self.answer(admin)

    @extend_schema(
        description="Deactivates the administrator (the account stays for the change log) "
        "and revokes its API tokens."
    )
    def destroy(self, request: Request, pk: str) -> Response:
        services.deactivate_administrator(self.admin, self.object_id())
        return Response(status=204)
