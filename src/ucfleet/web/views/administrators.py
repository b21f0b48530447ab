"""Administrators: advanced profiles manage administrators of their level and partner."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ucfleet.accounts import services
from ucfleet.accounts.choices import Profile
from ucfleet.accounts.queries import administrators_visible_to, get_administrator_for
from ucfleet.core.errors import DomainError
from ucfleet.tenants.queries import partners_visible_to
from ucfleet.web.forms.administrators import (
    AdministratorCreateForm,
    AdministratorEditForm,
    manageable_profiles,
)
from ucfleet.web.forms.fields import choice_field
from ucfleet.web.views.common import add_domain_error, paginate, render_area


class AdministratorFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False)
    profile = forms.ChoiceField(
        label=gettext_lazy("Profile"),
        required=False,
        choices=[("", gettext_lazy("all profiles")), *Profile.choices],
    )
    partner = forms.ChoiceField(label=gettext_lazy("Partner"), required=False)

    def __init__(self, data: Any, *, partners: list[tuple[int, str]]) -> None:
        super().__init__(data)
        choice_field(self, "partner").choices = [("", _("all partners"))] + [
            (str(pk), name) for pk, name in partners
        ]
        if len(partners) <= 1:
            del self.fields["partner"]


@login_required
@require_GET
def administrator_list(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    form = AdministratorFilterForm(
        request.GET or None, partners=list(partners_visible_to(actor).values_list("id", "name"))
    )
    admins = administrators_visible_to(actor).order_by("username")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            admins = admins.filter(
                Q(username__icontains=data["q"])
                | Q(email__icontains=data["q"])
                | Q(last_name__icontains=data["q"])
            )
        if data.get("profile"):
            admins = admins.filter(profile=data["profile"])
        if data.get("partner"):
            admins = admins.filter(partner_id=data["partner"])
    page = paginate(request, admins)
    rows = [
        (a, a.pk == actor.pk or services.may_manage(actor, a.profile, a.partner_id))
        for a in page.object_list
    ]
    return render_area(
        request,
        "administrators",
        {
            "nav": "administrators",
            "form": form,
            "page": page,
            "rows": rows,
            "may_create": bool(manageable_profiles(actor)),
        },
    )


@login_required
def administrator_create(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    if not manageable_profiles(actor):
        raise PermissionDenied(_("You may not manage administrators."))
    form = AdministratorCreateForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            admin = services.create_administrator(actor, **form.service_fields())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("The administrator %(name)s was created.") % {"name": admin.username}
            )
            return HttpResponseRedirect(reverse("web:administrators"))
    return render_area(request, "administrators/create", {"nav": "administrators", "form": form})


@login_required
def administrator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor: Any = request.user
    admin = get_administrator_for(actor, pk)
    if admin.pk != actor.pk and not services.may_manage(actor, admin.profile, admin.partner_id):
        raise PermissionDenied(_("You may not manage administrators of this profile."))
    initial = {
        name: getattr(admin, name)
        for name in ("email", "first_name", "last_name", "language", "is_active")
    }
    is_self = admin.pk == actor.pk
    form = AdministratorEditForm(request.POST or None, initial=initial, is_self=is_self)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_administrator(actor, admin.pk, **form.changes())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if is_self:
                # A new password ends the other sessions, not this one.
                update_session_auth_hash(request, changed)
            messages.success(
                request, _("The administrator %(name)s was saved.") % {"name": admin.username}
            )
            return HttpResponseRedirect(reverse("web:administrators"))
    return render_area(
        request, "administrators/edit", {"nav": "administrators", "form": form, "subject": admin}
    )
