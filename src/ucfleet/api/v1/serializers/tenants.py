"""Partners, scale units and UC tenants (API.md "Resources")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ucfleet.accounts.choices import Language
from ucfleet.api.fields import BoundedDateField, IdField
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant


class PartnerSerializer(serializers.ModelSerializer):
    tenant_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Partner
        fields = ["id", "name", "is_active", "language", "tenant_count"]
        read_only_fields = fields


class ScaleUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScaleUnit
        fields = ["id", "name", "location", "max_concurrent_tasks"]
        read_only_fields = fields


class TenantSerializer(serializers.ModelSerializer):
    """A tenant as answered; `update_scheduled`/`update_recommended` are the R10 markers."""

    partner = serializers.IntegerField(source="partner_id", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    version = serializers.IntegerField(source="version_id", read_only=True)
    version_name = serializers.CharField(source="version.name", read_only=True)
    scale_unit = serializers.IntegerField(source="scale_unit_id", read_only=True, allow_null=True)
    # Empty when the tenant has none (the customer then gets no e-mail), so no email format.
    notification_email = serializers.CharField(read_only=True)
    update_scheduled = serializers.BooleanField(read_only=True)
    update_recommended = serializers.BooleanField(source="version.recommend_update", read_only=True)

    class Meta:
        model = Tenant
        fields = [
            "id",
            "name",
            "domain",
            "partner",
            "partner_name",
            "language",
            "version",
            "version_name",
            "description",
            "customer_id",
            "notification_email",
            "is_active",
            "auto_update_allowed",
            "is_productive",
            "is_nfr",
            "is_test",
            "test_until",
            "scale_unit",
            "instance_id",
            "update_scheduled",
            "update_recommended",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Tenant) -> dict[str, Any]:
        """The fields above, read directly (as TaskSerializer does, and for the same
        reason); tests/api/test_fast_rows.py holds this equal to DRF's own output."""
        t = instance
        return {
            "id": t.pk,
            "name": t.name,
            "domain": t.domain,
            "partner": t.partner_id,
            "partner_name": t.partner.name,
            "language": t.language,
            "version": t.version_id,
            "version_name": t.version.name,
            "description": t.description,
            "customer_id": t.customer_id,
            "notification_email": t.notification_email,
            "is_active": bool(t.is_active),
            "auto_update_allowed": bool(t.auto_update_allowed),
            "is_productive": bool(t.is_productive),
            "is_nfr": bool(t.is_nfr),
            "is_test": bool(t.is_test),
            "test_until": t.test_until.isoformat() if t.test_until else None,
            "scale_unit": t.scale_unit_id,
            "instance_id": t.instance_id,
            "update_scheduled": bool(t.update_scheduled),  # type: ignore[attr-defined]  # with_markers
            "update_recommended": bool(t.version.recommend_update),
        }


class TenantWriteSerializer(serializers.Serializer):
    """The writable fields; tenants.services decides what may change (partner, language and
    version are fixed after creation) and who may do it."""

    name = serializers.CharField(max_length=200)
    domain = serializers.CharField(max_length=253)
    partner = IdField(required=False, help_text="Defaults to a partner administrator's own.")
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    version = IdField(help_text="Fixed after creation; later changed by update tasks only.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    customer_id = serializers.CharField(required=False, allow_blank=True, max_length=100)
    notification_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    is_active = serializers.BooleanField(required=False)
    auto_update_allowed = serializers.BooleanField(required=False)
    is_productive = serializers.BooleanField(required=False)
    is_nfr = serializers.BooleanField(required=False)
    is_test = serializers.BooleanField(required=False)
    test_until = BoundedDateField(required=False, allow_null=True)
    scale_unit = IdField(required=False, allow_null=True)


class TenantFilterSerializer(serializers.Serializer):
    partner = IdField(required=False)
    version = serializers.CharField(
        required=False, max_length=50, help_text="A version id or a version name."
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Part of the name, domain, customer ID or instance ID.",
    )
    scale_unit = IdField(required=False)
    is_productive = serializers.BooleanField(required=False)
    is_test = serializers.BooleanField(required=False)
    is_nfr = serializers.BooleanField(required=False)
    update_scheduled = serializers.BooleanField(required=False)
    auto_update_allowed = serializers.BooleanField(required=False)
    format = serializers.ChoiceField(
        choices=["json", "csv"],
        required=False,
        help_text="`csv` exports every tenant the filters select (not one page), streamed",
    )
