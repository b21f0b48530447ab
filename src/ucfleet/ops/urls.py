"""The probe routes, resolved by `ucfleet.ops.middleware.ProbeMiddleware` (not by the
site's URL configuration): see `ucfleet.ops.views`."""

from django.urls import re_path

from ucfleet.ops import views

urlpatterns = [
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
    re_path(r"^readyz/?$", views.readyz, name="readyz"),
    re_path(r"^metrics/?$", views.metrics, name="metrics"),
]
