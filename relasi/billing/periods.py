"""The scheduled opening of each subscribed workspace's monthly period, at the start of its own month."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from relasi.billing.models import Subscription, SubscriptionStatus
from relasi.billing.selectors import month_of
from relasi.billing.subscriptions import subscription_periods_open

logger = logging.getLogger(__name__)


def periods_open_due(*, now: datetime | None = None) -> int:
    """Open the current month's period of every active subscription whose workspace has entered it (each in its
    own time zone); how many were opened or found open. Safe to run often: a period opens once."""
    moment = now or timezone.now()
    active = Subscription.unscoped.filter(status=SubscriptionStatus.ACTIVE).select_related(
        "workspace", "package"
    )
    count = 0
    for subscription in active.order_by("pk").iterator(chunk_size=500):
        workspace = subscription.workspace
        month = month_of(workspace=workspace, moment=moment)
        if subscription.started_on.replace(day=1) > month:
            continue  # starts in a later month: that month opens it
        try:
            subscription_periods_open(workspace=workspace, subscription=subscription, month=month)
        except Exception:
            # One workspace's failure (a package's allowance out of bounds, a lock error) must not keep the others
            # from their month: logged, and tried again at the next run.
            logger.exception(
                "The period of subscription %s (workspace %s) did not open", subscription.pk, workspace.pk
            )
            continue
        count += 1
    return count
