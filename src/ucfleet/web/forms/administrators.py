"""Administrators: who may manage whom is accounts.services.may_manage; the form only offers
what the acting administrator may choose."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ucfleet.accounts.choices import Language, Profile
from ucfleet.accounts.services import may_manage
from ucfleet.tenants.queries import partners_visible_to
from ucfleet.web.forms.fields import choice_field


def manageable_profiles(actor: Any) -> list[tuple[str, Any]]:
    """The profiles `actor` may create (for its own partner, if it has one)."""
    return [
        (value, label)
        for value, label in Profile.choices
        if may_manage(actor, value, actor.partner_id)
    ]


class AdministratorCreateForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False))
    profile = forms.ChoiceField(label=_("Profile"))
    partner = forms.TypedChoiceField(
        label=_("Partner"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Partner administrators only."),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Partner administrators receive the partner notices."),
    )
    first_name = forms.CharField(label=_("First name"), required=False, max_length=150)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=150)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "profile").choices = manageable_profiles(actor)
        if actor.is_platform_admin:
            partners = partners_visible_to(actor).values_list("id", "name")
            choice_field(self, "partner").choices = [("", "—"), *partners]
        else:
            del self.fields["partner"]
        self.actor = actor

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not self.actor.is_platform_admin:
            data["partner"] = self.actor.partner_id
        elif data.get("profile", "").startswith("platform"):
            data["partner"] = None
        return data


class AdministratorEditForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), required=False)
    first_name = forms.CharField(label=_("First name"), required=False, max_length=150)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=150)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    password = forms.CharField(
        label=_("New password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current password."),
    )

    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Needed to change your own password."),
    )

    def __init__(self, *args: Any, is_self: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not is_self:
            del self.fields["current_password"]

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not data.get("password"):
            data.pop("password", None)
            data.pop("current_password", None)
        return data
