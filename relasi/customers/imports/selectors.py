"""Reads of imports: one import and its progress, the recent ones, a preview of the file, the failed rows.

The uploaded file and its failed rows hold what the file said about people: they are for the person who ran
the import and for owners and admins (the rule of every file someone made, in relasi.tenancy.permissions).
Any member sees an import's status and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.core.inputs import NUMBER_STYLE_SAMPLES, number_style_detect
from relasi.customers.imports.error_file import (
    failed_row_line,
    failed_row_reason,
    import_error_file_build,
    property_labels,
)
from relasi.customers.imports.mapping import Assignment, mapping_assignments
from relasi.customers.imports.reading import fit, stored_table_open
from relasi.customers.models import (
    CustomerImport,
    CustomerImportDuplicate,
    CustomerImportError,
    ImportStatus,
    NumberFormat,
    PropertyDefinition,
)
from relasi.customers.properties import NUMBER_KINDS
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import file_owner_or_permission_require

FINISHED = (ImportStatus.COMPLETED, ImportStatus.FAILED)


def customer_import_get(*, workspace: Workspace, import_id: int) -> CustomerImport:
    customer_import = CustomerImport.objects.for_workspace(workspace).filter(pk=import_id).first()
    if customer_import is None:
        raise Http404
    return customer_import


def customer_imports_recent(*, workspace: Workspace, limit: int = 10) -> QuerySet[CustomerImport]:
    return (
        CustomerImport.objects.for_workspace(workspace).select_related("created_by").order_by("-pk")[:limit]
    )


def customer_import_preview(
    *, workspace: Workspace, actor: Actor | User, customer_import: CustomerImport, rows: int = 5
) -> list[list[str]]:
    """The first customer rows of the file, one cell per header (for whoever may read the file)."""
    customer_import_file_access_require(workspace=workspace, actor=actor, customer_import=customer_import)
    width = len(customer_import.headers)
    preview: list[list[str]] = []
    if rows <= 0:
        return preview
    with stored_table_open(customer_import) as table:
        for row in table.rows:
            preview.append(fit(row, width))
            if len(preview) >= rows:
                break
    return preview


def customer_import_samples(
    *, customer_import: CustomerImport, rows: int = NUMBER_STYLE_SAMPLES
) -> list[list[str]]:
    """The first rows of the file, for what the suggestions look at (no access check: nothing leaves here)."""
    width = len(customer_import.headers)
    samples: list[list[str]] = []
    with stored_table_open(customer_import) as table:
        for row in table.rows:
            samples.append(fit(row, width))
            if len(samples) >= rows:
                break
    return samples


def number_columns(*, workspace: Workspace, assignments: list[Assignment]) -> list[int]:
    """The columns mapped to number properties (amounts in rupiah too: "Rp 1.500.000" says Indonesian)."""
    keys = set(
        PropertyDefinition.objects.for_workspace(workspace)
        .filter(kind__in=NUMBER_KINDS, archived_at__isnull=True)
        .values_list("key", flat=True)
    )
    return [assignment.index for assignment in assignments if assignment.field in keys]


def number_format_of(samples: list[list[str]], columns: list[int]) -> str:
    """The number format the values of these columns show (NumberFormat.PLAIN when they do not say)."""
    return number_style_detect(row[index] for row in samples for index in columns if index < len(row))


def customer_import_number_format_suggest(
    *, workspace: Workspace, headers: list[str], mapping: dict[str, Any], samples: list[list[str]]
) -> str:
    """The number format the mapping step offers: told from the columns the mapping puts in number properties."""
    assignments = [a for a in mapping_assignments(mapping) if a.index < len(headers)]
    columns = number_columns(workspace=workspace, assignments=assignments)
    return number_format_of(samples, columns) if columns else NumberFormat.PLAIN


def customer_import_number_format_detect(
    *, workspace: Workspace, customer_import: CustomerImport, assignments: list[Assignment]
) -> str:
    columns = number_columns(workspace=workspace, assignments=assignments)
    if not columns:
        return NumberFormat.PLAIN
    return number_format_of(customer_import_samples(customer_import=customer_import), columns)


def customer_import_file_access_require(
    *, workspace: Workspace, actor: Actor | User, customer_import: CustomerImport
) -> None:
    """PermissionDenied unless the actor uploaded the file or may read others' files."""
    file_owner_or_permission_require(
        workspace=workspace,
        actor=actor,
        made_by_user_id=customer_import.created_by_id,
        made_by_api_key_id=customer_import.created_by_api_key_id,
    )


def customer_import_file_readable(
    *, workspace: Workspace, actor: Actor | User, customer_import: CustomerImport
) -> bool:
    try:
        customer_import_file_access_require(workspace=workspace, actor=actor, customer_import=customer_import)
    except PermissionDenied:
        return False
    return True


@dataclass(frozen=True)
class FailedRow:
    line: int  # as the spreadsheet numbers the row
    reason: str  # in the active language
    reasons: list[
        dict[str, Any]
    ]  # as stored: codes and parameters ([] for rows failed before they were kept)


def customer_import_errors(
    *,
    workspace: Workspace,
    actor: Actor | User,
    customer_import: CustomerImport,
    limit: int = 20,
    after_line: int = 0,
) -> list[FailedRow]:
    """The failed rows in file order, their reasons worded in the active language (after a row, for paging)."""
    customer_import_file_access_require(workspace=workspace, actor=actor, customer_import=customer_import)
    rows = CustomerImportError.objects.for_workspace(workspace).filter(customer_import=customer_import)
    if after_line:
        # Lines grow with row numbers; rows kept before lines were are numbered as if on line row + 1.
        rows = rows.filter(Q(line__gt=after_line) | Q(line__isnull=True, row_number__gte=after_line))
    labels = property_labels(customer_import)
    return [
        FailedRow(
            line=failed_row_line(error.row_number, error.line),
            reason=failed_row_reason(error.reasons, error.message, labels),
            reasons=error.reasons,
        )
        for error in rows.order_by("row_number")[:limit]
    ]


def customer_import_duplicates(
    *, workspace: Workspace, customer_import: CustomerImport, limit: int = 50, after_line: int = 0
) -> list[CustomerImportDuplicate]:
    """The rows skipped as duplicates, in file order, with the customer each matched (None once purged).

    Any member sees them, as they see the customers: a skipped row shows no more than whom it matched."""
    rows = CustomerImportDuplicate.objects.for_workspace(workspace).filter(customer_import=customer_import)
    if after_line:
        rows = rows.filter(line__gt=after_line)
    return list(rows.select_related("customer").order_by("line")[:limit])


def customer_import_error_file_open(
    *, workspace: Workspace, actor: Actor | User, customer_import: CustomerImport
) -> IO[bytes]:
    """The error file (failed rows plus `row` and `error`) in the active language; Http404 when the import has
    no failed rows."""
    customer_import_file_access_require(workspace=workspace, actor=actor, customer_import=customer_import)
    if not customer_import_has_failed_rows(customer_import):
        raise Http404
    return import_error_file_build(customer_import)


def customer_import_has_failed_rows(customer_import: CustomerImport) -> bool:
    return customer_import.failed_count > 0


def customer_import_progress_percent(customer_import: CustomerImport) -> int:
    if customer_import.status == ImportStatus.COMPLETED:
        return 100
    if not customer_import.total_rows:
        return 0
    return min(100, customer_import.processed_rows * 100 // customer_import.total_rows)


def customer_import_error_filename(customer_import: CustomerImport) -> str:
    return f"{PurePath(customer_import.original_name).stem or 'import'}-errors.csv"


def customer_import_is_stalled(customer_import: CustomerImport, *, now: datetime | None = None) -> bool:
    """Queued or running, yet without progress for CUSTOMER_IMPORT_STALLED_SECONDS: its worker is gone
    (killed, or a broker that lost the job), and nothing would pick it up again soon."""
    if customer_import.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return False
    last_sign = customer_import.progressed_at or customer_import.started_at or customer_import.created_at
    quiet_for = ((now or timezone.now()) - last_sign).total_seconds()
    return quiet_for >= settings.CUSTOMER_IMPORT_STALLED_SECONDS


def customer_import_can_resume(customer_import: CustomerImport) -> bool:
    return customer_import.status == ImportStatus.FAILED or customer_import_is_stalled(customer_import)
