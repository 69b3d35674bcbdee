from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "relasi.accounts"
    label = "accounts"
    verbose_name = "Accounts"
