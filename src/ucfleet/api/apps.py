from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ucfleet.api"
    label = "api"

    def ready(self) -> None:
        # drf-spectacular finds extensions by class registration: import them once.
        from ucfleet.api import schema  # noqa: F401
