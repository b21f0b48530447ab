"""Outbox: the e-mails ucfleet queued and sent (R17), scoped to the administrator."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ucfleet.notifications.choices import Kind, Status
from ucfleet.notifications.queries import (
    get_notification_for,
    notifications_visible_to,
    status_counts,
    with_list_relations,
)
from ucfleet.web.views.common import paginate, render_area


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *Status.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("all")), *Kind.choices]
    )
    q = forms.CharField(label=_("Recipient or subject"), required=False)


@login_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    form = OutboxFilterForm(request.GET or None)
    notifications = notifications_visible_to(admin)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("status"):
            notifications = notifications.filter(status=data["status"])
        if data.get("kind"):
            notifications = notifications.filter(kind=data["kind"])
        if data.get("q"):
            notifications = notifications.filter(
                Q(subject__icontains=data["q"]) | Q(recipients__icontains=data["q"])
            )
    page = paginate(request, with_list_relations(notifications).order_by("-created", "-id"))
    return render_area(
        request,
        "outbox",
        {
            "nav": "outbox",
            "form": form,
            "page": page,
            "notifications": list(page.object_list),
            "counts": status_counts(admin),
        },
    )


@login_required
@require_GET
def outbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_notification_for(request.user, pk)
    template = "_message.html" if getattr(request, "htmx", None) else "message.html"
    return render(request, f"web/outbox/{template}", {"message": message, "nav": "outbox"})
