"""What every payment gateway does for Relasi, whoever runs it: make a checkout for an invoice (a page where the
payer pays) and read a callback into a `GatewayEvent` — verified on the raw body first. What an event does to
the invoice and the balances is the gateways' common rule, in relasi.billing.payments, never an adapter's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

# A callback body larger than this is refused before it is read (every provider's fits in a few kilobytes).
CALLBACK_MAX_BYTES = 64 * 1024
# An outbound call to a gateway waits at most this long: a page must answer, not hang on a provider.
GATEWAY_TIMEOUT_SECONDS = 15.0
# The years a gateway's event may happen in.
YEARS = (2000, 2100)
# A text a callback or a provider's answer carries (an id, a status, a time) is at most this long.
TEXT_MAX = 200


@dataclass(frozen=True)
class CheckoutRequest:
    # The invoice's number (INV/2026/12/000042); an adapter derives its provider's order id from it and the
    # attempt, so that a callback names the invoice.
    invoice_number: str
    # What the payer pays, in whole rupiah (the card fee included when paying by card).
    amount: int
    # relasi.billing.models.PaymentMethod and Bank values.
    method: str
    bank: str
    payer_email: str
    description: str
    expires_at: datetime
    # 1 for an invoice's first checkout, 2 when the payer chose another method…
    attempt: int
    # Where the payer comes back to: the invoice's page.
    return_url: str


@dataclass(frozen=True)
class Checkout:
    # The provider's id of the checkout (its invoice id, its order id), and the page the payer goes to.
    reference: str
    url: str


@dataclass(frozen=True)
class GatewayEvent:
    """A verified callback: `event_id` is unique at the provider for this change (a payment id, a transaction and
    its status), so recording it once is recording the change once."""

    event_id: str
    invoice_number: str
    # relasi.billing.models.PaymentEventStatus: paid, expired, failed or pending.
    status: str
    # Whole rupiah paid, or None when the event carries no payment.
    amount: int | None
    occurred_at: datetime | None
    payload: dict[str, Any] = field(default_factory=dict)
    # The provider's id of the checkout the event is about (relasi.billing.models.Invoice.gateway_reference), when
    # it says: an EXPIRED of an earlier checkout does not expire the invoice.
    checkout_reference: str = ""

    def __post_init__(self) -> None:
        # A time the database and the deadline can hold: year 1 or 9999 with an offset overflows either.
        moment = self.occurred_at
        if moment is not None and (moment.tzinfo is None or not YEARS[0] <= moment.year <= YEARS[1]):
            raise CallbackInvalid(
                f"The time of the event is not a moment of the years {YEARS[0]}–{YEARS[1]}."
            )


class CallbackRefused(Exception):
    """The callback is not the provider's: a bad signature or token (401)."""


class CallbackInvalid(Exception):
    """The callback is the provider's but not one Relasi can read (400)."""


class GatewayUnavailable(Exception):
    """The provider did not answer, or answered with an error: nothing was made, try again."""


class Gateway(Protocol):
    name: str

    def checkout_create(self, request: CheckoutRequest) -> Checkout: ...

    def callback_read(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent: ...


def whole_rupiah(value: object) -> int | None:
    """A provider's amount as whole rupiah: 1443000, 1443000.0 or "1443000.00"; None for anything else (a fraction
    of a rupiah, a negative, a number too large, text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and len(value) <= 20:
        whole, _, cents = value.strip().partition(".")
        if not whole.isdigit() or not all(digit == "0" for digit in cents) or not whole.isascii():
            return None
        number = int(whole)
    else:
        return None
    return number if 0 <= number <= 10**15 else None


def callback_json(body: bytes) -> dict[str, Any]:
    """A callback's body as a JSON object, or CallbackInvalid."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise CallbackInvalid("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise CallbackInvalid("The body is not a JSON object.")
    return payload


def bounded_text(payload: Mapping[str, Any], key: str, *, fault: type[Exception] = CallbackInvalid) -> str:
    """A field that must be text of 1 to TEXT_MAX characters without NUL; `fault` (CallbackInvalid by default)
    otherwise."""
    value = payload.get(key)
    if not isinstance(value, str) or not value or len(value) > TEXT_MAX or "\x00" in value:
        raise fault(f"{key} is missing or not text of at most {TEXT_MAX} characters.")
    return value


def header_of(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name: Django's request.headers ignore case, a plain mapping may not."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def answer_json(response: httpx.Response) -> dict[str, Any] | None:
    """A provider's answer as a JSON object, or None when it is not one."""
    try:
        answer = response.json()
    except (ValueError, RecursionError):
        return None
    return answer if isinstance(answer, dict) else None


def secret_hidden(text: str, secret: str) -> str:
    """`text` for a log or a message, with the key it might quote (an error echoing a URL or auth) blanked."""
    return text.replace(secret, "[secret key]") if secret else text
