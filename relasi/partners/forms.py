"""Forms of the partner portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relasi.accounts.forms import SignInForm
from relasi.partners.models import Partner


class PartnerSignInForm(SignInForm):
    """The partner portal's door: a workspace user's right password still does not open it."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not Partner.objects.filter(user=user).exists():
            raise forms.ValidationError(
                _("This is not a partner account. Workspace users sign in on the workspace sign-in page."),
                code="not_partner",
            )
