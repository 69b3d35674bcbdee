from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "relasi.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from relasi.customers import signals  # noqa: F401
