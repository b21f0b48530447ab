"""What every portal view shares: page-or-fragment rendering, pagination, domain errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ucfleet.accounts.models import Administrator
from ucfleet.core.errors import DomainError, Invalid

PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)


def wants_fragment(request: HttpRequest) -> bool:
    """htmx asked for the swappable part of the page, not the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request  # type: ignore[union-attr]


def render_area(
    request: HttpRequest, area: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """One view serves the page and its htmx fragment: web/<area>/page.html or _fragment.html."""
    name = "_fragment.html" if wants_fragment(request) else "page.html"
    response = render(request, f"web/{area}/{name}", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def paginate(request: HttpRequest, queryset: QuerySet[Any], *, per_page: int = PAGE_SIZE) -> Page:
    """One page of `queryset`: a COUNT and a LIMIT/OFFSET query, whatever the table's size."""
    try:
        size = int(request.GET.get("page_size", per_page))
    except ValueError:
        size = per_page
    size = size if size in PAGE_SIZES else per_page
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def add_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """A service's refusal shown on the form: field errors where the field exists."""
    if isinstance(error, Invalid) and error.errors:
        for field, field_messages in error.errors.items():
            target = field if field in form.fields else None
            for text in field_messages:
                form.add_error(target, text)
        return
    form.add_error(None, error.message)


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def redirect_htmx_aware(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a full page load (its forms live in dialogs)."""
    if getattr(request, "htmx", None):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def report_bulk_result(
    request: HttpRequest,
    *,
    done: int,
    done_text: str,
    refusals: list[tuple[int, str]],
    names: dict[int, str],
) -> None:
    """A bulk result (how many done, refusals with reasons) as messages the user can act on."""
    if done:
        messages.success(request, done_text)
    if refusals:
        details = "; ".join(
            f"{names.get(task_id, _('task %(id)s') % {'id': task_id})}: {reason}"
            for task_id, reason in refusals[:10]
        )
        text = ngettext(
            "%(count)d task was refused: %(details)s",
            "%(count)d tasks were refused: %(details)s",
            len(refusals),
        ) % {"count": len(refusals), "details": details}
        if len(refusals) > 10:
            text += " " + _("(and %(more)d more)") % {"more": len(refusals) - 10}
        messages.warning(request, text)
    if not done and not refusals:
        messages.info(request, _("Nothing to do: no matching tasks."))


def acting_admin(request: HttpRequest) -> Administrator:
    """The administrator a logged-in view acts as (`login_required` has let only them in)."""
    user = request.user
    assert isinstance(user, Administrator), "views that act require login_required"
    return user
