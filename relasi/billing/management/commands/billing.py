"""`relasi billing check`: prove every balance against its ledger (exit 1 on any drift).
`relasi billing subscribe --workspace SLUG --package NAME [--starts-on YYYY-MM-DD]`: start a subscription."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from relasi.billing.checks import ledger_drifts
from relasi.billing.models import Package
from relasi.billing.subscriptions import subscription_start
from relasi.core.audit import Actor
from relasi.tenancy.models import Workspace


class Command(BaseCommand):
    help = (
        "Billing tools. check: every balance equals the sum of its ledger entries (exit 1 on any drift). "
        "subscribe: start a workspace's subscription to a package."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check", "subscribe"])
        parser.add_argument("--workspace", default="", help="subscribe: the workspace's slug.")
        parser.add_argument("--package", default="", help="subscribe: the package's name.")
        parser.add_argument(
            "--starts-on", default="", help="subscribe: YYYY-MM-DD (default: today, in the workspace's zone)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "subscribe":
            self._subscribe(options)
            return
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

    def _subscribe(self, options: dict[str, Any]) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"][:60]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace'][:60]!r}.")
        package = Package.objects.filter(name=options["package"][:100]).first()
        if package is None:
            raise CommandError(f"No package named {options['package'][:100]!r}.")
        try:
            starts_on = (
                date.fromisoformat(options["starts_on"][:10])
                if options["starts_on"]
                else timezone.localdate(timezone=workspace.zone)
            )
        except ValueError:
            raise CommandError("--starts-on takes a date as YYYY-MM-DD.") from None
        try:
            subscription = subscription_start(
                workspace=workspace, actor=Actor(system="command"), package_id=package.pk, starts_on=starts_on
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"{workspace.slug} subscribes to {package.name} from {subscription.started_on}.")
