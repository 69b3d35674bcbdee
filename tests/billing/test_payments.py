"""Paying an invoice: the method and its card fee, and every gateway callback applied exactly once — through the
webhook's raw body and signature, in any order, however often it comes, with the money that self-service does not
credit sent to support."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.utils import timezone

from relasi.billing.gateways.base import GatewayEvent
from relasi.billing.gateways.sandbox import SIGNATURE_HEADER, sandbox_signature
from relasi.billing.models import (
    BalanceKind,
    EntryType,
    Invoice,
    InvoiceStatus,
    LedgerEntry,
    PaymentEvent,
    SupportRequest,
)
from relasi.billing.orders import invoices_expire_due, top_up_order_confirm, top_up_order_create
from relasi.billing.payments import InvoiceNotPayable, invoice_method_choose, payment_event_apply
from relasi.billing.selectors import balances_of
from relasi.billing.services import Change, balance_change
from relasi.core.models import AuditLog

WEBHOOK = "/hooks/payments/sandbox"


def _invoice(workspace, actor, *, muv_visitors=500, whatsapp_amount=1_000_000) -> Invoice:
    order = top_up_order_create(
        workspace=workspace,
        actor=actor,
        muv_visitors=muv_visitors,
        whatsapp_amount=whatsapp_amount,
        billing_email="finance@acme.test",
    )
    return top_up_order_confirm(workspace=workspace, actor=actor, order_id=order.pk)


def _callback(invoice: Invoice, status: str = "paid", amount: int | None = None, **extra: Any) -> bytes:
    return json.dumps(
        {
            "event_id": extra.pop("event_id", f"sbx_{uuid.uuid4().hex}"),
            "invoice_number": invoice.number,
            "status": status,
            "amount": invoice.amount_due if amount is None and status == "paid" else amount,
            "occurred_at": extra.pop("occurred_at", timezone.now().isoformat()),
            **extra,
        }
    ).encode()


def _post(body: bytes, signature: str | None = None) -> Any:
    return Client().post(
        WEBHOOK,
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sandbox_signature(body) if signature is None else signature},
    )


def _balances(workspace) -> tuple[int, int]:
    balances = balances_of(workspace=workspace)
    return balances[BalanceKind.MUV].amount, balances[BalanceKind.WHATSAPP].amount


@pytest.mark.django_db
def test_a_card_adds_the_fee_and_another_method_removes_it(acme, alice) -> None:
    # given an invoice of IDR 1,443,000 (500 visitors and IDR 1,000,000, VAT included)
    invoice = _invoice(acme, alice)
    assert invoice.amount == 1_443_000
    # when alice chooses a card
    chosen = invoice_method_choose(workspace=acme, actor=alice, invoice_id=invoice.pk, method="card")
    # then 3.5% of the total is added, and the sandbox made a checkout of the amount due
    assert (chosen.card_fee, chosen.amount_due, chosen.gateway, chosen.checkouts) == (
        50_505,
        1_493_505,
        "sandbox",
        1,
    )
    assert chosen.payment_url.startswith("http://") and "/pay/sandbox/" in chosen.payment_url
    # and a virtual account afterwards removes the fee
    again = invoice_method_choose(
        workspace=acme, actor=alice, invoice_id=invoice.pk, method="virtual_account", bank="bca"
    )
    assert (again.card_fee, again.amount_due, again.bank, again.checkouts) == (0, 1_443_000, "bca", 2)


@pytest.mark.django_db
def test_a_method_is_refused_without_its_bank_to_agents_to_outsiders_and_after_the_deadline(
    acme, alice, bob, globex, charlie
) -> None:
    invoice = _invoice(acme, alice)
    with pytest.raises(ValidationError, match="bank"):
        invoice_method_choose(workspace=acme, actor=alice, invoice_id=invoice.pk, method="virtual_account")
    with pytest.raises(ValidationError):
        invoice_method_choose(workspace=acme, actor=alice, invoice_id=invoice.pk, method="cash")
    with pytest.raises(PermissionDenied):
        invoice_method_choose(workspace=acme, actor=bob, invoice_id=invoice.pk, method="ovo")
    with pytest.raises(Http404):
        invoice_method_choose(workspace=globex, actor=charlie, invoice_id=invoice.pk, method="ovo")
    with time_machine.travel(invoice.due_at + timedelta(seconds=1)), pytest.raises(InvoiceNotPayable):
        invoice_method_choose(workspace=acme, actor=alice, invoice_id=invoice.pk, method="ovo")
    invoice.refresh_from_db()
    assert (invoice.payment_method, invoice.card_fee, invoice.checkouts) == ("", 0, 0)


@pytest.mark.django_db
def test_paid_credits_each_line_once_and_emails_only_the_requester(
    acme, alice, dave, django_capture_on_commit_callbacks
) -> None:
    # given IDR 5,000 outstanding, and dave (an admin) orders 500 visitors and IDR 1,000,000
    balance_change(
        workspace=acme, actor=None, kind=BalanceKind.WHATSAPP, changes=[Change(EntryType.USAGE, -5_000)]
    )
    invoice = _invoice(acme, dave)
    mail.outbox.clear()
    # when the gateway's PAID callback arrives
    with django_capture_on_commit_callbacks(execute=True):
        answer = _post(_callback(invoice))
    # then the invoice is paid, 5,000 settles the outstanding and 995,000 is added, the visitors are credited
    assert (answer.status_code, answer.json()) == (200, {"status": "paid"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PAID, 1_443_000)
    assert _balances(acme) == (500, 995_000)
    entries = LedgerEntry.objects.for_workspace(acme).order_by("id")
    assert [
        (e.kind, e.entry_type, e.amount, e.reference) for e in entries if e.reference.startswith("invoice:")
    ] == [
        ("muv", "top_up", 500, f"invoice:{invoice.number}"),
        ("whatsapp", "settlement", 5_000, f"invoice:{invoice.number}"),
        ("whatsapp", "top_up", 995_000, f"invoice:{invoice.number}#2"),
    ]
    # and one confirmation email, to dave only
    assert [message.to for message in mail.outbox] == [["dave@acme.test"]]
    assert invoice.number in mail.outbox[0].subject
    assert AuditLog.objects.filter(action="invoice.paid", target_id=str(invoice.pk)).count() == 1


@pytest.mark.django_db
def test_the_same_paid_callback_ten_times_credits_once(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    invoice = _invoice(acme, alice)
    body = _callback(invoice, event_id="sbx_same")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answers = [_post(body).json()["status"] for _ in range(10)]
    assert answers == ["paid"] + ["duplicate"] * 9
    assert _balances(acme) == (500, 1_000_000)
    assert PaymentEvent.objects.for_workspace(acme).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_second_paid_event_of_a_paid_invoice_goes_to_support_and_credits_nothing(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    _post(_callback(invoice))
    answer = _post(_callback(invoice))
    assert answer.json() == {"status": "support"}
    assert _balances(acme) == (500, 1_000_000)
    request = SupportRequest.objects.for_workspace(acme).get()
    assert (request.kind, request.paid_amount, request.status) == ("second_payment", 1_443_000, "open")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


@pytest.mark.django_db
def test_expired_after_paid_changes_nothing(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    _post(_callback(invoice))
    answer = _post(_callback(invoice, status="expired"))
    assert answer.json() == {"status": "no_change"}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert _balances(acme) == (500, 1_000_000)


@pytest.mark.django_db
def test_paid_after_expired_goes_to_support_with_the_money_recorded(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    assert _post(_callback(invoice, status="expired")).json() == {"status": "expired"}
    answer = _post(_callback(invoice, occurred_at=(invoice.due_at + timedelta(minutes=1)).isoformat()))
    assert answer.json() == {"status": "support"}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert _balances(acme) == (0, 0)
    request = SupportRequest.objects.for_workspace(acme).get()
    assert (request.kind, request.paid_amount, request.invoice_id) == ("late_payment", 1_443_000, invoice.pk)


@pytest.mark.django_db
def test_paid_at_the_gateway_after_the_deadline_goes_to_support(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    late = (invoice.due_at + timedelta(minutes=1)).isoformat()
    assert _post(_callback(invoice, occurred_at=late)).json() == {"status": "support"}
    assert SupportRequest.objects.for_workspace(acme).get().kind == "late_payment"
    assert _balances(acme) == (0, 0)


@pytest.mark.django_db
def test_another_amount_goes_to_support_and_credits_nothing(acme, alice) -> None:
    # given alice chose a card (amount due 1,493,505)
    invoice = invoice_method_choose(
        workspace=acme, actor=alice, invoice_id=_invoice(acme, alice).pk, method="card"
    )
    mail.outbox.clear()
    # when the payer pays the total without the fee
    answer = _post(_callback(invoice, amount=1_443_000))
    # then support has it, with the money as received, and nothing is credited or emailed
    assert answer.json() == {"status": "support"}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    request = SupportRequest.objects.for_workspace(acme).get()
    assert (request.kind, request.paid_amount) == ("amount_mismatch", 1_443_000)
    assert _balances(acme) == (0, 0)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_bad_or_missing_signature_is_401_and_changes_nothing(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    body = _callback(invoice)
    assert _post(body, signature="0" * 64).status_code == 401
    assert _post(body, signature="").status_code == 401
    # a body changed after signing
    signature = sandbox_signature(body)
    assert _post(body.replace(b'"paid"', b'"expired"'), signature=signature).status_code == 401
    assert PaymentEvent.objects.for_workspace(acme).count() == 0
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.AWAITING_PAYMENT
    assert _balances(acme) == (0, 0)


@pytest.mark.django_db
def test_unreadable_callbacks_are_400_an_unknown_invoice_404_another_gateway_404(
    acme, alice, settings
) -> None:
    invoice = _invoice(acme, alice)
    assert _post(b"not json").status_code == 400
    assert _post(_callback(invoice, amount="12.5")).status_code == 400
    assert _post(_callback(invoice, event_id="x" * 201)).status_code == 400
    unknown = json.loads(_callback(invoice))
    unknown["invoice_number"] = "INV/2099/01/000001"
    answer = _post(json.dumps(unknown).encode())
    assert (answer.status_code, answer.json()) == (404, {"status": "unknown_invoice"})
    assert (
        Client().post("/hooks/payments/xendit", data=b"{}", content_type="application/json").status_code
        == 404
    )
    assert Client().get(WEBHOOK).status_code == 405
    assert (
        Client().post(WEBHOOK, data=b"x" * (64 * 1024 + 1), content_type="application/json").status_code
        == 413
    )
    assert PaymentEvent.objects.for_workspace(acme).count() == 0


@pytest.mark.django_db
def test_failed_and_pending_are_recorded_and_change_nothing(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    assert _post(_callback(invoice, status="failed", amount=None)).json() == {"status": "no_change"}
    assert _post(_callback(invoice, status="pending", amount=None)).json() == {"status": "no_change"}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.AWAITING_PAYMENT
    assert PaymentEvent.objects.for_workspace(acme).count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between threads need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_same_paid_callback_from_ten_threads_credits_once(acme, alice) -> None:
    # given one PAID event
    invoice = _invoice(acme, alice)
    event = GatewayEvent(
        event_id="sbx_concurrent",
        invoice_number=invoice.number,
        status="paid",
        amount=invoice.amount_due,
        occurred_at=timezone.now(),
    )
    outcomes: list[str] = []
    barrier = threading.Barrier(10)

    def deliver() -> None:
        barrier.wait()
        try:
            applied = payment_event_apply(gateway="sandbox", event=event)
            assert applied is not None
            outcomes.append(applied.outcome)
        finally:
            connection.close()

    # when ten threads deliver it at once
    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one credited, nine were duplicates
    assert sorted(outcomes) == ["duplicate"] * 9 + ["paid"]
    assert _balances(acme) == (500, 1_000_000)
    assert LedgerEntry.objects.for_workspace(acme).filter(entry_type=EntryType.TOP_UP).count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between threads need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_paid_and_expired_at_once_end_paid_and_credited_once(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    paid = GatewayEvent("sbx_p", invoice.number, "paid", invoice.amount_due, timezone.now())
    expired = GatewayEvent("sbx_e", invoice.number, "expired", None, timezone.now())
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def deliver(event: GatewayEvent) -> None:
        barrier.wait()
        try:
            applied = payment_event_apply(gateway="sandbox", event=event)
            assert applied is not None
            outcomes[event.status] = applied.outcome
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(event,)) for event in (paid, expired)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    invoice.refresh_from_db()
    # whichever took the lock first, a payment made by the deadline ends paid, credited once
    assert invoice.status == InvoiceStatus.PAID
    assert outcomes in ({"paid": "paid", "expired": "no_change"}, {"expired": "expired", "paid": "paid"})
    assert _balances(acme) == (500, 1_000_000)


def test_the_webhook_answers_fast_to_a_long_garbage_signature(db) -> None:
    started = datetime.now()
    answer = _post(b"{}", signature="z" * 10_000)
    assert answer.status_code == 401
    assert datetime.now() - started < timedelta(seconds=2)


@pytest.mark.django_db
def test_paid_by_the_deadline_is_paid_even_after_the_job_expired_the_invoice(acme, alice) -> None:
    # given an invoice the expiry job expired a few seconds after its deadline
    invoice = _invoice(acme, alice)
    invoices_expire_due(now=invoice.due_at + timedelta(seconds=5))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.EXPIRED
    # when the callback of a payment made 30 seconds before the deadline arrives
    paid_at = invoice.due_at - timedelta(seconds=30)
    answer = _post(_callback(invoice, occurred_at=paid_at.isoformat()))
    # then the invoice is paid and credited, nothing goes to support
    assert answer.json() == {"status": "paid"}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at) == (InvoiceStatus.PAID, paid_at)
    assert _balances(acme) == (500, 1_000_000)
    assert SupportRequest.objects.for_workspace(acme).count() == 0


@pytest.mark.django_db
def test_an_earlier_checkout_expiring_leaves_the_current_one_payable(acme, alice) -> None:
    # given a virtual account's checkout, then the payer chose OVO instead
    invoice = _invoice(acme, alice)
    first = invoice_method_choose(
        workspace=acme, actor=alice, invoice_id=invoice.pk, method="virtual_account", bank="bni"
    )
    current = invoice_method_choose(workspace=acme, actor=alice, invoice_id=invoice.pk, method="ovo")
    # when the virtual account's checkout expires at the gateway before the deadline
    answer = _post(_callback(invoice, status="expired", reference=first.gateway_reference))
    # then the invoice still awaits payment; the current checkout's expiry expires it
    assert answer.json() == {"status": "no_change"}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.AWAITING_PAYMENT
    assert _post(_callback(invoice, status="expired", reference=current.gateway_reference)).json() == {
        "status": "expired"
    }


@pytest.mark.django_db
def test_hostile_signatures_and_times_are_4xx(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    body = _callback(invoice)
    assert _post(body, signature="é" * 64).status_code == 401
    for moment in ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "2026-12-08T10:00:00"):
        answer = _post(_callback(invoice, occurred_at=moment))
        assert answer.status_code == 400, moment
    assert PaymentEvent.objects.for_workspace(acme).count() == 0


@pytest.mark.django_db
def test_a_workspace_that_now_withholds_income_tax_cannot_pay_its_old_invoice(acme, alice) -> None:
    invoice = _invoice(acme, alice)
    acme.withholds_income_tax = True
    acme.save(update_fields=["withholds_income_tax"])
    with pytest.raises(PermissionDenied, match="support"):
        invoice_method_choose(workspace=acme, actor=alice, invoice_id=invoice.pk, method="ovo")
    invoice.refresh_from_db()
    assert (invoice.payment_method, invoice.checkouts) == ("", 0)
