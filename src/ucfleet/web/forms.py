from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from ucfleet.maintenance.queries import running_maintenance


class LoginForm(AuthenticationForm):
    """During a running platform maintenance only platform administrators may log in (R8)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "maintenance": _("The platform is in maintenance; only platform administrators can "
                         "log in until it ends."),
    }

    def confirm_login_allowed(self, user) -> None:  # type: ignore[no-untyped-def]
        super().confirm_login_allowed(user)
        if running_maintenance() is not None and not user.is_platform_admin:
            raise forms.ValidationError(self.error_messages["maintenance"], code="maintenance")
