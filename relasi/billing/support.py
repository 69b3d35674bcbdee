"""The billing support queue: top-ups a workspace cannot make itself (it withholds income tax) and money a gateway
reported that self-service does not credit (another amount, after the deadline, a second payment). Staff decide
each item once: credit it (with a reason, through the ledger), mark it refunded, or cancel it."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.billing.models import (
    BalanceKind,
    Invoice,
    InvoiceStatus,
    PaymentEvent,
    SupportKind,
    SupportRequest,
    SupportStatus,
    TopUpOrder,
)
from relasi.billing.payments import order_credit
from relasi.billing.pricing import top_up_amounts_errors
from relasi.billing.services import balance_top_up
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.inputs import text_checked
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_require

MESSAGE_MAX = 2000
RESOLUTION_MAX = 300


def support_request_tax_create(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    muv_visitors: int,
    whatsapp_amount: int,
    message: str = "",
) -> SupportRequest:
    """A workspace withholding income tax asks support for a top-up of these amounts."""
    who = actor_of(actor)
    permission_require(workspace=workspace, actor=who, permission=Permission.VIEW_BILLING)
    if not workspace.withholds_income_tax:
        raise PermissionDenied(
            _("This workspace tops up by itself: its top-ups are paid on the top-up page.")
        )
    errors = top_up_amounts_errors(muv_visitors=muv_visitors, whatsapp_amount=whatsapp_amount)
    try:
        text = text_checked(message, max_length=MESSAGE_MAX)
    except ValidationError as error:
        errors["message"] = list(error.messages)
        text = ""
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = SupportRequest.objects.for_workspace(workspace).create(
            kind=SupportKind.WITHHOLDING_TAX,
            requested_by=who.user,
            muv_visitors=muv_visitors,
            whatsapp_amount=whatsapp_amount,
            message=text,
        )
        audit_record(
            workspace=workspace,
            actor=who,
            action="support_request.opened",
            target=request,
            changes={"kind": request.kind, "muv_visitors": muv_visitors, "whatsapp_amount": whatsapp_amount},
        )
    return request


def _staff(actor: User) -> User:
    if not (actor.is_active and actor.is_staff):
        raise PermissionDenied(_("Only platform staff decide support requests."))
    return actor


def _resolution(reason: str) -> str:
    try:
        text = text_checked(reason, max_length=RESOLUTION_MAX).strip()
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from None
    if not text:
        raise ValidationError({"reason": [_("Say why: it is kept with the decision.")]})
    return text


def _open_locked(request_id: int) -> tuple[Workspace, SupportRequest]:
    workspace_id = (
        SupportRequest.unscoped.filter(pk=request_id).values_list("workspace_id", flat=True).first()
    )
    if workspace_id is None:
        raise ValidationError(_("No such support request."))
    workspace = Workspace.objects.get(pk=workspace_id)
    request = SupportRequest.objects.locked_or_404(workspace, request_id)
    if request.invoice_id is not None:
        # The invoice before any balance, in the order a gateway's callback takes them.
        Invoice.objects.locked_or_404(workspace, request.invoice_id)
    if request.status != SupportStatus.OPEN:
        raise ValidationError(
            _("This request was already decided: %(status)s.") % {"status": request.get_status_display()}
        )
    return workspace, request


def _decide(*, workspace: Workspace, request: SupportRequest, staff: User, status: str, reason: str) -> None:
    request.status = status
    request.resolution = reason
    request.resolved_by = staff
    request.resolved_at = timezone.now()
    request.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    if request.invoice_id is not None:
        _invoice_settle(workspace=workspace, invoice_id=request.invoice_id, staff=staff, reason=reason)
    audit_record(
        workspace=workspace,
        actor=staff,
        action=f"support_request.{status}",
        target=request,
        changes={"reason": reason},
    )


def _invoice_settle(*, workspace: Workspace, invoice_id: int, staff: User, reason: str) -> None:
    """Once the last open request on an invoice in review is decided, the invoice leaves review: Paid when any of
    its requests was credited (with that payment's amount and time), Cancelled when none was — whatever order
    staff decided them in."""
    invoice = Invoice.objects.locked_or_404(workspace, invoice_id)
    requests = SupportRequest.objects.for_workspace(workspace).filter(invoice_id=invoice.pk)
    if invoice.status != InvoiceStatus.IN_REVIEW or requests.filter(status=SupportStatus.OPEN).exists():
        return
    credited = requests.filter(status=SupportStatus.CREDITED).order_by("resolved_at", "pk").first()
    before = invoice.status
    invoice.status = InvoiceStatus.PAID if credited is not None else InvoiceStatus.CANCELLED
    invoice.status_changed_at = timezone.now()
    if credited is not None:
        invoice.paid_amount = credited.paid_amount
        invoice.paid_at = _paid_at(workspace=workspace, request=credited)
    invoice.save(update_fields=["status", "status_changed_at", "paid_amount", "paid_at"])
    audit_record(
        workspace=workspace,
        actor=staff,
        action=f"invoice.{invoice.status}",
        target=invoice,
        changes={"status": [before, invoice.status], "reason": reason},
    )


def _paid_at(*, workspace: Workspace, request: SupportRequest) -> datetime | None:
    """When the money came: the gateway's time of the payment, not the decision's."""
    if request.payment_event_id is None:
        return request.resolved_at
    event = PaymentEvent.objects.for_workspace(workspace).get(pk=request.payment_event_id)
    return event.occurred_at or event.received_at


def support_request_credit(*, request_id: int, staff: User, reason: str) -> SupportRequest:
    """Credit what the request is for — its invoice's order, or the amounts asked — once, with the reason on each
    ledger entry; an invoice in review becomes Paid."""
    decider = _staff(staff)
    why = _resolution(reason)
    with transaction.atomic():
        workspace, request = _open_locked(request_id)
        reference = f"support:{request.pk}"
        if request.invoice_id is not None and request.kind != SupportKind.SECOND_PAYMENT:
            invoice = Invoice.objects.for_workspace(workspace).get(pk=request.invoice_id)
            order = TopUpOrder.objects.for_workspace(workspace).get(pk=invoice.order_id)
            order_credit(workspace=workspace, order=order, reference=reference, actor=decider, reason=why)
        else:
            for kind, amount in (
                (BalanceKind.MUV, request.muv_visitors),
                (BalanceKind.WHATSAPP, request.whatsapp_amount),
            ):
                if amount:
                    balance_top_up(
                        workspace=workspace,
                        actor=decider,
                        kind=kind,
                        amount=amount,
                        reference=reference,
                        reason=why,
                    )
        _decide(
            workspace=workspace,
            request=request,
            staff=decider,
            status=SupportStatus.CREDITED,
            reason=why,
        )
    return request


def support_request_refund(*, request_id: int, staff: User, reason: str) -> SupportRequest:
    """The money went back to the payer: nothing is credited, an invoice in review is Cancelled."""
    return _close(request_id=request_id, staff=staff, reason=reason, status=SupportStatus.REFUNDED)


def support_request_cancel(*, request_id: int, staff: User, reason: str) -> SupportRequest:
    """Nothing to do (asked by mistake, settled elsewhere): nothing is credited, an invoice in review is
    Cancelled."""
    return _close(request_id=request_id, staff=staff, reason=reason, status=SupportStatus.CANCELLED)


def _close(*, request_id: int, staff: User, reason: str, status: str) -> SupportRequest:
    decider = _staff(staff)
    why = _resolution(reason)
    with transaction.atomic():
        workspace, request = _open_locked(request_id)
        _decide(
            workspace=workspace,
            request=request,
            staff=decider,
            status=status,
            reason=why,
        )
    return request
