"""Reads of imports: one import and its progress, the recent ones, a preview of the file, the failed rows.

The uploaded file and its failed rows hold what the file said about people: they are for the person who ran
the import and for owners and admins (the rule of every file someone made, in relasi.tenancy.permissions).
Any member sees an import's status and counts.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.customers.imports.reading import fit, stored_table_open
from relasi.customers.models import CustomerImport, CustomerImportError, ImportStatus
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


def customer_import_errors(
    *, workspace: Workspace, actor: Actor | User, customer_import: CustomerImport, limit: int = 20
) -> list[CustomerImportError]:
    customer_import_file_access_require(workspace=workspace, actor=actor, customer_import=customer_import)
    rows = CustomerImportError.objects.for_workspace(workspace).filter(customer_import=customer_import)
    return list(rows.order_by("row_number")[:limit])


def customer_import_error_file_open(
    *, workspace: Workspace, actor: Actor | User, customer_import: CustomerImport
) -> IO[bytes]:
    """The error file (failed rows plus `error`); Http404 when the import has none."""
    customer_import_file_access_require(workspace=workspace, actor=actor, customer_import=customer_import)
    if not customer_import.error_file:
        raise Http404
    handle: IO[bytes] = customer_import.error_file.open("rb")
    return handle


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
