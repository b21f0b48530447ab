from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ucfleet.api"
    label = "api"
