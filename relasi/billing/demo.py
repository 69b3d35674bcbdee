"""The demo workspace's balances: this month's period of both, with usage that leaves WhatsApp below 40%."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from relasi.billing.models import BalanceKind, EntryType
from relasi.billing.services import Change, balance_change, balance_period_open
from relasi.core.audit import Actor
from relasi.tenancy.models import Workspace

DEMO = Actor(system="demo")
MUV_ALLOWANCE = 5_000
WHATSAPP_ALLOWANCE = 1_000_000
# (reference, rupiah): marketing broadcasts of the month, once each however often the demo is loaded.
WHATSAPP_USAGE = [(f"demo:broadcast:{number}", 125_000) for number in range(5)]


def billing_create_sample(*, workspace: Workspace, now: datetime) -> None:
    """Open this month's period of both balances and record the month's broadcasts (idempotent)."""
    month = timezone.localtime(now, workspace.zone).date().replace(day=1)
    for kind, allowance in ((BalanceKind.MUV, MUV_ALLOWANCE), (BalanceKind.WHATSAPP, WHATSAPP_ALLOWANCE)):
        balance_period_open(
            workspace=workspace, actor=DEMO, kind=kind, starts_on=month, allowance=allowance, reset=True
        )
    for reference, amount in WHATSAPP_USAGE:
        balance_change(
            workspace=workspace,
            actor=DEMO,
            kind=BalanceKind.WHATSAPP,
            changes=[Change(EntryType.USAGE, -amount, reason="WhatsApp marketing broadcast")],
            reference=f"{reference}:{month:%Y-%m}",
        )
