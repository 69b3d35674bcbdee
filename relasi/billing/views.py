"""Package usage: both balances of the workspace, the unique visitors of the month, and the ledger (owners and
admins)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from relasi.billing.models import BalanceKind, EntryType
from relasi.billing.selectors import (
    balance_summary,
    balances_of,
    invoices_recent,
    ledger_page,
    orders_draft,
    package_price_on,
    subscription_current,
    subscription_payments,
    support_requests_recent,
    visitors_of_month,
)
from relasi.core.ids import ids_parse
from relasi.tenancy.access import workspace_page
from relasi.tenancy.permissions import Permission
from relasi.tenancy.requests import WorkspacePageRequest


def _choice(value: str, allowed: list[str]) -> str:
    return value if value in allowed else ""


def _older_than(value: str) -> int | None:
    # A cursor is an entry's id: anything else (too long, not digits, out of range) reads the first page.
    found = ids_parse([value])
    return found[0] if found else None


@workspace_page(permission=Permission.VIEW_BILLING)
def package_usage(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    balances = balances_of(workspace=workspace)
    kind = _choice(request.GET.get("balance", "")[:20], BalanceKind.values)
    entry_type = _choice(request.GET.get("type", "")[:20], EntryType.values)
    page = ledger_page(
        workspace=workspace,
        kind=kind,
        entry_type=entry_type,
        older_than=_older_than(request.GET.get("older_than", "")[:20]),
    )
    today = timezone.localdate(timezone=workspace.zone)
    return render(
        request,
        "billing/usage.html",
        {
            "section": "usage",
            "muv": balance_summary(balances[BalanceKind.MUV]),
            "whatsapp": balance_summary(balances[BalanceKind.WHATSAPP]),
            "visitors_this_month": visitors_of_month(workspace=workspace, month=today),
            "month": today.replace(day=1),
            "page": page,
            "kind": kind,
            "entry_type": entry_type,
            "kinds": BalanceKind.choices,
            "entry_types": EntryType.choices,
            "filtered": bool(kind or entry_type),
        },
    )


@workspace_page(permission=Permission.VIEW_BILLING)
def subscription(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    current = subscription_current(workspace=workspace)
    today = timezone.localdate(timezone=workspace.zone)
    return render(
        request,
        "billing/subscription.html",
        {
            "section": "subscription",
            "subscription": current,
            "price": package_price_on(package=current.package, on=today) if current else None,
            "payments": subscription_payments(workspace=workspace),
            "invoices": invoices_recent(workspace=workspace),
            "draft_orders": orders_draft(workspace=workspace),
            "support_requests": support_requests_recent(workspace=workspace),
        },
    )
