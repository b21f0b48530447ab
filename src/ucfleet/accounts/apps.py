from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ucfleet.accounts"
    label = "accounts"
