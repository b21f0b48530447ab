"""What an endpoint may be: its URL (HTTPS; HTTP only to loopback unless allowed), its
events and its secret. Pure checks; every failure is an `Invalid` naming the field."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from ucfleet.core.errors import Invalid
from ucfleet.webhooks.choices import ALL_EVENTS, Event
from ucfleet.webhooks.models import MAX_URL_LENGTH

MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 200
MAX_SHOWN = 60


def _printable_ascii(text: str) -> bool:
    """No spaces, control characters, surrogates or non-ASCII: what a URL or a header-safe
    secret consists of (international domain names are given in punycode)."""
    return all("!" <= char <= "~" for char in text)


def shown(value: object) -> str:
    """A caller's value quoted in an error message: printable, short, encodable."""
    text = str(value)[:MAX_SHOWN]
    return "".join(char if char.isprintable() and char.isascii() else "?" for char in text)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_allowed() -> bool:
    return bool(getattr(settings, "UCFLEET", {}).get("WEBHOOKS_ALLOW_HTTP", False))


def validate_url(url: Any) -> str:
    def refuse(message: str) -> Invalid:
        return Invalid.field("url", message)

    if not isinstance(url, str) or not url.strip():
        raise refuse(_("Give the receiver's URL."))
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise refuse(_("The URL may have at most %(max)d characters.") % {"max": MAX_URL_LENGTH})
    if not _printable_ascii(url):
        raise refuse(
            _(
                "The URL may contain no spaces, control or non-ASCII characters "
                "(give international domain names in punycode)."
            )
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        raise refuse(_("This is not a valid URL.")) from None
    if parts.scheme not in ("https", "http") or not host:
        raise refuse(_("Give an https:// URL with a host name."))
    if parts.username is not None or parts.password is not None:
        raise refuse(_("The URL may not contain credentials; the signature authenticates."))
    if parts.scheme == "http" and not is_loopback(host) and not http_allowed():
        raise refuse(
            _("Plain HTTP is only allowed to loopback addresses (127.0.0.0/8, ::1, localhost).")
        )
    return url


def validate_events(events: Any) -> list[str]:
    """The subscribed events in the documented order; `["*"]` when every event is wanted."""
    if not isinstance(events, list | tuple) or not events:
        raise Invalid.field("events", _('Choose at least one event (or "*" for all).'))
    if any(not isinstance(name, str) for name in events):
        raise Invalid.field("events", _("Events are given by their names."))
    known = set(Event.values)
    for name in events:
        if name != ALL_EVENTS and name not in known:
            raise Invalid.field(
                "events", _("Unknown event: %(event)s") % {"event": shown(name)}, code="unknown"
            )
    if ALL_EVENTS in events:
        return [ALL_EVENTS]
    wanted = set(events)
    return [name for name in Event.values if name in wanted]


def validate_secret(secret: Any) -> str:
    if not isinstance(secret, str) or not (
        MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH and _printable_ascii(secret)
    ):
        raise Invalid.field(
            "secret",
            _("The secret must have %(min)d to %(max)d printable ASCII characters without spaces.")
            % {"min": MIN_SECRET_LENGTH, "max": MAX_SECRET_LENGTH},
        )
    return secret


def subscribes(events: Iterable[str], event: str) -> bool:
    return event in events or ALL_EVENTS in events
