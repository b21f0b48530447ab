from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ucfleet.api.fields import UtcDateTimeField
from ucfleet.notifications.choices import Kind, Status
from ucfleet.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    """An e-mail in the outbox; `tasks` are the ids of the update tasks it concerns."""

    recipients = serializers.ListField(child=serializers.CharField(), read_only=True)
    tasks: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    created = UtcDateTimeField(read_only=True)
    sent_at = UtcDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "recipients",
            "language",
            "subject",
            "status",
            "attempts",
            "created",
            "sent_at",
            "tasks",
        ]
        read_only_fields = fields


class NotificationDetailSerializer(NotificationSerializer):
    class Meta(NotificationSerializer.Meta):
        fields = [*NotificationSerializer.Meta.fields, "body", "last_error"]
        read_only_fields = fields


class NotificationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    task = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Only e-mails about this update task",
    )
