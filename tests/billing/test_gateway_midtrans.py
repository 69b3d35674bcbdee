"""The Midtrans adapter against a local Midtrans (tests/billing/fake_gateways.py): the Snap transaction it asks
for, what it does when Midtrans refuses or is away, and how it reads a notification — signed over the exact
strings, then taken as the status API tells the transaction, never as the notification claims it."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta
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
from relasi.billing.gateways.midtrans import MidtransGateway, invoice_number_of, midtrans_order_id
from tests.billing.fake_gateways import (  # noqa: F401 (the fixture)
    MIDTRANS_SERVER_KEY,
    FakeGateways,
    checkout_request,
    closed_port,
    fake_gateways_fixture,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=JAKARTA)
# The invoice's deadline: 23:59:59 of the next day, 37 h 59 min 59 s (2,279 whole minutes) after NOW.
DEADLINE = datetime(2026, 12, 2, 23, 59, 59, tzinfo=JAKARTA)
RETURN_URL = "https://relasi.example/w/acme/billing/invoices/42"
ORDER_ID = "INV-2026-12-000042-1"


@pytest.fixture(autouse=True)
def _midtrans_is_the_fake(settings, fake_gateways: FakeGateways) -> None:
    settings.MIDTRANS_SNAP_URL = f"{fake_gateways.url}/snap"
    settings.MIDTRANS_API_URL = fake_gateways.url
    settings.MIDTRANS_SERVER_KEY = MIDTRANS_SERVER_KEY


def _request(**values: object) -> CheckoutRequest:
    return checkout_request(**{"amount": 150_000, "expires_at": DEADLINE, "return_url": RETURN_URL, **values})


def _checkout(**values: object) -> Checkout:
    with time_machine.travel(NOW, tick=False):
        return MidtransGateway().checkout_create(_request(**values))


def test_the_gateway_is_found_by_its_name() -> None:
    gateway = gateway_named("midtrans")
    assert isinstance(gateway, MidtransGateway)
    assert gateway.name == "midtrans"


def test_a_checkout_is_a_snap_transaction_of_the_amount_until_the_deadline(
    fake_gateways: FakeGateways,
) -> None:
    # given an invoice due at 23:59:59 tomorrow, paid by BCA virtual account, first attempt
    # when the adapter makes its checkout at 10:00 WIB
    checkout = _checkout()
    # then Snap was asked for one transaction, with the server key as the basic auth user
    [sent] = fake_gateways.received("POST", "/snap/v1/transactions")
    assert sent.headers["authorization"] == "Basic U0ItTWlkLXNlcnZlci1yZWxhc2ktZmFrZS1rZXk6"
    # and its body is Snap's: the number made an order id, BCA VA only, expiring in the whole minutes left
    assert sent.json == {
        "transaction_details": {"order_id": "INV-2026-12-000042-1", "gross_amount": 150_000},
        "customer_details": {"email": "finance@acme.test"},
        "enabled_payments": ["bca_va"],
        "expiry": {"start_time": "2026-12-01 10:00:00 +0700", "unit": "minute", "duration": 2_279},
        "callbacks": {"finish": RETURN_URL},
    }
    # and the checkout is the order id and Snap's payment page
    token = fake_gateways.snap_orders[ORDER_ID]["token"]
    assert checkout == Checkout(reference=ORDER_ID, url=f"{fake_gateways.url}/snap/v3/redirection/{token}")


@pytest.mark.parametrize(
    ("method", "bank", "code"),
    [
        ("virtual_account", "bni", "bni_va"),
        ("virtual_account", "bri", "bri_va"),
        ("virtual_account", "mandiri", "echannel"),
        ("virtual_account", "permata", "permata_va"),
        ("virtual_account", "bsi", "bsi_va"),
        ("virtual_account", "cimb", "cimb_va"),
        ("card", "", "credit_card"),
        ("ovo", "", "ovo"),
    ],
)
def test_the_snap_page_offers_only_the_chosen_method(fake_gateways: FakeGateways, method, bank, code) -> None:
    _checkout(method=method, bank=bank)
    [sent] = fake_gateways.received("POST", "/snap/v1/transactions")
    assert sent.json["enabled_payments"] == [code]


def test_each_attempt_is_its_own_order_and_maps_back_to_the_invoice() -> None:
    # given the 12th checkout of an invoice whose sequence outgrew six digits
    order_id = midtrans_order_id("INV/2027/01/1234567", 12)
    # then the order id has no slash, and names the invoice again in a notification
    assert order_id == "INV-2027-01-1234567-12"
    assert invoice_number_of(order_id) == "INV/2027/01/1234567"
    assert invoice_number_of(ORDER_ID) == "INV/2026/12/000042"


def test_a_second_checkout_of_one_attempt_is_refused_by_snap(fake_gateways: FakeGateways) -> None:
    # given attempt 1's Snap transaction already made (Midtrans takes an order id once)
    _checkout()
    # when it is asked again, then Snap's refusal is the operator's message
    with pytest.raises(GatewayUnavailable) as refused:
        _checkout()
    assert str(refused.value) == (
        "Midtrans refused (HTTP 400): transaction_details.order_id has already been taken."
    )


def test_a_wrong_key_is_unavailable_with_snaps_message_and_never_the_key(settings) -> None:
    settings.MIDTRANS_SERVER_KEY = "SB-Mid-server-not-this-one"
    with pytest.raises(GatewayUnavailable) as refused:
        _checkout()
    assert str(refused.value).startswith(
        "Midtrans refused (HTTP 401): Access denied due to unauthorized transaction, please check client or "
        "server key; "
    )
    assert "SB-Mid-server" not in str(refused.value)


def test_snap_away_is_unavailable_at_once(settings) -> None:
    settings.MIDTRANS_SNAP_URL = f"http://127.0.0.1:{closed_port()}/snap"
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match=r"^Midtrans could not be reached \("):
        _checkout()
    assert time.monotonic() - started < 2


def _paid_at_midtrans(fake_gateways: FakeGateways, **fields: object) -> dict:
    """The checkout made, and the payer's transfer settled at 11:30:05 WIB."""
    _checkout()
    fake_gateways.midtrans_transaction_set(ORDER_ID, "pending", transaction_time="2026-12-01 11:29:40")
    return fake_gateways.midtrans_transaction_set(
        ORDER_ID, "settlement", **{"settlement_time": "2026-12-01 11:30:05", **fields}
    )


def test_a_settlement_is_the_payment_as_the_status_api_tells_it(fake_gateways: FakeGateways) -> None:
    # given a transaction settled at Midtrans, and its notification
    transaction = _paid_at_midtrans(fake_gateways)
    headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    # when the notification is read
    event = MidtransGateway().callback_read(headers=headers, body=body)
    # then the status API was asked, with the server key
    [asked] = fake_gateways.received("GET", f"/v2/{ORDER_ID}/status")
    assert asked.headers["authorization"] == "Basic U0ItTWlkLXNlcnZlci1yZWxhc2ktZmFrZS1rZXk6"
    # and the event is the transaction's payment, once, of its amount, at its settlement time in WIB
    assert event == GatewayEvent(
        event_id=f"{transaction['transaction_id']}:paid",
        invoice_number="INV/2026/12/000042",
        status="paid",
        amount=150_000,
        occurred_at=datetime(2026, 12, 1, 11, 30, 5, tzinfo=JAKARTA),
        payload={"notification": json.loads(body), "status": transaction},
        checkout_reference=ORDER_ID,
    )
    assert event.occurred_at is not None and event.occurred_at.utcoffset() == timedelta(hours=7)


def test_a_notification_claiming_settlement_is_pending_while_the_status_api_says_pending(
    fake_gateways: FakeGateways,
) -> None:
    # given a transaction still pending at Midtrans
    _checkout()
    transaction = fake_gateways.midtrans_transaction_set(
        ORDER_ID, "pending", transaction_time="2026-12-01 11:29:40"
    )
    # and a correctly signed notification that claims it settled (replayed from elsewhere, or out of order)
    headers, body = fake_gateways.midtrans_notification(
        ORDER_ID, transaction_status="settlement", status_code="200"
    )
    assert json.loads(body)["transaction_status"] == "settlement"
    # when it is read, then the status API wins: pending, carrying no payment
    assert MidtransGateway().callback_read(headers=headers, body=body) == GatewayEvent(
        event_id=f"{transaction['transaction_id']}:pending",
        invoice_number="INV/2026/12/000042",
        status="pending",
        amount=None,
        occurred_at=datetime(2026, 12, 1, 11, 29, 40, tzinfo=JAKARTA),
        payload={"notification": json.loads(body), "status": transaction},
        checkout_reference=ORDER_ID,
    )


def test_a_late_pending_notification_of_a_settled_transaction_is_the_payment_again(
    fake_gateways: FakeGateways,
) -> None:
    # given the pending notification, delivered after the transaction settled
    _checkout()
    fake_gateways.midtrans_transaction_set(ORDER_ID, "pending")
    headers, pending_body = fake_gateways.midtrans_notification(ORDER_ID)
    fake_gateways.midtrans_transaction_set(ORDER_ID, "settlement")
    _headers, settled_body = fake_gateways.midtrans_notification(ORDER_ID)
    gateway = MidtransGateway()
    # then both read as the one payment: the same event id, so that it is applied once
    late = gateway.callback_read(headers=headers, body=pending_body)
    settled = gateway.callback_read(headers=headers, body=settled_body)
    assert (late.status, late.event_id) == (settled.status, settled.event_id) == ("paid", late.event_id)


@pytest.mark.parametrize(
    ("transaction_status", "fraud_status", "status", "amount"),
    [
        ("capture", "accept", "paid", 150_000),
        ("settlement", None, "paid", 150_000),
        ("capture", "challenge", "pending", None),
        ("settlement", "deny", "failed", None),
        ("pending", "accept", "pending", None),
        ("authorize", "accept", "pending", None),
        ("expire", "accept", "expired", None),
        ("deny", "deny", "failed", None),
        ("cancel", "accept", "failed", None),
        ("failure", "accept", "failed", None),
    ],
)
def test_each_midtrans_state_is_a_relasi_status(
    fake_gateways: FakeGateways, transaction_status, fraud_status, status, amount
) -> None:
    _checkout()
    transaction = fake_gateways.midtrans_transaction_set(
        ORDER_ID, transaction_status, fraud_status=fraud_status
    )
    headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    event = MidtransGateway().callback_read(headers=headers, body=body)
    assert (event.status, event.amount, event.event_id) == (
        status,
        amount,
        f"{transaction['transaction_id']}:{status}",
    )


@pytest.mark.parametrize(
    ("method", "bank", "payment_type", "status"),
    [
        ("virtual_account", "bca", "bank_transfer", "expired"),
        ("virtual_account", "mandiri", "echannel", "expired"),
        ("ovo", "", "ovo", "failed"),
        ("card", "", "credit_card", "failed"),
    ],
)
def test_only_a_transaction_that_expires_at_the_deadline_is_the_checkout_expiring(
    fake_gateways: FakeGateways, method, bank, payment_type, status
) -> None:
    # given a Snap checkout whose payer chose the method, and the transaction expiring at Midtrans: a virtual
    # account at the deadline Relasi gave Snap, OVO after its fixed 65 seconds, a card at its bank's 3DS page
    _checkout(method=method, bank=bank)
    transaction = fake_gateways.midtrans_transaction_set(ORDER_ID, "expire")
    assert transaction["payment_type"] == payment_type
    headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    # then a lapsed OVO or card attempt is a failed one (the invoice stays payable by another checkout)
    assert MidtransGateway().callback_read(headers=headers, body=body).status == status


def test_an_expiry_happens_at_the_transactions_expiry_time(fake_gateways: FakeGateways) -> None:
    _checkout()
    fake_gateways.midtrans_transaction_set(ORDER_ID, "expire", expiry_time="2026-12-02 23:59:00")
    headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    event = MidtransGateway().callback_read(headers=headers, body=body)
    assert (event.status, event.occurred_at) == ("expired", datetime(2026, 12, 2, 23, 59, tzinfo=JAKARTA))


def test_the_signature_is_over_the_exact_strings_sent(fake_gateways: FakeGateways) -> None:
    # given a settled transaction whose notification says gross_amount "150000.00"
    _paid_at_midtrans(fake_gateways)
    headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    sent = json.loads(body)
    assert sent["gross_amount"] == "150000.00"
    # then its signature is SHA-512 of order_id, status_code, gross_amount and the key, as sent
    signed = f"{ORDER_ID}200150000.00{MIDTRANS_SERVER_KEY}"
    assert sent["signature_key"] == hashlib.sha512(signed.encode()).hexdigest()
    # and a signature over the same amount written otherwise ("150000") is not it
    other = hashlib.sha512(f"{ORDER_ID}200150000{MIDTRANS_SERVER_KEY}".encode()).hexdigest()
    with pytest.raises(CallbackRefused):
        MidtransGateway().callback_read(
            headers=headers, body=json.dumps({**sent, "signature_key": other}).encode()
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"signature_key": None},
        {"signature_key": ""},
        {"signature_key": "0" * 128},
        {"signature_key": "ü" * 128},
        {"signature_key": "a" * 5_000},
        {"gross_amount": "1500000.00", "signature_key": "unchanged"},
        {"transaction_status": "settlement", "status_code": "200", "signature_key": "of the pending one"},
    ],
    ids=["missing", "empty", "wrong", "not-ascii", "huge", "amount-changed", "status-changed"],
)
def test_a_notification_without_the_servers_signature_is_refused_before_asking_midtrans(
    fake_gateways: FakeGateways, fields
) -> None:
    # given a pending transaction and its genuine notification
    _checkout()
    fake_gateways.midtrans_transaction_set(ORDER_ID, "pending")
    _headers, genuine = fake_gateways.midtrans_notification(ORDER_ID)
    genuine_signature = json.loads(genuine)["signature_key"]
    if fields.get("signature_key") in ("unchanged", "of the pending one"):
        fields = {**fields, "signature_key": genuine_signature}
    # when a notification with a missing, wrong or stale signature comes
    _headers, body = fake_gateways.midtrans_notification(ORDER_ID, **fields)
    with pytest.raises(CallbackRefused):
        MidtransGateway().callback_read(headers={}, body=body)
    # then it is refused, and the status API was not asked
    assert fake_gateways.received("GET", f"/v2/{ORDER_ID}/status") == []


def test_no_notification_is_taken_while_the_server_key_is_not_set(
    settings, fake_gateways: FakeGateways
) -> None:
    _paid_at_midtrans(fake_gateways)
    _headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    settings.MIDTRANS_SERVER_KEY = ""
    with pytest.raises(CallbackRefused, match="MIDTRANS_SERVER_KEY is not set"):
        MidtransGateway().callback_read(headers={}, body=body)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"order_id": None}, "^order_id is missing or not text of at most 200 characters.$"),
        ({"status_code": None}, "^status_code is missing"),
        ({"gross_amount": None}, "^gross_amount is missing"),
        ({"gross_amount": 150000}, "^gross_amount is missing or not text"),
        ({"order_id": "INV-2026-12-" + "4" * 200 + "-1"}, "^order_id is missing or not text of at most 200"),
        ({"order_id": "INV-2026-12-000042\x00-1"}, "^order_id is missing or not text"),
        ({"order_id": "ORDER-101"}, "^order_id 'ORDER-101' is not one of Relasi's invoices.$"),
        ({"order_id": "INV-2026-12-000042"}, "is not one of Relasi's invoices"),
        ({"order_id": "INV-2026-12-00042-1"}, "is not one of Relasi's invoices"),
    ],
)
def test_a_signed_notification_relasi_cannot_read_is_invalid(
    fake_gateways: FakeGateways, fields, message
) -> None:
    # given notifications correctly signed over what they carry, but not readable as Relasi's
    _paid_at_midtrans(fake_gateways)
    _headers, body = fake_gateways.midtrans_notification(ORDER_ID, **fields)
    with pytest.raises(CallbackInvalid, match=message):
        MidtransGateway().callback_read(headers={}, body=body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"order_id=INV-2026-12-000042-1", "^The body is not JSON.$"),
        (b"{" * 100_000, "^The body is not JSON.$"),
        (b"[]", "^The body is not a JSON object.$"),
    ],
)
def test_a_body_that_is_no_json_object_is_invalid(body, message) -> None:
    with pytest.raises(CallbackInvalid, match=message):
        MidtransGateway().callback_read(headers={}, body=body)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"gross_amount": "150000.50"}, "^gross_amount is not a whole number of rupiah.$"),
        ({"transaction_status": "refund"}, "^Relasi does not take a Midtrans transaction that is 'refund'.$"),
        ({"settlement_time": "2026-12-01T11:30:05+07:00"}, "^settlement_time is not a Midtrans time"),
    ],
)
def test_a_transaction_relasi_cannot_take_is_invalid(fake_gateways: FakeGateways, fields, message) -> None:
    # given a transaction whose state as the status API tells it is not one Relasi can record
    _paid_at_midtrans(fake_gateways, **fields)
    headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    with pytest.raises(CallbackInvalid, match=message):
        MidtransGateway().callback_read(headers=headers, body=body)


def test_the_status_api_away_is_unavailable_so_that_midtrans_retries(
    settings, fake_gateways: FakeGateways
) -> None:
    # given a genuine notification, and the status API unreachable
    _paid_at_midtrans(fake_gateways)
    headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    settings.MIDTRANS_API_URL = f"http://127.0.0.1:{closed_port()}"
    # then nothing is reported: the webhook answers 5xx and Midtrans sends it again later
    with pytest.raises(GatewayUnavailable, match=r"^Midtrans could not be reached \("):
        MidtransGateway().callback_read(headers=headers, body=body)


def test_an_order_the_status_api_does_not_know_is_unavailable(fake_gateways: FakeGateways) -> None:
    # given a genuine notification for an order the status API has no transaction of (a sandbox key against
    # the production API, say): HTTP 200 with "status_code": "404" in the body
    _checkout()
    headers, body = fake_gateways.midtrans_notification(
        ORDER_ID, transaction_status="settlement", status_code="200", gross_amount="150000.00"
    )
    with pytest.raises(GatewayUnavailable) as unavailable:
        MidtransGateway().callback_read(headers=headers, body=body)
    assert (
        str(unavailable.value) == "Midtrans refused (HTTP 200, status_code 404): Transaction doesn't exist."
    )


def test_a_wrong_key_at_the_status_api_is_unavailable_and_never_shows_the_key(
    settings, fake_gateways: FakeGateways
) -> None:
    # given a notification signed with the key the status API refuses (the key was rotated at Midtrans)
    _paid_at_midtrans(fake_gateways)
    settings.MIDTRANS_SERVER_KEY = "SB-Mid-server-rotated"
    _headers, body = fake_gateways.midtrans_notification(ORDER_ID)
    sent = json.loads(body)
    signed = f"{sent['order_id']}{sent['status_code']}{sent['gross_amount']}SB-Mid-server-rotated"
    body = json.dumps({**sent, "signature_key": hashlib.sha512(signed.encode()).hexdigest()}).encode()
    with pytest.raises(GatewayUnavailable) as unavailable:
        MidtransGateway().callback_read(headers={}, body=body)
    assert str(unavailable.value) == (
        "Midtrans refused (HTTP 401, status_code 401): Transaction cannot be authorized with the current "
        "client/server key."
    )
