"""Top-up orders before payment: priced as asked and kept as quoted, refused to agents and to a workspace that
withholds income tax, confirmed into an invoice payable until 23:59 of the next day, which then expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from relasi.billing.models import BalanceKind, EntryType, Invoice, TopUpOrder
from relasi.billing.orders import invoices_expire_due, top_up_order_confirm, top_up_order_create
from relasi.billing.pricing import invoice_deadline
from relasi.billing.services import Change, balance_change
from relasi.core.models import AuditLog

pytestmark = pytest.mark.django_db


def _order(workspace, actor, **values):
    return top_up_order_create(
        workspace=workspace,
        actor=actor,
        **{"muv_visitors": 500, "whatsapp_amount": 250_000, "billing_email": "finance@acme.test", **values},
    )


def test_an_order_is_priced_as_asked_and_kept_as_quoted(acme, alice) -> None:
    # given IDR 5,000 outstanding
    balance_change(
        workspace=acme, actor=None, kind=BalanceKind.WHATSAPP, changes=[Change(EntryType.USAGE, -5_000)]
    )
    # when alice orders 500 visitors and IDR 250,000 of WhatsApp
    order = _order(acme, alice)
    # then the WhatsApp amount is raised to the minimum, with the notice, and VAT and the total follow
    assert order.lines == [
        {"kind": "muv", "quantity": 500, "price": 300_000},
        {"kind": "whatsapp", "quantity": 1_000_000, "price": 1_000_000},
    ]
    assert (order.notices, order.subtotal, order.vat_rate, order.vat, order.total) == (
        ["whatsapp_minimum"],
        1_300_000,
        "12",
        143_000,
        1_443_000,
    )
    assert (order.status, order.requested_by, order.billing_email) == ("draft", alice, "finance@acme.test")
    assert AuditLog.objects.get(action="top_up_order.created").changes["total"] == 1_443_000


def test_agents_and_workspaces_that_withhold_income_tax_cannot_order(acme, bob, alice) -> None:
    with pytest.raises(PermissionDenied):
        _order(acme, bob)
    acme.withholds_income_tax = True
    acme.save(update_fields=["withholds_income_tax"])
    with pytest.raises(PermissionDenied, match="arranged by Relasi's support"):
        _order(acme, alice)
    assert TopUpOrder.objects.for_workspace(acme).count() == 0


@pytest.mark.parametrize(
    "wrong",
    [
        {"billing_email": "not an email"},
        {"billing_email": "a\x00@b.c"},
        {"muv_visitors": 499},
        {"muv_visitors": 0, "whatsapp_amount": 0},
    ],
)
def test_a_bad_order_is_refused_and_nothing_is_kept(acme, alice, wrong) -> None:
    with pytest.raises(ValidationError):
        _order(acme, alice, **wrong)
    assert TopUpOrder.objects.for_workspace(acme).count() == 0


def test_confirming_makes_the_invoice_and_emails_the_billing_information(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    order = _order(acme, alice)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = top_up_order_confirm(
            workspace=acme, actor=alice, order_id=order.pk, billing_email="tax@acme.test"
        )
    assert invoice.number == f"INV/{invoice.created_at:%Y/%m}/{invoice.pk:06d}"
    assert (invoice.status, invoice.amount) == ("awaiting_payment", 1_443_000)
    assert invoice.due_at == invoice_deadline(created_at=invoice.created_at, zone=acme.zone)
    [email] = mail.outbox
    assert email.to == ["tax@acme.test"]
    assert invoice.number in email.subject
    assert "Total: Rp 1,443,000" in email.body and "VAT 12%: Rp 143,000" in email.body
    # confirming again answers the same invoice and sends nothing more
    again = top_up_order_confirm(workspace=acme, actor=alice, order_id=order.pk)
    assert again.pk == invoice.pk and len(mail.outbox) == 1


def test_another_workspace_cannot_confirm_the_order(acme, alice, globex, charlie) -> None:
    order = _order(acme, alice)
    with pytest.raises(Http404):
        top_up_order_confirm(workspace=globex, actor=charlie, order_id=order.pk)
    assert Invoice.objects.for_workspace(acme).count() == 0


def test_an_invoice_past_its_deadline_expires_once(acme, alice) -> None:
    invoice = top_up_order_confirm(workspace=acme, actor=alice, order_id=_order(acme, alice).pk)
    # a minute before the deadline nothing expires; a second after, it does, once
    assert invoices_expire_due(now=invoice.due_at - timedelta(minutes=1)) == 0
    assert invoices_expire_due(now=invoice.due_at + timedelta(seconds=1)) == 1
    assert invoices_expire_due(now=invoice.due_at + timedelta(hours=1)) == 0
    invoice.refresh_from_db()
    assert invoice.status == "expired"
    assert AuditLog.objects.filter(action="invoice.expired").count() == 1
