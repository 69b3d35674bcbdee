from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "relasi.interactions"
    label = "interactions"
    verbose_name = _("Interactions")

    def ready(self) -> None:
        from relasi.interactions import signals  # noqa: F401
