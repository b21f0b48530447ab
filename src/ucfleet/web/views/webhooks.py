"""Webhooks (R30): endpoints, their deliveries with status, and "Send test event". Every
read goes through webhooks.queries, every write through webhooks.services (R1)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ucfleet.core.errors import DomainError
from ucfleet.tenants.queries import partners_visible_to
from ucfleet.web.views.common import acting_admin, add_domain_error, paginate
from ucfleet.webhooks import services
from ucfleet.webhooks.choices import ALL_EVENTS, Event
from ucfleet.webhooks.models import MAX_URL_LENGTH
from ucfleet.webhooks.queries import deliveries_of, endpoints_visible_to, get_endpoint_for

PLATFORM = ""


class EndpointForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("URL"), max_length=MAX_URL_LENGTH)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        widget=forms.CheckboxSelectMultiple,
        choices=[(ALL_EVENTS, gettext_lazy("All events")), *Event.choices],
    )
    partner = forms.ChoiceField(label=gettext_lazy("Partner"), required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    secret = forms.CharField(
        label=gettext_lazy("Secret"),
        required=False,
        max_length=200,
        strip=False,
        help_text=gettext_lazy("Leave empty to generate one (new) or keep it (edit)."),
    )

    def __init__(self, *args: Any, admin: Any, editing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if admin.is_platform_admin and not editing:
            self.fields["partner"].choices = [  # type: ignore[attr-defined]
                (PLATFORM, _("Platform (all events)")),
                *((str(p.pk), p.name) for p in partners_visible_to(admin).order_by("name")),
            ]
        else:
            del self.fields["partner"]


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    endpoints = endpoints_visible_to(acting_admin(request)).select_related("partner").order_by("id")
    return render(request, "web/webhooks/page.html", {"nav": "webhooks", "endpoints": endpoints})


def _save(request: HttpRequest, form: EndpointForm, pk: int | None) -> HttpResponse | None:
    if not form.is_valid():
        return None
    data = dict(form.cleaned_data)
    try:
        if pk is None:
            partner = data.pop("partner", None)
            kwargs: dict[str, Any] = {}
            if "partner" in form.fields:
                kwargs["partner"] = None if partner == PLATFORM else partner
            endpoint, secret = services.create_endpoint(acting_admin(request), **data, **kwargs)
            messages.success(
                request,
                _("Endpoint added. Its secret, shown only now: %(secret)s") % {"secret": secret},
            )
        else:
            endpoint = services.update_endpoint(acting_admin(request), pk, **data)
            messages.success(request, _("Endpoint saved."))
    except DomainError as error:
        add_domain_error(form, error)
        return None
    return HttpResponseRedirect(reverse("web:webhook", args=[endpoint.pk]))


@login_required
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None, admin=request.user, editing=False)
    if request.method == "POST" and (done := _save(request, form, None)):
        return done
    return render(request, "web/webhooks/form.html", {"nav": "webhooks", "form": form})


@login_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_endpoint_for(acting_admin(request), pk)
    initial = {"url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active}
    form = EndpointForm(request.POST or None, initial=initial, admin=request.user, editing=True)
    if request.method == "POST" and (done := _save(request, form, endpoint.pk)):
        return done
    page = paginate(request, deliveries_of(acting_admin(request), endpoint.pk))
    return render(
        request,
        "web/webhooks/form.html",
        {"nav": "webhooks", "form": form, "endpoint": endpoint, "page": page},
    )


@login_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.send_test_event(acting_admin(request), pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A test event is queued; the worker posts it in seconds."))
    return HttpResponseRedirect(reverse("web:webhook", args=[pk]))


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.delete_endpoint(acting_admin(request), pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Endpoint deleted."))
    return HttpResponseRedirect(reverse("web:webhooks"))
