"""Rollouts in the portal (R18, R22): the list (filters status / partner / version, newest
first) and a rollout's page — progress, waves, the timeline chart, failures, the paused
reason, the actions and a CSV of its tasks. Reads are `rollouts.queries` (a partner
administrator sees its own tenants' part, R1); actions are `rollouts.services`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ucfleet.audit.exports import TASK_COLUMNS, csv_lines
from ucfleet.core.errors import DomainError
from ucfleet.maintenance.queries import server_zone
from ucfleet.rollouts import services
from ucfleet.rollouts.actions import ABORT, PAUSE, RESUME, RETRY_FAILED, available_actions
from ucfleet.rollouts.choices import RolloutStatus
from ucfleet.rollouts.queries import (
    concerns_other_partners,
    filter_rollouts,
    get_rollout_for,
    paused_reason_for,
    rollout_counts,
    rollout_tasks,
    rollouts_visible_to,
    status_for,
    waves_of,
)
from ucfleet.tenants.queries import partners_visible_to
from ucfleet.updates.choices import Status
from ucfleet.updates.queries import tasks_visible_to
from ucfleet.versions.queries import versions_visible_to
from ucfleet.web.forms.fields import choice_field
from ucfleet.web.rollout_chart import timeline
from ucfleet.web.views.common import acting_admin, paginate, render_area
from ucfleet.web.views.exports import csv_response

FAILURES_SHOWN = 50
DONE = ("executed", "failed", "cancelled")


class RolloutFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    partner = forms.TypedChoiceField(
        label=gettext_lazy("Partner"), required=False, coerce=int, empty_value=None
    )
    version = forms.TypedChoiceField(
        label=gettext_lazy("Target version"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, data: Any, *, admin: Any) -> None:
        super().__init__(data)
        everything = ("", _("all"))
        choice_field(self, "status").choices = [everything, *RolloutStatus.choices]
        partners = partners_visible_to(admin).order_by("name").values_list("pk", "name")
        choice_field(self, "partner").choices = [everything, *partners]
        versions = versions_visible_to(admin).order_by("-name").values_list("pk", "name")
        choice_field(self, "version").choices = [everything, *versions]


def _progress(counts: dict[str, int]) -> dict[str, Any]:
    """Shares of the bar (percent of all tasks) per outcome, and the done percentage."""
    total = sum(counts.values())
    share = {k: (100.0 * counts.get(k, 0) / total if total else 0.0) for k in DONE}
    done = sum(counts.get(k, 0) for k in DONE)
    return {
        "total": total,
        "done": done,
        "percent": int(100 * done / total) if total else 0,
        "executed_width": round(share["executed"], 2),
        "failed_x": round(share["executed"], 2),
        "failed_width": round(share["failed"], 2),
        "cancelled_x": round(share["executed"] + share["failed"], 2),
        "cancelled_width": round(share["cancelled"], 2),
    }


@login_required
@require_GET
def rollout_list(request: HttpRequest) -> HttpResponse:
    admin = acting_admin(request)
    form = RolloutFilterForm(request.GET or None, admin=admin)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    listed = rollouts_visible_to(admin).select_related("target_version", "created_by")
    if form.is_bound and not valid:  # a filter that cannot be applied lists none (fail closed)
        listed = listed.none()
    rollouts = filter_rollouts(
        admin,
        listed,
        status=data.get("status") or None,
        partner_id=data.get("partner"),
        target_version_id=data.get("version"),
    )
    page = paginate(request, rollouts)
    rows = list(page.object_list)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    per_status = (
        tasks_visible_to(admin, include_archived=True)
        .filter(rollout_id__in=[r.pk for r in rows])
        .order_by()
        .values_list("rollout_id", "status")
        .annotate(n=Count("id"))
    )
    for rollout_id, status, n in per_status:
        counts[rollout_id][status] = n
    for rollout in rows:
        rollout.seen_status = status_for(admin, rollout)  # type: ignore[attr-defined]
        rollout.seen_status_label = RolloutStatus(rollout.seen_status).label  # type: ignore[attr-defined]
        rollout.progress = _progress(counts[rollout.pk])  # type: ignore[attr-defined]
    return render_area(
        request, "rollouts", {"nav": "rollouts", "form": form, "page": page, "rollouts": rows}
    )


@login_required
@require_GET
def rollout_detail(request: HttpRequest, pk: int) -> HttpResponse:
    admin = acting_admin(request)
    rollout = get_rollout_for(admin, pk)
    counts = rollout_counts(admin, rollout)
    waves = waves_of(rollout)
    for wave in waves:
        wave.counts = counts.wave(wave.index)  # type: ignore[attr-defined]
        wave.progress = _progress(wave.counts)  # type: ignore[attr-defined]
    tasks = rollout_tasks(admin, rollout)
    failed = (
        tasks.filter(status=Status.FAILED).select_related("tenant").order_by("-finished", "-id")
    )
    context = {
        "nav": "rollouts",
        "rollout": rollout,
        "status": status_for(admin, rollout),
        "status_label": RolloutStatus(status_for(admin, rollout)).label,
        "paused_reason": paused_reason_for(admin, rollout),
        "counts": counts.total,
        "progress": _progress(counts.total),
        "waves": waves,
        "chart": timeline(tasks, server_zone()),
        "failures": failed[:FAILURES_SHOWN],
        "failure_count": counts.total["failed"],
        "actions": available_actions(admin, rollout, failed=counts.total["failed"]),
        "own_part_only": concerns_other_partners(admin, rollout),
    }
    return render_area(request, "rollout", context)


ACTIONS = {
    PAUSE: (services.pause, gettext_lazy("The rollout is paused.")),
    RESUME: (services.resume, gettext_lazy("The rollout continues.")),
    ABORT: (services.abort, gettext_lazy("The rollout is aborted.")),
    RETRY_FAILED: (
        services.retry_failed,
        gettext_lazy("A new rollout retries the failed tenants."),
    ),
}


@login_required
@require_POST
def rollout_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    service, done = ACTIONS[action]
    try:
        result = service(acting_admin(request), pk)
    except DomainError as error:
        get_rollout_for(acting_admin(request), pk)  # another partner's rollout: 404, not a hint
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("web:rollout", args=[pk]))
    messages.success(request, str(done))
    return HttpResponseRedirect(reverse("web:rollout", args=[result.pk]))


@login_required
@require_GET
def rollout_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    admin = acting_admin(request)
    rollout = get_rollout_for(admin, pk)
    tasks = rollout_tasks(admin, rollout).order_by("id")
    return csv_response(f"rollout-{rollout.pk}", csv_lines(tasks, TASK_COLUMNS, server_zone()))
