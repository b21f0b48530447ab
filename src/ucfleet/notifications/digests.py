"""Drafts of the two kinds of e-mail: partner digests (one per partner administrator per
event, listing that partner's tasks) and customer e-mails (one per task).

A digest lists at most `DIGEST_MAX_TASKS` tasks (default 200), then "and N more" with a link
to the portal's task list filtered to the same tasks (request, partner and status): a
platform-wide request's digest stays a few dozen kilobytes instead of 17 MB at 100,000
tenants. The list the link opens is scoped to the reader (R1): a partner administrator sees
its own partner's tasks only, whatever the link says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from ucfleet.notifications.choices import Kind
from ucfleet.notifications.compose import BulkRenderer, Formatter, as_mail, language_of, render
from ucfleet.notifications.facts import TaskFacts, ids_digest, partner_contacts, task_context
from ucfleet.notifications.outbox import Draft
from ucfleet.tenants.models import Partner
from ucfleet.updates.choices import Status as TaskStatus

DIGEST_KINDS = {
    Kind.CREATED_PARTNER,
    Kind.CANCELLED_PARTNER,
    Kind.RESCHEDULED_PARTNER,
    Kind.FAILED_PARTNER,
}

# The task list's status filter that shows the tasks a digest of this kind is about.
_LINK_STATUS: dict[str, str] = {
    Kind.CANCELLED_PARTNER: TaskStatus.CANCELLED,
    Kind.FAILED_PARTNER: TaskStatus.FAILED,
}


def digest_max_tasks() -> int:
    return int(getattr(settings, "UCFLEET", {}).get("DIGEST_MAX_TASKS", 200))


def task_list_link(kind: str, partner_id: int, items: Sequence[TaskFacts]) -> str:
    """The portal's list of every task of the request this digest is about, for this partner
    (all task types; cancelled or failed ones for those digests). A digest whose tasks come
    from several requests (a bulk cancellation) links to the partner's list with that status."""
    query: dict[str, str] = {"partner": str(partner_id)}
    requests = {f.request_id for f in items}
    if len(requests) == 1:
        query["request"] = str(next(iter(requests)))
    if kind in _LINK_STATUS:
        query["status"] = str(_LINK_STATUS[kind])
    base = str(getattr(settings, "UCFLEET", {}).get("PORTAL_URL", "")).rstrip("/")
    return f"{base}{reverse('web:tasks-all')}?{urlencode(sorted(query.items()))}"


def partner_mails(
    kind: str,
    items: Sequence[TaskFacts],
    *,
    tz: ZoneInfo,
    event: str | None,
    old_starts: dict[int, datetime] | None = None,
) -> Iterator[Draft]:
    """One e-mail per partner administrator listing that partner's tasks (at most
    `digest_max_tasks()`, then "and N more" with the link).

    `event` names the event in the key; None derives it from the task ids, for events that
    happen to a task at most once (cancellation).
    """
    by_partner: dict[int, list[TaskFacts]] = defaultdict(list)
    for f in items:
        by_partner[f.partner_id].append(f)
    contacts = partner_contacts(by_partner)
    old_starts = old_starts or {}
    limit = digest_max_tasks()
    lines = BulkRenderer(f"{kind}-task")
    more = BulkRenderer("digest-more", varying=())
    for partner_id, tasks in by_partner.items():
        partner = contacts[partner_id]
        if not partner.admins:
            continue
        fmt = Formatter(tz, partner.language)
        shown = [task_context(fmt, f, old_starts.get(f.id)) for f in tasks[:limit]]
        task_lines = "".join(lines.text(partner.language, t) for t in shown)
        if len(tasks) > limit:
            task_lines += more.text(
                partner.language,
                {
                    "more": len(tasks) - limit,
                    "shown": limit,
                    "url": task_list_link(kind, partner_id, tasks),
                },
            )
        subject, body = render(
            kind,
            partner.language,
            {
                "partner": partner.name,
                "count": len(tasks),
                "task": shown[0],
                "task_lines": task_lines,
                "zone": tz.key,
                "versions": ", ".join(sorted({f.target_version for f in tasks})),
                "scheduled_by": tasks[0].scheduled_by or "",
            },
        )
        ids = tuple(f.id for f in tasks)
        event_key = event or ids_digest(tasks)
        for admin_id, email in partner.admins:
            yield Draft(
                kind,
                partner_id,
                (email,),
                partner.language,
                subject,
                body,
                f"{kind}.{event_key}.admin-{admin_id}",
                ids,
            )


def customer_mails(
    kind: str,
    items: Iterable[TaskFacts],
    *,
    tz: ZoneInfo,
    event: str | None,
    old_starts: dict[int, datetime] | None = None,
) -> Iterator[Draft]:
    """One e-mail per task to its tenant's notification address, in the tenant's language."""
    items = [f for f in items if f.notify_customer and f.notification_email]
    if not items:
        return
    partner_names = dict(
        Partner.objects.filter(pk__in={f.partner_id for f in items}).values_list("pk", "name")
    )
    formatters = {code: Formatter(tz, code) for code in ("en", "de")}
    old_starts = old_starts or {}
    mails = BulkRenderer(kind)
    for f in items:
        language = language_of(f.tenant_language)
        context = task_context(formatters[language], f, old_starts.get(f.id))
        context.update(partner=partner_names.get(f.partner_id, ""), zone=tz.key)
        subject, body = as_mail(mails.text(language, context))
        key = f"{kind}.{event}.task-{f.id}" if event else f"{kind}.task-{f.id}"
        yield Draft(
            kind, f.partner_id, (f.notification_email,), language, subject, body, key, (f.id,)
        )
