from __future__ import annotations

from rest_framework import serializers

from ucfleet.api.fields import UtcDateTimeField
from ucfleet.audit.models import ChangeLogEntry


class ChangeLogEntrySerializer(serializers.ModelSerializer):
    at = UtcDateTimeField(read_only=True)
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = ChangeLogEntry
        fields = ["id", "at", "actor", "action", "object_type", "object_id", "field", "old", "new"]
        read_only_fields = fields


class ChangeLogFilterSerializer(serializers.Serializer):
    actor = serializers.CharField(required=False, max_length=150, help_text="User name")
    action = serializers.CharField(required=False, max_length=40)
    object_type = serializers.CharField(required=False, max_length=40)
    object_id = serializers.CharField(required=False, max_length=64)
    since = UtcDateTimeField(required=False, help_text="Entries at or after this time")
    until = UtcDateTimeField(required=False, help_text="Entries before this time")
    format = serializers.ChoiceField(
        choices=["json", "csv"], required=False, help_text="`csv` exports every matching entry"
    )
