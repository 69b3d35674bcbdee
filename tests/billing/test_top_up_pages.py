"""The top-up pages: form → booking confirmation → sales invoice → the sandbox's payment page, for owners and
admins; agents get 403, outsiders 404, and a refused action changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from relasi.billing.models import (
    BalanceKind,
    EntryType,
    Invoice,
    InvoiceStatus,
    OrderStatus,
    PaymentEvent,
    SupportRequest,
    TopUpOrder,
)
from relasi.billing.selectors import balances_of
from relasi.billing.services import Change, balance_change

pytestmark = pytest.mark.django_db

TOP_UP = "/app/acme/usage/top-up/"


def _order_page(client: Client, **values: str) -> str:
    answer = client.post(
        TOP_UP,
        {"muv_visitors": "500", "whatsapp_amount": "250.000", "billing_email": "finance@acme.test", **values},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return answer["Location"]


def test_the_form_shows_the_outstanding_and_the_rules(acme, alice, client_for) -> None:
    # given IDR 5,000 outstanding
    balance_change(
        workspace=acme, actor=None, kind=BalanceKind.WHATSAPP, changes=[Change(EntryType.USAGE, -5_000)]
    )
    # when alice opens the form
    page = client_for(alice).get(TOP_UP).content.decode()
    # then it says what settles first, the prices, and fills in her email
    assert "Outstanding WhatsApp usage: Rp 5,000" in page
    assert "Rp 300,000 per 500 unique visitors." in page
    assert 'value="alice@acme.test"' in page
    assert "contact Relasi's support" in page


def test_an_order_below_the_minimum_is_raised_and_confirmed_into_an_invoice(
    acme, dave, client_for, django_capture_on_commit_callbacks
) -> None:
    client = client_for(dave)
    # when dave (an admin) asks for 500 visitors and IDR 250,000
    confirmation = _order_page(client)
    page = client.get(confirmation).content.decode()
    # then the confirmation shows the raise, the lines, VAT and the total
    assert "raised to the minimum of Rp 1,000,000" in page
    assert "VAT 12% of Rp 1,191,667" in page
    assert "Rp 1,443,000" in page
    # and "Change order" keeps the values
    order = TopUpOrder.objects.for_workspace(acme).get()
    form = client.get(f"{TOP_UP}?order={order.pk}").content.decode()
    assert 'value="1000000"' in form and 'value="500"' in form and 'value="finance@acme.test"' in form
    # when dave confirms with another billing email
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(confirmation, {"billing_email": "tax@acme.test"})
    # then the invoice page opens, and the billing information went to that address
    invoice = Invoice.objects.for_workspace(acme).get()
    assert answer["Location"] == f"/app/acme/settings/subscription/invoices/{invoice.pk}/"
    assert [message.to for message in mail.outbox] == [["tax@acme.test"]]
    page = client.get(answer["Location"]).content.decode()
    assert invoice.number in page and "Awaiting payment" in page and "data-countdown" in page
    assert "(+3.5%: Rp 50,505)" in page
    # and the confirmation now leads to the invoice
    assert client.get(confirmation)["Location"] == answer["Location"]


def test_bad_values_show_field_errors_and_make_no_order(acme, alice, client_for) -> None:
    client = client_for(alice)
    for values, message in [
        ({"muv_visitors": "499"}, "multiples of 500"),
        ({"muv_visitors": "0", "whatsapp_amount": ""}, "Choose unique visitors, a WhatsApp amount, or both."),
        ({"muv_visitors": "9" * 40}, "Enter a whole number."),
        ({"whatsapp_amount": "-5"}, "Enter a whole number."),
        ({"billing_email": "not an email"}, "Enter a valid email address."),
    ]:
        values = {"muv_visitors": "500", "whatsapp_amount": "", "billing_email": "a@acme.test", **values}
        answer = client.post(TOP_UP, values)
        assert answer.status_code == 400
        assert message in answer.content.decode()
    assert TopUpOrder.objects.for_workspace(acme).count() == 0


def test_paying_by_card_goes_to_the_sandbox_with_the_fee(acme, alice, client_for) -> None:
    client = client_for(alice)
    client.post(_order_page(client), {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    # when alice pays by card
    answer = client.post(
        f"/app/acme/settings/subscription/invoices/{invoice.pk}/", {"payment_method": "card"}
    )
    # then she goes to the sandbox's page, which asks for the total and the fee
    invoice.refresh_from_db()
    assert answer.status_code == 302 and answer["Location"] == invoice.payment_url
    sandbox = Client().get(invoice.payment_url)
    assert sandbox.status_code == 200
    assert "Rp 1,493,505" in sandbox.content.decode()
    # and the invoice page shows the fee line
    page = client.get(f"/app/acme/settings/subscription/invoices/{invoice.pk}/").content.decode()
    assert re.search(r'data-testid="card-fee">Rp 50,505<', page)


def test_a_virtual_account_needs_its_bank(acme, alice, client_for) -> None:
    client = client_for(alice)
    client.post(_order_page(client), {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    answer = client.post(
        f"/app/acme/settings/subscription/invoices/{invoice.pk}/", {"payment_method": "virtual_account"}
    )
    assert answer.status_code == 400 and "Choose the bank of the virtual account." in answer.content.decode()
    invoice.refresh_from_db()
    assert (invoice.payment_method, invoice.checkouts) == ("", 0)


def test_an_expired_invoice_offers_a_new_order_and_cannot_be_paid(acme, alice, client_for) -> None:
    client = client_for(alice)
    client.post(_order_page(client), {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    Invoice.objects.for_workspace(acme).filter(pk=invoice.pk).update(status=InvoiceStatus.EXPIRED)
    url = f"/app/acme/settings/subscription/invoices/{invoice.pk}/"
    page = client.get(url).content.decode()
    assert "can no longer be paid" in page and "Make a new order" in page
    assert 'data-testid="payment-methods"' not in page
    answer = client.post(url, {"payment_method": "ovo"})
    assert answer.status_code == 400 and "cannot be paid" in answer.content.decode()
    invoice.refresh_from_db()
    assert invoice.payment_method == ""


def test_agents_get_403_and_outsiders_404_and_nothing_changes(
    acme, alice, bob, charlie, globex, client_for
) -> None:
    owner = client_for(alice)
    confirmation = _order_page(owner)
    owner.post(confirmation, {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    urls = [
        TOP_UP,
        confirmation,
        f"/app/acme/settings/subscription/invoices/{invoice.pk}/",
        f"/app/acme/settings/subscription/invoices/{invoice.pk}/pdf/",
    ]
    for url in urls:
        assert client_for(bob).get(url).status_code == 403
        assert (
            client_for(bob).post(url, {"payment_method": "ovo", "billing_email": "x@acme.test"}).status_code
            == 403
        )
        assert client_for(charlie).get(url).status_code == 404
        assert client_for(charlie).post(url, {"payment_method": "ovo"}).status_code == 404
    # another workspace's invoice through charlie's own workspace is a 404 too
    assert (
        client_for(charlie).get(f"/app/globex/settings/subscription/invoices/{invoice.pk}/").status_code
        == 404
    )
    assert client_for(charlie).get(f"/app/globex/usage/top-up/orders/{invoice.order_id}/").status_code == 404
    assert (
        client_for(alice).get("/app/acme/settings/subscription/invoices/99999999999999999999/").status_code
        == 404
    )
    invoice.refresh_from_db()
    assert (invoice.payment_method, invoice.status) == ("", InvoiceStatus.AWAITING_PAYMENT)
    assert TopUpOrder.objects.for_workspace(acme).get().status == OrderStatus.CONFIRMED


def test_a_workspace_withholding_income_tax_asks_support(acme, alice, client_for) -> None:
    acme.withholds_income_tax = True
    acme.save(update_fields=["withholds_income_tax"])
    client = client_for(alice)
    page = client.get(TOP_UP).content.decode()
    assert "withholds income tax" in page and "Continue to payment" not in page
    answer = client.post(TOP_UP, {"muv_visitors": "1000", "whatsapp_amount": "2000000", "message": "PPh 23"})
    assert answer["Location"] == "/app/acme/settings/subscription/"
    request = SupportRequest.objects.for_workspace(acme).get()
    assert (
        request.kind,
        request.muv_visitors,
        request.whatsapp_amount,
        request.message,
        request.requested_by,
    ) == (
        "withholding_tax",
        1000,
        2_000_000,
        "PPh 23",
        alice,
    )
    assert "Top-up of a workspace withholding income tax" in client.get(answer["Location"]).content.decode()
    assert TopUpOrder.objects.for_workspace(acme).count() == 0


def test_the_subscription_page_lists_invoices_and_usage_offers_a_top_up(acme, alice, client_for) -> None:
    client = client_for(alice)
    client.post(_order_page(client), {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    page = client.get("/app/acme/settings/subscription/").content.decode()
    assert invoice.number in page and "Awaiting payment" in page and "Rp 1,443,000" in page
    assert 'data-testid="top-up"' in client.get("/app/acme/usage/").content.decode()


def test_the_sandbox_page_is_404_for_a_forged_token_and_under_another_gateway(
    acme, alice, client_for, settings
) -> None:
    client = client_for(alice)
    client.post(_order_page(client), {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    client.post(f"/app/acme/settings/subscription/invoices/{invoice.pk}/", {"payment_method": "ovo"})
    invoice.refresh_from_db()
    assert Client().get(invoice.payment_url.replace("/pay/sandbox/", "/pay/sandbox/x")).status_code == 404
    settings.PAYMENT_GATEWAY = "xendit"
    assert Client().get(invoice.payment_url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_pays_over_http_through_the_webhook(live_server, settings, acme, alice) -> None:
    # given Relasi served over HTTP, and an invoice paid by OVO through the sandbox
    settings.RELASI_SITE_URL = live_server.url
    client = Client()
    client.force_login(alice)
    client.post(_order_page(client), {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    client.post(f"/app/acme/settings/subscription/invoices/{invoice.pk}/", {"payment_method": "ovo"})
    invoice.refresh_from_db()
    # when the payer presses Pay on the sandbox's page
    page = Client().post(invoice.payment_url, {"action": "pay"}).content.decode()
    # then its signed callback reached the webhook over HTTP and the balances are credited
    assert "Relasi answered 200" in page and "&quot;status&quot;: &quot;paid&quot;" in page
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    balances = balances_of(workspace=acme)
    assert (balances[BalanceKind.MUV].amount, balances[BalanceKind.WHATSAPP].amount) == (500, 1_000_000)
    # when it sends the same callback again
    sent = re.search(r'name="sent" value="([^"]+)"', page)
    assert sent is not None
    again = Client().post(invoice.payment_url, {"action": "resend", "sent": sent.group(1)}).content.decode()
    # then the webhook answers duplicate and nothing more is credited
    assert "duplicate" in again
    balances = balances_of(workspace=acme)
    assert (balances[BalanceKind.MUV].amount, balances[BalanceKind.WHATSAPP].amount) == (500, 1_000_000)
    # and "Pay a different amount" sends the money to support
    other = Client().post(invoice.payment_url, {"action": "pay_other", "amount": "1.000"}).content.decode()
    assert "support" in other
    assert SupportRequest.objects.for_workspace(acme).get().paid_amount == 1_000


def test_the_subscription_page_lists_orders_not_confirmed_yet(acme, alice, client_for) -> None:
    client = client_for(alice)
    confirmation = _order_page(client)
    page = client.get("/app/acme/settings/subscription/").content.decode()
    assert 'data-testid="draft-orders"' in page and f'href="{confirmation}"' in page and "Draft" in page
    assert 'data-testid="no-invoices"' not in page


def test_an_invoice_past_its_deadline_reads_expired_before_the_job_marks_it(acme, alice, client_for) -> None:
    client = client_for(alice)
    client.post(_order_page(client), {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    with time_machine.travel(invoice.due_at + timedelta(minutes=1)):
        page = client.get(f"/app/acme/settings/subscription/invoices/{invoice.pk}/").content.decode()
        listing = client.get("/app/acme/settings/subscription/").content.decode()
    assert re.search(r'data-testid="invoice-status">Expired<', page)
    assert 'data-testid="payment-methods"' not in page and "Make a new order" in page
    assert "<td>Expired</td>" in listing
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.AWAITING_PAYMENT


def test_the_sandbox_refuses_an_amount_that_is_not_whole_rupiah(acme, alice, client_for) -> None:
    client = client_for(alice)
    client.post(_order_page(client), {"billing_email": "finance@acme.test"})
    invoice = Invoice.objects.for_workspace(acme).get()
    client.post(f"/app/acme/settings/subscription/invoices/{invoice.pk}/", {"payment_method": "ovo"})
    invoice.refresh_from_db()
    for typed in ("12,5x", "0", "-1000", "9" * 30):
        page = Client().post(invoice.payment_url, {"action": "pay_other", "amount": typed}).content.decode()
        assert "Enter an amount in whole rupiah." in page and 'data-testid="sandbox-sent"' not in page, typed
    assert PaymentEvent.objects.for_workspace(acme).count() == 0
