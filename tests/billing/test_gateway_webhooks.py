"""Xendit and Midtrans end to end: an invoice's checkout made at the (local, fake) provider over HTTP, and the
provider's callback through /hooks/payments/<gateway> — verified, applied once, the balances credited."""

from __future__ import annotations

import pytest
from django.test import Client

from relasi.billing.models import BalanceKind, Invoice, InvoiceStatus, PaymentEvent
from relasi.billing.orders import top_up_order_confirm, top_up_order_create
from relasi.billing.payments import invoice_method_choose
from relasi.billing.selectors import balances_of
from tests.billing.fake_gateways import (  # noqa: F401 (the fixture)
    MIDTRANS_SERVER_KEY,
    XENDIT_CALLBACK_TOKEN,
    XENDIT_SECRET_KEY,
    FakeGateways,
    fake_gateways_fixture,
)

pytestmark = pytest.mark.django_db


def _invoice(workspace, actor, method: str, bank: str = "") -> Invoice:
    order = top_up_order_create(
        workspace=workspace,
        actor=actor,
        muv_visitors=500,
        whatsapp_amount=1_000_000,
        billing_email="f@acme.test",
    )
    invoice = top_up_order_confirm(workspace=workspace, actor=actor, order_id=order.pk)
    return invoice_method_choose(
        workspace=workspace, actor=actor, invoice_id=invoice.pk, method=method, bank=bank
    )


def _deliver(gateway: str, headers: dict[str, str], body: bytes):
    return Client().post(
        f"/hooks/payments/{gateway}", data=body, content_type="application/json", headers=headers
    )


def _balances(workspace) -> tuple[int, int]:
    balances = balances_of(workspace=workspace)
    return balances[BalanceKind.MUV].amount, balances[BalanceKind.WHATSAPP].amount


def test_xendit_checkout_and_paid_callback_credit_once(
    acme, alice, settings, fake_gateways: FakeGateways
) -> None:
    # given Relasi on Xendit (the local one)
    settings.PAYMENT_GATEWAY = "xendit"
    settings.XENDIT_API_URL = fake_gateways.url
    settings.XENDIT_SECRET_KEY = XENDIT_SECRET_KEY
    settings.XENDIT_CALLBACK_TOKEN = XENDIT_CALLBACK_TOKEN
    # when alice pays by BCA virtual account
    invoice = _invoice(acme, alice, "virtual_account", "bca")
    # then Xendit made an invoice of the total for the number, and the payer goes to its page
    (made,) = fake_gateways.received("POST", "/v2/invoices")
    assert (made.json["external_id"], made.json["amount"]) == (invoice.number, 1_443_000)
    assert (invoice.gateway, invoice.payment_url) == (
        "xendit",
        fake_gateways.xendit_invoices[invoice.gateway_reference]["invoice_url"],
    )
    # when Xendit calls back PAID, twice (its retry)
    headers, body = fake_gateways.xendit_callback(invoice.gateway_reference, "PAID")
    answers = [_deliver("xendit", headers, body).json() for _ in range(2)]
    # then the first credits, the second is a duplicate
    assert answers == [{"status": "paid"}, {"status": "duplicate"}]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert _balances(acme) == (500, 1_000_000)
    # and a SETTLED of the same payment changes nothing more (its payment id is the event)
    headers, body = fake_gateways.xendit_callback(invoice.gateway_reference, "SETTLED")
    assert _deliver("xendit", headers, body).json() == {"status": "duplicate"}
    assert _balances(acme) == (500, 1_000_000)


def test_xendit_without_its_token_is_401_and_changes_nothing(
    acme, alice, settings, fake_gateways: FakeGateways
) -> None:
    settings.PAYMENT_GATEWAY = "xendit"
    settings.XENDIT_API_URL = fake_gateways.url
    settings.XENDIT_SECRET_KEY = XENDIT_SECRET_KEY
    settings.XENDIT_CALLBACK_TOKEN = XENDIT_CALLBACK_TOKEN
    invoice = _invoice(acme, alice, "ovo")
    headers, body = fake_gateways.xendit_callback(invoice.gateway_reference, "PAID")
    assert _deliver("xendit", {**headers, "x-callback-token": "wrong"}, body).status_code == 401
    # the sandbox's path is closed while Xendit is the gateway
    assert _deliver("sandbox", {}, body).status_code == 404
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.AWAITING_PAYMENT
    assert PaymentEvent.objects.for_workspace(acme).count() == 0
    assert _balances(acme) == (0, 0)


def test_midtrans_credits_only_what_its_status_api_confirms(
    acme, alice, settings, fake_gateways: FakeGateways
) -> None:
    # given Relasi on Midtrans (the local one), and a card payment's Snap transaction
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.MIDTRANS_SNAP_URL = f"{fake_gateways.url}/snap"
    settings.MIDTRANS_API_URL = fake_gateways.url
    settings.MIDTRANS_SERVER_KEY = MIDTRANS_SERVER_KEY
    invoice = _invoice(acme, alice, "card")
    order_id = invoice.gateway_reference
    assert fake_gateways.snap_orders[order_id]["transaction_details"]["gross_amount"] == 1_493_505
    # when a notification says settlement while the transaction is still pending at Midtrans
    fake_gateways.midtrans_transaction_set(order_id, "pending")
    headers, body = fake_gateways.midtrans_notification(order_id, transaction_status="settlement")
    # then nothing is credited
    assert _deliver("midtrans", headers, body).json() == {"status": "no_change"}
    assert _balances(acme) == (0, 0)
    # when the transaction settles and Midtrans notifies
    fake_gateways.midtrans_transaction_set(order_id, "settlement", fraud_status="accept")
    headers, body = fake_gateways.midtrans_notification(order_id)
    # then the invoice is paid with the card fee and the balances credited, once
    assert _deliver("midtrans", headers, body).json() == {"status": "paid"}
    assert _deliver("midtrans", headers, body).json() == {"status": "duplicate"}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PAID, 1_493_505)
    assert _balances(acme) == (500, 1_000_000)
    # and a notification with a forged signature is 401
    headers, body = fake_gateways.midtrans_notification(order_id, signature_key="0" * 128)
    assert _deliver("midtrans", headers, body).status_code == 401
