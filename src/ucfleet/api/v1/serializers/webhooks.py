"""Webhook endpoints and their deliveries (R30). The types are checked here, the rules (URL,
events, secret, who may register what) in webhooks.services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ucfleet.api.fields import IdField, UtcDateTimeField
from ucfleet.webhooks.choices import ALL_EVENTS, DeliveryStatus, Event
from ucfleet.webhooks.models import MAX_URL_LENGTH, WebhookDelivery
from ucfleet.webhooks.validation import MAX_SECRET_LENGTH

EVENTS_HELP = f'Event names ({", ".join(Event.values)}), or ["{ALL_EVENTS}"] for all'


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(
        max_length=MAX_URL_LENGTH,
        help_text="https://…; http:// only to loopback addresses unless the server allows it",
    )
    events = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False), max_length=100, help_text=EVENTS_HELP
    )
    partner: Any = IdField(
        source="partner_id",
        allow_null=True,
        required=False,
        help_text="null: the platform's endpoint (every event); default: the caller's scope",
    )
    is_active = serializers.BooleanField(required=False, default=True)
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_SECRET_LENGTH,
        help_text="HMAC key (16–200 printable ASCII characters); generated when left out and "
        "shown once, in the answer to the create",
    )
    created = UtcDateTimeField(read_only=True)


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The create's answer: the only one that shows the secret."""

    secret = serializers.CharField(read_only=True)  # type: ignore[assignment]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    created = UtcDateTimeField(read_only=True)
    sent_at = UtcDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "status", "attempts", "last_error", "created", "sent_at"]
        read_only_fields = fields
