from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "relasi.partners"
    label = "partners"
    verbose_name = "Partners"
