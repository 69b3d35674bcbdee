"""The sandbox gateway: Relasi's own hosted-style payment page (relasi.billing.sandbox_views), so that a fresh
clone pays its invoices with no account anywhere. Its page sends callbacks over HTTP to the same webhook a real
gateway calls, signed with HMAC-SHA256 of the raw body — the path is the real one, only the money is not."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac

from relasi.billing.gateways.base import (
    CallbackInvalid,
    CallbackRefused,
    Checkout,
    CheckoutRequest,
    GatewayEvent,
    bounded_text,
    callback_json,
    whole_rupiah,
)
from relasi.core.emails import site_link

SIGNATURE_HEADER = "X-Sandbox-Signature"
CHECKOUT_SALT = "relasi.billing.sandbox.checkout"
STATUSES = ("paid", "expired", "failed", "pending")


def sandbox_secret() -> bytes:
    configured = settings.SANDBOX_GATEWAY_SECRET
    if configured:
        return configured.encode()
    return salted_hmac("relasi.billing.sandbox.callbacks", "secret").hexdigest().encode()


def sandbox_signature(body: bytes) -> str:
    return hmac.new(sandbox_secret(), body, hashlib.sha256).hexdigest()


def sandbox_checkout_token(checkout: Mapping[str, Any]) -> str:
    """The sandbox page's address holds its checkout, signed: the page needs no table, and cannot be edited into
    another invoice's."""
    return signing.dumps(dict(checkout), salt=CHECKOUT_SALT, compress=True)


def sandbox_checkout_read(token: str) -> dict[str, Any] | None:
    try:
        value = signing.loads(token[:2000], salt=CHECKOUT_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) else None


class SandboxGateway:
    name = "sandbox"

    def checkout_create(self, request: CheckoutRequest) -> Checkout:
        reference = f"sbx-{request.invoice_number.replace('/', '-')}-{request.attempt}"
        token = sandbox_checkout_token(
            {
                "reference": reference,
                "invoice_number": request.invoice_number,
                "amount": request.amount,
                "method": request.method,
                "bank": request.bank,
                "expires_at": request.expires_at.isoformat(),
                "return_url": request.return_url,
            }
        )
        return Checkout(reference=reference, url=site_link(reverse("sandbox_checkout", args=[token])))

    def callback_read(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        given = headers.get(SIGNATURE_HEADER, "")[:200]
        # Bytes, so that a header of any characters compares (compare_digest refuses non-ASCII text).
        expected = sandbox_signature(body).encode()
        if not given or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected):
            raise CallbackRefused("Bad or missing signature.")
        return _event(callback_json(body))


def _event(payload: dict[str, Any]) -> GatewayEvent:
    status = bounded_text(payload, "status")
    if status not in STATUSES:
        raise CallbackInvalid(f"status is one of {', '.join(STATUSES)}.")
    amount = whole_rupiah(payload.get("amount")) if payload.get("amount") is not None else None
    if status == "paid" and amount is None:
        raise CallbackInvalid("A paid callback carries its amount in whole rupiah.")
    try:
        occurred_at = datetime.fromisoformat(bounded_text(payload, "occurred_at"))
    except ValueError:
        raise CallbackInvalid("occurred_at is an ISO 8601 time with its offset.") from None
    if occurred_at.tzinfo is None:
        raise CallbackInvalid("occurred_at is an ISO 8601 time with its offset.")
    return GatewayEvent(
        event_id=bounded_text(payload, "event_id"),
        invoice_number=bounded_text(payload, "invoice_number"),
        status=status,
        amount=amount,
        occurred_at=occurred_at,
        payload=payload,
        checkout_reference=bounded_text(payload, "reference") if payload.get("reference") else "",
    )
