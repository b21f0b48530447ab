from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from ucfleet.accounts.choices import Language
from ucfleet.maintenance.queries import running_maintenance


class LoginForm(AuthenticationForm):
    """During a running platform maintenance only platform administrators may log in (R8)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "maintenance": _(
            "The platform is in maintenance; only platform administrators can log in until it ends."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("User name")
        self.fields["password"].label = _("Password")

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if running_maintenance() is not None and not user.is_platform_admin:
            raise forms.ValidationError(self.error_messages["maintenance"], code="maintenance")


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
