"""Reads of webhook endpoints and their deliveries, scoped to the acting administrator (R1):
platform administrators see every endpoint, partner administrators their own partner's."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.core.errors import NotFound
from ucfleet.core.ids import lookup_id
from ucfleet.webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoints_visible_to(admin: Actor) -> QuerySet[WebhookEndpoint]:
    endpoints = WebhookEndpoint.objects.all()
    if admin.is_platform_admin:
        return endpoints
    return endpoints.filter(partner_id=partner_scope(admin))


def get_endpoint_for(admin: Actor, pk: Any) -> WebhookEndpoint:
    try:
        return endpoints_visible_to(admin).get(pk=lookup_id(pk))
    except WebhookEndpoint.DoesNotExist:
        raise NotFound(_("No such webhook endpoint.")) from None


def deliveries_visible_to(admin: Actor) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.all()
    if admin.is_platform_admin:
        return deliveries
    return deliveries.filter(endpoint__partner_id=partner_scope(admin))


def deliveries_of(admin: Actor, endpoint_id: Any) -> QuerySet[WebhookDelivery]:
    """The deliveries of one endpoint, newest first (404 for a foreign endpoint)."""
    endpoint = get_endpoint_for(admin, endpoint_id)
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint).defer("body").order_by("-created", "-id")
    )
