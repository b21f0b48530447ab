"""List filters read from the query string, applied to already scoped querysets.

Filters narrow what `*_visible_to(admin)` returned; they never widen it. A task filter that
cannot be applied (a forged partner id, an unknown status) is an error that the list shows,
with no rows, and that "Delete all" refuses (R1).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ucfleet.core.errors import NotFound
from ucfleet.tenants.filtering import MAX_SEARCH, TenantFilter, filter_tenants
from ucfleet.tenants.models import Tenant
from ucfleet.tenants.queries import with_markers
from ucfleet.updates.choices import Status, TaskType, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.queries import search_tasks
from ucfleet.web.forms.fields import choice_field, start_of_day, start_of_next_day
from ucfleet.web.forms.widgets import QuickSelect

YES_NO = [("", _("all")), ("1", _("yes")), ("0", _("no"))]


def _choices(blank: Any, items: Any) -> list[tuple[str, str]]:
    return [("", blank), *[(str(value), str(label)) for value, label in items]]


class TaskFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_SEARCH)
    status = forms.ChoiceField(label=_("Status"), required=False, widget=QuickSelect)
    partner = forms.ChoiceField(label=_("Partner"), required=False, widget=QuickSelect)
    timing = forms.ChoiceField(label=_("Timing"), required=False, widget=QuickSelect)
    task_type = forms.ChoiceField(label=_("Task type"), required=False, widget=QuickSelect)
    forced = forms.ChoiceField(
        label=_("Forced update"), required=False, choices=YES_NO, widget=QuickSelect
    )
    start_from = forms.DateField(
        label=_("Start from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    start_to = forms.DateField(
        label=_("Start to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # The tasks of one request (rollout): the link of an e-mail digest's "and N more".
    request = forms.UUIDField(label=_("Request"), required=False, widget=forms.HiddenInput())

    SORTS = {
        "start": ("earliest_start", "id"),
        "tenant": ("tenant__name", "id"),
        "status": ("status", "earliest_start", "id"),
        "created": ("created", "id"),
        "partner": ("partner__name", "earliest_start", "id"),
    }

    def __init__(self, data: Any, *, partners: list[tuple[int, str]], all_types: bool) -> None:
        super().__init__(data)
        self.all_types = all_types
        choice_field(self, "status").choices = [("", _("all except cancelled")), *Status.choices]
        choice_field(self, "partner").choices = _choices(_("all partners"), partners)
        choice_field(self, "timing").choices = _choices(_("all timings"), Timing.choices)
        types = TaskType.choices if all_types else [(TaskType.UPDATE, TaskType.UPDATE.label)]
        choice_field(self, "task_type").choices = _choices(_("all task types"), types)
        # A filter the list does not offer is still validated, hidden, not dropped: a foreign
        # partner or another task type in the query string is then an error, never a list
        # (or a "Delete all") of everything (R1).
        if not all_types:
            self.fields["task_type"].widget = forms.HiddenInput()
        if len(partners) <= 1:
            self.fields["partner"].widget = forms.HiddenInput()

    def apply(self, tasks: QuerySet[UpdateTask], sort: str = "") -> QuerySet[UpdateTask]:
        """The filtered list; none at all while a filter is invalid (fail closed: the list
        and "Delete all" never fall back to every visible task)."""
        if not self.is_valid():
            return tasks.none()
        data = self.cleaned_data
        if not self.all_types:
            tasks = tasks.filter(task_type=TaskType.UPDATE)
        status = data.get("status")
        tasks = tasks.filter(status=status) if status else tasks.exclude(status=Status.CANCELLED)
        if data.get("partner"):
            tasks = tasks.filter(partner_id=data["partner"])
        if data.get("request"):
            tasks = tasks.filter(request_id=data["request"])
        if data.get("timing"):
            tasks = tasks.filter(timing=data["timing"])
        if data.get("task_type"):
            tasks = tasks.filter(task_type=data["task_type"])
        if data.get("forced") in ("0", "1"):
            tasks = tasks.filter(is_forced=data["forced"] == "1")
        if data.get("q"):
            tasks = search_tasks(tasks, data["q"].strip())
        zone = timezone.get_current_timezone()
        start = start_of_day(data["start_from"], zone) if data.get("start_from") else None
        if start is not None:
            tasks = tasks.filter(earliest_start__gte=start)
        end = start_of_next_day(data["start_to"], zone) if data.get("start_to") else None
        if end is not None:
            tasks = tasks.filter(earliest_start__lt=end)
        field = sort.lstrip("-")
        order = self.SORTS.get(field, self.SORTS["start"])
        if sort.startswith("-"):
            order = tuple(f"-{name}" for name in order)
        return tasks.order_by(*order)


class TenantFilterForm(forms.Form):
    MARKERS = [
        ("", _("all")),
        ("scheduled", _("update scheduled")),
        ("recommended", _("update recommended")),
        ("auto_off", _("automatic update off")),
    ]
    KINDS = [
        ("", _("all")),
        ("productive", _("productive")),
        ("test", _("test")),
        ("nfr", _("not for resale")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_SEARCH)
    partner = forms.ChoiceField(label=_("Partner"), required=False, widget=QuickSelect)
    version = forms.ChoiceField(label=_("Software version"), required=False, widget=QuickSelect)
    scale_unit = forms.ChoiceField(label=_("Scale unit"), required=False, widget=QuickSelect)
    marker = forms.ChoiceField(
        label=_("Marker"), required=False, choices=MARKERS, widget=QuickSelect
    )
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=KINDS, widget=QuickSelect)
    active = forms.ChoiceField(
        label=_("Active"), required=False, choices=YES_NO, widget=QuickSelect
    )

    SORTS = {
        "name": ("name",),
        "partner": ("partner__name", "name"),
        "version": ("version__sort_key", "name"),
        "domain": ("domain",),
    }

    def __init__(
        self,
        data: Any,
        *,
        partners: list[tuple[int, str]],
        versions: list[tuple[int, str]],
        scale_units: list[tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(data)
        choice_field(self, "partner").choices = _choices(_("all partners"), partners)
        choice_field(self, "version").choices = _choices(_("all versions"), versions)
        choice_field(self, "scale_unit").choices = _choices(_("all scale units"), scale_units or [])
        if len(partners) <= 1:
            del self.fields["partner"]

    def tenant_filter(self) -> TenantFilter:
        """The R19 criteria of this (valid) form; marker, active and sort are the list's own."""
        data = self.cleaned_data if self.is_bound else {}
        kind = data.get("kind")
        return TenantFilter.of(
            partner_ids=[int(data["partner"])] if data.get("partner") else [],
            versions=[int(data["version"])] if data.get("version") else [],
            scale_unit_ids=[int(data["scale_unit"])] if data.get("scale_unit") else [],
            is_productive=True if kind == "productive" else None,
            is_test=True if kind == "test" else None,
            is_nfr=True if kind == "nfr" else None,
            search=data.get("q") or "",
        )

    def apply(self, admin: Any, sort: str = "") -> QuerySet[Any]:
        """The list: `filtering.filter_tenants` (the one R19 definition, shared with the API
        and with a schedule request's filter), the R10 markers, then the list's own filters.
        An invalid filter shows no rows (fail closed, as the task list does)."""
        if self.is_bound and not self.is_valid():
            return Tenant.objects.none()
        try:
            tenants: QuerySet[Any] = with_markers(filter_tenants(admin, self.tenant_filter()))
        except NotFound:
            return Tenant.objects.none()
        data = self.cleaned_data if self.is_bound else {}
        marker = data.get("marker")
        if marker == "scheduled":
            tenants = tenants.filter(update_scheduled=True)
        elif marker == "recommended":
            tenants = tenants.filter(version__recommend_update=True)
        elif marker == "auto_off":
            tenants = tenants.filter(auto_update_allowed=False)
        if data.get("active") in ("0", "1"):
            tenants = tenants.filter(is_active=data["active"] == "1")
        field = sort.lstrip("-")
        order = self.SORTS.get(field, self.SORTS["name"])
        if sort.startswith("-"):
            order = tuple(f"-{name}" for name in order)
        return tenants.order_by(*order)
