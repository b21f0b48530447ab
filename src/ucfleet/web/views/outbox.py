"""Outbox: the e-mails ucfleet queued and sent (R17), scoped to the administrator."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ucfleet.core.errors import DomainError
from ucfleet.notifications import services as notification_services
from ucfleet.notifications.choices import Kind, Status
from ucfleet.notifications.queries import (
    get_notification_for,
    notifications_visible_to,
    status_counts,
    with_list_relations,
)
from ucfleet.web.views.common import acting_admin, paginate, render_area, safe_next


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("all")), *Status.choices],
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("all")), *Kind.choices],
    )
    q = forms.CharField(label=gettext_lazy("Recipient or subject"), required=False)


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
    counts = status_counts(admin)
    return render_area(
        request,
        "outbox",
        {
            "nav": "outbox",
            "form": form,
            "page": page,
            "notifications": list(page.object_list),
            "counts": [(s, label, counts[s]) for s, label in Status.choices if counts.get(s)],
            "is_platform": admin.is_platform_admin,
        },
    )


@login_required
@require_GET
def outbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_notification_for(acting_admin(request), pk)
    template = "_message.html" if getattr(request, "htmx", None) else "message.html"
    return render(request, f"web/outbox/{template}", {"message": message, "nav": "outbox"})


@login_required
@require_POST
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a failed e-mail again (platform administrators; the service decides)."""
    try:
        notification_services.retry_notification(acting_admin(request), pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The e-mail is queued to be sent again."))
    return HttpResponseRedirect(safe_next(request, reverse("web:outbox")))
