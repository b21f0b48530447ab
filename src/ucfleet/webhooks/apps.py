from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "ucfleet.webhooks"
    label = "webhooks"
