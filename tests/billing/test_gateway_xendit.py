"""The Xendit adapter against a local Xendit (tests/billing/fake_gateways.py): the invoice it asks for, what it
does when Xendit refuses or is away, and how it reads (or refuses) Xendit's invoice callbacks."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from relasi.billing.gateways import gateway_named
from relasi.billing.gateways.base import (
    CallbackInvalid,
    CallbackRefused,
    Checkout,
    CheckoutRequest,
    GatewayEvent,
    GatewayUnavailable,
)
from relasi.billing.gateways.xendit import XenditGateway
from tests.billing.fake_gateways import (  # noqa: F401 (the fixture)
    XENDIT_CALLBACK_TOKEN,
    XENDIT_SECRET_KEY,
    FakeGateways,
    checkout_request,
    closed_port,
    fake_gateways_fixture,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=JAKARTA)
# The invoice's deadline: 23:59:59 of the next day, 37 h 59 min 59 s (136,799 s) after NOW.
DEADLINE = datetime(2026, 12, 2, 23, 59, 59, tzinfo=JAKARTA)
RETURN_URL = "https://relasi.example/w/acme/billing/invoices/42"


@pytest.fixture(autouse=True)
def _xendit_is_the_fake(settings, fake_gateways: FakeGateways) -> None:
    settings.XENDIT_API_URL = fake_gateways.url
    settings.XENDIT_SECRET_KEY = XENDIT_SECRET_KEY
    settings.XENDIT_CALLBACK_TOKEN = XENDIT_CALLBACK_TOKEN


def _request(**values: object) -> CheckoutRequest:
    return checkout_request(
        **{"amount": 1_443_000, "expires_at": DEADLINE, "return_url": RETURN_URL, **values}
    )


def _checkout(**values: object) -> Checkout:
    with time_machine.travel(NOW, tick=False):
        return XenditGateway().checkout_create(_request(**values))


def test_the_gateway_is_found_by_its_name() -> None:
    gateway = gateway_named("xendit")
    assert isinstance(gateway, XenditGateway)
    assert gateway.name == "xendit"


def test_a_checkout_is_a_xendit_invoice_of_the_amount_until_the_deadline(fake_gateways: FakeGateways) -> None:
    # given an invoice due at 23:59:59 tomorrow, paid by BCA virtual account
    # when the adapter makes its checkout at 10:00
    checkout = _checkout()
    # then Xendit was asked for one invoice, with the secret key as the basic auth user
    [sent] = fake_gateways.received("POST", "/v2/invoices")
    assert sent.headers["authorization"] == "Basic eG5kX2RldmVsb3BtZW50X3JlbGFzaV9mYWtlX3NlY3JldDo="
    # and its body is Xendit's invoice: the number as external_id, the seconds left, BCA only
    assert sent.json == {
        "external_id": "INV/2026/12/000042",
        "amount": 1_443_000,
        "payer_email": "finance@acme.test",
        "description": "Relasi top-up, Acme Indonesia",
        "currency": "IDR",
        "invoice_duration": 136_799,
        "success_redirect_url": RETURN_URL,
        "failure_redirect_url": RETURN_URL,
        "payment_methods": ["BCA"],
    }
    # and the checkout is Xendit's invoice id and page
    [invoice] = fake_gateways.xendit_invoices.values()
    assert checkout == Checkout(
        reference=invoice["id"], url=f"https://checkout-staging.xendit.co/web/{invoice['id']}"
    )
    assert (invoice["status"], invoice["expiry_date"]) == ("PENDING", "2026-12-02T16:59:59.000Z")


@pytest.mark.parametrize(
    ("method", "bank", "code"),
    [
        ("virtual_account", "bni", "BNI"),
        ("virtual_account", "bri", "BRI"),
        ("virtual_account", "mandiri", "MANDIRI"),
        ("virtual_account", "permata", "PERMATA"),
        ("virtual_account", "bsi", "BSI"),
        ("virtual_account", "cimb", "CIMB"),
        ("card", "", "CREDIT_CARD"),
        ("ovo", "", "OVO"),
    ],
)
def test_the_invoice_offers_only_the_chosen_method(fake_gateways: FakeGateways, method, bank, code) -> None:
    _checkout(method=method, bank=bank)
    [sent] = fake_gateways.received("POST", "/v2/invoices")
    assert sent.json["payment_methods"] == [code]


def test_a_deadline_already_reached_asks_for_the_shortest_invoice(fake_gateways: FakeGateways) -> None:
    # given a deadline that passed while the payer chose (Xendit takes no duration below one second)
    _checkout(expires_at=NOW)
    # then the invoice lasts one second
    [sent] = fake_gateways.received("POST", "/v2/invoices")
    assert sent.json["invoice_duration"] == 1


def test_a_wrong_key_is_unavailable_with_xendits_error_code_and_never_the_key(settings) -> None:
    # given a secret key Xendit does not know
    settings.XENDIT_SECRET_KEY = "xnd_development_not_this_one"
    # when a checkout is made, then it is unavailable, saying what Xendit said
    with pytest.raises(GatewayUnavailable) as refused:
        _checkout()
    assert str(refused.value) == (
        "Xendit refused the invoice (HTTP 401): INVALID_API_KEY — API key is not authorized for this API service."
    )
    assert "xnd_development" not in str(refused.value)


def test_a_body_xendit_refuses_is_unavailable_with_its_validation_error() -> None:
    # given an amount Xendit refuses (a free invoice)
    with pytest.raises(GatewayUnavailable) as refused:
        _checkout(amount=0)
    # then the operator reads Xendit's own words
    assert str(refused.value) == (
        'Xendit refused the invoice (HTTP 400): API_VALIDATION_ERROR — "amount" must be a number larger than or '
        "equal to 1."
    )


def test_xendit_away_is_unavailable_at_once(settings) -> None:
    # given nothing listening where Xendit should be
    settings.XENDIT_API_URL = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    # when a checkout is made, then it is unavailable, and says so without waiting out the timeout
    with pytest.raises(GatewayUnavailable, match=r"^Xendit could not be reached \("):
        _checkout()
    assert time.monotonic() - started < 2


def _invoice_made(fake_gateways: FakeGateways, **values: object) -> str:
    return _checkout(**values).reference


def test_a_paid_callback_is_the_payment_by_its_id_and_paid_amount(fake_gateways: FakeGateways) -> None:
    # given Xendit's invoice of the checkout, paid at 03:15:00.250 UTC
    invoice_id = _invoice_made(fake_gateways)
    headers, body = fake_gateways.xendit_callback(
        invoice_id, "PAID", payment_id="6578e1d2a9b3c4d5e6f70812", paid_at="2026-12-01T03:15:00.250Z"
    )
    # when its callback is read
    event = XenditGateway().callback_read(headers=headers, body=body)
    # then it is the payment, once by its payment id, of the amount paid, when it was paid
    assert event == GatewayEvent(
        event_id="6578e1d2a9b3c4d5e6f70812",
        invoice_number="INV/2026/12/000042",
        status="paid",
        amount=1_443_000,
        occurred_at=datetime(2026, 12, 1, 3, 15, 0, 250_000, tzinfo=UTC),
        payload=json.loads(body),
        checkout_reference=invoice_id,
    )
    assert (event.payload["bank_code"], event.payload["payment_method"]) == ("BCA", "BANK_TRANSFER")


def test_the_paid_amount_counts_not_the_amount_asked(fake_gateways: FakeGateways) -> None:
    # given a payer who paid IDR 1,000,000 of the IDR 1,443,000 asked
    headers, body = fake_gateways.xendit_callback(_invoice_made(fake_gateways), "PAID", paid_amount=1_000_000)
    # then the event carries what was paid (the payments' rules send it to support)
    assert XenditGateway().callback_read(headers=headers, body=body).amount == 1_000_000


def test_without_a_paid_amount_the_amount_counts(fake_gateways: FakeGateways) -> None:
    headers, body = fake_gateways.xendit_callback(_invoice_made(fake_gateways), "PAID", paid_amount=None)
    assert XenditGateway().callback_read(headers=headers, body=body).amount == 1_443_000


def test_settled_is_the_same_payment_as_paid(fake_gateways: FakeGateways) -> None:
    # given the PAID and then the SETTLED callback of one payment
    invoice_id = _invoice_made(fake_gateways)
    gateway = XenditGateway()
    paid = gateway.callback_read(body=fake_gateways.xendit_callback(invoice_id, "PAID")[1], headers=_token())
    settled = gateway.callback_read(
        body=fake_gateways.xendit_callback(invoice_id, "SETTLED")[1], headers=_token()
    )
    # then both are the payment, under one event id, so that it is applied once
    assert (paid.status, settled.status) == ("paid", "paid")
    assert paid.event_id == settled.event_id


def test_an_expired_callback_is_the_invoice_expiring_with_no_amount(fake_gateways: FakeGateways) -> None:
    # given Xendit's invoice expiring at its deadline
    invoice_id = _invoice_made(fake_gateways)
    headers, body = fake_gateways.xendit_callback(invoice_id, "EXPIRED", updated="2026-12-02T17:00:00.512Z")
    # when its callback is read, then it is the expiry of that invoice, once
    assert XenditGateway().callback_read(headers=headers, body=body) == GatewayEvent(
        event_id=f"{invoice_id}:expired",
        invoice_number="INV/2026/12/000042",
        status="expired",
        amount=None,
        occurred_at=datetime(2026, 12, 2, 17, 0, 0, 512_000, tzinfo=UTC),
        payload=json.loads(body),
        checkout_reference=invoice_id,
    )


def _token(value: str = XENDIT_CALLBACK_TOKEN) -> dict[str, str]:
    return {"X-Callback-Token": value, "Content-Type": "application/json"}


def test_the_token_header_is_read_in_any_case(fake_gateways: FakeGateways) -> None:
    _headers, body = fake_gateways.xendit_callback(_invoice_made(fake_gateways))
    event = XenditGateway().callback_read(headers={"X-CALLBACK-TOKEN": XENDIT_CALLBACK_TOKEN}, body=body)
    assert event.status == "paid"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-callback-token": ""},
        {"x-callback-token": "relasi-fake-callback-tokeN"},
        {"x-callback-token": XENDIT_CALLBACK_TOKEN + " "},
        {"x-callback-token": "tökén"},
        {"x-callback-token": "x" * 10_000},
    ],
    ids=["missing", "empty", "wrong", "longer", "not-ascii", "huge"],
)
def test_a_callback_without_the_token_is_refused(fake_gateways: FakeGateways, headers) -> None:
    _headers, body = fake_gateways.xendit_callback(_invoice_made(fake_gateways))
    with pytest.raises(CallbackRefused):
        XenditGateway().callback_read(headers=headers, body=body)


def test_no_callback_is_taken_while_the_token_is_not_set(settings, fake_gateways: FakeGateways) -> None:
    # given an installation with no callback token: an empty header must not match it
    settings.XENDIT_CALLBACK_TOKEN = ""
    _headers, body = fake_gateways.xendit_callback(_invoice_made(fake_gateways))
    with pytest.raises(CallbackRefused, match="XENDIT_CALLBACK_TOKEN is not set"):
        XenditGateway().callback_read(headers={"x-callback-token": ""}, body=body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "The body is not JSON."),
        (b"\xff\xfe", "The body is not JSON."),
        (b"[" * 100_000, "The body is not JSON."),
        (b'["PAID"]', "The body is not a JSON object."),
    ],
    ids=["text", "not-utf8", "nested", "array"],
)
def test_a_body_that_is_no_json_object_is_invalid(body, message) -> None:
    with pytest.raises(CallbackInvalid, match=f"^{message}$"):
        XenditGateway().callback_read(headers=_token(), body=body)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"external_id": None}, "external_id is missing"),
        ({"payment_id": None}, "payment_id is missing"),
        ({"status": None}, "status is missing"),
        ({"status": "PENDING"}, "not 'PENDING'"),
        ({"paid_amount": 1_443_000.5}, "paid_amount is not a whole number of rupiah"),
        ({"paid_amount": "1443000.50"}, "paid_amount is not a whole number of rupiah"),
        ({"paid_amount": -1}, "paid_amount is not a whole number of rupiah"),
        ({"paid_amount": True}, "paid_amount is not a whole number of rupiah"),
        ({"paid_amount": None, "amount": None}, "amount is not a whole number of rupiah"),
        ({"external_id": "INV/" + "9" * 197}, "external_id is missing or not text of at most 200"),
        ({"payment_id": "pymt\x00-1"}, "payment_id is missing or not text"),
        ({"payment_id": 6578}, "payment_id is missing or not text"),
        ({"paid_at": "yesterday"}, "paid_at is not an ISO 8601 time"),
        ({"paid_at": "2026-12-01T03:15:00"}, "paid_at has no time zone"),
    ],
)
def test_a_paid_callback_relasi_cannot_read_is_invalid(fake_gateways: FakeGateways, fields, message) -> None:
    _headers, body = fake_gateways.xendit_callback(_invoice_made(fake_gateways), "PAID", **fields)
    with pytest.raises(CallbackInvalid, match=message):
        XenditGateway().callback_read(headers=_token(), body=body)


def test_an_expired_callback_without_its_invoice_id_is_invalid(fake_gateways: FakeGateways) -> None:
    _headers, body = fake_gateways.xendit_callback(_invoice_made(fake_gateways), "EXPIRED", id=None)
    with pytest.raises(CallbackInvalid, match=r"^id is missing or not text of at most 200 characters\.$"):
        XenditGateway().callback_read(headers=_token(), body=body)
