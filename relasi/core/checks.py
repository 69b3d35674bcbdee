"""System checks of Relasi's own settings (`relasi check`, and `relasi check --deploy` before going live)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.http.request import validate_host

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


def _site_url_parts() -> tuple[str, str]:
    """RELASI_SITE_URL's scheme and host name (lower case, without port or brackets)."""
    parts = urlsplit(str(settings.RELASI_SITE_URL))
    return parts.scheme.lower(), (parts.hostname or "").lower()


@register(Tags.compatibility)
def site_url_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every emailed link starts with RELASI_SITE_URL, so it must be an address a browser can open."""
    scheme, host = _site_url_parts()
    if scheme in ("http", "https") and host:
        return []
    return [
        Error(
            f"RELASI_SITE_URL {settings.RELASI_SITE_URL!r} is not an http(s) address.",
            hint="Set it to the address people open Relasi at, e.g. https://relasi.example.com.",
            id="relasi.E001",
        )
    ]


@register(Tags.security, deploy=True)
def site_url_deploy_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Links in invitation and password-reset emails lead where RELASI_SITE_URL says: in production that must
    be the public HTTPS address, never the development default, whatever host a request came to."""
    scheme, host = _site_url_parts()
    if not host:
        return []  # site_url_check already says so
    warnings: list[CheckMessage] = []
    if host in LOOPBACK_HOSTS:
        warnings.append(
            Warning(
                f"RELASI_SITE_URL is {settings.RELASI_SITE_URL!r}, so the links in invitation and password-reset "
                "emails point at this machine and will not open for anyone else.",
                hint="Set RELASI_SITE_URL to the public address, e.g. https://relasi.example.com "
                "(it is not taken from the request's host).",
                id="relasi.W001",
            )
        )
    elif scheme != "https":
        warnings.append(
            Warning(
                f"RELASI_SITE_URL {settings.RELASI_SITE_URL!r} is not HTTPS: password links in emails would "
                "travel and open unencrypted.",
                hint="Use the https:// address of the site.",
                id="relasi.W002",
            )
        )
    # ALLOWED_HOSTS writes an IPv6 address in brackets, as the Host header does.
    domain = f"[{host}]" if ":" in host else host
    if host not in LOOPBACK_HOSTS and not validate_host(domain, settings.ALLOWED_HOSTS):
        warnings.append(
            Warning(
                f"The host of RELASI_SITE_URL ({host}) is not in ALLOWED_HOSTS: emailed links would be refused "
                "with 400 Bad Request.",
                hint="Add it to ALLOWED_HOSTS.",
                id="relasi.W003",
            )
        )
    return warnings


@register(Tags.security, deploy=True)
def payment_gateway_deploy_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The sandbox gateway pays an invoice with a button and no money: fine on a laptop, not on a live site."""
    if settings.PAYMENT_GATEWAY != "sandbox":
        return []
    return [
        Warning(
            "PAYMENT_GATEWAY is sandbox: anyone with an invoice's payment link can mark it paid, and the balances "
            "are credited with no money received.",
            hint="Set PAYMENT_GATEWAY to xendit or midtrans with their keys (docs/payment-gateways.md).",
            id="relasi.W004",
        )
    ]
