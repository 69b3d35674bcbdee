"""Usage from the CDP: unique visitors and billable WhatsApp messages, each debited once.

- A customer's first inbound message of a calendar month (in the workspace's time zone) counts one unique
  visitor: a `MonthlyVisitor` row, unique per (workspace, month, customer), inserted with the batch's other
  visitors by one `INSERT … ON CONFLICT DO NOTHING RETURNING`; the rows it inserted are debited from the MUV
  balance as one usage entry per month, in the same transaction.
- A WhatsApp status that Meta marks billable debits its category's price (the dated `WhatsAppPrice` table, the
  price in force on the status's day; service conversations are free) from the WhatsApp balance, once per
  message id: the ledger entry's reference is `wa:<message id>`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.billing.models import BalanceKind, EntryType, MonthlyVisitor, WhatsAppPrice
from relasi.billing.selectors import month_of
from relasi.billing.services import Change, balance_change, reference_of
from relasi.core.audit import Actor
from relasi.tenancy.models import Workspace

METER = Actor(system="metering")


def _aware(moment: datetime, workspace: Workspace) -> datetime:
    # A time without an offset is the workspace's own, as the event API reads it.
    return timezone.make_aware(moment, workspace.zone) if timezone.is_naive(moment) else moment


def visitors_meter(*, workspace: Workspace, visits: list[tuple[int, datetime]]) -> int:
    """Count the customers not yet counted in their message's month; how many were new."""
    first: dict[tuple[date, int], datetime] = {}
    for customer_id, moment in visits:
        # The first message counted, in the order given (the event-by-event path counts in the same order).
        first.setdefault(
            (month_of(workspace=workspace, moment=moment), customer_id), _aware(moment, workspace)
        )
    if not first:
        return 0
    inserted = _visitors_insert(workspace=workspace, rows=sorted(first.items()))
    per_month = Counter(month for month in inserted)
    for month, count in sorted(per_month.items()):
        balance_change(
            workspace=workspace,
            actor=METER,
            kind=BalanceKind.MUV,
            changes=[Change(EntryType.USAGE, -count, reason=f"{count} unique visitor(s), {month:%Y-%m}")],
        )
    return sum(per_month.values())


def _visitors_insert(*, workspace: Workspace, rows: list[tuple[tuple[date, int], datetime]]) -> list[date]:
    """Insert the visitors; the months of those inserted (a visitor already there is not). Sorted, so that two
    batches naming the same visitors wait for each other instead of deadlocking. Scoped by hand."""
    table = connection.ops.quote_name(MonthlyVisitor._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for (month, customer_id), moment in rows:
        params += [
            workspace.pk,
            connection.ops.adapt_datefield_value(month),
            customer_id,
            connection.ops.adapt_datetimefield_value(moment),
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, month, customer_id, first_at) VALUES {values} "
            "ON CONFLICT DO NOTHING RETURNING month",
            params,
        )
        found = cursor.fetchall()
    return [month if isinstance(month, date) else date.fromisoformat(str(month)) for (month,) in found]


def whatsapp_price(*, category: str, on: date) -> int | None:
    """The price in force on the day for the category; None when the table has none."""
    row = (
        WhatsAppPrice.objects.filter(category=category, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("price", flat=True)
        .first()
    )
    return row


def whatsapp_status_meter(
    *, workspace: Workspace, provider_message_id: str, category: str, billable: bool, at: datetime
) -> bool:
    """Debit a billable message's price once; whether this status debited it."""
    if not billable:
        return False
    price = whatsapp_price(
        category=category, on=timezone.localtime(_aware(at, workspace), workspace.zone).date()
    )
    return _whatsapp_debit(
        workspace=workspace, provider_message_id=provider_message_id, category=category, price=price
    )


def _whatsapp_debit(
    *, workspace: Workspace, provider_message_id: str, category: str, price: int | None
) -> bool:
    if not price:
        return False
    with transaction.atomic():
        written = balance_change(
            workspace=workspace,
            actor=METER,
            kind=BalanceKind.WHATSAPP,
            changes=[Change(EntryType.USAGE, -price, reason=f"WhatsApp {category}")],
            reference=reference_of("wa", provider_message_id),
        )
    return bool(written)


def usage_event_record(
    *,
    workspace: Workspace,
    actor: Actor,
    event_id: str,
    event_type: str,
    customer_id: int | None = None,
    category: str = "",
    at: datetime | None = None,
) -> str:
    """Usage reported by an outside system, metered as ingestion's own: a `visitor` counts its customer once per
    month, a `whatsapp_message` debits its category's price once per event id. "recorded" when it changed a
    balance, "duplicate" for a repeat, "not_billable" for a category whose price is 0 (service messages)."""
    moment = _aware(at, workspace) if at is not None else timezone.now()
    if event_type == "visitor":
        if customer_id is None:
            raise ValidationError({"customer_id": [_("A visitor names its customer.")]})
        with transaction.atomic():
            return (
                "recorded"
                if visitors_meter(workspace=workspace, visits=[(customer_id, moment)])
                else "duplicate"
            )
    if event_type == "whatsapp_message":
        price = whatsapp_price(category=category, on=timezone.localtime(moment, workspace.zone).date())
        if price is None:
            raise ValidationError({"category": [_("No price for this category on that day.")]})
        if price == 0:
            return "not_billable"
        debited = whatsapp_status_meter(
            workspace=workspace,
            provider_message_id=f"api:{event_id}",
            category=category,
            billable=True,
            at=moment,
        )
        return "recorded" if debited else "duplicate"
    raise ValidationError({"type": [_("Use visitor or whatsapp_message.")]})
