"""The maintenance window and platform maintenances (R2, R8)."""

from __future__ import annotations

from rest_framework import serializers

from ucfleet.api.fields import UtcDateTimeField
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.services import MAX_MESSAGE, MAX_SLOT_MINUTES


class WindowSlotSerializer(serializers.Serializer):
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        min_length=1,
        max_length=7,
        help_text="0 = Monday … 6 = Sunday",
    )
    start = serializers.TimeField(
        format="%H:%M",
        input_formats=["%H:%M", "%H:%M:%S"],
        help_text="Local start in server time, HH:MM",
    )
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MAX_SLOT_MINUTES)


class OccurrenceSerializer(serializers.Serializer):
    start = UtcDateTimeField()
    end = UtcDateTimeField()


class MaintenanceWindowSerializer(serializers.Serializer):
    time_zone = serializers.CharField(max_length=64, help_text="IANA zone: the server time")
    slots = serializers.ListField(child=WindowSlotSerializer(), max_length=100)
    expected_task_minutes = serializers.IntegerField(min_value=1, max_value=MAX_SLOT_MINUTES)
    next_occurrences = OccurrenceSerializer(
        many=True, read_only=True, help_text="The next 5 occurrences"
    )


class PlatformMaintenanceSerializer(serializers.ModelSerializer):
    start = UtcDateTimeField()
    end = UtcDateTimeField()
    message_en = serializers.CharField(required=False, allow_blank=True, max_length=MAX_MESSAGE)
    message_de = serializers.CharField(required=False, allow_blank=True, max_length=MAX_MESSAGE)
    is_active_now = serializers.SerializerMethodField()

    class Meta:
        model = PlatformMaintenance
        fields = ["id", "start", "end", "message_en", "message_de", "is_active_now"]
        read_only_fields = ["id", "is_active_now"]

    def get_is_active_now(self, maintenance: PlatformMaintenance) -> bool:
        now = self.context.get("now") or utcnow()
        return bool(maintenance.start <= now < maintenance.end)


class ResolveConflictsSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["delete", "move"])
