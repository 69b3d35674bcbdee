"""The demo workspace's billing: the Growth package, subscribed from this month with its payment, and usage that
leaves WhatsApp below 40% of the period."""

from __future__ import annotations

from datetime import datetime

from relasi.billing.models import BalanceKind, EntryType, Package, SubscriptionStatus, Term
from relasi.billing.selectors import month_end, month_of, subscription_current
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


def billing_create_sample(*, workspace: Workspace, now: datetime) -> None:
    """Subscribe the workspace to Growth from this month, record the month's payment and broadcasts
    (idempotent)."""
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
        amount=package.price,
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
