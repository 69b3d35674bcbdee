from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "relasi.core"
    label = "core"
    verbose_name = _("Audit")

    def ready(self) -> None:
        # Registers Relasi's system checks (RELASI_SITE_URL).
        from relasi.core import checks  # noqa: F401
