"""Building tasks with fixed times and delivering the outbox, shared by the tests here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.db import transaction

from tests.factories import AdministratorFactory, TenantFactory, UpdateTaskFactory
from ucfleet.accounts.choices import Profile
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.failures import compose_due, digest_grace, digest_period
from ucfleet.notifications.sender import send_due
from ucfleet.updates.choices import Timing

# A winter window (CET) and a summer one (CEST) in server time Europe/Berlin.
START = datetime(2030, 12, 1, 0, 0, tzinfo=UTC)  # 2030-12-01 01:00 CET
LATEST = datetime(2030, 12, 1, 3, 30, tzinfo=UTC)  # 2030-12-01 04:30 CET
SUMMER = datetime(2030, 7, 7, 23, 0, tzinfo=UTC)  # 2030-07-08 01:00 CEST
START_TEXT = "2030-12-01 01:00 CET (Europe/Berlin)"
LATEST_TEXT = "2030-12-01 04:30 CET (Europe/Berlin)"
SUMMER_TEXT = "2030-07-08 01:00 CEST (Europe/Berlin)"


def tenant(partner, version, name, *, language, email=None):
    return TenantFactory(
        name=name,
        domain=f"{name}.uc.example",
        partner=partner,
        language=language,
        version=version,
        notification_email=f"it@{name}.example" if email is None else email,
    )


def partner_admin_of(partner, username, **fields):
    return AdministratorFactory(
        username=username, profile=Profile.PARTNER, partner=partner, **fields
    )


def task(tenant, target, *, request_id=None, scheduled_by=None, **fields):
    fields.setdefault("timing", Timing.MAINTENANCE_WINDOW)
    fields.setdefault("earliest_start", START)
    fields.setdefault("latest_start", LATEST)
    return UpdateTaskFactory(
        tenant=tenant,
        target_version=target,
        request_id=request_id or uuid.uuid4(),
        scheduled_by=scheduled_by,
        **fields,
    )


def in_transaction(fn, *args, **kwargs):
    """Outbox writers run inside the caller's transaction, as domain services call them."""
    with transaction.atomic():
        return fn(*args, **kwargs)


def deliver(**kwargs) -> int:
    """Run the sender until it has nothing left to send."""
    total = 0
    while sent := send_due(**kwargs):
        total += sent
    return total


def close_failure_digests() -> int:
    """Compose the failure digests as the housekeeping does once the hour has closed (a
    later `now` instead of waiting an hour); returns how many failures they told."""
    later = utcnow() + digest_period() + digest_grace() + timedelta(seconds=1)
    return compose_due(now=later)
