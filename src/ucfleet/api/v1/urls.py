from django.urls import path
from rest_framework.routers import DefaultRouter

from ucfleet.api.v1.views.administrators import AdministratorViewSet
from ucfleet.api.v1.views.audit import ChangeLogViewSet
from ucfleet.api.v1.views.auth import TokenView
from ucfleet.api.v1.views.maintenance import MaintenanceWindowView, PlatformMaintenanceViewSet
from ucfleet.api.v1.views.notifications import NotificationViewSet
from ucfleet.api.v1.views.rollouts import RolloutViewSet
from ucfleet.api.v1.views.tasks import UpdateTaskViewSet
from ucfleet.api.v1.views.tenants import PartnerViewSet, ScaleUnitViewSet, TenantViewSet
from ucfleet.api.v1.views.versions import VersionViewSet
from ucfleet.api.v1.views.webhooks import WebhookEndpointViewSet


class Router(DefaultRouter):
    # No `.json` suffix routes: `?format=` covers it, and suffixes would reach the views as
    # an unexpected `format` argument.
    include_format_suffixes = False


router = Router()
router.register("partners", PartnerViewSet, basename="partner")
router.register("scale-units", ScaleUnitViewSet, basename="scale-unit")
router.register("tenants", TenantViewSet, basename="tenant")
router.register("versions", VersionViewSet, basename="version")
router.register(
    "platform-maintenances", PlatformMaintenanceViewSet, basename="platform-maintenance"
)
router.register("update-tasks", UpdateTaskViewSet, basename="update-task")
router.register("rollouts", RolloutViewSet, basename="rollout")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("change-log", ChangeLogViewSet, basename="change-log")
router.register("administrators", AdministratorViewSet, basename="administrator")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("maintenance-window/", MaintenanceWindowView.as_view(), name="maintenance-window"),
    *router.urls,
]
