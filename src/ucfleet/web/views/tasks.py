"""Platform | UC Tenant Tasks | Update (and All tasks): list, details, postpone, reschedule
selected, delete, delete all, retry, live status (R9, PRODUCT.md §6)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from ucfleet.core.errors import DomainError, Invalid
from ucfleet.core.ids import parse_ids
from ucfleet.tenants.queries import partners_visible_to
from ucfleet.updates import services
from ucfleet.updates.choices import OPEN_STATUSES
from ucfleet.updates.queries import (
    get_task_for,
    tasks_visible_to,
    with_list_relations,
    with_row_relations,
)
from ucfleet.updates.task_steps import steps_of
from ucfleet.web.charts import StepTimeline, step_timeline
from ucfleet.web.forms.fields import ServerDateTimeField
from ucfleet.web.views.common import (
    acting_admin,
    add_domain_error,
    redirect_htmx_aware,
    render_area,
    report_bulk_result,
    safe_next,
)
from ucfleet.web.views.errors import domain_error_response
from ucfleet.web.views.filters import TaskFilterForm
from ucfleet.web.views.listpages import paginate_keyset

MAX_POLLED = 200


def refusal_text(code: str) -> str:
    """The services report refusals by code; the portal says them in the user's language."""
    texts = {
        "forced": _("Forced tasks can only be changed by platform administrators."),
        "not_planned": _("Only planned tasks can be changed."),
        "changed": _("The task changed in the meantime."),
    }
    return texts.get(code, code)


SELECTION_KEY = "task_selection"


class RescheduleForm(forms.Form):
    start = ServerDateTimeField(label=gettext_lazy("New start (server time)"))
    notify_partner = forms.BooleanField(
        label=gettext_lazy("Send E-mail"),
        required=False,
        help_text=gettext_lazy(
            "Tell the partner's administrators (and the customer, "
            "where the task had customer e-mail on)."
        ),
    )


def _filtered_tasks(
    request: HttpRequest, data: QueryDict, *, all_types: bool
) -> tuple[TaskFilterForm, Any]:
    """The list's filters read from `data` (the query string, or the bulk form's copy of
    it); no tasks at all while a filter is invalid."""
    admin: Any = request.user
    partners = list(partners_visible_to(admin).values_list("id", "name"))
    form = TaskFilterForm(data, partners=partners, all_types=all_types)
    tasks = form.apply(tasks_visible_to(admin), data.get("sort", ""))
    return form, tasks


def _task_list(request: HttpRequest, *, all_types: bool) -> HttpResponse:
    admin: Any = request.user
    form, tasks = _filtered_tasks(request, request.GET, all_types=all_types)
    page = paginate_keyset(request, with_row_relations(tasks))
    rows = list(page.object_list)
    open_ids = [t.pk for t in rows if t.status in OPEN_STATUSES]
    context = {
        "nav": "tasks-all" if all_types else "tasks",
        "all_types": all_types,
        "form": form,
        "page": page,
        "tasks": rows,
        "poll_ids": ",".join(str(pk) for pk in open_ids[:MAX_POLLED]),
        "is_platform": admin.is_platform_admin,
        "reschedule_form": RescheduleForm(),
        "selected_ids": set(request.session.pop(SELECTION_KEY, [])),
        "list_url": request.get_full_path(),
        "columns": 10 if all_types else 9,
    }
    return render_area(request, "tasks", context)


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    return _task_list(request, all_types=False)


@login_required
@require_GET
def all_tasks(request: HttpRequest) -> HttpResponse:
    return _task_list(request, all_types=True)


@login_required
@require_GET
def task_details(request: HttpRequest, pk: int) -> HttpResponse:
    """The details row: scheduled by, latest start, task type, instance ID, the steps of
    each attempt as a timeline (R24), log."""
    task = get_task_for(acting_admin(request), pk)
    task = with_list_relations(tasks_visible_to(acting_admin(request))).get(pk=task.pk)
    attempts = list(task.attempts.all())
    by_attempt: dict[int, list[Any]] = {}
    for step in steps_of(task):
        by_attempt.setdefault(step.attempt_id, []).append(step)
    timelines = [
        {"attempt": a, "steps": by_attempt[a.pk], "chart": _timeline(by_attempt[a.pk])}
        for a in attempts
        if a.pk in by_attempt
    ]
    return render(
        request,
        "web/tasks/_details.html",
        {"task": task, "attempts": attempts, "timelines": timelines},
    )


def _timeline(steps: list[Any]) -> StepTimeline:
    return step_timeline(
        [(s.step, s.get_step_display(), s.started, s.finished, s.outcome) for s in steps]
    )


@login_required
@require_GET
def task_statuses(request: HttpRequest) -> HttpResponse:
    """Live status: the status badges of the polled rows, swapped out of band (one query)."""
    ids = parse_ids(request.GET.getlist("ids"))[:MAX_POLLED]
    admin: Any = request.user
    tasks = list(tasks_visible_to(admin).filter(pk__in=ids).select_related("tenant"))
    still_open = [t.pk for t in tasks if t.status in OPEN_STATUSES]
    return render(
        request,
        "web/tasks/_statuses.html",
        {
            "tasks": tasks,
            "poll_ids": ",".join(str(pk) for pk in still_open),
            "is_platform": admin.is_platform_admin,
            "list_url": _current_list_url(request),
        },
    )


def _current_list_url(request: HttpRequest) -> str:
    """The list the polling page shows (htmx names it), so row actions return there."""
    current = getattr(getattr(request, "htmx", None), "current_url_abs_path", None)
    return current or reverse("web:tasks")


def _back_to_list(request: HttpRequest) -> str:
    return safe_next(request, reverse("web:tasks"))


@login_required
def postpone_task(request: HttpRequest, pk: int) -> HttpResponse:
    """Postpone one planned task to a new time, optionally telling the partner (R9)."""
    task = (
        with_list_relations(tasks_visible_to(acting_admin(request)))
        .filter(pk=get_task_for(acting_admin(request), pk).pk)
        .get()
    )
    form = RescheduleForm(
        request.POST or None,
        # Send E-mail defaults to on, as in Reschedule selected tasks.
        initial={"start": task.earliest_start, "notify_partner": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.reschedule_task(
                acting_admin(request),
                task.pk,
                start=form.cleaned_data["start"],
                notify_partner=form.cleaned_data["notify_partner"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("The task for %(tenant)s was postponed.") % {"tenant": task.tenant.name}
            )
            return redirect_htmx_aware(request, _back_to_list(request))
    return render_area(
        request,
        "tasks/postpone",
        {"task": task, "form": form, "next": _back_to_list(request), "nav": "tasks"},
    )


@login_required
@require_POST
def delete_task(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_task_for(acting_admin(request), pk)
    try:
        services.delete_task(acting_admin(request), task.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The task was deleted."))
    return HttpResponseRedirect(_back_to_list(request))


@login_required
@require_POST
def retry_task(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_task_for(acting_admin(request), pk)
    try:
        services.retry_task(acting_admin(request), task.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A new task was planned to retry the update."))
    return HttpResponseRedirect(_back_to_list(request))


def _report(request: HttpRequest, result: Any, done_text: str) -> None:
    names = dict(
        tasks_visible_to(acting_admin(request))
        .filter(pk__in=[r.task_id for r in result.refused[:10]])
        .values_list("pk", "tenant__name")
    )
    refusals = [(r.task_id, refusal_text(r.reason)) for r in result.refused]
    report_bulk_result(
        request, done=len(result.done), done_text=done_text, refusals=refusals, names=names
    )


@login_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """Reschedule selected tasks, delete selected tasks, or delete all tasks of the list."""
    admin: Any = request.user
    action = request.POST.get("action", "")
    back = _back_to_list(request)
    ids = parse_ids(request.POST.getlist("ids"))
    try:
        if action == "delete_all":
            # The list's filters travel as the filter form's own hidden fields.
            all_types = request.POST.get("all_types") == "1"
            filters, tasks = _filtered_tasks(request, request.POST, all_types=all_types)
            if not filters.is_valid():
                return domain_error_response(request, Invalid(_filter_errors_text(filters)))
            result = services.delete_tasks(admin, tasks)
            _report(request, result, _deleted(len(result.done)))
        elif not ids:
            messages.warning(request, _("Select at least one task."))
        elif action == "delete":
            result = services.delete_tasks(admin, ids)
            _report(request, result, _deleted(len(result.done)))
        elif action == "reschedule":
            form = RescheduleForm(request.POST)
            # Kept until the list shows again: a refused reschedule keeps the selection.
            request.session[SELECTION_KEY] = ids
            if not form.is_valid():
                for field_errors in form.errors.values():
                    for text in field_errors:
                        messages.error(request, f"{_('Reschedule selected tasks')}: {text}")
            else:
                result = services.reschedule_tasks(
                    admin,
                    ids,
                    start=form.cleaned_data["start"],
                    notify_partner=form.cleaned_data["notify_partner"],
                )
                done = len(result.done)
                _report(
                    request,
                    result,
                    ngettext("%(count)d task rescheduled.", "%(count)d tasks rescheduled.", done)
                    % {"count": done},
                )
                if not result.refused:
                    request.session.pop(SELECTION_KEY, None)
        else:
            messages.error(request, _("Unknown action."))
    except Invalid as error:
        texts = [t for msgs in error.errors.values() for t in msgs] or [error.message]
        for text in texts:
            messages.error(request, text)
    except DomainError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(back)


def _filter_errors_text(form: TaskFilterForm) -> str:
    problems = "; ".join(
        f"{form.fields[name].label}: {text}" if name in form.fields else str(text)
        for name, texts in form.errors.items()
        for text in texts
    )
    return _("Nothing was deleted: the list's filters cannot be applied (%(problems)s).") % {
        "problems": problems
    }


def _deleted(count: int) -> str:
    return ngettext("%(count)d task deleted.", "%(count)d tasks deleted.", count) % {"count": count}
