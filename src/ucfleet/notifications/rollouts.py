"""E-mails of rollouts (R20, R21), written in the transaction of the change like every
other e-mail (the outbox, R17).

- `notify_wave_released`: the tasks of a wave that was held now have their real date; they
  were left out of the creation e-mails (`services.notify_tasks_created`) and get them now,
  as digests per partner administrator and one e-mail per customer contact.
- `notify_rollout_paused`: the error budget was exceeded; one e-mail to the platform
  administrators and the rollout's creator naming the rollout, the failures and reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from django.db import transaction
from django.db.models import Q

from ucfleet.accounts.models import Administrator
from ucfleet.maintenance.queries import server_zone
from ucfleet.notifications.alerts import _platform_recipients
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.compose import Formatter, render
from ucfleet.notifications.digests import customer_mails, partner_mails
from ucfleet.notifications.facts import facts_of
from ucfleet.notifications.outbox import Draft, enqueue

# Failures an e-mail lists by name; the rest are counted.
MAX_LISTED_FAILURES = 50


def notify_wave_released(rollout_id: int, wave_index: int, task_ids: Iterable[int]) -> None:
    """Wave `wave_index` of the rollout was released: the "scheduled" e-mails with the
    date each task got now (R15, R20)."""
    facts = facts_of(task_ids, extra=Q(notify_partner=True) | Q(notify_customer=True))
    if not facts:
        return
    tz = server_zone()
    with transaction.atomic(savepoint=False):
        enqueue(
            chain(
                partner_mails(
                    Kind.CREATED_PARTNER,
                    [f for f in facts if f.notify_partner],
                    tz=tz,
                    event=f"rollout-{rollout_id}-wave-{wave_index}",
                ),
                # A task is released once, and was not told at creation: its own key.
                customer_mails(Kind.CREATED_CUSTOMER, facts, tz=tz, event=None),
            )
        )


@dataclass(frozen=True)
class Failure:
    task_id: int
    tenant: str
    partner: str
    reason: str


def notify_rollout_paused(
    *,
    rollout_id: int,
    name: str,
    target_version: str,
    created_by_id: int | None,
    partner_id: int,
    max_failures: int | None,
    max_failure_percent: float | None,
    ended_count: int,
    failures: Sequence[Failure],
    failed_count: int,
) -> None:
    """One e-mail (one outbox row) to every active platform administrator and the creator.
    `partner_id`: the partner the outbox row is filed under (a failed task's); the kind is
    a platform kind, so partner administrators do not see it in their outbox (R1)."""
    recipients, language = _platform_recipients()
    creator = (
        Administrator.objects.filter(pk=created_by_id, is_active=True)
        .exclude(email="")
        .values_list("email", "language")
        .first()
        if created_by_id
        else None
    )
    if creator and creator[0] not in recipients:
        recipients = [*recipients, creator[0]]
        if not recipients[:-1]:
            language = creator[1] if creator[1] in ("en", "de") else "en"
    if not recipients:
        return
    fmt = Formatter(server_zone(), language)
    subject, body = render(
        Kind.ROLLOUT_PAUSED,
        language,
        {
            "rollout_id": rollout_id,
            "name": name,
            "target_version": target_version,
            "max_failures": max_failures,
            "max_failure_percent": (
                f"{max_failure_percent:g}" if max_failure_percent is not None else None
            ),
            "ended_count": ended_count,
            "failures": list(failures[:MAX_LISTED_FAILURES]),
            "more": max(0, failed_count - min(len(failures), MAX_LISTED_FAILURES)),
            "failed_count": failed_count,
            "zone": fmt.tz.key,
        },
    )
    with transaction.atomic(savepoint=False):
        enqueue(
            [
                Draft(
                    Kind.ROLLOUT_PAUSED,
                    partner_id,
                    tuple(recipients),
                    language,
                    subject,
                    body,
                    # A rollout pauses itself once per exceeded budget; resuming and
                    # failing again is a new event (the failed count is in the key).
                    f"{Kind.ROLLOUT_PAUSED}.rollout-{rollout_id}.failed-{failed_count}",
                    tuple(f.task_id for f in failures[:MAX_LISTED_FAILURES]),
                )
            ]
        )
