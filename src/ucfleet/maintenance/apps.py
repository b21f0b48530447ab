from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "ucfleet.maintenance"
    label = "maintenance"
