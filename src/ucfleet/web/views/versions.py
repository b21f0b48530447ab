"""Software versions: tenant counts, languages and the four flags (platform only)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ucfleet.core.errors import DomainError, NotFound
from ucfleet.versions import services
from ucfleet.versions.queries import versions_with_tenant_counts
from ucfleet.web.views.common import render_area

FLAGS = services.FLAGS


@login_required
@require_GET
def version_list(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    versions = list(versions_with_tenant_counts(admin).order_by("-sort_key"))
    return render_area(
        request,
        "versions",
        {"nav": "versions", "versions": versions, "is_platform": admin.is_platform_admin},
    )


@login_required
@require_POST
def version_flags(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the four flags of one version (platform administrators; others get 403)."""
    admin: Any = request.user
    flags = {name: request.POST.get(name) == "on" for name in FLAGS}
    error = None
    try:
        services.update_version(admin, pk, **flags)
    except NotFound:
        # An unknown id, or a test version a partner administrator may not see: there is no
        # row to re-render, so the answer is 404 (R1), htmx or not.
        raise
    except DomainError as exc:
        error = exc.message
        if not getattr(request, "htmx", None):
            raise
    if getattr(request, "htmx", None):
        version = versions_with_tenant_counts(admin).filter(pk=pk).first()
        if version is None:
            raise NotFound(_("No such software version."))
        return render(
            request,
            "web/versions/_row.html",
            {
                "v": version,
                "is_platform": admin.is_platform_admin,
                "error": error,
                "saved": error is None,
            },
        )
    messages.success(request, _("The flags were saved."))
    return HttpResponseRedirect(reverse("web:versions"))
