"""CSV export of exactly the customers the current filters select: streamed, or a background job when large."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.csv_cells import csv_cell
from relasi.customers.filters import CustomerFilters, customer_filters_parse
from relasi.customers.models import ChannelIdentity, Customer, CustomerExport, ExportStatus, IdentityKind
from relasi.customers.selectors import customer_ordering, customer_queryset, property_definitions
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, file_owner_or_permission_require, permission_require

STANDARD_COLUMNS = [
    "id",
    "full_name",
    "source",
    "channel_username",
    "phone",
    "email",
    "status",
    "job_title",
    "province",
    "city",
    "district",
    "subdistrict",
    "zip_code",
    "owner",
    "assignee",
    "added_by",
    "created_at",
    "updated_at",
]
CHUNK = 2000


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def export_header(*, workspace: Workspace) -> list[str]:
    return STANDARD_COLUMNS + [
        definition.key
        for definition in property_definitions(workspace=workspace)
        if not definition.is_builtin
    ]


def _rows(*, workspace: Workspace, filters: CustomerFilters) -> Iterator[list[str]]:
    custom_keys = [
        definition.key
        for definition in property_definitions(workspace=workspace)
        if not definition.is_builtin
    ]
    rows = (
        customer_queryset(workspace=workspace, filters=filters)
        .select_related("owner", "assignee")
        .order_by(*customer_ordering(filters))
    )
    batch: list[Customer] = []
    for customer in rows.iterator(chunk_size=CHUNK):
        batch.append(customer)
        if len(batch) == CHUNK:
            yield from _format(workspace, batch, custom_keys)
            batch = []
    if batch:
        yield from _format(workspace, batch, custom_keys)


def _format(workspace: Workspace, customers: list[Customer], custom_keys: list[str]) -> Iterator[list[str]]:
    usernames: dict[int, str] = {}
    for customer_id, channel, external_id in (
        ChannelIdentity.objects.for_workspace(workspace)
        .filter(customer_id__in=[customer.pk for customer in customers], kind=IdentityKind.USERNAME)
        .values_list("customer_id", "channel", "external_id")
    ):
        usernames.setdefault(customer_id, f"{channel}:{external_id}")
    zone = workspace.zone
    for customer in customers:
        yield [
            str(customer.pk),
            csv_cell(customer.full_name),
            customer.source,
            csv_cell(usernames.get(customer.pk, "")),
            customer.phone,
            csv_cell(customer.email),
            csv_cell(customer.status),
            csv_cell(customer.job_title),
            csv_cell(customer.province),
            csv_cell(customer.city),
            csv_cell(customer.district),
            csv_cell(customer.subdistrict),
            csv_cell(customer.zip_code),
            csv_cell(customer.owner.full_name if customer.owner else ""),
            csv_cell(customer.assignee.full_name if customer.assignee else ""),
            csv_cell(customer.added_by_label),
            # In the workspace's time zone, like the page; the offset keeps the value exact.
            customer.created_at.astimezone(zone).isoformat(timespec="seconds"),
            customer.updated_at.astimezone(zone).isoformat(timespec="seconds"),
            *[csv_cell(customer.properties.get(key)) for key in custom_keys],
        ]


def _lines(*, workspace: Workspace, filters: CustomerFilters) -> Iterable[str]:
    """CSV lines (UTF-8 with BOM so spreadsheet programs read Indonesian names right)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(export_header(workspace=workspace))
    for row in _rows(workspace=workspace, filters=filters):
        yield writer.writerow(row)


def customer_export_needs_job(*, workspace: Workspace, filters: CustomerFilters) -> bool:
    """Larger than CUSTOMER_EXPORT_SYNC_LIMIT rows: written by a background job instead of streamed."""
    rows = customer_queryset(workspace=workspace, filters=filters).order_by()
    return rows[: settings.CUSTOMER_EXPORT_SYNC_LIMIT + 1].count() > settings.CUSTOMER_EXPORT_SYNC_LIMIT


def customer_export_stream(
    *, workspace: Workspace, actor: Actor | User, filters: CustomerFilters
) -> Iterable[str]:
    """The CSV lines of a small export, streamed to the caller; allowed and audited first (exports carry
    personal data)."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.EXPORT_CUSTOMERS)
    with transaction.atomic():
        audit_record(
            workspace=workspace,
            actor=actor,
            action="customer.exported",
            target=workspace,
            changes={"filters": filters.as_query()},
        )
    return _lines(workspace=workspace, filters=filters)


def customer_export_create(
    *, workspace: Workspace, actor: Actor | User, filters: CustomerFilters
) -> CustomerExport:
    permission_require(workspace=workspace, actor=actor, permission=Permission.EXPORT_CUSTOMERS)
    who = actor_of(actor)
    with transaction.atomic():
        export = CustomerExport.objects.for_workspace(workspace).create(
            created_by=who.user, filters=filters.as_query(), progressed_at=timezone.now()
        )
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.exported",
            target=export,
            changes={"filters": export.filters},
        )
        _enqueue(export)
    return export


def _enqueue(export: CustomerExport) -> None:
    from relasi.customers.tasks import customer_export_run_task

    workspace_pk, export_pk = export.workspace_id, export.pk
    transaction.on_commit(lambda: customer_export_run_task.delay(workspace_pk, export_pk))


def customer_export_is_stalled(export: CustomerExport, *, now: datetime | None = None) -> bool:
    """Queued or running without a sign of life for CUSTOMER_IMPORT_STALLED_SECONDS: its worker is gone."""
    if export.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return False
    last_sign = export.progressed_at or export.created_at
    return ((now or timezone.now()) - last_sign).total_seconds() >= settings.CUSTOMER_IMPORT_STALLED_SECONDS


def customer_export_resume(*, workspace: Workspace, actor: Actor, export_id: int) -> CustomerExport:
    """Queue a stalled export again; it is written from the start (the file is replaced, nothing is lost)."""
    with transaction.atomic():
        export = CustomerExport.objects.locked_or_404(workspace, export_id)
        if not customer_export_is_stalled(export):
            raise ValidationError(_("Only an export that stopped before the end can be continued."))
        previous = export.status
        export.status = ExportStatus.QUEUED
        export.progressed_at = timezone.now()
        export.save(update_fields=["status", "progressed_at"])
        audit_record(
            workspace=workspace,
            actor=actor,
            action="customer_export.resumed",
            target=export,
            changes={"status": [previous, ExportStatus.QUEUED]},
        )
        _enqueue(export)
    return export


def customer_export_run(*, workspace_id: int, export_id: int) -> CustomerExport:
    workspace = Workspace.objects.get(pk=workspace_id)
    export = (
        CustomerExport.objects.for_workspace(workspace)
        .select_related("workspace")
        .filter(pk=export_id)
        .first()
    )
    if export is None:
        raise Http404
    scoped = CustomerExport.objects.for_workspace(workspace)
    scoped.filter(pk=export.pk).update(status=ExportStatus.RUNNING, progressed_at=timezone.now())
    try:
        filters = customer_filters_parse(export.filters)
        # Written to a temporary file, not memory: a large export can hold a million rows.
        with tempfile.TemporaryFile(mode="w+b") as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            writer = csv.writer(text)
            text.write("\ufeff")
            writer.writerow(export_header(workspace=export.workspace))
            count = 0
            for row in _rows(workspace=export.workspace, filters=filters):
                writer.writerow(row)
                count += 1
                if count % CHUNK == 0:
                    scoped.filter(pk=export.pk).update(progressed_at=timezone.now())
            text.flush()
            handle.seek(0)
            export.file.save(f"customers-{export.workspace.slug}-{export.pk}.csv", File(handle), save=False)
            text.detach()
        export.row_count = count
        export.status = ExportStatus.COMPLETED
    except Exception:
        export.status = ExportStatus.FAILED
        export.save(update_fields=["status"])
        raise
    export.finished_at = timezone.now()
    export.save(update_fields=["file", "row_count", "status", "finished_at"])
    return export


def customer_export_get(*, workspace: Workspace, actor: Actor | User, export_id: int) -> CustomerExport:
    """An export of the workspace, for the person who asked for it (or an owner or admin)."""
    export = CustomerExport.objects.for_workspace(workspace).filter(pk=export_id).first()
    if export is None:
        raise Http404
    file_owner_or_permission_require(
        workspace=workspace, actor=actor, made_by_user_id=export.created_by_id, made_by_api_key_id=None
    )
    return export


def customer_export_file_open(*, export: CustomerExport) -> IO[bytes]:
    """The finished export's file; Http404 while it is not ready."""
    if export.status != ExportStatus.COMPLETED or not export.file:
        raise Http404
    handle: IO[bytes] = export.file.open("rb")
    return handle
