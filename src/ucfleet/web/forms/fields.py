"""Form fields for times entered in server time (R3), and the day bounds of date filters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ucfleet.core import timebounds
from ucfleet.core.timeutils import localize, to_zone

INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A form's choice field, typed, to give it choices that depend on the administrator."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class ServerDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"step": 60, **(attrs or {})}, format="%Y-%m-%dT%H:%M")


class ServerDateTimeField(forms.Field):
    """A wall time in the platform's zone (the one the middleware activated).

    Unlike Django's DateTimeField, a wall time inside a DST gap is not an error: it means the
    first valid instant after the gap, as window arithmetic reads it (R3). Values lie within
    core.timebounds; the wall time is checked before it is converted (year 1 has no instant
    east of UTC).
    """

    widget = ServerDateTimeInput
    default_error_messages = {"invalid": _("Enter a valid date and time.")}

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        naive = value if isinstance(value, datetime) else _parse(str(value).strip())
        if naive is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        _refuse_out_of_range(naive)
        if naive.tzinfo is not None:
            return naive
        aware = localize(naive, timezone.get_current_timezone())  # type: ignore[arg-type]
        _refuse_out_of_range(aware)
        return aware

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return to_zone(value, timezone.get_current_timezone()).strftime("%Y-%m-%dT%H:%M")
        return value


class BoundedDateField(forms.DateField):
    """A calendar day within core.timebounds (filters, test periods)."""

    def to_python(self, value: Any) -> date | None:
        day = super().to_python(value)
        if day is not None:
            _refuse_out_of_range(day)
        return day


def _refuse_out_of_range(value: datetime | date) -> None:
    if not timebounds.is_within(value):
        raise forms.ValidationError(timebounds.out_of_range_message(), code="out_of_range")


def _parse(text: str) -> datetime | None:
    for fmt in INPUT_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def start_of_day(day: date, zone: Any) -> datetime | None:
    """The first instant of `day` in `zone`, for a "from" filter (`at >= start`).

    None where that instant lies before datetime's range (1 January of year 1 east of UTC):
    then every instant is later, and the filter has no lower bound.
    """
    try:
        return localize(datetime.combine(day, time.min), zone)
    except OverflowError:
        return None


def start_of_next_day(day: date, zone: Any) -> datetime | None:
    """The first instant after `day` in `zone`, for a "to" filter that includes the day
    (`at < end`).

    None for the last day datetime knows (9999-12-31): nothing is later, so the filter has no
    upper bound, rather than a date overflow.
    """
    try:
        return localize(datetime.combine(day + timedelta(days=1), time.min), zone)
    except OverflowError:
        return None
