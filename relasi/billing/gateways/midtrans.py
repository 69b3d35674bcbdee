"""Midtrans (https://docs.midtrans.com): a Snap transaction per checkout (POST {snap}/v1/transactions), paid on
Midtrans's hosted Snap page, and the HTTP notification Midtrans sends when a transaction changes.

A notification is Midtrans's when its signature_key is SHA-512 of order_id + status_code + gross_amount + the
server key, over the strings exactly as sent. Even then it is only a hint: what Relasi reports is the transaction
as Midtrans's status API (GET {api}/v2/<order_id>/status) tells it at that moment, so that a replayed or
out-of-order notification cannot report a state the transaction is not in."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
    secret_hidden,
    whole_rupiah,
)

# Midtrans writes its times as "yyyy-MM-dd HH:mm:ss" in Western Indonesian Time, with no offset.
MIDTRANS_ZONE = ZoneInfo("Asia/Jakarta")
MIDTRANS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Snap's enabled_payments codes. Mandiri's virtual account is its bill payment, "echannel".
BANK_PAYMENTS = {
    "bca": "bca_va",
    "bni": "bni_va",
    "bri": "bri_va",
    "mandiri": "echannel",
    "permata": "permata_va",
    "bsi": "bsi_va",
    "cimb": "cimb_va",
}
# OVO is a Snap payment channel of its own ("ovo"): the payer approves in the OVO app within about a minute.
METHOD_PAYMENTS = {"card": "credit_card", "ovo": "ovo"}
# INV/2026/12/000042 and attempt 1 are order INV-2026-12-000042-1: Midtrans allows no "/" in an order id.
INVOICE_NUMBER = re.compile(r"INV/(\d{4})/(\d{2})/(\d{6,})")
ORDER_ID = re.compile(r"INV-(\d{4})-(\d{2})-(\d{6,})-([1-9]\d{0,5})")
# These expire on their own clock, not at the deadline Relasi gives Snap: OVO's charge after 65 seconds, a card's
# at its bank's 3DS page. One of them expiring is an attempt that failed; the invoice stays payable.
OWN_EXPIRY_PAYMENTS = ("ovo", "credit_card")


class MidtransGateway:
    name = "midtrans"

    def checkout_create(self, request: CheckoutRequest) -> Checkout:
        order_id = midtrans_order_id(request.invoice_number, request.attempt)
        answer = _midtrans_call("POST", _snap_url(), body=_snap_body(request, order_id))
        redirect_url = answer.get("redirect_url")
        if not isinstance(redirect_url, str) or not redirect_url or len(redirect_url) > 2000:
            raise GatewayUnavailable("Midtrans Snap answered without the payment page's redirect_url.")
        return Checkout(reference=order_id, url=redirect_url)

    def callback_read(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        notification = callback_json(body)
        order_id = _signature_check(notification)
        invoice_number = invoice_number_of(order_id)
        transaction = _midtrans_call("GET", _status_url(order_id))
        return _event(invoice_number, order_id, notification, transaction)


def midtrans_order_id(invoice_number: str, attempt: int) -> str:
    found = INVOICE_NUMBER.fullmatch(invoice_number)
    if found is None or not 1 <= attempt < 1_000_000:
        raise ValueError(
            f"{invoice_number!r} (attempt {attempt}) is not an invoice number Midtrans can carry."
        )
    year, month, sequence = found.groups()
    return f"INV-{year}-{month}-{sequence}-{attempt}"


def invoice_number_of(order_id: str) -> str:
    found = ORDER_ID.fullmatch(order_id)
    if found is None:
        raise CallbackInvalid(f"order_id {order_id!r} is not one of Relasi's invoices.")
    year, month, sequence, _attempt = found.groups()
    return f"INV/{year}/{month}/{sequence}"


def _snap_url() -> str:
    return f"{settings.MIDTRANS_SNAP_URL.rstrip('/')}/v1/transactions"


def _status_url(order_id: str) -> str:
    # order_id matched ORDER_ID: letters, digits and dashes only, safe in a path as it is.
    return f"{settings.MIDTRANS_API_URL.rstrip('/')}/v2/{order_id}/status"


def _snap_body(request: CheckoutRequest, order_id: str) -> dict[str, Any]:
    now = timezone.now().astimezone(MIDTRANS_ZONE)
    return {
        "transaction_details": {"order_id": order_id, "gross_amount": request.amount},
        "customer_details": {"email": request.payer_email},
        "enabled_payments": [_enabled_payment(request.method, request.bank)],
        "expiry": {
            "start_time": now.strftime("%Y-%m-%d %H:%M:%S %z"),
            "unit": "minute",
            # Rounded down, so that the Snap transaction never outlives Relasi's invoice.
            "duration": max(1, int((request.expires_at - now).total_seconds()) // 60),
        },
        "callbacks": {"finish": request.return_url},
    }


def _enabled_payment(method: str, bank: str) -> str:
    code = BANK_PAYMENTS.get(bank) if method == "virtual_account" else METHOD_PAYMENTS.get(method)
    if code is None:
        raise GatewayUnavailable(f"Midtrans Snap offers no payment method {method!r} (bank {bank!r}).")
    return code


def _midtrans_call(method: str, url: str, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
    key = settings.MIDTRANS_SERVER_KEY
    try:
        response = httpx.request(
            method,
            url,
            json=body,
            auth=(key, ""),
            headers={"Accept": "application/json"},
            timeout=GATEWAY_TIMEOUT_SECONDS,
        )
    except httpx.TimeoutException:
        raise GatewayUnavailable(
            f"Midtrans did not answer within {GATEWAY_TIMEOUT_SECONDS:g} seconds."
        ) from None
    except httpx.HTTPError as error:
        raise GatewayUnavailable(secret_hidden(f"Midtrans could not be reached ({error}).", key)) from None
    answer = answer_json(response)
    if answer is None:
        raise GatewayUnavailable(f"Midtrans answered HTTP {response.status_code} without a JSON object.")
    refusal = _refusal(response.status_code, answer)
    if refusal:
        raise GatewayUnavailable(secret_hidden(refusal, key))
    return answer


def _refusal(status: int, answer: dict[str, Any]) -> str:
    """What went wrong, for the operator's log; empty when nothing did. The status API answers an unknown order
    with HTTP 200 and "status_code": "404" in the body, but an expired transaction with HTTP 200, "status_code":
    "407" and its transaction_status: a 4xx or 5xx code in the body is a refusal only with no transaction."""
    body_code = answer.get("status_code")
    error_code = (
        isinstance(body_code, str) and body_code[:1] in ("4", "5") and "transaction_status" not in answer
    )
    if 200 <= status < 300 and not error_code:
        return ""
    messages = answer.get("error_messages")
    if not isinstance(messages, list):
        messages = [answer.get("status_message")]
    said = "; ".join(message[:TEXT_MAX] for message in messages[:3] if isinstance(message, str))
    code = f", status_code {body_code[:10]}" if isinstance(body_code, str) and body_code else ""
    return f"Midtrans refused (HTTP {status}{code}): {said.rstrip('.') or 'no message'}."


def _signature_check(notification: Mapping[str, Any]) -> str:
    """The notification's order_id, once its signature_key is the server key's."""
    key = settings.MIDTRANS_SERVER_KEY
    if not key:
        raise CallbackRefused("MIDTRANS_SERVER_KEY is not set: no notification can be verified.")
    given = bounded_text(notification, "signature_key", fault=CallbackRefused)
    order_id = bounded_text(notification, "order_id")
    signed = (
        order_id
        + bounded_text(notification, "status_code")
        + bounded_text(notification, "gross_amount")
        + key
    )
    expected = hashlib.sha512(signed.encode()).hexdigest()
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode()):
        raise CallbackRefused("signature_key is not this server key's signature of the notification.")
    return order_id


def _event(
    invoice_number: str, order_id: str, notification: dict[str, Any], transaction: dict[str, Any]
) -> GatewayEvent:
    if transaction.get("order_id") != order_id:
        raise GatewayUnavailable(f"Midtrans's status API answered for another order than {order_id}.")
    transaction_status = bounded_text(transaction, "transaction_status", fault=GatewayUnavailable).lower()
    fraud_status = transaction.get("fraud_status")
    status = _status(
        transaction_status,
        fraud_status=fraud_status if isinstance(fraud_status, str) else None,
        payment_type=transaction.get("payment_type"),
    )
    return GatewayEvent(
        # A transaction reaches each state once: a repeated notification of it is the same change.
        event_id=f"{bounded_text(transaction, 'transaction_id', fault=GatewayUnavailable)}:{status}",
        invoice_number=invoice_number,
        status=status,
        amount=_paid_amount(transaction) if status == "paid" else None,
        occurred_at=_occurred_at(transaction, status),
        payload={"notification": notification, "status": transaction},
        checkout_reference=order_id,
    )


def _status(transaction_status: str, *, fraud_status: str | None, payment_type: object) -> str:
    """Midtrans's transaction_status and fraud_status as a Relasi payment event status. Midtrans counts a payment
    as made when it is settlement (or capture, for a card) and its fraud_status, when it has one, is accept."""
    if transaction_status in ("settlement", "capture"):
        return {None: "paid", "accept": "paid", "challenge": "pending"}.get(fraud_status, "failed")
    if transaction_status in ("pending", "authorize"):
        return "pending"
    if transaction_status == "expire":
        return "failed" if payment_type in OWN_EXPIRY_PAYMENTS else "expired"
    if transaction_status in ("deny", "cancel", "failure"):
        return "failed"
    raise CallbackInvalid(f"Relasi does not take a Midtrans transaction that is {transaction_status!r}.")


def _paid_amount(transaction: Mapping[str, Any]) -> int:
    amount = whole_rupiah(transaction.get("gross_amount"))
    if amount is None:
        raise CallbackInvalid("gross_amount is not a whole number of rupiah.")
    return amount


def _occurred_at(transaction: Mapping[str, Any], status: str) -> datetime | None:
    # The time of the change itself where Midtrans gives it: settled, expired; else when the transaction was made.
    preferred = {"paid": "settlement_time", "expired": "expiry_time"}.get(status)
    for key in (preferred, "transaction_time"):
        if key is not None and transaction.get(key) is not None:
            return _time(transaction, key)
    return None


def _time(transaction: Mapping[str, Any], key: str) -> datetime:
    try:
        moment = datetime.strptime(bounded_text(transaction, key), MIDTRANS_TIME_FORMAT)
    except ValueError:
        raise CallbackInvalid(f"{key} is not a Midtrans time (yyyy-MM-dd HH:mm:ss).") from None
    return moment.replace(tzinfo=MIDTRANS_ZONE)
