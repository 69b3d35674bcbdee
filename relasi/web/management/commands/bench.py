"""`relasi bench customers --rows N`, `relasi bench interactions` and `relasi bench billing`: the performance
benchmarks (see docs/benchmarks.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Benchmark the All customers list and the customer import (customers), or the customer page, the event "
        "API and the WhatsApp webhook (interactions), on N generated customers; or usage debits under the balance "
        "lock from several processes, beside the naive read-modify-write (billing). Prints one JSON document on "
        "stdout; progress on stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "target", choices=["customers", "interactions", "billing"], help="What to benchmark."
        )
        parser.add_argument("--rows", type=int, default=1_000_000, help="Customers in the list workspace.")
        parser.add_argument(
            "--iterations", type=int, default=50, help="Timed runs per case (after warm-ups)."
        )
        parser.add_argument("--warmups", type=int, default=3, help="Untimed runs before each case.")
        parser.add_argument("--skip-import", action="store_true", help="Do not benchmark the CSV import.")
        parser.add_argument("--import-rows", type=int, default=1_048_576, help="Rows in the generated CSV.")
        parser.add_argument(
            "--import-in-process",
            action="store_true",
            help="Run the import in this process (peak memory is then the whole benchmark's); for tests.",
        )
        parser.add_argument(
            "--deep-pages", type=int, default=500, help="Pages to walk for the deep-cursor case."
        )
        parser.add_argument(
            "--full-import-rows",
            type=int,
            default=200_000,
            help="Rows imported into the list workspace of --rows customers (0 skips this case).",
        )
        parser.add_argument(
            "--batches", type=int, default=400, help="interactions: batches of 50 events sent."
        )
        parser.add_argument(
            "--clients",
            type=int,
            default=2,
            help="interactions: concurrent HTTP clients (one per web process).",
        )
        parser.add_argument("--webhooks", type=int, default=3000, help="interactions: webhook POSTs sent.")
        parser.add_argument(
            "--naive-events", type=int, default=1000, help="interactions: events sent one request each."
        )
        parser.add_argument("--processes", type=int, default=4, help="billing: worker processes.")
        parser.add_argument(
            "--seconds", type=float, default=20.0, help="billing: seconds of debits under the lock."
        )
        parser.add_argument(
            "--naive-seconds",
            type=float,
            help="billing: seconds of the naive read-modify-write (default: as --seconds).",
        )
        parser.add_argument(
            "--workspaces", type=int, default=3, help="billing: workspaces the workers share."
        )
        parser.add_argument(
            "--top-up-every", type=int, default=50, help="billing: one operation in N is a top-up."
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="billing: threads of this process instead of processes; for tests.",
        )
        parser.add_argument("--json-out", type=Path, help="Also write the JSON to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        # bench/ is a developer tool beside the package, not installed with it: find it from the checkout.
        root = str(settings.BASE_DIR)
        if root not in sys.path:
            sys.path.insert(0, root)

        def log(message: str) -> None:
            self.stderr.write(message)
            self.stderr.flush()

        run = {"customers": self._customers, "interactions": self._interactions, "billing": self._billing}
        result = run[options["target"]](options, log)
        text = json.dumps(result, indent=2, default=str)
        self.stdout.write(text)
        if options["json_out"]:
            options["json_out"].write_text(text + "\n")
            log(f"Wrote {options['json_out']}")

    def _customers(self, options: dict[str, Any], log: Any) -> dict[str, Any]:
        from bench.common import BenchOptions
        from bench.customers import run_customer_bench

        bench_options = BenchOptions(
            rows=options["rows"],
            iterations=options["iterations"],
            warmups=options["warmups"],
            skip_import=options["skip_import"],
            import_rows=options["import_rows"],
            import_in_process=options["import_in_process"],
            deep_pages=options["deep_pages"],
            full_import_rows=options["full_import_rows"],
        )
        return run_customer_bench(bench_options, log=log)

    def _interactions(self, options: dict[str, Any], log: Any) -> dict[str, Any]:
        from bench.interactions import InteractionsOptions, run_interactions_bench

        return run_interactions_bench(
            InteractionsOptions(
                rows=options["rows"],
                iterations=options["iterations"],
                warmups=options["warmups"],
                batches=options["batches"],
                clients=options["clients"],
                webhooks=options["webhooks"],
                naive_events=options["naive_events"],
            ),
            log=log,
        )

    def _billing(self, options: dict[str, Any], log: Any) -> dict[str, Any]:
        from bench.billing import BillingOptions, run_billing_bench
        from bench.common import BenchError

        billing = BillingOptions(
            processes=options["processes"],
            seconds=options["seconds"],
            naive_seconds=options["naive_seconds"],
            workspaces=options["workspaces"],
            top_up_every=options["top_up_every"],
            in_process=options["in_process"],
        )
        try:
            return run_billing_bench(billing, log=log)
        except BenchError as error:
            # A refusal (SQLite) or a worker's failure: its message, not a traceback through the command.
            raise CommandError(str(error)) from error
