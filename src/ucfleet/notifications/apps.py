from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "ucfleet.notifications"
    label = "notifications"
