"""General settings of a UC tenant (manual §8.5). Partner and language are fixed after
creation; the software version changes only through update tasks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ucfleet.accounts.choices import Language
from ucfleet.tenants.queries import partners_visible_to, scale_units_visible_to
from ucfleet.tenants.services import EDITABLE_FIELDS
from ucfleet.versions.queries import versions_visible_to
from ucfleet.web.forms.fields import BoundedDateField, choice_field

# The fields the service lets an administrator edit: the form shows exactly those.
GENERAL_FIELDS = EDITABLE_FIELDS


class TenantForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    domain = forms.CharField(label=_("Domain"), max_length=253)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    customer_id = forms.CharField(label=_("Customer ID"), max_length=100, required=False)
    notification_email = forms.EmailField(
        label=_("E-mail address for notifications"),
        required=False,
        help_text=_("The customer's contact person; receives Send e-mail (customer) notices."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)
    auto_update_allowed = forms.BooleanField(
        label=_("Automatic update allowed"),
        required=False,
        help_text=_("Switched off, the UC tenant is left out of bulk updates."),
    )
    is_productive = forms.BooleanField(label=_("Productive"), required=False)
    is_nfr = forms.BooleanField(label=_("Not for resale (NFR)"), required=False)
    is_test = forms.BooleanField(label=_("Test"), required=False)
    test_until = BoundedDateField(
        label=_("Test end date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    scale_unit = forms.TypedChoiceField(
        label=_("Scale unit"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, admin: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin
        self.creating = creating
        choice_field(self, "scale_unit").choices = [("", "—")] + [
            (u.pk, u.name) for u in scale_units_visible_to(admin).only("id", "name")
        ]
        if not admin.is_platform_admin:
            # Placement on scale units is platform infrastructure.
            self.fields["scale_unit"].disabled = True
        if creating:
            partners = list(partners_visible_to(admin).values_list("id", "name"))
            self.fields["partner"] = forms.TypedChoiceField(
                label=_("Partner"),
                coerce=int,
                choices=partners,
                help_text=_("Cannot be changed after creation."),
            )
            self.fields["language"] = forms.ChoiceField(
                label=_("Language"),
                choices=Language.choices,
                help_text=_("Cannot be changed after creation."),
            )
            versions = versions_visible_to(admin).filter(update_prohibited=False)
            self.fields["version"] = forms.TypedChoiceField(
                label=_("Software version"),
                coerce=int,
                choices=[(v.pk, v.name) for v in versions.only("id", "name")],
            )
            default = versions.filter(use_for_new=True).first()
            if default and not self.is_bound:
                self.initial.setdefault("version", default.pk)

    def changes(self) -> dict[str, Any]:
        """The fields to hand to the service (disabled ones are not the user's to change)."""
        names = list(GENERAL_FIELDS)
        if self.creating:
            names += ["partner", "language", "version"]
        return {
            name: self.cleaned_data[name]
            for name in names
            if name in self.fields and not self.fields[name].disabled
        }

    @classmethod
    def initial_for(cls, tenant: Any) -> dict[str, Any]:
        initial = {name: getattr(tenant, name) for name in GENERAL_FIELDS}
        initial["scale_unit"] = tenant.scale_unit_id
        return initial
