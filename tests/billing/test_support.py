"""The support queue's rules at the service level: who may ask, when the money came, an invoice shared by two
requests, and prices that never start in the past."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from relasi.accounts.models import User
from relasi.billing.gateways.base import GatewayEvent
from relasi.billing.models import Invoice, InvoiceStatus, Package, PackagePrice, SupportRequest, WhatsAppPrice
from relasi.billing.orders import top_up_order_confirm, top_up_order_create
from relasi.billing.payments import payment_event_apply
from relasi.billing.selectors import package_price_on
from relasi.billing.support import support_request_credit, support_request_refund, support_request_tax_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("ops@relasi.test", "Relasi#2026", full_name="Ops", is_staff=True)


def _invoice(workspace, actor) -> Invoice:
    order = top_up_order_create(
        workspace=workspace, actor=actor, muv_visitors=500, whatsapp_amount=0, billing_email="f@acme.test"
    )
    return top_up_order_confirm(workspace=workspace, actor=actor, order_id=order.pk)


def _event(invoice: Invoice, event_id: str, status: str, amount: int | None, at=None) -> None:
    payment_event_apply(
        gateway="sandbox",
        event=GatewayEvent(event_id, invoice.number, status, amount, at or timezone.now()),
    )


def test_only_a_workspace_withholding_income_tax_asks_support_for_a_top_up(acme, alice) -> None:
    with pytest.raises(PermissionDenied):
        support_request_tax_create(workspace=acme, actor=alice, muv_visitors=500, whatsapp_amount=0)
    assert SupportRequest.objects.for_workspace(acme).count() == 0


def test_a_credited_late_payment_is_paid_when_the_money_came(acme, alice, staff) -> None:
    # given an invoice the gateway expired, then paid an hour later
    invoice = _invoice(acme, alice)
    paid_at = invoice.due_at + timedelta(hours=1)
    _event(invoice, "e1", "expired", None)
    _event(invoice, "p1", "paid", invoice.amount, at=paid_at)
    request = SupportRequest.objects.for_workspace(acme).get()
    # when staff credit it
    support_request_credit(request_id=request.pk, staff=staff, reason="Paid late, keep it")
    # then the invoice is paid at the payment's time, not the decision's
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at, invoice.paid_amount) == (InvoiceStatus.PAID, paid_at, 333_000)


def test_an_invoice_stays_in_review_while_another_request_on_it_is_open(acme, alice, staff) -> None:
    # given a payment of another amount, and then a second payment while the first is reviewed
    invoice = _invoice(acme, alice)
    _event(invoice, "p1", "paid", 1_000)
    _event(invoice, "p2", "paid", invoice.amount)
    first, second = SupportRequest.objects.for_workspace(acme).order_by("pk")
    assert (first.kind, second.kind) == ("amount_mismatch", "second_payment")
    # when staff refund the first
    support_request_refund(request_id=first.pk, staff=staff, reason="Sent back the 1,000")
    # then the invoice waits for the second decision
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    support_request_credit(request_id=second.pk, staff=staff, reason="The full amount came")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PAID, 333_000)


def test_a_new_price_never_starts_in_the_past() -> None:
    package = Package.objects.create(
        name="Scale", price=3_000_000, muv_allowance=10_000, whatsapp_allowance=0
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    for row in (
        PackagePrice(package=package, price=3_500_000, effective_from=yesterday),
        WhatsAppPrice(category="marketing", price=600, effective_from=yesterday),
    ):
        with pytest.raises(ValidationError, match="starts today or later"):
            row.full_clean()
    PackagePrice(package=package, price=3_500_000, effective_from=timezone.localdate()).full_clean()
    assert WhatsAppPrice.objects.filter(effective_from=date(2026, 1, 1)).count() == 4


def test_an_invoice_with_a_credited_request_ends_paid_whatever_the_order_of_decisions(
    acme, alice, staff
) -> None:
    # given a payment of another amount, then the full amount while the first is reviewed
    invoice = _invoice(acme, alice)
    _event(invoice, "p1", "paid", 1_000)
    _event(invoice, "p2", "paid", invoice.amount)
    mismatch, full = SupportRequest.objects.for_workspace(acme).order_by("pk")
    # when staff credit the full payment first, then refund the 1,000
    support_request_credit(request_id=full.pk, staff=staff, reason="The full amount came")
    support_request_refund(request_id=mismatch.pk, staff=staff, reason="Sent back the 1,000")
    # then the invoice is paid with the full payment
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PAID, 333_000)


def test_a_package_costs_its_dated_price_from_its_day(acme) -> None:
    package = Package.objects.create(
        name="Scale", price=3_000_000, muv_allowance=10_000, whatsapp_allowance=0
    )
    PackagePrice.objects.create(package=package, price=3_300_000, effective_from=date(2026, 7, 1))
    assert package_price_on(package=package, on=date(2026, 6, 30)) == 3_000_000
    assert package_price_on(package=package, on=date(2026, 7, 1)) == 3_300_000
