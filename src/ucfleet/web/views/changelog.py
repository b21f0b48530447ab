"""Change log (filter by date, user, object; CSV export) and the outbox (sent e-mails)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ucfleet.audit.csv import spreadsheet_safe_cell
from ucfleet.audit.grouping import change_log_lines, entries_of_line
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.audit.queries import change_log_visible_to
from ucfleet.web.changelog_lines import make_readable_lines
from ucfleet.web.changelog_readable import make_readable
from ucfleet.web.forms.fields import choice_field, start_of_day, start_of_next_day
from ucfleet.web.views.common import acting_admin, paginate, render_area

CSV_CHUNK = 2000
GROUP_KEY_LENGTH = 40
# The CSV's rows, given the server's zone (taken while the request was active).
Rows = Callable[[Any], Iterator[list[str]]]


class ChangeLogFilterForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    user = forms.CharField(label=gettext_lazy("User"), required=False)
    object_type = forms.ChoiceField(label=gettext_lazy("Object type"), required=False)
    object_id = forms.CharField(label=gettext_lazy("Object ID"), required=False)
    action = forms.CharField(label=gettext_lazy("Action"), required=False)

    OBJECT_TYPES = [
        ("update_task", gettext_lazy("update task")),
        ("update_request", gettext_lazy("update request")),
        ("rollout", gettext_lazy("rollout")),
        ("tenant", gettext_lazy("UC tenant")),
        ("partner", gettext_lazy("partner")),
        ("scale_unit", gettext_lazy("scale unit")),
        ("software_version", gettext_lazy("software version")),
        ("administrator", gettext_lazy("administrator")),
        ("platform_maintenance", gettext_lazy("platform maintenance")),
        ("maintenance_window", gettext_lazy("maintenance window")),
    ]

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        choice_field(self, "object_type").choices = [("", _("all objects")), *self.OBJECT_TYPES]

    def apply(self, entries: QuerySet[ChangeLogEntry]) -> QuerySet[ChangeLogEntry]:
        data = self.cleaned_data if self.is_valid() else {}
        zone = timezone.get_current_timezone()
        start = start_of_day(data["date_from"], zone) if data.get("date_from") else None
        if start is not None:
            entries = entries.filter(at__gte=start)
        end = start_of_next_day(data["date_to"], zone) if data.get("date_to") else None
        if end is not None:
            entries = entries.filter(at__lt=end)
        if data.get("user"):
            entries = entries.filter(actor_name__icontains=data["user"].strip())
        if data.get("object_type"):
            entries = entries.filter(object_type=data["object_type"])
        if data.get("object_id"):
            entries = entries.filter(object_id=data["object_id"].strip())
        if data.get("action"):
            entries = entries.filter(action__iexact=data["action"].strip())
        return entries.order_by("-at", "-id")


@login_required
@login_required
@require_GET
def change_log(request: HttpRequest) -> HttpResponseBase:
    """The change log as lines (a bulk action is one line); `?group=KEY` its entries."""
    form = ChangeLogFilterForm(request.GET or None)
    entries = form.apply(change_log_visible_to(acting_admin(request)))
    group = request.GET.get("group", "").strip()[:GROUP_KEY_LENGTH]
    csv_wanted = request.GET.get("format") == "csv"
    context: dict[str, Any] = {"nav": "change-log", "form": form, "group": group}
    if group:
        entries = entries_of_line(entries, group)
        if csv_wanted:
            return _csv_response(_entry_rows(entries, request.user), "change-log-group")
        page = paginate(request, entries)
        context["entries"] = make_readable(page.object_list, request.user)
        context["group_line"] = _group_line(entries, request.user)
    else:
        lines = change_log_lines(entries)
        if csv_wanted:
            return _csv_response(_line_rows(lines, request.user, entries), "change-log")
        page = paginate(request, lines)
        context["entries"] = make_readable_lines(page.object_list, request.user, entries)
    context["page"] = page
    context["export_query"] = request.GET.urlencode()
    return render_area(request, "changelog", context)


def _group_line(entries: QuerySet[ChangeLogEntry], admin: Any) -> ChangeLogEntry | None:
    """The drill-down's heading: its group as the change log's line shows it."""
    lines = make_readable_lines(change_log_lines(entries)[:1], admin, entries)
    return lines[0] if lines else None


HEADER = ["time", "user", "action", "object_type", "object_id", "field", "old", "new", "object"]


def _cells(e: ChangeLogEntry, zone: Any, *, object_id: str, name: str) -> list[str]:
    # Values and names are typed by administrators: no cell may run as a formula.
    values = (e.actor_name, e.action, e.object_type, object_id, e.field)
    readable = (e.old_text, e.new_text, name)  # type: ignore[attr-defined]
    return [e.at.astimezone(zone).isoformat(), *map(spreadsheet_safe_cell, (*values, *readable))]


def _entry_rows(entries: QuerySet[ChangeLogEntry], admin: Any) -> Rows:
    def rows(zone: Any) -> Iterator[list[str]]:
        yield [*HEADER, "group"]
        stream = entries.iterator(chunk_size=CSV_CHUNK)
        while chunk := list(islice(stream, CSV_CHUNK)):
            for e in make_readable(chunk, admin):  # names: one query per type and chunk
                name = e.object_name  # type: ignore[attr-defined]
                yield [*_cells(e, zone, object_id=e.object_id, name=name), e.group or ""]

    return rows


def _line_rows(lines: QuerySet[Any], admin: Any, entries: QuerySet[ChangeLogEntry]) -> Rows:
    def rows(zone: Any) -> Iterator[list[str]]:
        yield [*HEADER, "group", "group_size"]
        stream = lines.iterator(chunk_size=CSV_CHUNK)
        while chunk := list(islice(stream, CSV_CHUNK)):
            for e in make_readable_lines(chunk, admin, entries):
                bulk = bool(e.summary)  # type: ignore[attr-defined]
                object_id = "" if bulk else e.object_id
                name = e.summary if bulk else e.object_name  # type: ignore[attr-defined]
                group = e.group_key if bulk else ""  # type: ignore[attr-defined]
                size = str(e.group_size)  # type: ignore[attr-defined]
                yield [*_cells(e, zone, object_id=object_id, name=name), group, size]

    return rows


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Rows, name: str) -> StreamingHttpResponse:
    # The rows are written after the view returned, when the middleware has deactivated the
    # request's zone (server time) and language: both are taken now.
    zone = timezone.get_current_timezone()
    language = translation.get_language()

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        with translation.override(language):
            yield from (writer.writerow(row) for row in rows(zone))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ucfleet-{name}-{stamp}.csv"'
    return response
