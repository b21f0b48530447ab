from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "ucfleet.audit"
    label = "audit"
