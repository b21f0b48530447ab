"""UC Tenants: the list with the R10 markers, the tenant page with its general settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ucfleet.core.errors import DomainError
from ucfleet.tenants import services
from ucfleet.tenants.models import Tenant
from ucfleet.tenants.queries import (
    get_tenant_for,
    partners_visible_to,
    scale_units_visible_to,
    tenants_visible_to,
    with_markers,
)
from ucfleet.updates.choices import OPEN_STATUSES
from ucfleet.updates.queries import tasks_visible_to, with_list_relations
from ucfleet.versions.queries import versions_visible_to
from ucfleet.web.forms.tenants import TenantForm
from ucfleet.web.views.common import add_domain_error, render_area
from ucfleet.web.views.filters import TenantFilterForm
from ucfleet.web.views.listpages import paginate_keyset

RECENT_TASKS = 10


def filtered_tenants(request: HttpRequest) -> tuple[TenantFilterForm, QuerySet[Tenant]]:
    """The tenant list as its filters show it: the page and its CSV export read this."""
    admin: Any = request.user
    form = TenantFilterForm(
        request.GET or None,
        partners=list(partners_visible_to(admin).values_list("id", "name")),
        versions=list(versions_visible_to(admin).values_list("id", "name")),
        scale_units=list(scale_units_visible_to(admin).values_list("id", "name")),
    )
    return form, form.apply(admin, request.GET.get("sort", ""))


@login_required
@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    form, tenants = filtered_tenants(request)
    page = paginate_keyset(request, tenants)
    return render_area(
        request,
        "tenants",
        {
            "nav": "tenants",
            "form": form,
            "page": page,
            "tenants": list(page.object_list),
            "is_platform": admin.is_platform_admin,
        },
    )


@login_required
def tenant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """General settings (editable as PRODUCT.md allows) and the tenant's recent tasks."""
    admin: Any = request.user
    tenant = with_markers(tenants_visible_to(admin)).get(pk=get_tenant_for(admin, pk).pk)
    if request.method == "POST":
        form = TenantForm(request.POST, admin=admin)
        if form.is_valid():
            try:
                services.update_tenant(admin, tenant.pk, **form.changes())
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The general settings were saved."))
                return HttpResponseRedirect(reverse("web:tenant", args=[tenant.pk]))
    else:
        form = TenantForm(admin=admin, initial=TenantForm.initial_for(tenant))
    tasks = list(
        with_list_relations(tasks_visible_to(admin).filter(tenant=tenant)).order_by(
            "-created", "-id"
        )[:RECENT_TASKS]
    )
    open_task = next((t for t in tasks if t.status in OPEN_STATUSES), None)
    return render_area(
        request,
        "tenants/detail",
        {
            "nav": "tenants",
            "tenant": tenant,
            "form": form,
            "tasks": tasks,
            "open_task": open_task,
        },
    )


@login_required
def tenant_create(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    if request.method == "POST":
        form = TenantForm(request.POST, admin=admin, creating=True)
        if form.is_valid():
            try:
                tenant = services.create_tenant(admin, **form.changes())
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request, _("The UC tenant %(name)s was created.") % {"name": tenant.name}
                )
                return HttpResponseRedirect(reverse("web:tenant", args=[tenant.pk]))
    else:
        form = TenantForm(
            admin=admin,
            creating=True,
            initial={
                "is_active": True,
                "auto_update_allowed": True,
                "is_productive": True,
                "language": admin.language,
            },
        )
    return render_area(request, "tenants/create", {"nav": "tenants", "form": form})
