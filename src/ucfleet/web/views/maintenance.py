"""Platform maintenance (create, edit, delete, conflicts) and the maintenance window (R8, R2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ucfleet.core.errors import DomainError, Invalid
from ucfleet.core.timeutils import format_server_time, zone
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance import services
from ucfleet.maintenance.queries import (
    get_window,
    next_task_window,
    past_maintenances,
    server_zone,
    upcoming_maintenances,
    upcoming_occurrences,
    window_slots,
)
from ucfleet.maintenance.windows import Slot, next_occurrences
from ucfleet.updates import services as task_services
from ucfleet.updates.queries import with_list_relations
from ucfleet.web.forms.maintenance import (
    WEEKDAYS,
    MaintenanceForm,
    SlotFormSet,
    WindowForm,
    empty_slot,
    slot_initial,
)
from ucfleet.web.views.common import acting_admin, add_domain_error, paginate, render_area
from ucfleet.web.views.tasks import refusal_text

PREVIEW_COUNT = 8


def _require_platform(request: HttpRequest) -> None:
    if not request.user.is_platform_admin:  # type: ignore[union-attr]
        raise PermissionDenied(_("Only platform administrators may do this."))


@login_required
@require_GET
def maintenance_list(request: HttpRequest) -> HttpResponse:
    """Every administrator sees the announcements (the login page shows them anyway)."""
    now = utcnow()
    upcoming = list(upcoming_maintenances(after=now))
    page = paginate(request, past_maintenances(before=now))
    return render_area(
        request,
        "maintenance",
        {
            "nav": "maintenances",
            "upcoming": upcoming,
            "page": page,
            "past": list(page.object_list),
            "now": now,
            "is_platform": getattr(request.user, "is_platform_admin", False),
        },
    )  # type: ignore[union-attr]


@login_required
def maintenance_create(request: HttpRequest) -> HttpResponse:
    _require_platform(request)
    form = MaintenanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            maintenance = services.create_maintenance(acting_admin(request), **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The platform maintenance was created."))
            _announce_conflicts(request, maintenance.pk)
            return HttpResponseRedirect(reverse("web:maintenance", args=[maintenance.pk]))
    return render_area(request, "maintenance/create", {"nav": "maintenances", "form": form})


def _announce_conflicts(request: HttpRequest, pk: int) -> None:
    count = task_services.tasks_conflicting_with(acting_admin(request), pk).count()
    if count:
        messages.warning(
            request,
            ngettext(
                "%(count)d planned task conflicts with this maintenance.",
                "%(count)d planned tasks conflict with this maintenance.",
                count,
            )
            % {"count": count},
        )


@login_required
def maintenance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The maintenance, its edit form (platform) and its conflicts with delete/move."""
    maintenance = services.get_maintenance(pk)
    admin: Any = request.user
    form = None
    if admin.is_platform_admin:
        form = MaintenanceForm(
            request.POST or None,
            initial={
                "start": maintenance.start,
                "end": maintenance.end,
                "message_en": maintenance.message_en,
                "message_de": maintenance.message_de,
            },
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.update_maintenance(admin, maintenance.pk, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The platform maintenance was saved."))
                _announce_conflicts(request, maintenance.pk)
                return HttpResponseRedirect(reverse("web:maintenance", args=[maintenance.pk]))
    elif request.method == "POST":
        raise PermissionDenied(_("Only platform administrators may do this."))
    conflicts = with_list_relations(task_services.tasks_conflicting_with(admin, maintenance.pk))
    page = paginate(request, conflicts)
    return render_area(
        request,
        "maintenance/detail",
        {
            "nav": "maintenances",
            "maintenance": maintenance,
            "form": form,
            "page": page,
            "conflicts": list(page.object_list),
            "is_platform": admin.is_platform_admin,
            "now": utcnow(),
        },
    )


@login_required
@require_POST
def maintenance_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.delete_maintenance(acting_admin(request), pk)
    except DomainError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("web:maintenance", args=[pk]))
    messages.success(request, _("The platform maintenance was deleted."))
    return HttpResponseRedirect(reverse("web:maintenances"))


@login_required
@require_POST
def maintenance_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete the conflicting tasks (cancellation e-mails) or move them (reschedule e-mails)."""
    action = request.POST.get("action", "")
    try:
        result = task_services.resolve_conflicts(acting_admin(request), pk, action=action)
    except Invalid as error:
        for text in [t for msgs in error.errors.values() for t in msgs] or [error.message]:
            messages.error(request, text)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        done = len(result.done)
        if action == "delete":
            text = ngettext(
                "%(count)d conflicting task deleted.", "%(count)d conflicting tasks deleted.", done
            ) % {"count": done}
        else:
            zone = server_zone()
            when = ", ".join(format_server_time(start, zone) for start in result.moved_to)
            text = ngettext(
                "%(count)d conflicting task moved to %(when)s.",
                "%(count)d conflicting tasks moved to %(when)s.",
                done,
            ) % {"count": done, "when": when}
        if done:
            messages.success(request, text)
        for refusal in result.refused[:10]:
            messages.warning(
                request,
                _("Task %(id)s: %(reason)s")
                % {"id": refusal.task_id, "reason": refusal_text(refusal.reason)},
            )
        if not done and not result.refused:
            messages.info(request, _("There are no conflicting tasks."))
    return HttpResponseRedirect(reverse("web:maintenance", args=[pk]))


# --- maintenance window -------------------------------------------------------------------


def _window_forms(request: HttpRequest) -> tuple[WindowForm, Any]:
    window = get_window()
    if request.method == "POST":
        return WindowForm(request.POST), SlotFormSet(request.POST, prefix="slots")
    initial = [slot_initial(s) for s in window.slots.all()] or [empty_slot()]
    return (
        WindowForm(
            initial={
                "time_zone": window.time_zone,
                "expected_task_minutes": window.expected_task_minutes,
            }
        ),
        SlotFormSet(initial=initial, prefix="slots"),
    )


def _valid_slots(formset: Any) -> list[Any]:
    return [f.slot() for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


@login_required
def window_settings(request: HttpRequest) -> HttpResponse:
    """The recurring window in server time, with a preview of the next occurrences."""
    admin: Any = request.user
    window = get_window()
    form, formset = _window_forms(request)
    if request.method == "POST":
        _require_platform(request)
        if form.is_valid() and formset.is_valid():
            try:
                services.update_window(
                    admin,
                    time_zone=form.cleaned_data["time_zone"],
                    slots=_valid_slots(formset),
                    expected_task_minutes=form.cleaned_data["expected_task_minutes"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The maintenance window was saved."))
                return HttpResponseRedirect(reverse("web:window"))
    return render_area(
        request,
        "window",
        {
            "nav": "window",
            "form": form,
            "formset": formset,
            "window": window,
            "slots": window_slots(window),
            "weekdays": dict(WEEKDAYS),
            "occurrences": upcoming_occurrences(PREVIEW_COUNT),
            "next_free": next_task_window(),
            "is_platform": admin.is_platform_admin,
        },
    )


@login_required
@require_POST
def window_preview(request: HttpRequest) -> HttpResponse:
    """The next occurrences of the window as entered, before it is saved (writes nothing)."""
    form, formset = WindowForm(request.POST), SlotFormSet(request.POST, prefix="slots")
    occurrences, error, tz = [], "", None
    if form.is_valid() and formset.is_valid():
        tz = zone(form.cleaned_data["time_zone"])
        slots = [
            Slot(frozenset(s.weekdays), s.start, timedelta(minutes=s.duration_minutes))
            for s in _valid_slots(formset)
        ]
        occurrences = next_occurrences(slots, tz, utcnow(), PREVIEW_COUNT)
    else:
        error = _("Complete the window to see its next occurrences.")
    return render(
        request,
        "web/window/_preview.html",
        {"occurrences": occurrences, "error": error, "preview_zone": tz},
    )
