"""What ingestion tells the modules that meter usage (billing), without knowing them: two signals, sent inside the
transaction that stored what they report, so a receiver's writes commit or roll back with it.

- `inbound_messages_stored`: new inbound messages, as (customer id, time of the message) — a customer's first of a
  month counts one unique visitor.
- `whatsapp_status_priced`: a WhatsApp delivery status with Meta's pricing (`pricing.category`,
  `pricing.billable`) — a billable message costs its category's price, once per message id.
"""

from __future__ import annotations

from datetime import datetime

from django.dispatch import Signal

from relasi.tenancy.models import Workspace

# Sent with workspace, visits: list[tuple[int, datetime]].
inbound_messages_stored = Signal()
# Sent with workspace, provider_message_id, category, billable, at.
whatsapp_status_priced = Signal()


def inbound_visits_report(*, workspace: Workspace, visits: list[tuple[int, datetime]]) -> None:
    if visits:
        inbound_messages_stored.send(sender=Workspace, workspace=workspace, visits=visits)


def whatsapp_pricing_report(
    *, workspace: Workspace, provider_message_id: str, category: str, billable: bool, at: datetime
) -> None:
    if provider_message_id and category:
        whatsapp_status_priced.send(
            sender=Workspace,
            workspace=workspace,
            provider_message_id=provider_message_id,
            category=category,
            billable=billable,
            at=at,
        )
