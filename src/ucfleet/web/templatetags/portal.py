"""Template helpers of the portal: server time, icons, badges, query strings."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django import template
from django.template.defaultfilters import urlencode
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from ucfleet.core.timeutils import to_zone
from ucfleet.updates.choices import Status
from ucfleet.updates.rules import TaskAction, refusal
from ucfleet.web.links import pk_url

register = template.Library()


@register.filter
def servertime(value: datetime | None, style: str = "") -> SafeString | str:
    """`2026-12-06 01:00 CET` in server time (the active zone), inside a <time> element the
    browser script annotates with the viewer's local time where it differs (R3)."""
    if not value:
        return ""
    local = to_zone(value, timezone.get_current_timezone())
    fmt = "%Y-%m-%d" if style == "date" else "%Y-%m-%d %H:%M"
    zone = timezone.get_current_timezone()
    return format_html(
        '<time datetime="{}" title="{}" data-server-time>{} <span class="tz">{}</span></time>',
        value.isoformat(),
        getattr(zone, "key", str(zone)),
        local.strftime(fmt),
        local.tzname() or "",
    )


@register.simple_tag
def time_range(start: datetime | None, end: datetime | None) -> SafeString | str:
    """`Sun 2026-11-29 01:00 – 05:00 CET`: a period in server time, the day named once."""
    if not start or not end:
        return ""
    zone = timezone.get_current_timezone()
    a, b = to_zone(start, zone), to_zone(end, zone)
    same_day = a.date() == b.date()
    end_text = b.strftime("%H:%M") if same_day else b.strftime("%Y-%m-%d %H:%M")
    return format_html(
        '<time datetime="{}" data-end="{}" title="{}" data-server-time>'
        '<span class="weekday">{}</span> {} – {} <span class="tz">{}</span></time>',
        start.isoformat(),
        end.isoformat(),
        getattr(zone, "key", str(zone)),
        date_format(a, "D"),
        a.strftime("%Y-%m-%d %H:%M"),
        end_text,
        b.tzname() or "",
    )


@register.filter
def serverdate(value: datetime | None) -> SafeString | str:
    return servertime(value, "date")


@register.filter
def remaining_days(value: date | None) -> str:
    """A test tenant's remaining days: '12 days left', 'expired'."""
    if value is None:
        return ""
    days = (value - timezone.localdate()).days
    if days < 0:
        return _("expired")
    return ngettext("%(days)d day left", "%(days)d days left", days) % {"days": days}


@register.simple_tag
def icon(name: str, label: str = "", css: str = "") -> SafeString:
    """An inline SVG icon from the sprite in base.html; labelled icons are announced."""
    if label:
        return format_html(
            '<svg class="icon {} {}" role="img" aria-label="{}"><title>{}</title>'
            '<use href="#i-{}"></use></svg>',
            f"icon-{name}",
            css,
            label,
            label,
            name,
        )
    return format_html(
        '<svg class="icon {} {}" aria-hidden="true"><use href="#i-{}"></use></svg>',
        f"icon-{name}",
        css,
        name,
    )


# The tenant type and the R10 markers are written here rather than included per row: an
# `{% include %}` costs more than the rest of a list row (bench/lists.py at 50 rows a page).
@register.simple_tag
def tenant_kind(tenant: Any) -> SafeString:
    """Productive / Test (with its remaining days) / NFR tags."""
    parts = []
    if tenant.is_productive:
        parts.append(
            format_html(
                '<span class="tag tag--productive" title="{}">{}</span>',
                _("productive"),
                _("Productive"),
            )
        )
    if tenant.is_test:
        until = f" ({remaining_days(tenant.test_until)})" if tenant.test_until else ""
        parts.append(
            format_html(
                '<span class="tag tag--test" title="{}">{}{}</span>', _("test"), _("Test"), until
            )
        )
    if tenant.is_nfr:
        parts.append(
            format_html(
                '<span class="tag tag--nfr" title="{}">{}</span>', _("not for resale"), _("NFR")
            )
        )
    return mark_safe("".join(parts))  # each part is format_html's


@register.simple_tag
def tenant_markers(tenant: Any) -> SafeString:
    """R10: update scheduled (an open task; `with_markers`), update recommended (the
    version's flag), automatic update off."""
    icons = []
    if getattr(tenant, "update_scheduled", False):
        icons.append(icon("scheduled", _("Update scheduled"), "marker marker--scheduled"))
    if tenant.version.recommend_update:
        icons.append(icon("recommended", _("Update recommended"), "marker marker--recommended"))
    if not tenant.auto_update_allowed:
        icons.append(icon("autooff", _("Automatic update off"), "marker marker--autooff"))
    return format_html('<span class="markers">{}</span>', mark_safe("".join(icons)))


@lru_cache(maxsize=512)
def _status_label(language: str | None, status: str) -> str:
    """A status's label in `language` (the active one): `get_status_display` translates it
    again for every row."""
    return str(dict(Status.choices).get(status, status))


@register.simple_tag
def status_badge(task: Any) -> SafeString:
    """The task's status badge (a spinner while in progress) and, for a planned task that
    waits (R25), why; written here, not rendered from a template per row."""
    spinner = mark_safe('<span class="spinner" aria-hidden="true"></span>')
    badge = format_html(
        '<span class="badge badge--{}" data-status="{}">{}{}</span>',
        task.status,
        task.status,
        spinner if task.status == "in_progress" else "",
        _status_label(get_language(), task.status),
    )
    if task.status == "planned" and task.waiting_reason:
        return format_html(
            '{} <span class="waiting small" data-testid="waiting">{}</span>',
            badge,
            waiting_label(task),
        )
    return badge


@register.simple_tag(takes_context=True)
def sort_link(context: template.Context, field: str, label: str) -> SafeString:
    """A column header that sorts by `field`, toggling the direction, keeping the filters."""
    request = context["request"]
    current = request.GET.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("cursor", None)
    descending = current == field
    params["sort"] = f"-{field}" if descending else field
    arrow = ""
    if current == field:
        arrow = " ▲"
    elif current == f"-{field}":
        arrow = " ▼"
    return format_html('<a href="?{}" class="sort">{}{}</a>', params.urlencode(), label, arrow)


@register.simple_tag(name="pk_url")
def pk_url_tag(name: str, pk: int) -> str:
    """`{% pk_url "web:tenant" t.pk %}`: `{% url %}` for a list row's link (web.links)."""
    return pk_url(name, pk)


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def task_actions(context: Any, task: Any) -> dict[str, str | None]:
    """`{% task_actions t as may %}`: per action (postpone, delete, retry) None when the
    viewing administrator may take it, else the refusal code (`updates.rules` decides)."""
    admin = context["request"].user
    return {action.value: refusal(admin, task, action) for action in TaskAction}


@register.simple_tag(takes_context=True)
def task_action_buttons(context: Any, task: Any) -> SafeString:
    """A task row's Postpone / Retry / Delete, as updates.rules allows them to the viewer
    (`task_actions`); written here, not included, for the same reason as `tenant_kind`."""
    refused = task_actions(context, task)
    back = urlencode(context.get("list_url", ""))
    parts = []
    if refused["postpone"] is None:
        url = f"{pk_url('web:task-postpone', task.pk)}?next={back}"
        parts.append(
            format_html(
                '<a class="btn btn-sm" data-testid="postpone-task" href="{}" hx-get="{}" '
                'hx-target="#modal-body" data-modal>{}</a>',
                url,
                url,
                _("Postpone"),
            )
        )
    if refused["retry"] is None:
        parts.append(
            format_html(
                '<button type="submit" class="btn btn-sm" form="bulk-form" formaction="{}" '
                'data-testid="retry-task">{}</button>',
                pk_url("web:task-retry", task.pk),
                _("Retry"),
            )
        )
    if refused["delete"] is None:
        name = {"name": task.tenant.name}
        question = (
            _("Remove the failed task for %(name)s from the list?") % name
            if task.status == "failed"
            else _("Delete the task for %(name)s?") % name
        )
        parts.append(
            format_html(
                '<button type="submit" class="btn btn-sm btn-danger-outline" form="bulk-form" '
                'formaction="{}" data-testid="delete-task" data-confirm="{}">{}</button>',
                pk_url("web:task-delete", task.pk),
                question,
                _("Delete"),
            )
        )
    elif refused["delete"] == "forced":
        parts.append(
            format_html(
                '<button type="button" class="btn btn-sm" disabled data-testid="delete-task" '
                'title="{}">{}</button>',
                _("Forced update: only platform administrators can change or delete this task."),
                _("Delete"),
            )
        )
    return mark_safe("\n".join(parts))  # each part is format_html's


_BUSY = re.compile(r"^busy: (\d+) active calls$")


@register.simple_tag
def waiting_label(task: Any) -> str:
    """R25: "waiting: 3 active calls" for a task waiting for a busy tenant (its reason is
    "busy: 3 active calls"); another waiting reason is shown as it is."""
    match = _BUSY.match(task.waiting_reason or "")
    if match is None:
        return task.waiting_reason or ""
    calls = int(match.group(1))
    return ngettext("waiting: %(calls)s active call", "waiting: %(calls)s active calls", calls) % {
        "calls": calls
    }


_LOG_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z", re.MULTILINE)


@register.filter
def log_in_server_time(text: str) -> str:
    """An attempt's log with each line's UTC stamp (the drivers write `…Z`, the API answers
    them so) shown in server time, like every other time of the portal (R3)."""

    def local(match: re.Match[str]) -> str:
        stamp = datetime.fromisoformat(match.group(1) + "+00:00")
        shown = timezone.localtime(stamp)
        fraction = f".{shown.microsecond // 1000:03d}" if "." in match.group(1) else ""
        return f"{shown.strftime('%Y-%m-%d %H:%M:%S')}{fraction} {shown.tzname() or ''}".rstrip()

    return _LOG_STAMP.sub(local, text or "")
