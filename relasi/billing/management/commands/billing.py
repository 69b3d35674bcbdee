"""`relasi billing check`: prove every balance against its ledger; exit 1 on any drift."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relasi.billing.checks import ledger_drifts


class Command(BaseCommand):
    help = "Billing tools. check: every balance equals the sum of its ledger entries (exit 1 on any drift)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check"])

    def handle(self, *args: Any, **options: Any) -> None:
        drifts = ledger_drifts()
        for drift in drifts:
            where = f" (entry {drift.broken_entry_id} breaks the chain)" if drift.broken_entry_id else ""
            self.stderr.write(
                f"workspace {drift.workspace_id} {drift.kind}: balance {drift.balance}, "
                f"ledger sum {drift.ledger_sum}{where}"
            )
        if drifts:
            raise CommandError(f"{len(drifts)} balance(s) drift from their ledger.")
        self.stdout.write("Every balance equals the sum of its ledger.")
