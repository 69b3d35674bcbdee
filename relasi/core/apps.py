from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "relasi.core"
    label = "core"
    verbose_name = "Core"
