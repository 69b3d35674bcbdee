"""Xendit (https://docs.xendit.co): an invoice per checkout (POST /v2/invoices), paid on Xendit's hosted page, and
the invoice callback that reports it PAID or EXPIRED. A callback is Xendit's when its `x-callback-token` header is
the account's callback verification token (XENDIT_CALLBACK_TOKEN); nothing else in it is signed."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from relasi.billing.gateways.base import (
    GATEWAY_TIMEOUT_SECONDS,
    TEXT_MAX,
    CallbackInvalid,
    CallbackRefused,
    Checkout,
    CheckoutRequest,
    GatewayEvent,
    GatewayUnavailable,
    answer_json,
    bounded_text,
    callback_json,
    header_of,
    secret_hidden,
    whole_rupiah,
)

TOKEN_HEADER = "x-callback-token"
# Xendit's payment method codes (the invoice's `payment_methods`): a virtual account is named by its bank.
BANK_CODES = {
    "bca": "BCA",
    "bni": "BNI",
    "bri": "BRI",
    "mandiri": "MANDIRI",
    "permata": "PERMATA",
    "bsi": "BSI",
    "cimb": "CIMB",
}
METHOD_CODES = {"card": "CREDIT_CARD", "ovo": "OVO"}
PAID_STATUSES = ("PAID", "SETTLED")


class XenditGateway:
    name = "xendit"

    def checkout_create(self, request: CheckoutRequest) -> Checkout:
        answer = _invoice_post(_invoice_body(request))
        return Checkout(reference=_answer_text(answer, "id"), url=_answer_text(answer, "invoice_url"))

    def callback_read(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        _token_check(headers)
        return _event(callback_json(body))


def _invoice_body(request: CheckoutRequest) -> dict[str, Any]:
    return {
        "external_id": request.invoice_number,
        "amount": request.amount,
        "payer_email": request.payer_email,
        "description": request.description,
        "currency": "IDR",
        "invoice_duration": _seconds_left(request.expires_at),
        "success_redirect_url": request.return_url,
        "failure_redirect_url": request.return_url,
        "payment_methods": [_payment_method(request.method, request.bank)],
    }


def _seconds_left(deadline: datetime) -> int:
    # Rounded down, so that Xendit's invoice never outlives Relasi's; Xendit refuses a duration below one second.
    return max(1, int((deadline - timezone.now()).total_seconds()))


def _payment_method(method: str, bank: str) -> str:
    code = BANK_CODES.get(bank) if method == "virtual_account" else METHOD_CODES.get(method)
    if code is None:
        raise GatewayUnavailable(f"Xendit offers no payment method {method!r} (bank {bank!r}).")
    return code


def _invoice_post(body: dict[str, Any]) -> dict[str, Any]:
    secret = settings.XENDIT_SECRET_KEY
    url = f"{settings.XENDIT_API_URL.rstrip('/')}/v2/invoices"
    try:
        response = httpx.post(
            url,
            json=body,
            auth=(secret, ""),
            headers={"Accept": "application/json"},
            timeout=GATEWAY_TIMEOUT_SECONDS,
        )
    except httpx.TimeoutException:
        raise GatewayUnavailable(
            f"Xendit did not answer within {GATEWAY_TIMEOUT_SECONDS:g} seconds: no invoice was made."
        ) from None
    except httpx.HTTPError as error:
        raise GatewayUnavailable(
            f"Xendit could not be reached ({secret_hidden(str(error), secret)})."
        ) from None
    answer = answer_json(response)
    if not response.is_success:
        raise GatewayUnavailable(_refusal(response.status_code, answer, secret))
    if answer is None:
        raise GatewayUnavailable(f"Xendit answered HTTP {response.status_code} without a JSON object.")
    return answer


def _refusal(status: int, answer: dict[str, Any] | None, secret: str) -> str:
    """What Xendit said, for the operator's log: its error code and message, never the key."""
    said = ""
    if answer is not None:
        code = answer.get("error_code")
        message = answer.get("message")
        parts = [str(part)[:TEXT_MAX] for part in (code, message) if isinstance(part, str) and part]
        said = ": " + " — ".join(parts).rstrip(".") if parts else ""
    return secret_hidden(f"Xendit refused the invoice (HTTP {status}){said}.", secret)


def _answer_text(answer: dict[str, Any], key: str) -> str:
    value = answer.get(key)
    if not isinstance(value, str) or not value or len(value) > 2000:
        raise GatewayUnavailable(f"Xendit's invoice came back without its {key}.")
    return value


def _token_check(headers: Mapping[str, str]) -> None:
    expected = settings.XENDIT_CALLBACK_TOKEN
    given = header_of(headers, TOKEN_HEADER)
    if not expected:
        raise CallbackRefused("XENDIT_CALLBACK_TOKEN is not set: no callback can be verified.")
    if given is None or len(given) > 500:
        raise CallbackRefused(f"The {TOKEN_HEADER} header is missing.")
    # Bytes, so that a header of any characters compares (compare_digest refuses non-ASCII text).
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode()):
        raise CallbackRefused(f"The {TOKEN_HEADER} header is not this account's callback token.")


def _time(payload: Mapping[str, Any], key: str) -> datetime | None:
    """An ISO 8601 time with its offset (Xendit's are UTC: 2026-12-01T03:15:00.000Z), or None when absent."""
    if payload.get(key) is None:
        return None
    try:
        moment = datetime.fromisoformat(bounded_text(payload, key))
    except ValueError:
        raise CallbackInvalid(f"{key} is not an ISO 8601 time.") from None
    if moment.tzinfo is None:
        raise CallbackInvalid(f"{key} has no time zone.")
    return moment


def _event(payload: dict[str, Any]) -> GatewayEvent:
    status = bounded_text(payload, "status")
    invoice_number = bounded_text(payload, "external_id")
    if status in PAID_STATUSES:
        return GatewayEvent(
            # One payment of the invoice: PAID and a later SETTLED of it are the same change.
            event_id=bounded_text(payload, "payment_id"),
            invoice_number=invoice_number,
            status="paid",
            amount=_paid_amount(payload),
            occurred_at=_time(payload, "paid_at"),
            payload=payload,
            checkout_reference=bounded_text(payload, "id"),
        )
    if status == "EXPIRED":
        return GatewayEvent(
            event_id=f"{bounded_text(payload, 'id')}:expired",
            invoice_number=invoice_number,
            status="expired",
            amount=None,
            occurred_at=_time(payload, "updated"),
            payload=payload,
            checkout_reference=bounded_text(payload, "id"),
        )
    raise CallbackInvalid(
        f"Relasi reads Xendit's PAID, SETTLED and EXPIRED invoice callbacks, not {status!r}."
    )


def _paid_amount(payload: Mapping[str, Any]) -> int:
    # paid_amount is what the payer paid; amount only what the invoice asked, for a callback that omits it.
    key = "paid_amount" if payload.get("paid_amount") is not None else "amount"
    amount = whole_rupiah(payload.get(key))
    if amount is None:
        raise CallbackInvalid(f"{key} is not a whole number of rupiah.")
    return amount
