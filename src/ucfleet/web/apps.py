from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ucfleet.web"
    label = "web"
