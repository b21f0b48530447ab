"""The only writers of webhook endpoints (R30). Platform administrators manage the platform's
endpoints and any partner's; partner administrators their own partner's (a foreign one is
"not found", R1). Every change is in the change log; the secret never is."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record
from ucfleet.core.errors import Forbidden, Invalid
from ucfleet.tenants.queries import get_partner_for
from ucfleet.webhooks.choices import TEST_EVENT
from ucfleet.webhooks.emission import enqueue_for_endpoint
from ucfleet.webhooks.models import WebhookDelivery, WebhookEndpoint
from ucfleet.webhooks.queries import get_endpoint_for
from ucfleet.webhooks.validation import validate_events, validate_secret, validate_url

# `partner` left out of a create: the caller's own scope (a partner administrator's partner,
# the platform for platform administrators).
DEFAULT = object()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _describe(endpoint: WebhookEndpoint) -> str:
    state = "active" if endpoint.is_active else "inactive"
    return f"{endpoint.url} [{', '.join(endpoint.events)}] {state}"


def _partner_id_for(admin: Actor, partner: Any) -> int | None:
    if partner is DEFAULT:
        return None if admin.is_platform_admin else admin.partner_id
    if partner is None:
        if not admin.is_platform_admin:
            raise Forbidden(_("Only platform administrators may register platform endpoints."))
        return None
    return get_partner_for(admin, partner).pk  # 404 for another partner's


def create_endpoint(
    admin: Actor,
    *,
    url: Any,
    events: Any,
    partner: Any = DEFAULT,
    is_active: bool = True,
    secret: Any = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (generated when not given): the only time it is shown."""
    partner_id = _partner_id_for(admin, partner)
    endpoint = WebhookEndpoint(
        url=validate_url(url),
        events=validate_events(events),
        partner_id=partner_id,
        is_active=bool(is_active),
        secret=new_secret() if secret in (None, "") else validate_secret(secret),
    )
    with transaction.atomic():
        endpoint.save()
        record(
            admin,
            Change(
                "create",
                "webhook_endpoint",
                endpoint.pk,
                "settings",
                "",
                _describe(endpoint),
                partner_id=partner_id,
            ),
        )
    return endpoint, endpoint.secret


def update_endpoint(admin: Actor, pk: Any, **changes: Any) -> WebhookEndpoint:
    """Change url, events, is_active or secret; the partner stays what it was."""
    with transaction.atomic():
        endpoint = get_endpoint_for(admin, pk)
        old = _describe(endpoint)
        if "partner" in changes and changes["partner"] != endpoint.partner_id:
            raise Invalid.field("partner", _("The partner of an endpoint cannot be changed."))
        if "url" in changes:
            endpoint.url = validate_url(changes["url"])
        if "events" in changes:
            endpoint.events = validate_events(changes["events"])
        if "is_active" in changes:
            endpoint.is_active = bool(changes["is_active"])
        secret_changed = changes.get("secret") not in (None, "")
        if secret_changed:
            endpoint.secret = validate_secret(changes["secret"])
        endpoint.save()
        new = _describe(endpoint) + (" (new secret)" if secret_changed else "")
        record(
            admin,
            Change(
                "update",
                "webhook_endpoint",
                endpoint.pk,
                "settings",
                old,
                new,
                partner_id=endpoint.partner_id,
            ),
        )
    return endpoint


def delete_endpoint(admin: Actor, pk: Any) -> None:
    """The endpoint and its deliveries (queued ones are not sent)."""
    with transaction.atomic():
        endpoint = get_endpoint_for(admin, pk)
        record(
            admin,
            Change(
                "delete",
                "webhook_endpoint",
                endpoint.pk,
                "settings",
                _describe(endpoint),
                "",
                partner_id=endpoint.partner_id,
            ),
        )
        endpoint.delete()


def send_test_event(admin: Actor, pk: Any) -> WebhookDelivery:
    """Queue a `webhook.test` delivery to this endpoint (an inactive one's too: deactivating
    stops new events, not what is already queued)."""
    with transaction.atomic():
        endpoint = get_endpoint_for(admin, pk)
        data = {"endpoint": endpoint.pk, "requested_by": admin.username}
        return enqueue_for_endpoint(endpoint, TEST_EVENT, data)
