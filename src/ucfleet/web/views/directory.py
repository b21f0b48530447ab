"""Partners and scale units: lists with counts (scoped), creation for platform administrators."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ucfleet.accounts.choices import Language
from ucfleet.core.errors import DomainError
from ucfleet.tenants import services
from ucfleet.tenants.queries import (
    get_partner_for,
    partners_with_counts,
    scale_units_with_counts,
)
from ucfleet.web.views.common import add_domain_error, paginate, render_area


class PartnerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=Language.choices)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)


class ScaleUnitForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    location = forms.CharField(
        label=gettext_lazy("Location / data centre"), max_length=200, required=False
    )
    max_concurrent_tasks = forms.IntegerField(
        label=gettext_lazy("Max concurrent tasks"), min_value=1, initial=10
    )


@login_required
@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    partners = partners_with_counts(admin).order_by("name")
    q = request.GET.get("q", "").strip()
    if q:
        partners = partners.filter(name__icontains=q)
    page = paginate(request, partners)
    return render_area(
        request,
        "partners",
        {
            "nav": "partners",
            "page": page,
            "partners": list(page.object_list),
            "q": q,
            "is_platform": admin.is_platform_admin,
        },
    )


@login_required
def partner_create(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    if not admin.is_platform_admin:
        raise PermissionDenied(_("Only platform administrators may create partners."))
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.create_partner(admin, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("The partner %(name)s was created.") % {"name": partner.name}
            )
            return HttpResponseRedirect(reverse("web:partners"))
    return render_area(request, "partners/create", {"nav": "partners", "form": form})


@login_required
def partner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    admin: Any = request.user
    partner = get_partner_for(admin, pk)  # a foreign partner is 404, as everywhere
    if not admin.is_platform_admin:
        raise PermissionDenied(_("Only platform administrators may change partners."))
    initial = {"name": partner.name, "language": partner.language, "is_active": partner.is_active}
    form = PartnerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_partner(admin, partner.pk, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("The partner %(name)s was saved.") % {"name": form.cleaned_data["name"]}
            )
            return HttpResponseRedirect(reverse("web:partners"))
    return render_area(
        request, "partners/create", {"nav": "partners", "form": form, "partner": partner}
    )


@login_required
@require_GET
def scale_unit_list(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    units = scale_units_with_counts(admin).order_by("name")
    page = paginate(request, units)
    return render_area(
        request,
        "scale_units",
        {
            "nav": "scale-units",
            "page": page,
            "units": list(page.object_list),
            "is_platform": admin.is_platform_admin,
        },
    )


@login_required
def scale_unit_create(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    if not admin.is_platform_admin:
        raise PermissionDenied(_("Only platform administrators may create scale units."))
    form = ScaleUnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.create_scale_unit(admin, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("The scale unit %(name)s was created.") % {"name": unit.name}
            )
            return HttpResponseRedirect(reverse("web:scale-units"))
    return render_area(request, "scale_units/create", {"nav": "scale-units", "form": form})
