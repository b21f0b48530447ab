"""Update UC Tenants wizard: choose timing, options and UC tenants; preview; confirm."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from ucfleet.core.errors import DomainError, Invalid, NotFound
from ucfleet.core.ids import parse_id, parse_ids
from ucfleet.maintenance.queries import next_task_window, server_zone
from ucfleet.tenants.filtering import filter_tenants
from ucfleet.tenants.queries import (
    get_partner_for,
    get_tenant_for,
    partners_with_tenant_counts,
    tenants_visible_to,
    with_markers,
)
from ucfleet.updates import services
from ucfleet.updates.choices import SkipReason, TaskType
from ucfleet.updates.summary import summarize
from ucfleet.versions.ordering import is_valid_version_name
from ucfleet.versions.queries import get_version_for
from ucfleet.web.forms.wizard import UpdateWizardForm
from ucfleet.web.forms.wizard_options import (
    FILTER_FIELDS,
    LARGE_SELECTION,
    SUGGESTED_BUDGET,
    SUGGESTED_WAVES,
)
from ucfleet.web.views.common import add_domain_error, redirect_htmx_aware, render_area

# A partner's tenant list in the wizard shows at most this many rows; selecting the partner
# itself includes all of them, so huge partners stay usable.
GROUP_LIMIT = 500
# A plan up to this size also lists every tenant; larger ones read as groups (R19).
PREVIEW_LIMIT = 20
# The matching fragment lists this many of the tenants a filter matches, to tick one by
# one; "select all N matching" takes every one of them, however many (the filter is sent).
MATCH_ROWS = 50


def _partner_groups(admin: Any, *, open_partners: set[int]) -> list[dict[str, Any]]:
    # Any: `tenant_count` is an annotation (a subquery), not a field the type checker knows.
    partners: list[Any] = list(partners_with_tenant_counts(admin).order_by("name"))
    only_one = len(partners) == 1
    return [
        {
            "partner": p,
            "tenants": None,
            "has_more": False,
            "is_open": (only_one or p.pk in open_partners) and p.tenant_count > 0,
        }
        for p in partners
    ]


def _group_tenants(admin: Any, partner_id: int) -> tuple[list[Any], bool]:
    """One partner's tenants for the selection list (one query), and whether there are more."""
    tenants = with_markers(tenants_visible_to(admin).filter(partner_id=partner_id)).order_by("name")
    rows = list(tenants[: GROUP_LIMIT + 1])
    return rows[:GROUP_LIMIT], len(rows) > GROUP_LIMIT


def _initial(request: HttpRequest) -> tuple[dict[str, Any], int | None]:
    admin: Any = request.user
    initial: dict[str, Any] = {}
    open_partner = None
    if request.GET.get("version"):
        initial["target_version"] = get_version_for(admin, _version_ref(request.GET["version"])).pk
    if request.GET.get("tenant"):
        tenant = get_tenant_for(admin, _required_id(request.GET["tenant"]))
        initial["tenants"] = [tenant.pk]
        open_partner = tenant.partner_id
    if request.GET.get("partner"):
        partner = get_partner_for(admin, _required_id(request.GET["partner"]))
        initial["partners"] = [partner.pk]
    return initial, open_partner


def _required_id(value: str) -> int:
    number = parse_id(value)
    if number is None:
        raise NotFound(_("Not found."))
    return number


def _version_ref(value: str) -> str:
    """A version preset is a name or an id, passed on as typed: a name may be all digits, and
    the lookup prefers the name. Anything that is neither names no version."""
    if parse_id(value) is None and not is_valid_version_name(value):
        raise NotFound(_("No such software version."))
    return value


def _context(
    request: HttpRequest, form: UpdateWizardForm, *, open_partner: int | None, plan: Any = None
) -> dict[str, Any]:
    admin: Any = request.user
    selected_tenants = _ints(form["tenants"].value())
    selected_partners = _ints(form["partners"].value())
    open_partners = {open_partner} if open_partner else set()
    if selected_tenants and form.is_bound:
        # Re-shown after a POST: open the groups whose tenants were picked one by one.
        open_partners |= set(
            tenants_visible_to(admin)
            .filter(pk__in=selected_tenants)
            .values_list("partner_id", flat=True)
            .distinct()
        )
    groups = _partner_groups(admin, open_partners=open_partners)
    for group in groups:
        if group["is_open"]:
            group["tenants"], group["has_more"] = _group_tenants(admin, group["partner"].pk)
    context = {
        "nav": "wizard",
        "form": form,
        "matching": _matching(admin, form),
        "groups": groups,
        "selected_tenants": selected_tenants,
        "selected_partners": selected_partners,
        "next_window": next_task_window(),
        "is_platform": admin.is_platform_admin,
        "plan": plan,
        "group_limit": GROUP_LIMIT,
    }
    if plan is not None:
        context.update(_preview_context(form, plan))
    return context


def _ints(values: Any) -> set[int]:
    """The ids among raw selection values (re-shown as ticked); anything else is ignored."""
    if values in (None, ""):
        return set()
    return set(parse_ids(values if isinstance(values, (list, tuple)) else [values]))


def _matching(admin: Any, form: Any) -> dict[str, Any]:
    """What the picker's filter matches: the count, the first rows, whether "select all N
    matching" is ticked. Two queries whatever the count (R19)."""
    if not form.is_bound:
        return {"active": False}
    if not form.is_valid() and any(name in form.errors for name in FILTER_FIELDS):
        return {"active": True, "invalid": True}
    chosen = form.picker_filter()
    if chosen.is_empty():
        return {"active": False, "checked": bool(form.cleaned_data.get("select_matching"))}
    try:
        tenants = filter_tenants(admin, chosen)
    except NotFound:
        return {"active": True, "invalid": True}
    rows = list(with_markers(tenants).order_by("name", "id")[:MATCH_ROWS])
    count = tenants.count()
    return {
        "active": True,
        "count": count,
        "rows": rows,
        "more": count - len(rows),
        "checked": bool(form.cleaned_data.get("select_matching")),
    }


def _preview_context(form: UpdateWizardForm, plan: Any) -> dict[str, Any]:
    reasons = {s.reason for s in plan.skipped}
    warned = {w.code for w in plan.warnings}
    data = getattr(form, "cleaned_data", {})
    return {
        "summary": summarize(plan, server_zone()),
        "planned_rows": plan.planned[:PREVIEW_LIMIT] if len(plan.planned) <= PREVIEW_LIMIT else [],
        "skipped_rows": plan.skipped if len(plan.skipped) <= PREVIEW_LIMIT else [],
        "warning_rows": [w for w in plan.warnings if w.code != "downgrade"]
        if len(plan.warnings) <= PREVIEW_LIMIT
        else [],
        "by_filter": bool(data.get("select_matching")),
        "rollout": form.rollout_request_fields() if data else {},
        "suggest_rollout": len(plan.planned) >= LARGE_SELECTION and not data.get("waves"),
        "suggested_waves": SUGGESTED_WAVES,
        "suggested_budget": SUGGESTED_BUDGET,
        # R23: the occurrences a maintenance-window request spreads over, with counts.
        "start_periods": plan.periods()[:PREVIEW_LIMIT],
        "needs_downgrade_confirmation": SkipReason.DOWNGRADE_NOT_CONFIRMED in reasons
        or "downgrade" in warned,
        "needs_auto_update_confirmation": form.is_single_tenant()
        and (SkipReason.AUTO_UPDATE_DISABLED in reasons or "auto_update_disabled" in warned),
    }


@login_required
def wizard(request: HttpRequest) -> HttpResponse:
    """GET: the form (preset by ?version=, ?tenant=, ?partner=). POST action=preview renders
    what would happen; POST action=confirm creates the tasks."""
    admin: Any = request.user
    if request.method != "POST":
        initial, open_partner = _initial(request)
        form = UpdateWizardForm(admin=admin, initial=initial)
        return render_area(request, "wizard", _context(request, form, open_partner=open_partner))

    form = UpdateWizardForm(request.POST, admin=admin)
    open_partner = None
    action = request.POST.get("action", "preview")
    plan = None
    if form.is_valid():
        try:
            schedule_request = form.schedule_request()
            if action == "confirm":
                result = services.schedule_updates(admin, schedule_request)
                _report_created(request, result)
                target = (
                    "web:tasks"
                    if schedule_request.task_type == TaskType.UPDATE
                    else "web:tasks-all"
                )
                return redirect_htmx_aware(request, reverse(target))
            plan = services.preview_updates(admin, schedule_request)
        except NotFound:
            if form.cleaned_data.get("select_matching"):
                form.add_error("select_matching", _("Choose the filter from the lists offered."))
            else:
                form.add_error("tenants", _("Select UC tenants from the list."))
        except Invalid as error:
            if "filter" in error.errors:
                form.add_error("select_matching", error.message)
            else:
                add_domain_error(form, error)
        except DomainError as error:
            add_domain_error(form, error)
    context = _context(request, form, open_partner=open_partner, plan=plan)
    if getattr(request, "htmx", None):
        return render(request, "web/wizard/_preview.html", context)
    return render_area(request, "wizard", context)


def _report_created(request: HttpRequest, result: Any) -> None:
    created = result.created_count
    if created:
        messages.success(
            request,
            ngettext(
                "%(count)d update task was created.",
                "%(count)d update tasks were created.",
                created,
            )
            % {"count": created},
        )
    skipped = len(result.skipped)
    if skipped:
        names = ", ".join(f"{s.tenant_name} ({s.text})" for s in result.skipped[:10])
        messages.warning(
            request,
            ngettext(
                "%(count)d UC tenant was skipped: %(names)s",
                "%(count)d UC tenants were skipped: %(names)s",
                skipped,
            )
            % {"count": skipped, "names": names},
        )
    if not created and not skipped:
        messages.info(request, _("No update task was created."))


@login_required
@require_GET
def matching_tenants(request: HttpRequest) -> HttpResponse:
    """The picker's count and rows for the filter as typed so far (the wizard's fields)."""
    admin: Any = request.user
    form = UpdateWizardForm(request.GET, admin=admin)
    return render(
        request,
        "web/wizard/_matching.html",
        {
            "form": form,
            "matching": _matching(admin, form),
            "selected_tenants": _ints(request.GET.getlist("tenants")),
        },
    )


@login_required
@require_GET
def partner_tenants(request: HttpRequest, pk: int) -> HttpResponse:
    """The tenant list of one partner group, loaded when the group is first shown."""
    admin: Any = request.user
    partner = get_partner_for(admin, pk)
    tenants, has_more = _group_tenants(admin, partner.pk)
    return render(
        request,
        "web/wizard/_tenants.html",
        {
            "partner": partner,
            "tenants": tenants,
            "has_more": has_more,
            "group_limit": GROUP_LIMIT,
            "selected_tenants": _ints(request.GET.getlist("tenants")),
            "partner_selected": partner.pk in _ints(request.GET.getlist("partners")),
        },
    )
