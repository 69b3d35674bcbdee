"""Xendit and Midtrans as a local HTTP server, for the adapters' tests: it speaks the parts of each provider's
documented API that Relasi calls, checks what a provider checks (the key, the required fields), records every
request it receives, and builds the callbacks each provider sends, signed or tokened as the provider does.

Xendit (https://docs.xendit.co, the invoice API):
- POST /v2/invoices, basic auth with the secret key: 200 and the invoice (id, external_id, status PENDING,
  amount, invoice_url, expiry_date…); 401 INVALID_API_KEY; 400 API_VALIDATION_ERROR for a bad body;
- the invoice callback, PAID or EXPIRED, with the `x-callback-token` header.

Midtrans (https://docs.midtrans.com, Snap and the Core API's status):
- POST /snap/v1/transactions, basic auth with the server key: 201 and token + redirect_url; 401 and 400 with
  error_messages;
- GET /v2/<order_id>/status: the transaction as the test set it (`midtrans_transaction_set`), HTTP 200 with
  "status_code": "404" for an order with no transaction, as Midtrans answers;
- the HTTP notification, with signature_key = SHA-512(order_id + status_code + gross_amount + server key).

A test points the settings at `url` (XENDIT_API_URL, MIDTRANS_SNAP_URL = url + "/snap", MIDTRANS_API_URL)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from relasi.billing.gateways.base import CheckoutRequest

XENDIT_SECRET_KEY = "xnd_development_relasi_fake_secret"
XENDIT_CALLBACK_TOKEN = "relasi-fake-callback-token"
XENDIT_USER_ID = "5f2a6b1c9d8e7f6a5b4c3d2e"
XENDIT_PAYMENT_METHODS = {
    "BCA", "BNI", "BRI", "MANDIRI", "PERMATA", "BSI", "BJB", "SAHABAT_SAMPOERNA", "CIMB", "BNC",
    "ALFAMART", "INDOMARET", "OVO", "DANA", "SHOPEEPAY", "LINKAJA", "QRIS", "CREDIT_CARD",
}  # fmt: skip
XENDIT_MAX_DURATION = 31_536_000
MIDTRANS_SERVER_KEY = "SB-Mid-server-relasi-fake-key"
MIDTRANS_ZONE = ZoneInfo("Asia/Jakarta")
MIDTRANS_ORDER_ID = re.compile(r"[A-Za-z0-9\-_~.]{1,50}")
MIDTRANS_START_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}")
MIDTRANS_PAYMENTS = {
    "credit_card", "bca_va", "bni_va", "bri_va", "echannel", "permata_va", "cimb_va", "bsi_va", "danamon_va",
    "other_va", "gopay", "shopeepay", "other_qris", "dana", "ovo", "indomaret", "alfamart", "akulaku", "kredivo",
}  # fmt: skip
MIDTRANS_UNITS = {"minute", "minutes", "hour", "hours", "day", "days"}
# The status_code Midtrans gives each transaction_status (its status code list: 200 done, 201 waiting, 202
# denied, 407 expired).
MIDTRANS_STATUS_CODES = {
    "capture": "200",
    "settlement": "200",
    "cancel": "200",
    "pending": "201",
    "authorize": "201",
    "deny": "202",
    "failure": "202",
    "expire": "407",
}


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class FakeGateways:
    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.xendit_invoices: dict[str, dict[str, Any]] = {}
        self.snap_orders: dict[str, dict[str, Any]] = {}
        self.midtrans_transactions: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.gateways = self  # type: ignore[attr-defined]
        # A short poll, so that stopping the server after each test takes milliseconds, not half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def received(self, method: str, path: str) -> list[ReceivedRequest]:
        with self._lock:
            return [request for request in self.requests if (request.method, request.path) == (method, path)]

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    # Xendit

    def xendit_invoice_create(self, body: Any, authorization: str | None) -> tuple[int, dict[str, Any]]:
        if authorization != _basic(XENDIT_SECRET_KEY):
            return 401, {
                "error_code": "INVALID_API_KEY",
                "message": "API key is not authorized for this API service",
            }
        fault = _xendit_fault(body)
        if fault:
            return 400, {"error_code": "API_VALIDATION_ERROR", "message": fault}
        with self._lock:
            invoice = _xendit_invoice(body, number=len(self.xendit_invoices) + 1)
            self.xendit_invoices[invoice["id"]] = invoice
        return 200, invoice

    def xendit_callback(
        self, invoice_id: str, status: str = "PAID", /, **fields: Any
    ) -> tuple[dict[str, str], bytes]:
        """The invoice callback Xendit sends when the invoice is paid (status PAID) or expires (EXPIRED), with
        the callback token in its header; `fields` replace or add fields (None removes one)."""
        invoice = self.xendit_invoices[invoice_id]
        now = _xendit_time(datetime.now(tz=ZoneInfo("UTC")))
        body: dict[str, Any] = {
            "id": invoice["id"],
            "external_id": invoice["external_id"],
            "user_id": invoice["user_id"],
            "status": status,
            "merchant_name": invoice["merchant_name"],
            "amount": invoice["amount"],
            "payer_email": invoice.get("payer_email"),
            "description": invoice.get("description"),
            "currency": invoice["currency"],
            "created": invoice["created"],
            "updated": now,
        }
        if status in ("PAID", "SETTLED"):
            body.update(_xendit_payment(invoice, paid_at=now))
        body.update(fields)
        headers = {"x-callback-token": XENDIT_CALLBACK_TOKEN, "Content-Type": "application/json"}
        return headers, json.dumps({key: value for key, value in body.items() if value is not None}).encode()

    # Midtrans

    def snap_transaction_create(self, body: Any, authorization: str | None) -> tuple[int, dict[str, Any]]:
        if authorization != _basic(MIDTRANS_SERVER_KEY):
            return 401, {
                "error_messages": [
                    "Access denied due to unauthorized transaction, please check client or server key",
                    "Visit https://snap-docs.midtrans.com/#request-headers for more details",
                ]
            }
        faults = _snap_faults(body)
        with self._lock:
            if not faults and body["transaction_details"]["order_id"] in self.snap_orders:
                faults = ["transaction_details.order_id has already been taken"]
            if faults:
                return 400, {"error_messages": faults}
            token = str(uuid.uuid4())
            self.snap_orders[body["transaction_details"]["order_id"]] = {**body, "token": token}
        return 201, {"token": token, "redirect_url": f"{self.url}/snap/v3/redirection/{token}"}

    def midtrans_transaction_set(
        self, order_id: str, transaction_status: str, /, **fields: Any
    ) -> dict[str, Any]:
        """Make (or move) the order's transaction to `transaction_status`, as the payer's actions at Midtrans
        would; the status API answers it from then on. `fields` replace or add fields (None removes one)."""
        with self._lock:
            before = self.midtrans_transactions.get(order_id, {})
            transaction = {**_midtrans_transaction(order_id, self.snap_orders.get(order_id)), **before}
            transaction.update(
                transaction_status=transaction_status,
                status_code=MIDTRANS_STATUS_CODES.get(transaction_status, "200"),
                status_message="Success, transaction is found",
            )
            if transaction_status == "settlement":
                transaction["settlement_time"] = _midtrans_time(datetime.now(tz=MIDTRANS_ZONE))
            transaction.update(fields)
            transaction = {key: value for key, value in transaction.items() if value is not None}
            transaction["signature_key"] = midtrans_signature(transaction)
            self.midtrans_transactions[order_id] = transaction
            return dict(transaction)

    def midtrans_status(self, order_id: str, authorization: str | None) -> tuple[int, dict[str, Any]]:
        if authorization != _basic(MIDTRANS_SERVER_KEY):
            return 401, {
                "status_code": "401",
                "status_message": "Transaction cannot be authorized with the current client/server key.",
            }
        with self._lock:
            transaction = self.midtrans_transactions.get(order_id)
        if transaction is None:
            # Midtrans answers an unknown order with HTTP 200 and the 404 in the body.
            return 200, {
                "status_code": "404",
                "status_message": "Transaction doesn't exist.",
                "id": str(uuid.uuid4()),
            }
        return 200, dict(transaction)

    def midtrans_notification(self, order_id: str, /, **fields: Any) -> tuple[dict[str, str], bytes]:
        """The HTTP notification Midtrans sends for the order's transaction as it stands, signed with the server
        key over the fields as sent; `fields` replace or add fields (None removes one) before signing, unless
        they give signature_key themselves."""
        with self._lock:
            notification = dict(self.midtrans_transactions.get(order_id, {"order_id": order_id}))
        notification["status_message"] = "midtrans payment notification"
        notification.update(fields)
        notification = {key: value for key, value in notification.items() if value is not None}
        if "signature_key" not in fields:
            notification["signature_key"] = midtrans_signature(notification)
        headers = {"Content-Type": "application/json", "User-Agent": "Veritrans"}
        return headers, json.dumps(notification).encode()


def checkout_request(
    *, amount: int, expires_at: datetime, return_url: str, **values: object
) -> CheckoutRequest:
    """A checkout of INV/2026/12/000042 by BCA virtual account, as the payments service asks for one; `values`
    replace fields."""
    fields: dict[str, Any] = {
        "invoice_number": "INV/2026/12/000042",
        "amount": amount,
        "method": "virtual_account",
        "bank": "bca",
        "payer_email": "finance@acme.test",
        "description": "Relasi top-up, Acme Indonesia",
        "expires_at": expires_at,
        "attempt": 1,
        "return_url": return_url,
    }
    return CheckoutRequest(**{**fields, **values})


def closed_port() -> int:
    """A local port nothing listens on: a provider that is away."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def midtrans_signature(fields: dict[str, Any], server_key: str = MIDTRANS_SERVER_KEY) -> str:
    signed = f"{fields.get('order_id', '')}{fields.get('status_code', '')}{fields.get('gross_amount', '')}"
    return hashlib.sha512((signed + server_key).encode()).hexdigest()


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def _xendit_time(moment: datetime) -> str:
    return (
        moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )


def _midtrans_time(moment: datetime) -> str:
    return moment.astimezone(MIDTRANS_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def _xendit_fault(body: Any) -> str:
    """Xendit's validation of an invoice, as far as Relasi's fields go: the first fault, or empty."""
    if not isinstance(body, dict):
        return '"value" must be an object'
    if not isinstance(body.get("external_id"), str) or not body["external_id"]:
        return '"external_id" is required'
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 1:
        return '"amount" must be a number larger than or equal to 1'
    if body.get("currency", "IDR") != "IDR":
        return '"currency" must be one of [IDR]'
    duration = body.get("invoice_duration", 86_400)
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int)
        or not 1 <= duration <= XENDIT_MAX_DURATION
    ):
        return f'"invoice_duration" must be an integer from 1 to {XENDIT_MAX_DURATION}'
    methods = body.get("payment_methods", ["BCA"])
    if not isinstance(methods, list) or not methods or not set(methods) <= XENDIT_PAYMENT_METHODS:
        return '"payment_methods" contains an invalid value'
    return ""


def _xendit_invoice(body: dict[str, Any], *, number: int) -> dict[str, Any]:
    now = datetime.now(tz=ZoneInfo("UTC"))
    invoice_id = f"65f0c0ffee{number:014d}"
    return {
        "id": invoice_id,
        "external_id": body["external_id"],
        "user_id": XENDIT_USER_ID,
        "status": "PENDING",
        "merchant_name": "Relasi Test",
        "merchant_profile_picture_url": "https://du8nwjtfkinx.cloudfront.net/xendit.png",
        "amount": body["amount"],
        "payer_email": body.get("payer_email"),
        "description": body.get("description"),
        "expiry_date": _xendit_time(now + timedelta(seconds=body.get("invoice_duration", 86_400))),
        "invoice_url": f"https://checkout-staging.xendit.co/web/{invoice_id}",
        "available_banks": [],
        "available_retail_outlets": [],
        "available_ewallets": [],
        "available_qr_codes": [],
        "available_direct_debits": [],
        "available_paylaters": [],
        "should_exclude_credit_card": False,
        "should_send_email": False,
        "success_redirect_url": body.get("success_redirect_url"),
        "failure_redirect_url": body.get("failure_redirect_url"),
        "created": _xendit_time(now),
        "updated": _xendit_time(now),
        "currency": body.get("currency", "IDR"),
        "payment_methods": body.get("payment_methods"),
    }


def _xendit_payment(invoice: dict[str, Any], *, paid_at: str) -> dict[str, Any]:
    """What a PAID callback adds to the invoice: the payment, by the invoice's one payment method."""
    method = (invoice.get("payment_methods") or ["BCA"])[0]
    payment = {
        "paid_amount": invoice["amount"],
        "paid_at": paid_at,
        "payment_id": f"pymt-{uuid.uuid5(uuid.NAMESPACE_URL, invoice['id'])}",
        "payment_channel": method,
    }
    if method == "CREDIT_CARD":
        return {**payment, "payment_method": "CREDIT_CARD"}
    if method == "OVO":
        return {**payment, "payment_method": "EWALLET", "ewallet_type": "OVO"}
    return {
        **payment,
        "payment_method": "BANK_TRANSFER",
        "bank_code": method,
        "payment_destination": "8808999912345",
    }


def _snap_faults(body: Any) -> list[str]:
    """Snap's validation of a transaction, as far as Relasi's fields go."""
    if not isinstance(body, dict) or not isinstance(body.get("transaction_details"), dict):
        return ["transaction_details is required"]
    details = body["transaction_details"]
    faults = []
    if not isinstance(details.get("order_id"), str) or not MIDTRANS_ORDER_ID.fullmatch(details["order_id"]):
        faults.append("transaction_details.order_id is invalid: up to 50 letters, digits, -, _, ~ or .")
    amount = details.get("gross_amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        faults.append("transaction_details.gross_amount must be an integer of at least 1")
    payments = body.get("enabled_payments", ["credit_card"])
    if not isinstance(payments, list) or not set(payments) <= MIDTRANS_PAYMENTS:
        faults.append("enabled_payments contains an unknown payment type")
    return faults + _snap_expiry_faults(body.get("expiry"))


def _snap_expiry_faults(expiry: Any) -> list[str]:
    if expiry is None:
        return []
    if not isinstance(expiry, dict):
        return ["expiry must be an object"]
    faults = []
    if "start_time" in expiry and not MIDTRANS_START_TIME.fullmatch(str(expiry["start_time"])):
        faults.append("expiry.start_time must be in yyyy-MM-dd HH:mm:ss Z format")
    if expiry.get("unit") not in MIDTRANS_UNITS:
        faults.append("expiry.unit must be minute, hour or day")
    duration = expiry.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 1:
        faults.append("expiry.duration must be a positive integer")
    return faults


def _midtrans_transaction(order_id: str, snap_order: dict[str, Any] | None) -> dict[str, Any]:
    """A transaction as the status API shows it once the payer chose the Snap order's payment method."""
    gross_amount = snap_order["transaction_details"]["gross_amount"] if snap_order else 150_000
    payment = (snap_order or {}).get("enabled_payments", ["bca_va"])[0]
    transaction = {
        "order_id": order_id,
        "transaction_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"midtrans:{order_id}")),
        "merchant_id": "G141532850",
        "gross_amount": f"{gross_amount}.00",
        "currency": "IDR",
        "transaction_time": _midtrans_time(datetime.now(tz=MIDTRANS_ZONE)),
        "expiry_time": _midtrans_time(datetime.now(tz=MIDTRANS_ZONE) + timedelta(days=1)),
        "fraud_status": "accept",
    }
    if payment.endswith("_va"):
        bank = payment.removesuffix("_va")
        return {
            **transaction,
            "payment_type": "bank_transfer",
            "va_numbers": [{"bank": bank, "va_number": "8808123456789"}],
        }
    return {**transaction, "payment_type": payment}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = self._received()
        body = _json_or_none(request.body)
        authorization = request.headers.get("authorization")
        if request.path == "/v2/invoices":
            self._answer(*self._gateways.xendit_invoice_create(body, authorization))
        elif request.path == "/snap/v1/transactions":
            self._answer(*self._gateways.snap_transaction_create(body, authorization))
        else:
            self._answer(404, {"message": "Not found"})

    def do_GET(self) -> None:
        request = self._received()
        found = re.fullmatch(r"/v2/([^/]+)/status", request.path)
        if found is None:
            self._answer(404, {"message": "Not found"})
            return
        self._answer(*self._gateways.midtrans_status(found.group(1), request.headers.get("authorization")))

    @property
    def _gateways(self) -> FakeGateways:
        return self.server.gateways  # type: ignore[attr-defined, no-any-return]

    def _received(self) -> ReceivedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        request = ReceivedRequest(
            method=self.command,
            path=self.path,
            headers={key.lower(): value for key, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        self._gateways._record(request)
        return request

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        encoded = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: the tests read `requests`, not the server's log.
        pass


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


@pytest.fixture(name="fake_gateways")
def fake_gateways_fixture() -> Iterator[FakeGateways]:
    """The fake providers, started on a free local port for one test and stopped after it."""
    gateways = FakeGateways()
    gateways.start()
    try:
        yield gateways
    finally:
        gateways.stop()
