"""Portal views. The login page and home page; the portal issue adds the rest."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ucfleet.web.forms import LoginForm
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import upcoming_maintenances
from ucfleet.updates.queries import open_tasks_visible_to


class LoginView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
        context = super().get_context_data(**kwargs)
        context["maintenances"] = list(upcoming_maintenances())
        context["now_utc"] = utcnow()
        return context


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request: HttpRequest) -> HttpResponse:
    tasks = open_tasks_visible_to(request.user).select_related(
        "tenant", "partner", "target_version")[:100]
    return render(request, "web/home/page.html", {"tasks": tasks})
