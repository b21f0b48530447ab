"""Login, logout and the administrator's own language."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_POST

from ucfleet.accounts.services import update_administrator
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import upcoming_maintenances
from ucfleet.web.forms import LanguageForm, LoginForm
from ucfleet.web.views.common import safe_next


class LoginView(auth_views.LoginView):
    """The login page announces upcoming and running platform maintenance (R8)."""

    template_name = "web/auth/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["maintenances"] = list(upcoming_maintenances()[:5])
        context["now_utc"] = utcnow()
        context["session_ended"] = self.request.session.pop("ended_by_maintenance", False)
        return context


class LogoutView(auth_views.LogoutView):
    pass


@login_required
@require_POST
def change_language(request: HttpRequest) -> HttpResponse:
    """The administrator's own language; the middleware applies it on every request."""
    form = LanguageForm(request.POST)
    if form.is_valid():
        user: Any = request.user
        update_administrator(user, user.pk, language=form.cleaned_data["language"])
        translation.activate(form.cleaned_data["language"])
    return HttpResponseRedirect(safe_next(request, reverse("web:home")))
