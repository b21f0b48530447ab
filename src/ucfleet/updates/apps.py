from django.apps import AppConfig


class UpdatesConfig(AppConfig):
    name = "ucfleet.updates"
    label = "updates"
