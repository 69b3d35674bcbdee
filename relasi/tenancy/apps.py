from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "relasi.tenancy"
    label = "tenancy"
    verbose_name = "Workspaces"
