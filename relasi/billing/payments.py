"""Paying an invoice: choosing a method (a checkout at the gateway), and applying what a gateway reports — exactly
once, under the invoice's row lock, whatever order callbacks arrive in and however often they are repeated.

The rules of a callback, the same for every gateway:
- recorded first under its unique (gateway, event id): a repeat finds it recorded and changes nothing;
- PAID of the amount due, on an invoice awaiting payment before its deadline: the invoice is Paid, each line of
  its order is credited once (`balance_top_up`, reference `invoice:<number>`), and the user who asked for the
  top-up — only them — gets the confirmation email after the commit;
- PAID after the deadline, of another amount, or on an invoice no longer awaiting payment: the money is recorded,
  the invoice is In review by support (unless already Paid), a support request is opened, and nothing is credited
  until staff decide;
- EXPIRED on an invoice awaiting payment expires it; after PAID (or anything else) it changes nothing;
- FAILED and PENDING are recorded and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.billing.gateways import gateway_current
from relasi.billing.gateways.base import CheckoutRequest, GatewayEvent
from relasi.billing.models import (
    Bank,
    Invoice,
    InvoiceStatus,
    PaymentEvent,
    PaymentEventStatus,
    PaymentMethod,
    PaymentOutcome,
    SupportKind,
    SupportRequest,
    TopUpOrder,
)
from relasi.billing.pricing import card_fee
from relasi.billing.services import balance_top_up
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.emails import email_send_templated, site_link
from relasi.core.validation import StateConflict
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_require

GATEWAY_ACTOR = "payments"


class InvoiceNotPayable(StateConflict):
    """The invoice is not awaiting payment, or its deadline passed."""


def payment_method_checked(*, method: str, bank: str) -> tuple[str, str]:
    """The method and its bank (a virtual account's only), or a ValidationError naming the field."""
    if method not in PaymentMethod.values:
        raise ValidationError({"payment_method": [_("Choose virtual account, credit card or OVO.")]})
    if method == PaymentMethod.VIRTUAL_ACCOUNT:
        if bank not in Bank.values:
            raise ValidationError({"bank": [_("Choose the bank of the virtual account.")]})
        return method, bank
    return method, ""


def invoice_method_choose(
    *, workspace: Workspace, actor: Actor | User | None, invoice_id: int, method: str, bank: str = ""
) -> Invoice:
    """Choose how to pay an invoice awaiting payment: the card fee (3.5% of the total) is added for a card and
    removed for the others, and the gateway makes a checkout for the amount due. The gateway is called after the
    commit of the choice, outside any transaction; if it fails, the choice stays and the payer tries again."""
    who = actor_of(actor)
    permission_require(workspace=workspace, actor=who, permission=Permission.VIEW_BILLING)
    if workspace.withholds_income_tax:
        raise PermissionDenied(
            _(
                "This workspace withholds income tax on its payments: its top-ups are arranged by Relasi's support."
            )
        )
    chosen_method, chosen_bank = payment_method_checked(method=method, bank=bank)
    with transaction.atomic():
        invoice = Invoice.objects.locked_or_404(workspace, invoice_id)
        _require_payable(invoice)
        invoice.payment_method = chosen_method
        invoice.bank = chosen_bank
        invoice.card_fee = card_fee(total=invoice.amount) if chosen_method == PaymentMethod.CARD else 0
        invoice.checkouts += 1
        invoice.payment_url = ""
        invoice.save(update_fields=["payment_method", "bank", "card_fee", "checkouts", "payment_url"])
        audit_record(
            workspace=workspace,
            actor=who,
            action="invoice.method_chosen",
            target=invoice,
            changes={"method": chosen_method, "bank": chosen_bank, "amount_due": invoice.amount_due},
        )
        order = TopUpOrder.objects.for_workspace(workspace).get(pk=invoice.order_id)
    gateway = gateway_current()
    checkout = gateway.checkout_create(
        CheckoutRequest(
            invoice_number=invoice.number,
            amount=invoice.amount_due,
            method=chosen_method,
            bank=chosen_bank,
            payer_email=order.billing_email,
            description=_("Relasi top-up, %(workspace)s") % {"workspace": workspace.name[:100]},
            expires_at=invoice.due_at,
            attempt=invoice.checkouts,
            return_url=site_link(
                reverse(
                    "billing:invoice", kwargs={"workspace_slug": workspace.slug, "invoice_id": invoice.pk}
                )
            ),
        )
    )
    # Only the checkout of the latest choice is kept: a slower call for an earlier choice does not overwrite it.
    Invoice.objects.for_workspace(workspace).filter(pk=invoice.pk, checkouts=invoice.checkouts).update(
        gateway=gateway.name, gateway_reference=checkout.reference[:200], payment_url=checkout.url[:2000]
    )
    invoice.refresh_from_db()
    return invoice


def _require_payable(invoice: Invoice) -> None:
    if invoice.is_payable:
        return
    if invoice.status == InvoiceStatus.AWAITING_PAYMENT:
        raise InvoiceNotPayable(_("This invoice's deadline has passed: make a new order."))
    raise InvoiceNotPayable(
        _("This invoice is %(status)s: it cannot be paid.") % {"status": invoice.get_status_display()}
    )


@dataclass(frozen=True)
class Applied:
    # relasi.billing.models.PaymentOutcome, or "duplicate" for an event recorded before.
    outcome: str
    invoice_id: int


def invoice_by_number(*, number: str) -> tuple[int, Workspace] | None:
    """The invoice a callback names, and its workspace: a callback comes from outside any workspace, and the
    invoice number (one platform-wide sequence) is how it finds one."""
    found = Invoice.unscoped.filter(number=number[:30]).values_list("pk", "workspace_id").first()
    if found is None:
        return None
    return found[0], Workspace.objects.get(pk=found[1])


def payment_event_apply(*, gateway: str, event: GatewayEvent) -> Applied | None:
    """Apply a verified callback once (the module's rules); None when it names no invoice of Relasi's."""
    found = invoice_by_number(number=event.invoice_number)
    if found is None:
        return None
    invoice_id, workspace = found
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = PaymentEvent.objects.for_workspace(workspace).create(
                    invoice_id=invoice_id,
                    gateway=gateway,
                    event_id=event.event_id,
                    status=event.status,
                    amount=event.amount,
                    occurred_at=event.occurred_at,
                    payload=event.payload,
                )
        except IntegrityError:
            return Applied(outcome="duplicate", invoice_id=invoice_id)
        invoice = Invoice.objects.locked_or_404(workspace, invoice_id)
        outcome = _apply(
            workspace=workspace, invoice=invoice, record=record, checkout_reference=event.checkout_reference
        )
        record.outcome = outcome
        record.save(update_fields=["outcome"])
    return Applied(outcome=outcome, invoice_id=invoice_id)


def _apply(*, workspace: Workspace, invoice: Invoice, record: PaymentEvent, checkout_reference: str) -> str:
    if record.status == PaymentEventStatus.EXPIRED:
        if invoice.status != InvoiceStatus.AWAITING_PAYMENT:
            return PaymentOutcome.NO_CHANGE
        # An earlier checkout (another method) expiring before the deadline leaves the current one payable.
        earlier = checkout_reference and checkout_reference != invoice.gateway_reference
        if earlier and timezone.now() < invoice.due_at:
            return PaymentOutcome.NO_CHANGE
        _status_set(workspace=workspace, invoice=invoice, status=InvoiceStatus.EXPIRED, record=record)
        return PaymentOutcome.EXPIRED
    if record.status != PaymentEventStatus.PAID:
        return PaymentOutcome.NO_CHANGE
    paid_at = record.occurred_at or record.received_at
    kind = _support_kind(invoice=invoice, amount=record.amount, paid_at=paid_at)
    if kind is not None:
        _support_open(workspace=workspace, invoice=invoice, record=record, kind=kind)
        return PaymentOutcome.SUPPORT
    _paid(workspace=workspace, invoice=invoice, record=record, paid_at=paid_at)
    return PaymentOutcome.PAID


def _support_kind(*, invoice: Invoice, amount: int | None, paid_at: datetime) -> str | None:
    if invoice.status not in (InvoiceStatus.AWAITING_PAYMENT, InvoiceStatus.EXPIRED):
        return SupportKind.SECOND_PAYMENT
    # Paid at the gateway by the deadline is on time, even when its callback comes after it — and after the job
    # that expired the invoice meanwhile.
    if invoice.due_at < paid_at:
        return SupportKind.LATE_PAYMENT
    if amount != invoice.amount_due:
        return SupportKind.AMOUNT_MISMATCH
    return None


def _status_set(*, workspace: Workspace, invoice: Invoice, status: str, record: PaymentEvent) -> None:
    before = invoice.status
    invoice.status = status
    invoice.status_changed_at = timezone.now()
    invoice.save(update_fields=["status", "status_changed_at", "paid_amount", "paid_at"])
    audit_record(
        workspace=workspace,
        actor=Actor(system=GATEWAY_ACTOR),
        action=f"invoice.{status}",
        target=invoice,
        changes={
            "status": [before, status],
            "gateway": record.gateway,
            "event": record.event_id,
            "amount": record.amount,
        },
    )


def _paid(*, workspace: Workspace, invoice: Invoice, record: PaymentEvent, paid_at: datetime) -> None:
    invoice.paid_amount = record.amount
    invoice.paid_at = paid_at
    _status_set(workspace=workspace, invoice=invoice, status=InvoiceStatus.PAID, record=record)
    order = TopUpOrder.objects.for_workspace(workspace).get(pk=invoice.order_id)
    order_credit(workspace=workspace, order=order, reference=f"invoice:{invoice.number}", actor=None)
    requester = (
        User.objects.filter(pk=order.requested_by_id, is_active=True).first()
        if order.requested_by_id is not None
        else None
    )
    if requester is None:
        return
    email_send_templated(
        to=[requester.email],
        template="top_up_paid",
        context={
            "workspace_name": workspace.name,
            "number": invoice.number,
            "lines": order.lines,
            "paid_amount": invoice.paid_amount,
            "paid_at": timezone.localtime(invoice.paid_at, workspace.zone).strftime("%Y-%m-%d %H:%M"),
            "url": site_link(reverse("billing:package_usage", kwargs={"workspace_slug": workspace.slug})),
        },
    )


def order_credit(
    *, workspace: Workspace, order: TopUpOrder, reference: str, actor: Actor | User | None, reason: str = ""
) -> None:
    """Credit each balance an order tops up, once per `reference` (a second credit of it writes nothing)."""
    who = actor if actor is not None else Actor(system=GATEWAY_ACTOR)
    for line in order.lines:
        balance_top_up(
            workspace=workspace,
            actor=who,
            kind=line["kind"],
            amount=line["quantity"],
            reference=reference,
            reason=reason,
        )


def _support_open(*, workspace: Workspace, invoice: Invoice, record: PaymentEvent, kind: str) -> None:
    order = TopUpOrder.objects.for_workspace(workspace).get(pk=invoice.order_id)
    request = SupportRequest.objects.for_workspace(workspace).create(
        kind=kind,
        invoice=invoice,
        payment_event=record,
        requested_by_id=order.requested_by_id,
        muv_visitors=order.muv_visitors,
        whatsapp_amount=order.whatsapp_amount,
        paid_amount=record.amount,
    )
    audit_record(
        workspace=workspace,
        actor=Actor(system=GATEWAY_ACTOR),
        action="support_request.opened",
        target=request,
        changes={"kind": kind, "invoice": invoice.number, "paid_amount": record.amount},
    )
    if invoice.status in (InvoiceStatus.AWAITING_PAYMENT, InvoiceStatus.EXPIRED):
        _status_set(workspace=workspace, invoice=invoice, status=InvoiceStatus.IN_REVIEW, record=record)
