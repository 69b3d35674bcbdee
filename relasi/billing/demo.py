"""The demo workspace's billing: the Growth package, subscribed from this month with its payment, usage that
leaves WhatsApp below 40% of the period, a top-up of visitors paid through the sandbox gateway, and a WhatsApp
top-up whose invoice the gateway expired."""

from __future__ import annotations

from datetime import datetime

from relasi.accounts.models import User
from relasi.billing.gateways.base import GatewayEvent
from relasi.billing.models import BalanceKind, EntryType, Invoice, Package, SubscriptionStatus, Term
from relasi.billing.orders import top_up_order_confirm, top_up_order_create
from relasi.billing.payments import invoice_method_choose, payment_event_apply
from relasi.billing.selectors import month_end, month_of, package_price_on, subscription_current
from relasi.billing.services import Change, balance_change
from relasi.billing.subscriptions import subscription_payment_record, subscription_start
from relasi.core.audit import Actor
from relasi.tenancy.models import Workspace

DEMO = Actor(system="demo")
PACKAGE = {
    "price": 1_500_000,
    "term": Term.MONTHLY,
    "muv_allowance": 5_000,
    "whatsapp_allowance": 1_000_000,
    "resets_monthly": True,
}
# (reference, rupiah): marketing broadcasts of the month, once each however often the demo is loaded.
WHATSAPP_USAGE = [(f"demo:broadcast:{number}", 125_000) for number in range(5)]


def billing_create_sample(*, workspace: Workspace, owner: User, now: datetime) -> None:
    """Subscribe the workspace to Growth from this month, record the month's payment and broadcasts, and the two
    top-ups (idempotent)."""
    package, _created = Package.objects.get_or_create(name="Growth", defaults=PACKAGE)
    month = month_of(workspace=workspace, moment=now)
    subscription = subscription_current(workspace=workspace)
    if subscription is None or subscription.status != SubscriptionStatus.ACTIVE:
        subscription = subscription_start(
            workspace=workspace, actor=DEMO, package_id=package.pk, starts_on=month
        )
    subscription_payment_record(
        workspace=workspace,
        actor=DEMO,
        subscription_id=subscription.pk,
        amount=package_price_on(package=package, on=month),
        paid_at=now,
        covers_from=month,
        covers_to=month_end(month),
        reference=f"demo:payment:{month:%Y-%m}",
    )
    for reference, amount in WHATSAPP_USAGE:
        balance_change(
            workspace=workspace,
            actor=DEMO,
            kind=BalanceKind.WHATSAPP,
            changes=[Change(EntryType.USAGE, -amount, reason="WhatsApp marketing broadcast")],
            reference=f"{reference}:{month:%Y-%m}",
        )
    if not Invoice.objects.for_workspace(workspace).exists():
        _top_ups_create(workspace=workspace, owner=owner, now=now)


def _top_ups_create(*, workspace: Workspace, owner: User, now: datetime) -> None:
    """500 visitors paid by BCA virtual account, and IDR 1,000,000 of WhatsApp whose invoice expired unpaid — each
    through the services and callbacks a real top-up takes. (Visitors only, so WhatsApp stays below 40%.)"""
    paid = _invoice(workspace=workspace, owner=owner, muv_visitors=500, whatsapp_amount=0)
    invoice_method_choose(
        workspace=workspace, actor=owner, invoice_id=paid.pk, method="virtual_account", bank="bca"
    )
    payment_event_apply(
        gateway="sandbox",
        event=GatewayEvent(
            event_id=f"demo:{paid.number}:paid",
            invoice_number=paid.number,
            status="paid",
            amount=paid.amount,
            occurred_at=now,
        ),
    )
    expired = _invoice(workspace=workspace, owner=owner, muv_visitors=0, whatsapp_amount=1_000_000)
    payment_event_apply(
        gateway="sandbox",
        event=GatewayEvent(
            event_id=f"demo:{expired.number}:expired",
            invoice_number=expired.number,
            status="expired",
            amount=None,
            occurred_at=now,
        ),
    )


def _invoice(*, workspace: Workspace, owner: User, muv_visitors: int, whatsapp_amount: int) -> Invoice:
    order = top_up_order_create(
        workspace=workspace,
        actor=owner,
        muv_visitors=muv_visitors,
        whatsapp_amount=whatsapp_amount,
        billing_email=owner.email,
    )
    return top_up_order_confirm(workspace=workspace, actor=owner, order_id=order.pk)
