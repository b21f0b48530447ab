"""Login throttling: who is asking (behind trusted proxies), and how long they must wait.

Three limits, all fed by django-axes' own records (so every portal process sees the same
counts, with nothing of ours to store):

- per account *and* address: axes itself (`AXES_LOCKOUT_PARAMETERS`), a few failures lock
  that pair for `AXES_COOLOFF_TIME`. It stops guessing from one place without locking the
  real user out elsewhere.
- per account across addresses (`account_wait`): an attacker with many addresses gets
  `UCFLEET_LOGIN_ACCOUNT_FAILURE_LIMIT` free tries per day, then one try per cool-off
  that doubles with every further failure (from `UCFLEET_LOGIN_ACCOUNT_COOLOFF` seconds up
  to an hour). The right password is accepted whenever no cool-off is running, and a
  success clears the count.
- per address across accounts (`address_wait`): password spraying from one address.

Refused tries are not counted: the check runs before `authenticate()`, so no failure is
recorded for them and an attacker who keeps knocking cannot extend the cool-off forever.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta
from functools import lru_cache
from typing import Any

from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.db.models import Count, Max, Q

from ucfleet.core.timeutils import now as utcnow

ACCOUNT_WINDOW = timedelta(hours=24)
ADDRESS_WINDOW = timedelta(minutes=15)
MAX_COOLOFF = timedelta(hours=1)


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.UCFLEET_TRUSTED_PROXIES)))


def client_address(request: Any) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE).

    X-Forwarded-For is believed only from a trusted proxy (UCFLEET_TRUSTED_PROXIES), and
    then read from the right: the first hop that is not one of our proxies is the client.
    A header sent by anyone else is ignored, so rotating it escapes no limit.
    (django-ipware checks the proxies named *inside* the header, which the client writes.)
    """
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR") or None
    if remote is None or not _is_trusted(remote):
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a malformed hop: fall back to the proxy, never trust junk
    return remote


def _wait(failures: Any, limit: int, base: float) -> int:
    """Seconds left of the cool-off after `failures` (a queryset), 0 when free to try."""
    summary = failures.aggregate(count=Count("id"), last=Max("attempt_time"))
    count = summary["count"]
    if count < limit:
        return 0
    cooloff = min(timedelta(seconds=base * 2 ** (count - limit)), MAX_COOLOFF)
    left = (summary["last"] + cooloff - utcnow()).total_seconds()
    return max(0, math.ceil(left))


def account_wait(username: str) -> int:
    now = utcnow()
    last_success = AccessLog.objects.filter(username=username).aggregate(at=Max("attempt_time"))
    since = max(filter(None, [now - ACCOUNT_WINDOW, last_success["at"]]))
    failures = AccessFailureLog.objects.filter(username=username, attempt_time__gt=since)
    return _wait(
        failures,
        settings.UCFLEET["LOGIN_ACCOUNT_FAILURE_LIMIT"],
        settings.UCFLEET["LOGIN_ACCOUNT_COOLOFF_SECONDS"],
    )


def address_wait(address: str | None) -> int:
    if not address:
        return 0
    failures = AccessFailureLog.objects.filter(
        Q(ip_address=address), attempt_time__gt=utcnow() - ADDRESS_WINDOW
    )
    return _wait(
        failures,
        settings.UCFLEET["LOGIN_ADDRESS_FAILURE_LIMIT"],
        ADDRESS_WINDOW.total_seconds(),
    )


def login_wait(request: Any, username: str) -> int:
    """Seconds this login must wait (0: go ahead). Checked before the password is."""
    if not settings.AXES_ENABLED:
        return 0
    return max(account_wait(username), address_wait(client_address(request)))
