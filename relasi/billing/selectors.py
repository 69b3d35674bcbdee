"""Reading balances and their ledger, orders, invoices and support requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Never

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from relasi.billing.models import (
    Balance,
    BalanceKind,
    EntryType,
    Invoice,
    LedgerEntry,
    MonthlyVisitor,
    Package,
    PackagePrice,
    Subscription,
    SubscriptionPayment,
    SubscriptionStatus,
    SupportRequest,
    TopUpOrder,
)
from relasi.core.pagination import Page, keyset_page
from relasi.tenancy.models import Workspace

LEDGER_PAGE_SIZE = 25
LEDGER_MAX_PAGE_SIZE = 200


def balances_of(*, workspace: Workspace) -> dict[str, Balance]:
    """Both balances of the workspace; one never changed reads as zero."""
    found = {balance.kind: balance for balance in Balance.objects.for_workspace(workspace)}
    return {kind: found.get(kind) or Balance(workspace=workspace, kind=kind) for kind in BalanceKind.values}


def ledger_entries(*, workspace: Workspace, kind: str | None = None) -> QuerySet[LedgerEntry]:
    """The workspace's entries, newest first (of one balance when `kind` is given)."""
    entries = LedgerEntry.objects.for_workspace(workspace)
    if kind is not None:
        entries = entries.filter(kind=kind)
    return entries.order_by("-id")


@dataclass(frozen=True)
class BalanceSummary:
    kind: str
    remaining: int
    period_start: date | None
    period_end: date | None
    # What the period brought (allowance and top-ups); what of it is gone; what is left of it, 0 to 100.
    period_total: int
    used: int
    remaining_percent: int | None
    # Below LOW_BALANCE_PERCENT of the period (Balance.is_low): the bar turns amber.
    low: bool


def month_of(*, workspace: Workspace, moment: datetime) -> date:
    """The first day of the workspace's calendar month at `moment` (a time without an offset is the workspace's)."""
    aware = timezone.make_aware(moment, workspace.zone) if timezone.is_naive(moment) else moment
    return timezone.localtime(aware, workspace.zone).date().replace(day=1)


def month_end(start: date) -> date:
    """The last day of the month that `start` is in."""
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def balance_summary(balance: Balance) -> BalanceSummary:
    total = balance.period_total
    percent = max(0, min(100, balance.amount * 100 // total)) if total > 0 else None
    return BalanceSummary(
        kind=balance.kind,
        remaining=balance.amount,
        period_start=balance.period_start,
        period_end=month_end(balance.period_start) if balance.period_start else None,
        period_total=total,
        used=max(0, total - balance.amount),
        remaining_percent=percent,
        low=balance.is_low,
    )


def visitors_of_month(*, workspace: Workspace, month: date) -> int:
    """How many unique visitors the month counted."""
    return MonthlyVisitor.objects.for_workspace(workspace).filter(month=month.replace(day=1)).count()


@dataclass(frozen=True)
class LedgerPage:
    entries: list[LedgerEntry]
    # The id to read older entries from, or None on the last page.
    older_than: int | None


def ledger_page(
    *, workspace: Workspace, kind: str = "", entry_type: str = "", older_than: int | None = None
) -> LedgerPage:
    """One page of the ledger, newest first, by id (a keyset: page 1,000 costs what page 1 does)."""
    entries = ledger_entries(workspace=workspace, kind=kind if kind in BalanceKind.values else None)
    if entry_type in EntryType.values:
        entries = entries.filter(entry_type=entry_type)
    if older_than is not None:
        entries = entries.filter(id__lt=older_than)
    rows = list(entries[: LEDGER_PAGE_SIZE + 1])
    more = len(rows) > LEDGER_PAGE_SIZE
    rows = rows[:LEDGER_PAGE_SIZE]
    return LedgerPage(entries=rows, older_than=rows[-1].pk if more else None)


def subscription_current(*, workspace: Workspace) -> Subscription | None:
    """The active subscription, else the latest one."""
    subscriptions = Subscription.objects.for_workspace(workspace).select_related("package")
    return (
        subscriptions.filter(status=SubscriptionStatus.ACTIVE).first()
        or subscriptions.order_by("-started_on", "-id").first()
    )


def subscription_payments(*, workspace: Workspace, limit: int = 100) -> list[SubscriptionPayment]:
    """The workspace's subscription payments, newest first."""
    return list(
        SubscriptionPayment.objects.for_workspace(workspace)
        .select_related("subscription__package")
        .order_by("-paid_at", "-id")[:limit]
    )


def ledger_keyset_page(
    *, workspace: Workspace, kind: str = "", entry_type: str = "", cursor: str | None, limit: int
) -> Page[LedgerEntry]:
    """The API's pages of the ledger, newest first, with signed cursors both ways (relasi.core.pagination)."""
    entries = LedgerEntry.objects.for_workspace(workspace)
    if kind in BalanceKind.values:
        entries = entries.filter(kind=kind)
    if entry_type in EntryType.values:
        entries = entries.filter(entry_type=entry_type)
    return keyset_page(
        entries,
        ordering=["-id"],
        cursor=cursor,
        limit=max(1, min(limit, LEDGER_MAX_PAGE_SIZE)),
        scope=f"ledger:{workspace.pk}:{kind}:{entry_type}",
    )


def low_balances(*, workspace: Workspace) -> list[Balance]:
    """The workspace's balances below LOW_BALANCE_PERCENT of their period, for the banner."""
    return sorted(
        (balance for balance in Balance.objects.for_workspace(workspace) if balance.is_low),
        key=lambda balance: balance.kind,
    )


def order_of(*, workspace: Workspace, order_id: int) -> TopUpOrder:
    """The workspace's order; another workspace's, or none, is a 404."""
    return TopUpOrder.objects.for_workspace(workspace).filter(pk=order_id).first() or _not_found()


def invoice_of(*, workspace: Workspace, invoice_id: int) -> Invoice:
    """The workspace's invoice; another workspace's, or none, is a 404."""
    return Invoice.objects.for_workspace(workspace).filter(pk=invoice_id).first() or _not_found()


def invoice_of_order(*, workspace: Workspace, order_id: int) -> Invoice | None:
    return Invoice.objects.for_workspace(workspace).filter(order_id=order_id).first()


def _not_found() -> Never:
    raise Http404


def invoices_recent(*, workspace: Workspace, limit: int = 100) -> list[Invoice]:
    """The workspace's invoices, newest first, with their orders."""
    return list(
        Invoice.objects.for_workspace(workspace)
        .select_related("order")
        .order_by("-created_at", "-id")[:limit]
    )


def support_requests_recent(*, workspace: Workspace, limit: int = 50) -> list[SupportRequest]:
    return list(SupportRequest.objects.for_workspace(workspace).order_by("-created_at", "-id")[:limit])


def package_price_on(*, package: Package, on: date) -> int:
    """The package's price on a day: the latest dated price from that day or before, else its list price."""
    dated = (
        PackagePrice.objects.filter(package=package, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("price", flat=True)
        .first()
    )
    return package.price if dated is None else dated


def orders_draft(*, workspace: Workspace, limit: int = 20) -> list[TopUpOrder]:
    """Orders priced but not confirmed yet (no invoice), newest first."""
    return list(
        TopUpOrder.objects.for_workspace(workspace)
        .filter(status="draft")
        .order_by("-created_at", "-id")[:limit]
    )
