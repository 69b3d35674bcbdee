"""The top-up API: orders priced as the pages price them (idempotent), confirmed with a payment method into the
invoice and its checkout, the invoice and its PDF read back; agents' sessions 403, another workspace's key 404."""

from __future__ import annotations

import pytest
from django.test import Client

from relasi.billing.models import Invoice, InvoiceStatus, TopUpOrder
from tests.conftest import bearer

pytestmark = pytest.mark.django_db

ORDER = {"muv_visitors": 500, "whatsapp_amount": 250_000, "billing_email": "finance@acme.test"}


def _create(headers: dict[str, str], body: dict | None = None, **extra: str):
    return Client().post(
        "/api/v1/top-up-orders", data=body or ORDER, content_type="application/json", **headers, **extra
    )


def test_an_order_answers_the_adjusted_amounts_lines_and_notices(acme, acme_key) -> None:
    answer = _create(acme_key)
    assert answer.status_code == 201
    body = answer.json()
    assert {
        key: body[key] for key in ("status", "muv_visitors", "whatsapp_amount", "subtotal", "vat", "total")
    } == {
        "status": "draft",
        "muv_visitors": 500,
        "whatsapp_amount": 1_000_000,
        "subtotal": 1_300_000,
        "vat": 143_000,
        "total": 1_443_000,
    }
    assert body["lines"] == [
        {"kind": "muv", "quantity": 500, "price": 300_000},
        {"kind": "whatsapp", "quantity": 1_000_000, "price": 1_000_000},
    ]
    assert [notice["code"] for notice in body["notices"]] == ["whatsapp_minimum"]
    assert (body["vat_rate_percent"], body["vat_base"]) == ("12", 1_191_667)


def test_an_idempotency_key_makes_one_order(acme, acme_key) -> None:
    first = _create(acme_key, HTTP_IDEMPOTENCY_KEY="order-1")
    again = _create(acme_key, HTTP_IDEMPOTENCY_KEY="order-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert TopUpOrder.objects.for_workspace(acme).count() == 1
    other = _create(acme_key, {**ORDER, "muv_visitors": 1000}, HTTP_IDEMPOTENCY_KEY="order-1")
    assert other.status_code == 409
    assert TopUpOrder.objects.for_workspace(acme).count() == 1


def test_bad_orders_are_422_and_make_nothing(acme, acme_key) -> None:
    for body, field in [
        ({**ORDER, "muv_visitors": 499}, "muv_visitors"),
        ({**ORDER, "muv_visitors": 0, "whatsapp_amount": 0}, "__all__"),
        # a number past the JSON reader's bounds is refused before it is read as a number
        ({**ORDER, "whatsapp_amount": 10**30}, "__all__"),
        ({**ORDER, "whatsapp_amount": 10**11}, "whatsapp_amount"),
        ({**ORDER, "billing_email": "nope"}, "billing_email"),
        ({**ORDER, "muv_visitors": "500"}, "muv_visitors"),
    ]:
        answer = _create(acme_key, body)
        assert answer.status_code == 422, body
        assert field in answer.json()["errors"], answer.json()
    assert TopUpOrder.objects.for_workspace(acme).count() == 0


def test_confirm_with_a_card_answers_the_invoice_with_the_fee_and_the_payment_page(
    acme, acme_key, alice, client_for
) -> None:
    order_id = _create(acme_key).json()["id"]
    answer = Client().post(
        f"/api/v1/top-up-orders/{order_id}/confirm",
        data={"payment_method": "card"},
        content_type="application/json",
        **acme_key,
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    invoice = Invoice.objects.for_workspace(acme).get()
    assert {key: body[key] for key in ("id", "number", "status", "amount", "card_fee", "amount_due")} == {
        "id": invoice.pk,
        "number": invoice.number,
        "status": "awaiting_payment",
        "amount": 1_443_000,
        "card_fee": 50_505,
        "amount_due": 1_493_505,
    }
    assert "/pay/sandbox/" in body["payment_url"]
    read = Client().get(f"/api/v1/invoices/{invoice.pk}", **acme_key).json()
    assert read == body
    pdf = Client().get(f"/api/v1/invoices/{invoice.pk}/pdf", **acme_key)
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF-")
    filename = invoice.number.replace("/", "-")
    assert pdf["Content-Disposition"] == f'attachment; filename="{filename}.pdf"'
    page = client_for(alice).get(f"/app/acme/settings/subscription/invoices/{invoice.pk}/pdf/")
    assert (page.content, page["Content-Disposition"]) == (pdf.content, pdf["Content-Disposition"])


def test_confirming_an_expired_invoice_is_409_and_a_bank_is_needed(acme, acme_key) -> None:
    order_id = _create(acme_key).json()["id"]
    url = f"/api/v1/top-up-orders/{order_id}/confirm"
    missing_bank = Client().post(
        url, data={"payment_method": "virtual_account"}, content_type="application/json", **acme_key
    )
    assert missing_bank.status_code == 422 and "bank" in missing_bank.json()["errors"]
    # and refused before the invoice is made or its billing email sent
    assert Invoice.objects.for_workspace(acme).count() == 0
    # given the invoice made with OVO, then expired
    Client().post(url, data={"payment_method": "ovo"}, content_type="application/json", **acme_key)
    Invoice.objects.for_workspace(acme).update(status=InvoiceStatus.EXPIRED)
    # when a card is asked for, it is a 409 and the invoice keeps its method and no fee
    expired = Client().post(url, data={"payment_method": "card"}, content_type="application/json", **acme_key)
    assert expired.status_code == 409
    invoice = Invoice.objects.for_workspace(acme).get()
    assert (invoice.payment_method, invoice.card_fee, invoice.checkouts) == ("ovo", 0, 1)


def test_agents_get_403_and_another_workspace_404(acme, acme_key, bob, globex_key, client_for) -> None:
    order_id = _create(acme_key).json()["id"]
    Client().post(
        f"/api/v1/top-up-orders/{order_id}/confirm",
        data={"payment_method": "ovo"},
        content_type="application/json",
        **acme_key,
    )
    invoice = Invoice.objects.for_workspace(acme).get()
    agent = client_for(bob)
    for url in (
        f"/api/v1/top-up-orders/{order_id}",
        f"/api/v1/invoices/{invoice.pk}",
        f"/api/v1/invoices/{invoice.pk}/pdf",
    ):
        assert agent.get(url, HTTP_X_WORKSPACE="acme").status_code == 403
        assert Client().get(url, **globex_key).status_code == 404
    confirm = Client().post(
        f"/api/v1/top-up-orders/{order_id}/confirm",
        data={"payment_method": "card"},
        content_type="application/json",
        **globex_key,
    )
    assert confirm.status_code == 404
    invoice.refresh_from_db()
    assert (invoice.payment_method, invoice.card_fee) == ("ovo", 0)
    assert TopUpOrder.objects.for_workspace(acme).count() == 1


def test_a_workspace_withholding_income_tax_is_403(acme, acme_key) -> None:
    acme.withholds_income_tax = True
    acme.save(update_fields=["withholds_income_tax"])
    answer = _create(acme_key)
    assert answer.status_code == 403 and "support" in answer.json()["title"]
    assert TopUpOrder.objects.for_workspace(acme).count() == 0


def test_no_key_is_401(db) -> None:
    assert _create(bearer("rl_nothing")).status_code == 401
