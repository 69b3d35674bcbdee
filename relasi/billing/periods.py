"""The scheduled opening of each subscribed workspace's monthly period, at the start of its own month."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from relasi.billing.models import Subscription, SubscriptionStatus
from relasi.billing.subscriptions import month_of, subscription_periods_open


def periods_open_due(*, now: datetime | None = None) -> int:
    """Open the current month's period of every active subscription whose workspace has entered it (each in its
    own time zone); how many subscriptions were looked at. Safe to run often: a period opens once."""
    moment = now or timezone.now()
    active = Subscription.unscoped.filter(status=SubscriptionStatus.ACTIVE).select_related(
        "workspace", "package"
    )
    count = 0
    for subscription in active.order_by("pk").iterator(chunk_size=500):
        workspace = subscription.workspace
        subscription_periods_open(
            workspace=workspace, subscription=subscription, month=month_of(workspace=workspace, moment=moment)
        )
        count += 1
    return count
