"""Reads of the outbox, scoped to the acting administrator (R1): platform administrators see
every e-mail, partner administrators those concerning their own partner."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.core.errors import NotFound
from ucfleet.core.ids import lookup_id
from ucfleet.notifications.choices import PLATFORM_KINDS
from ucfleet.notifications.models import Notification


def notifications_visible_to(admin: Actor) -> QuerySet[Notification]:
    notifications = Notification.objects.all()
    if admin.is_platform_admin:
        return notifications
    # The partner's own e-mails; alerts to the platform's staff concern the partner's
    # tenant but are not the partner's (they name the platform administrators).
    return notifications.filter(partner_id=partner_scope(admin)).exclude(kind__in=PLATFORM_KINDS)


def get_notification_for(admin: Actor, pk: Any) -> Notification:
    try:
        return notifications_visible_to(admin).get(pk=lookup_id(pk))
    except (Notification.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("No such e-mail.")) from None


def with_list_relations(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    """What an outbox row shows (partner name, number of tasks), in the same query. The
    body is left out: a digest for a large request is big."""
    return notifications.select_related("partner").defer("body").annotate(task_count=Count("tasks"))


def status_counts(admin: Actor) -> dict[str, int]:
    rows = notifications_visible_to(admin).order_by().values_list("status").annotate(n=Count("id"))
    return dict(rows)
