from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ucfleet.core"
    label = "core"
