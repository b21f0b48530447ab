from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "ucfleet.tenants"
    label = "tenants"
