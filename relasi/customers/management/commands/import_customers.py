"""`relasi import-customers FILE --workspace SLUG` (or `--resume ID`): import a CSV or XLSX file in this
process, with progress."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from relasi.core.audit import Actor
from relasi.customers import imports
from relasi.customers.models import CustomerImport, DuplicateMode, ImportStatus
from relasi.tenancy.models import Workspace


class Command(BaseCommand):
    help = (
        "Import customers from a CSV or XLSX file into a workspace, using the suggested column mapping. "
        "Runs in this process and prints progress and the final counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="Path of the CSV or XLSX file (not with --resume).")
        parser.add_argument("--workspace", required=True, help="The workspace slug.")
        parser.add_argument(
            "--duplicates",
            choices=DuplicateMode.values,
            default=DuplicateMode.SKIP,
            help="What a row matching an existing customer does (default: skip).",
        )
        parser.add_argument(
            "--resume",
            type=int,
            metavar="IMPORT_ID",
            help="Continue an import that stopped (failed, or no progress for a while) after its last saved batch.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        if options["resume"] is not None:
            if options["file"]:
                raise CommandError("Give either a file to import or --resume IMPORT_ID, not both.")
            self._run(self._resumed(workspace, options["resume"]))
            return
        if not options["file"]:
            raise CommandError("Give the file to import (or --resume IMPORT_ID).")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        with path.open("rb") as handle:
            try:
                customer_import = imports.customer_import_upload_and_start(
                    workspace=workspace,
                    actor=Actor(system="import-customers"),
                    file=File(handle, name=path.name),
                    original_name=path.name,
                    mapping=None,
                    duplicate_mode=options["duplicates"],
                    enqueue=False,
                )
            except ValidationError as error:
                raise CommandError(f"Refused: {' '.join(error.messages)}") from None
        for index, target in customer_import.mapping.items():
            shown = target if isinstance(target, str) else json.dumps(target, ensure_ascii=False)
            self.stderr.write(f"  column {customer_import.headers[int(index)]!r} → {shown}")
        ignored = [
            header
            for index, header in enumerate(customer_import.headers)
            if str(index) not in customer_import.mapping
        ]
        if ignored:
            self.stderr.write(f"  ignored: {', '.join(repr(header) for header in ignored)}")
        self.stderr.write(f"Importing {customer_import.total_rows} rows (import {customer_import.pk})…")
        self._run(customer_import)

    def _resumed(self, workspace: Workspace, import_id: int) -> CustomerImport:
        try:
            customer_import = imports.customer_import_resume(
                workspace=workspace,
                actor=Actor(system="import-customers"),
                import_id=import_id,
                enqueue=False,
            )
        except Http404:
            raise CommandError(f"No import {import_id} in this workspace.") from None
        except ValidationError as error:
            raise CommandError(f"Refused: {' '.join(error.messages)}") from None
        self.stderr.write(
            f"Continuing import {customer_import.pk} after row {customer_import.processed_rows} "
            f"of {customer_import.total_rows}…"
        )
        return customer_import

    def _run(self, customer_import: CustomerImport) -> None:
        try:
            result = imports.customer_import_run(
                workspace_id=customer_import.workspace_id,
                import_id=customer_import.pk,
                on_progress=self._progress,
            )
        except Exception as error:
            raise CommandError(f"The import failed: {error}") from error
        self.stdout.write(
            f"Created {result.created_count}, updated {result.updated_count}, "
            f"skipped as duplicate {result.skipped_count}, failed {result.failed_count} "
            f"(of {result.total_rows} rows)."
        )
        if imports.customer_import_has_failed_rows(result):
            self.stdout.write(f"Failed rows with the reason: {self._error_file(result)}")
        if result.status != ImportStatus.COMPLETED:
            raise CommandError(f"The import ended as {result.status}.")

    def _error_file(self, customer_import: CustomerImport) -> Path:
        """The failed rows, written in the current folder (the reasons in the command's language)."""
        path = (
            Path.cwd()
            / f"import-{customer_import.pk}-{imports.customer_import_error_filename(customer_import)}"
        )
        source = imports.customer_import_error_file_open(
            workspace=customer_import.workspace,
            actor=Actor(system="import-customers"),
            customer_import=customer_import,
        )
        with source, path.open("wb") as target:
            shutil.copyfileobj(source, target)
        return path

    def _progress(self, customer_import: CustomerImport) -> None:
        percent = imports.customer_import_progress_percent(customer_import)
        self.stderr.write(
            f"  {customer_import.processed_rows}/{customer_import.total_rows} rows ({percent}%)"
        )
