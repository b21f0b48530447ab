from django.apps import AppConfig


class VersionsConfig(AppConfig):
    name = "ucfleet.versions"
    label = "versions"
