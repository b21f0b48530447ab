from __future__ import annotations

from rest_framework import serializers

from ucfleet.api.fields import UtcDateTimeField
from ucfleet.audit.models import ChangeLogEntry


class ChangeLogEntrySerializer(serializers.ModelSerializer):
    at = UtcDateTimeField(read_only=True)
    actor = serializers.CharField(source="actor_name", read_only=True)
    group = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Key shared by the entries one bulk action wrote (null: a single entry); "
        "`?group=KEY` lists them",
    )
    group_size = serializers.SerializerMethodField(
        help_text="How many entries of the group you can see (1 for a single entry)"
    )

    class Meta:
        model = ChangeLogEntry
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "field",
            "old",
            "new",
            "group",
            "group_size",
        ]
        read_only_fields = fields

    def get_group_size(self, entry: ChangeLogEntry) -> int:
        sizes: dict[str, int] = self.context.get("group_sizes", {})
        return sizes.get(entry.group, 1) if entry.group else 1


class ChangeLogFilterSerializer(serializers.Serializer):
    actor = serializers.CharField(required=False, max_length=150, help_text="User name")
    action = serializers.CharField(required=False, max_length=40)
    object_type = serializers.CharField(required=False, max_length=40)
    object_id = serializers.CharField(required=False, max_length=64)
    since = UtcDateTimeField(required=False, help_text="Entries at or after this time")
    until = UtcDateTimeField(required=False, help_text="Entries before this time")
    group = serializers.CharField(
        required=False, max_length=32, help_text="Only the entries of this group"
    )
    grouped = serializers.BooleanField(
        required=False,
        default=False,
        help_text="One entry per group (its first), `group_size` telling how many it stands "
        "for: a bulk action reads as one entry",
    )
    format = serializers.ChoiceField(
        choices=["json", "csv"], required=False, help_text="`csv` exports every matching entry"
    )
