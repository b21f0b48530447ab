"""The Update UC Tenants wizard's form: timing, options, selection (manual §8.14).

It only turns input into a ScheduleRequest; updates.selection decides which tenants the
ticks mean, updates.services what happens.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ucfleet.core.ids import parse_id
from ucfleet.updates.choices import TaskType, Timing
from ucfleet.updates.planning import ScheduleRequest
from ucfleet.updates.selection import select_tenants
from ucfleet.versions.queries import versions_visible_to
from ucfleet.web.forms.fields import ServerDateTimeField, choice_field
from ucfleet.web.forms.wizard_options import RolloutOptionFields, TenantFilterFields


class IdListField(forms.Field):
    """Ids from repeated inputs (`tenants=1&tenants=2`); existence and scope are checked by
    the scoped queries, so a foreign id is simply not found (R1)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        ids = {parse_id(v) for v in values if str(v).strip()}
        if None in ids:
            raise forms.ValidationError(_("Invalid selection."), code="invalid")
        return sorted(i for i in ids if i is not None)


class UpdateWizardForm(RolloutOptionFields, TenantFilterFields):
    """Timing, options, the selection (ticks, whole partners, the platform, or "select all N
    matching" a filter, R19) and the rollout options (R18, R20, R21)."""

    timing = forms.ChoiceField(
        label=_("Timing"),
        choices=Timing.choices,
        widget=forms.RadioSelect,
        initial=Timing.MAINTENANCE_WINDOW,
    )
    start = ServerDateTimeField(label=_("Custom time"), required=False)
    target_version = forms.TypedChoiceField(label=_("Target software version"), coerce=int)
    task_type = forms.ChoiceField(
        label=_("Task type"), choices=TaskType.choices, initial=TaskType.UPDATE
    )
    forced = forms.BooleanField(
        label=_("Forced update"),
        required=False,
        help_text=_(
            "Update tasks for the selected UC Tenants may only be deleted by Platform "
            "level Administrators."
        ),
    )
    redeploy = forms.BooleanField(
        label=_("Redeployment"),
        required=False,
        help_text=_("The selected UC Tenants are redeployed."),
    )
    notify_partner = forms.BooleanField(
        label=_("Send E-mail"),
        required=False,
        help_text=_(
            "An e-mail notification on the update is sent to the Administrators of the "
            "appropriate Partner."
        ),
    )
    notify_customer = forms.BooleanField(
        label=_("Send e-mail (customer)"),
        required=False,
        help_text=_(
            "An e-mail notification on the update is sent to the contact person of the "
            "customer company (the UC Tenant's e-mail address for notifications)."
        ),
    )
    wait_for_idle = forms.BooleanField(
        label=_("Wait until no calls are active"),
        required=False,
        initial=True,
        help_text=_(
            "A UC Tenant with active calls is updated once its calls have ended (within its "
            "start period); unchecked, the update starts regardless."
        ),
    )
    tenants = IdListField(required=False)
    partners = IdListField(required=False)
    all_tenants = forms.BooleanField(label=_("All UC Tenants on the platform"), required=False)
    confirm_downgrade = forms.BooleanField(required=False)
    confirm_auto_update_disabled = forms.BooleanField(required=False)

    def __init__(self, *args: Any, admin: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin
        self.setup_filter(admin)
        versions = list(
            versions_visible_to(admin)
            .filter(update_prohibited=False)
            .only("id", "name", "for_testing", "recommend_update")
        )
        choice_field(self, "target_version").choices = [
            (v.pk, f"{v.name}{' · ' + str(_('For testing purposes')) if v.for_testing else ''}")
            for v in versions
        ]
        # Offer the newest released version first, never a test one, nor one that an update
        # away from is recommended (the flag's meaning, manual).
        released = [v for v in versions if not v.for_testing]
        preferred = next((v for v in released if not v.recommend_update), None) or next(
            iter(released), None
        )
        if preferred is not None:
            self.fields["target_version"].initial = preferred.pk
        if not admin.is_platform_admin:
            # R7: partner administrators never set Forced update, nor select the platform.
            del self.fields["forced"]
            del self.fields["all_tenants"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("timing") == Timing.CUSTOM
            and not data.get("start")
            and "start" not in self.errors
        ):
            self.add_error("start", _("Choose the date and time for Custom time."))
        chosen = data.get("tenants") or data.get("partners") or data.get("all_tenants")
        if not (chosen or data.get("select_matching")):
            self.add_error("tenants", _("Select at least one UC tenant."))
        self.clean_rollout_options(data)
        return data

    def schedule_request(self) -> ScheduleRequest:
        data = self.cleaned_data
        selection = select_tenants(
            self.admin,
            tenant_ids=data["tenants"],
            partner_ids=data["partners"],
            all_tenants=bool(data.get("all_tenants")),
            # "Select all N matching": the request carries the filter, not the ids (R19).
            matching=self.picker_filter() if data.get("select_matching") else None,
        )
        return ScheduleRequest(
            timing=data["timing"],
            start=data.get("start") if data["timing"] == Timing.CUSTOM else None,
            target_version=data["target_version"],
            task_type=data["task_type"],
            forced=bool(data.get("forced")),
            redeploy=data["redeploy"],
            notify_partner=data["notify_partner"],
            notify_customer=data["notify_customer"],
            confirm_downgrade=data["confirm_downgrade"],
            confirm_auto_update_disabled=data["confirm_auto_update_disabled"],
            wait_for_idle=data["wait_for_idle"],
            **selection.request_fields(),
            **self.rollout_request_fields(),
        )

    def is_single_tenant(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return (
            len(data.get("tenants") or []) == 1
            and not data.get("partners")
            and not data.get("all_tenants")
            and not data.get("select_matching")
        )
