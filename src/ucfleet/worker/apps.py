from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "ucfleet.worker"
    label = "worker"
