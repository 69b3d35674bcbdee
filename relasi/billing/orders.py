"""Top-up orders and their invoices, before payment: an order priced by the rules of relasi.billing.pricing,
confirmed into an invoice payable until its deadline, which then expires. (Payment methods, gateways and their
callbacks come next: docs/billing.md.)"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.billing.models import BalanceKind, Invoice, InvoiceStatus, OrderStatus, TopUpOrder
from relasi.billing.pricing import invoice_deadline, order_quote
from relasi.billing.selectors import balances_of
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.emails import email_send_templated
from relasi.core.inputs import text_checked
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_require

EMAIL_MAX = 254


def _billing_email(value: str) -> str:
    try:
        email = text_checked(value, max_length=EMAIL_MAX).strip()
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"billing_email": [_("Enter the email address the billing information goes to.")]}
        ) from None
    return email


def top_up_order_create(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    muv_visitors: int,
    whatsapp_amount: int,
    billing_email: str,
) -> TopUpOrder:
    """Price a top-up as asked (the WhatsApp amount raised to the minimum, with a notice) and keep it as a draft.
    A workspace that withholds income tax tops up through support: refused, saying so."""
    who = actor_of(actor)
    permission_require(workspace=workspace, actor=who, permission=Permission.VIEW_BILLING)
    if workspace.withholds_income_tax:
        raise PermissionDenied(
            _(
                "This workspace withholds income tax on its payments, so its top-ups are arranged by Relasi's "
                "support: send them a request with the amounts."
            )
        )
    email = _billing_email(billing_email)
    now = timezone.now()
    balance = balances_of(workspace=workspace)[BalanceKind.WHATSAPP].amount
    quote = order_quote(
        muv_visitors=muv_visitors,
        whatsapp_amount=whatsapp_amount,
        whatsapp_balance=balance,
        on=timezone.localtime(now, workspace.zone).date(),
    )
    with transaction.atomic():
        order = TopUpOrder.objects.for_workspace(workspace).create(
            requested_by=who.user,
            muv_visitors=sum(line.quantity for line in quote.lines if line.kind == "muv"),
            whatsapp_amount=sum(line.quantity for line in quote.lines if line.kind == "whatsapp"),
            lines=[
                {"kind": line.kind, "quantity": line.quantity, "price": line.price} for line in quote.lines
            ],
            notices=quote.notices,
            subtotal=quote.subtotal,
            vat_rate=str(quote.vat_rate_percent),
            vat_base=quote.vat_base,
            vat=quote.vat,
            total=quote.total,
            billing_email=email,
            created_at=now,
        )
        audit_record(
            workspace=workspace,
            actor=who,
            action="top_up_order.created",
            target=order,
            changes={"lines": order.lines, "total": order.total, "notices": order.notices},
        )
    return order


def top_up_order_confirm(
    *, workspace: Workspace, actor: Actor | User | None, order_id: int, billing_email: str | None = None
) -> Invoice:
    """Confirm a draft order: its invoice, payable until 23:59 of the next day in the workspace's zone, and the
    billing information emailed to the billing address (after the commit). Confirming again answers the same
    invoice."""
    who = actor_of(actor)
    permission_require(workspace=workspace, actor=who, permission=Permission.VIEW_BILLING)
    email = _billing_email(billing_email) if billing_email is not None else None
    with transaction.atomic():
        order = TopUpOrder.objects.locked_or_404(workspace, order_id)
        if order.status == OrderStatus.CONFIRMED:
            return Invoice.objects.for_workspace(workspace).get(order=order)
        if email is not None:
            order.billing_email = email
        order.status = OrderStatus.CONFIRMED
        order.save(update_fields=["billing_email", "status"])
        now = timezone.now()
        invoice = Invoice.objects.for_workspace(workspace).create(
            order=order,
            number=f"PENDING-{order.pk}",
            amount=order.total,
            due_at=invoice_deadline(created_at=now, zone=workspace.zone),
            created_at=now,
        )
        # The year and month of the workspace's calendar, as on the invoice it reads.
        invoice.number = f"INV/{timezone.localtime(now, workspace.zone):%Y/%m}/{invoice.pk:06d}"
        invoice.save(update_fields=["number"])
        audit_record(
            workspace=workspace,
            actor=who,
            action="invoice.created",
            target=invoice,
            changes={"order": order.pk, "amount": invoice.amount, "due_at": invoice.due_at.isoformat()},
        )
        email_send_templated(
            to=[order.billing_email],
            template="top_up_billing",
            context={
                "workspace_name": workspace.name,
                "number": invoice.number,
                "lines": order.lines,
                "subtotal": order.subtotal,
                "vat_rate": order.vat_rate,
                "vat": order.vat,
                "total": order.total,
                "due_at": timezone.localtime(invoice.due_at, workspace.zone).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return invoice


def invoices_expire_due(*, now: datetime | None = None) -> int:
    """Expire every invoice still awaiting payment after its deadline (audited); how many. Safe to run often."""
    moment = now or timezone.now()
    expired = 0
    due = Invoice.unscoped.filter(status=InvoiceStatus.AWAITING_PAYMENT, due_at__lt=moment).order_by("pk")
    for invoice_id, workspace_id in due.values_list("pk", "workspace_id")[:10_000]:
        workspace = Workspace.objects.get(pk=workspace_id)
        with transaction.atomic():
            invoice = Invoice.objects.locked_or_404(workspace, invoice_id)
            # Paid meanwhile (its callback waited for this lock): stays paid.
            if invoice.status != InvoiceStatus.AWAITING_PAYMENT or invoice.due_at >= moment:
                continue
            invoice.status = InvoiceStatus.EXPIRED
            invoice.status_changed_at = moment
            invoice.save(update_fields=["status", "status_changed_at"])
            audit_record(
                workspace=workspace,
                actor=Actor(system="billing"),
                action="invoice.expired",
                target=invoice,
                changes={"status": [InvoiceStatus.AWAITING_PAYMENT, InvoiceStatus.EXPIRED]},
            )
            expired += 1
    return expired
