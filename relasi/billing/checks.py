"""`relasi billing check`: every balance of every workspace equals the sum of its ledger, and each entry's
balance-after follows from the one before it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from relasi.billing.models import Balance, LedgerEntry


@dataclass(frozen=True)
class Drift:
    workspace_id: int
    kind: str
    balance: int
    ledger_sum: int
    # The first entry whose balance-after does not follow from the one before it (None: the chain holds).
    broken_entry_id: int | None = None


def ledger_drifts() -> list[Drift]:
    """Every balance that its ledger does not prove. Reads every workspace: the check is the platform's."""
    sums = {
        (row["workspace_id"], row["kind"]): row["total"] or 0
        for row in LedgerEntry.unscoped.values("workspace_id", "kind").annotate(total=Sum("amount"))
    }
    balances = {
        (workspace_id, kind): amount
        for workspace_id, kind, amount in Balance.unscoped.values_list("workspace_id", "kind", "amount")
    }
    drifts = []
    for key in sorted(set(sums) | set(balances)):
        workspace_id, kind = key
        balance, total = balances.get(key, 0), sums.get(key, 0)
        broken = _chain_break(workspace_id=workspace_id, kind=kind)
        if balance != total or broken is not None:
            drifts.append(
                Drift(
                    workspace_id=workspace_id,
                    kind=kind,
                    balance=balance,
                    ledger_sum=total,
                    broken_entry_id=broken,
                )
            )
    return drifts


def _chain_break(*, workspace_id: int, kind: str) -> int | None:
    running = 0
    entries = (
        LedgerEntry.unscoped.filter(workspace_id=workspace_id, kind=kind)
        .order_by("id")
        .values_list("id", "amount", "balance_after")
    )
    for entry_id, amount, after in entries.iterator(chunk_size=5000):
        running += amount
        if after != running:
            return int(entry_id)
    return None
