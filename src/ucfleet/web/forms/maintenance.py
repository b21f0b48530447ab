"""Platform maintenance and the maintenance window for UC tenants (manual §7.13)."""

from __future__ import annotations

from datetime import time
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from ucfleet.maintenance.services import MAX_MESSAGE, SlotInput
from ucfleet.web.forms.fields import ServerDateTimeField, choice_field

WEEKDAYS = [
    (0, _("Mon")),
    (1, _("Tue")),
    (2, _("Wed")),
    (3, _("Thu")),
    (4, _("Fri")),
    (5, _("Sat")),
    (6, _("Sun")),
]


class MaintenanceForm(forms.Form):
    start = ServerDateTimeField(label=_("Start"))
    end = ServerDateTimeField(label=_("End"))
    message_en = forms.CharField(
        label=_("Message (English)"),
        required=False,
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    message_de = forms.CharField(
        label=_("Message (German)"),
        required=False,
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("The end must lie after the start."))
        return data


class WindowForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone (server time)"),
        help_text=_("All times of the portal are shown in this zone."),
    )
    expected_task_minutes = forms.IntegerField(
        label=_("Expected task duration (minutes)"),
        min_value=1,
        max_value=24 * 60,
        help_text=_("A window task must start this long before the window ends."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "time_zone").choices = [
            (z, z) for z in sorted(available_timezones()) if "/" in z or z == "UTC"
        ]


class SlotForm(forms.Form):
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    start = forms.TimeField(
        label=_("Start"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_hours = forms.IntegerField(
        label=_("Duration (hours)"), min_value=0, max_value=24 * 7, initial=4
    )
    duration_minutes = forms.IntegerField(
        label=_("and minutes"), min_value=0, max_value=59, initial=0, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("DELETE"):
            return data
        if not data.get("weekdays"):
            self.add_error("weekdays", _("Choose at least one weekday."))
        total = (data.get("duration_hours") or 0) * 60 + (data.get("duration_minutes") or 0)
        if "duration_hours" not in self.errors and total < 1:
            self.add_error("duration_hours", _("The duration must be at least one minute."))
        return data

    def slot(self) -> SlotInput:
        data = self.cleaned_data
        return SlotInput(
            weekdays=list(data["weekdays"]),
            start=data["start"],
            duration_minutes=data["duration_hours"] * 60 + (data.get("duration_minutes") or 0),
        )


SlotFormSet = forms.formset_factory(SlotForm, extra=0, can_delete=True, min_num=0)


def slot_initial(slot: Any) -> dict[str, Any]:
    return {
        "weekdays": list(slot.weekdays),
        "start": slot.start,
        "duration_hours": slot.duration_minutes // 60,
        "duration_minutes": slot.duration_minutes % 60,
    }


def empty_slot() -> dict[str, Any]:
    return {"weekdays": [6], "start": time(1, 0), "duration_hours": 4, "duration_minutes": 0}
