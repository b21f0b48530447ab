"""E-mails to the platform administrators about one tenant (R26): sent at once, one per
event, in the outbox like every other e-mail (written in the transaction of the change)."""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from ucfleet.accounts.choices import PLATFORM_PROFILES
from ucfleet.accounts.models import Administrator
from ucfleet.maintenance.queries import server_zone
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.compose import Formatter, language_of, render
from ucfleet.notifications.outbox import Draft, enqueue
from ucfleet.updates.models import UpdateTask


def _platform_recipients() -> tuple[list[str], str]:
    """Active platform administrators' addresses, and the language most of them read
    (English on a tie): one e-mail reaches them all."""
    rows = list(
        Administrator.objects.filter(profile__in=list(PLATFORM_PROFILES), is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", "language")
    )
    languages = Counter(language_of(language) for _, language in rows)
    language = "en" if languages["en"] >= languages["de"] else "de"
    return sorted({email for email, _ in rows}), language


def notify_tenant_needs_attention(task_id: int) -> None:
    """A restore failed (the task is failed "restore failed: tenant needs attention"): one
    e-mail to every platform administrator naming the tenant. The key is the task's: a task
    fails once, so the e-mail exists once however often the event is reported."""
    recipients, language = _platform_recipients()
    if not recipients:
        return
    task = (
        UpdateTask.objects.filter(pk=task_id)
        .values(
            "partner_id",
            "tenant__name",
            "tenant__domain",
            "tenant__instance_id",
            "partner__name",
            "from_version__name",
            "target_version__name",
            "failure_reason",
            "finished",
        )
        .first()
    )
    if task is None:
        return
    fmt = Formatter(server_zone(), language)
    subject, body = render(
        Kind.TENANT_NEEDS_ATTENTION,
        language,
        {
            "task_id": task_id,
            "tenant": task["tenant__name"],
            "domain": task["tenant__domain"],
            "instance_id": task["tenant__instance_id"],
            "partner": task["partner__name"],
            "from_version": task["from_version__name"],
            "target_version": task["target_version__name"],
            "reason": task["failure_reason"],
            "failed_at": fmt.time(task["finished"]),
            "zone": server_zone().key,
        },
    )
    with transaction.atomic(savepoint=False):
        enqueue(
            [
                Draft(
                    Kind.TENANT_NEEDS_ATTENTION,
                    task["partner_id"],
                    tuple(recipients),
                    language,
                    subject,
                    body,
                    f"{Kind.TENANT_NEEDS_ATTENTION}.task-{task_id}",
                    (task_id,),
                )
            ]
        )
