from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "relasi.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from relasi.accounts.forms import StaffSignInForm
        from relasi.core.admin import backoffice

        # The back-office signs staff in with the same throttle as the other front doors.
        backoffice.login_form = StaffSignInForm
