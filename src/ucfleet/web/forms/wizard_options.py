"""The wizard's tenant-picker filter (R19) and its rollout options (R18, R20, R21).

Both are field groups of the one wizard form (web.forms.wizard), so a single submission
carries them; the picker filter is also read on its own by the "matching" fragment.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from ucfleet.accounts.actors import Actor
from ucfleet.tenants.filtering import MAX_SEARCH, TenantFilter
from ucfleet.tenants.queries import (
    partners_visible_to,
    scale_units_visible_to,
    tenants_visible_to,
)
from ucfleet.updates.choices import Timing
from ucfleet.versions.queries import versions_visible_to

ANY_YES_NO = [("", _("all")), ("1", _("yes")), ("0", _("no"))]
FLAGS = {"f_productive": "is_productive", "f_test": "is_test", "f_nfr": "is_nfr"}
FILTER_FIELDS = ("f_partner", "f_version", "f_scale_unit", *FLAGS, "f_search")

MAX_WAVES = 20
MAX_WAVE_COUNT = 1_000_000
MAX_SOAK_MINUTES = 7 * 24 * 60
# Offered for large selections (issue 12): 1 % / 10 % / rest and a 2 % error budget.
LARGE_SELECTION = 1000
SUGGESTED_WAVES = "1%, 10%, rest"
SUGGESTED_BUDGET = "2%"


def _multi(label: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, required=False, widget=forms.SelectMultiple(attrs={"size": 3})
    )


class TenantFilterFields(forms.Form):
    """Partners, versions, scale units, productive/test/NFR and a search text (R19)."""

    f_search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=MAX_SEARCH,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    f_partner = _multi(_("Partner"))
    f_version = _multi(_("Software version"))
    f_scale_unit = _multi(_("Scale unit"))
    f_productive = forms.ChoiceField(label=_("productive"), required=False, choices=ANY_YES_NO)
    f_test = forms.ChoiceField(label=_("test"), required=False, choices=ANY_YES_NO)
    f_nfr = forms.ChoiceField(label=_("not for resale"), required=False, choices=ANY_YES_NO)
    select_matching = forms.BooleanField(required=False)

    def setup_filter(self, admin: Actor) -> None:
        """The choices of the administrator's scope (R1): a foreign id is then an invalid
        choice, a form error, never a wider selection."""
        fields = self.fields
        partners = list(partners_visible_to(admin).values_list("id", "name"))
        fields["f_partner"].choices = [(str(pk), name) for pk, name in partners]  # type: ignore[attr-defined]
        # Current versions: those the administrator's tenants run (not every target).
        running = versions_visible_to(admin).filter(
            Exists(tenants_visible_to(admin).filter(version_id=OuterRef("pk")))
        )
        fields["f_version"].choices = [  # type: ignore[attr-defined]
            (str(pk), name) for pk, name in running.values_list("id", "name")
        ]
        fields["f_scale_unit"].choices = [  # type: ignore[attr-defined]
            (str(pk), name) for pk, name in scale_units_visible_to(admin).values_list("id", "name")
        ]
        if len(partners) <= 1:
            # Not offered, still validated (hidden, not dropped): a forged partner in the
            # submission is an error, never ignored (R1).
            fields["f_partner"].widget = forms.MultipleHiddenInput()

    def filter_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FILTER_FIELDS if name in self.fields]

    def picker_filter(self) -> TenantFilter:
        """The criteria of the cleaned form (call after is_valid)."""
        data = getattr(self, "cleaned_data", {})
        flags = {
            attr: None if data.get(name) in (None, "") else data[name] == "1"
            for name, attr in FLAGS.items()
        }
        return TenantFilter.of(
            partner_ids=[int(v) for v in data.get("f_partner") or []],
            versions=[int(v) for v in data.get("f_version") or []],
            scale_unit_ids=[int(v) for v in data.get("f_scale_unit") or []],
            search=data.get("f_search") or "",
            **flags,
        )


def parse_waves(text: str) -> list[dict[str, Any]] | None:
    """ "1%, 10%, rest" or "5, 50, rest" → [{"percent": 1}, …]; empty → one wave (None).
    The last wave always takes the rest (API.md); "rest" may only stand last."""
    items = [item.strip().lower() for item in re.split(r"[,;/]", text) if item.strip()]
    if not items:
        return None
    if len(items) > MAX_WAVES:
        raise forms.ValidationError(_("At most %(n)d waves.") % {"n": MAX_WAVES})
    waves: list[dict[str, Any]] = []
    for position, item in enumerate(items, start=1):
        rest = item in ("rest", str(_("rest")).lower())
        if rest and position != len(items):
            raise forms.ValidationError(_("Only the last wave can be the rest."))
        if rest:
            waves.append({"percent": 100})
            continue
        match = re.fullmatch(r"(\d{1,7}(?:\.\d{1,2})?)\s*(%?)", item)
        if match is None:
            raise forms.ValidationError(
                _("Give each wave as a number of UC tenants (50), a percentage (10%) or rest.")
            )
        number = float(match.group(1))
        if match.group(2):
            if not 0 < number <= 100:
                raise forms.ValidationError(_("A percentage lies between 0 and 100."))
            waves.append({"percent": number})
        else:
            if number != int(number) or not 1 <= number <= MAX_WAVE_COUNT:
                raise forms.ValidationError(_("A wave takes at least one UC tenant."))
            waves.append({"count": int(number)})
    return waves


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """ "5" → at most 5 failures; "2%" or "2,5 %" → a percentage; empty → no budget."""
    value = text.strip()
    if not value:
        return None, None
    match = re.fullmatch(r"(\d{1,7}(?:[.,]\d{1,2})?)\s*(%?)", value)
    if match is None:
        raise forms.ValidationError(
            _("Give the error budget as a number of failed tasks (5) or a percentage (2%).")
        )
    number = float(match.group(1).replace(",", "."))
    if match.group(2):
        if not 0 < number <= 100:
            raise forms.ValidationError(_("A percentage lies between 0 and 100."))
        return None, number
    if number != int(number):
        raise forms.ValidationError(_("A number of failed tasks is a whole number."))
    return int(number), None


class RolloutOptionFields(forms.Form):
    rollout_name = forms.CharField(
        label=_("Rollout name"),
        required=False,
        max_length=200,
        help_text=_("Default: the target software version and the date."),
    )
    waves = forms.CharField(
        label=_("Waves"),
        required=False,
        max_length=200,
        help_text=_(
            "Counts or percentages, e.g. 1%, 10%, rest. The first wave starts as chosen "
            "above; each later wave is held until the previous one has ended and the soak "
            "time has passed. The last wave takes the rest. Empty: one wave."
        ),
    )
    soak_minutes = forms.IntegerField(
        label=_("Soak time (minutes)"),
        required=False,
        min_value=0,
        max_value=MAX_SOAK_MINUTES,
        initial=0,
        help_text=_("How long to wait after a wave has ended before the next one starts."),
    )
    error_budget = forms.CharField(
        label=_("Error budget"),
        required=False,
        max_length=20,
        help_text=_(
            "A number of failed tasks (5) or a percentage of the ended tasks (2%); when the "
            "failures exceed it, the rollout pauses automatically. Empty: no budget."
        ),
    )

    def clean_waves(self) -> list[dict[str, Any]] | None:
        return parse_waves(self.cleaned_data.get("waves") or "")

    def clean_error_budget(self) -> tuple[int | None, float | None]:
        return parse_budget(self.cleaned_data.get("error_budget") or "")

    def clean_rollout_options(self, data: dict[str, Any]) -> None:
        waves = data.get("waves")
        if data.get("timing") == Timing.CUSTOM and waves and len(waves) > 1:
            self.add_error("waves", _("A rollout at a custom time has one wave."))

    def rollout_request_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        max_failures, max_percent = data.get("error_budget") or (None, None)
        return {
            "name": (data.get("rollout_name") or "").strip(),
            "waves": data.get("waves"),
            "soak_minutes": data.get("soak_minutes") or 0,
            "max_failures": max_failures,
            "max_failure_percent": max_percent,
        }
