from __future__ import annotations

from rest_framework import serializers

from ucfleet.versions.models import SoftwareVersion


class VersionSerializer(serializers.ModelSerializer):
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    tenant_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = SoftwareVersion
        fields = [
            "id",
            "name",
            "languages",
            "released_on",
            "use_for_new",
            "recommend_update",
            "update_prohibited",
            "for_testing",
            "tenant_count",
        ]
        read_only_fields = fields


class VersionFlagsSerializer(serializers.Serializer):
    """The four flags only platform administrators may change."""

    use_for_new = serializers.BooleanField(required=False)
    recommend_update = serializers.BooleanField(required=False)
    update_prohibited = serializers.BooleanField(required=False)
    for_testing = serializers.BooleanField(required=False)
