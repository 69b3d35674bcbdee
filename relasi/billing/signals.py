"""Billing listens to ingestion's usage signals (relasi.interactions.usage) and meters what they report, inside
the transaction that stored it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from relasi.interactions.usage import inbound_messages_stored, whatsapp_status_priced
from relasi.tenancy.models import Workspace


@receiver(inbound_messages_stored)
def count_unique_visitors(
    sender: type, workspace: Workspace, visits: list[tuple[int, datetime]], **kwargs: Any
) -> None:
    from relasi.billing.metering import visitors_meter

    visitors_meter(workspace=workspace, visits=visits)


@receiver(whatsapp_status_priced)
def debit_billable_message(
    sender: type,
    workspace: Workspace,
    provider_message_id: str,
    category: str,
    billable: bool,
    at: datetime,
    **kwargs: Any,
) -> None:
    from relasi.billing.metering import whatsapp_status_meter

    whatsapp_status_meter(
        workspace=workspace,
        provider_message_id=provider_message_id,
        category=category,
        billable=billable,
        at=at,
    )
