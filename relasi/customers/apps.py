from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "relasi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from relasi.customers import signals  # noqa: F401
