from __future__ import annotations

import ipaddress
import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from relasi.accounts import services
from relasi.accounts.models import User
from relasi.core.emails import email_send_templated, site_link

UNKNOWN_ADDRESS = "0.0.0.0"


def _ip_or_none(text: object) -> str | None:
    """The address written in `text`, or None when it is not one plain IPv4 or IPv6 address."""
    if not isinstance(text, str):
        return None
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return None
    return str(address)


def _meta_key(header: str) -> str:
    """`X-Forwarded-For` or `HTTP_X_FORWARDED_FOR` alike, as the key of `request.META`."""
    key = header.strip().upper().replace("-", "_")
    return key if key.startswith("HTTP_") or key == "REMOTE_ADDR" else f"HTTP_{key}"


def client_address(request: HttpRequest | None) -> str:
    """The address of the client signing in, for every sign-in door (workspace, partner portal, back-office).

    With `SIGN_IN_TRUSTED_PROXIES` = 0 (the default) it is `REMOTE_ADDR`, and the forwarding header is ignored.
    With N proxies in front, each of which appends the address it received the request from to the header
    named by `SIGN_IN_CLIENT_IP_HEADER` (`X-Forwarded-For`), the client is the N-th entry from the right: the one
    the outermost trusted proxy added. Entries further left were sent by the client and are never read. A header
    missing, with fewer entries than trusted proxies, or whose entry is not a plain address, gives `REMOTE_ADDR`.
    """
    if request is None:
        return UNKNOWN_ADDRESS
    remote = _ip_or_none(request.META.get("REMOTE_ADDR")) or UNKNOWN_ADDRESS
    trusted = settings.SIGN_IN_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    header = settings.SIGN_IN_CLIENT_IP_HEADER
    value = request.META.get(_meta_key(header)) if header else None
    if not isinstance(value, str):
        return remote
    entries = value.rsplit(",", trusted)
    if len(entries) < trusted:
        return remote
    return _ip_or_none(entries[-trusted]) or remote


class ThrottledSignInMixin:
    """Refuse sign-in, even with the right password, after too many failures for the email from this address
    (the pair's lock) or from many addresses (the account's lock), the address being `client_address`.

    The message is the same for either lock and whether or not the email has an account.
    """

    request: HttpRequest | None
    cleaned_data: dict[str, Any]

    def _lock_error(self, until: Any) -> forms.ValidationError:
        minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
        return forms.ValidationError(
            _("Too many failed sign-ins. For your security, try again in %(minutes)d minutes."),
            code="locked",
            params={"minutes": minutes},
        )

    def clean_username(self) -> str:
        # Emails are stored in lower case; phones often capitalise the first letter typed.
        return str(self.cleaned_data.get("username") or "").strip().lower()

    def clean(self) -> dict[str, Any]:
        email = str(self.cleaned_data.get("username") or "")
        address = client_address(self.request)
        locked_until = services.sign_in_locked_until(email=email, ip_address=address)
        if locked_until is not None:
            raise self._lock_error(locked_until)
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            locked_until = services.sign_in_record_failure(email=email, ip_address=address)
            if locked_until is not None:
                raise self._lock_error(locked_until) from None
            raise
        services.sign_in_record_success(email=email, ip_address=address)
        return cleaned


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email")
        # Relasi's own word, so the label and "Forgot your password?" agree in every language.
        self.fields["password"].label = _("Password")
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "type": "email"})
        self.error_messages = {
            "invalid_login": _("The email or password is not right."),
            "inactive": _("This account is inactive."),
        }


class StaffSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    pass


class RelasiPasswordResetForm(PasswordResetForm):
    """Password reset through Relasi's templated, queued emails."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        email = self.cleaned_data["email"]
        for user in self.get_users(email):
            assert isinstance(user, User)
            path = reverse(
                "accounts:password_reset_confirm",
                kwargs={
                    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": default_token_generator.make_token(user),
                },
            )
            email_send_templated(
                to=[user.email],
                template="password_reset",
                context={"full_name": user.full_name, "reset_url": site_link(path)},
            )
