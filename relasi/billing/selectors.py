"""Reading balances and their ledger."""

from __future__ import annotations

from django.db.models import QuerySet

from relasi.billing.models import Balance, BalanceKind, LedgerEntry
from relasi.tenancy.models import Workspace


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
