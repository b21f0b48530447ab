from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from ucfleet.accounts.choices import Language
from ucfleet.accounts.throttling import login_wait
from ucfleet.maintenance.queries import running_maintenance


class LoginForm(AuthenticationForm):
    """During a running platform maintenance only platform administrators may log in (R8).

    Then a partner's right password and any wrong one get the same answer: it must not
    tell which passwords are right. Throttling (accounts.throttling) is checked before the
    password, so refused tries are not counted."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "maintenance": _(
            "The platform is in maintenance; only platform administrators can log in until it "
            "ends. Please enter a correct user name and password."
        ),
        "throttled": _("Too many failed logins. Please try again later."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("User name")
        self.fields["password"].label = _("Password")

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and self.request is not None and login_wait(self.request, username):
            # django-axes' middleware answers a marked request with its lockout page (429).
            self.request.axes_locked_out = True  # type: ignore[attr-defined]
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        in_maintenance = running_maintenance() is not None
        try:
            return super().clean()
        except forms.ValidationError as error:
            if in_maintenance and error.code == "invalid_login":
                raise forms.ValidationError(
                    self.error_messages["maintenance"], code="maintenance"
                ) from None
            raise

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if running_maintenance() is not None and not user.is_platform_admin:
            raise forms.ValidationError(self.error_messages["maintenance"], code="maintenance")


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
