"""Writes of an import: upload the file, fix the mapping and start, continue a stopped one.

Only those allowed to import (owners and admins; agents when the owner allows it; API keys) may, whoever
asks: the page, the API or the command line.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.customers.imports.mapping import (
    Assignment,
    CheckedMapping,
    customer_import_suggest_mapping,
    mapping_check,
    new_property_key,
)
from relasi.customers.imports.reading import (
    EMPTY,
    FORMAT_CSV,
    TOO_LARGE,
    binary_stream,
    delimiter_detect,
    file_size,
    format_detect,
    refusal,
    rows_count,
    size_text,
)
from relasi.customers.imports.selectors import (
    customer_import_can_resume,
    customer_import_file_access_require,
    customer_import_number_format_detect,
    customer_import_samples,
)
from relasi.customers.models import (
    CustomerImport,
    DuplicateMode,
    ImportStatus,
    NumberFormat,
    PropertyDefinition,
    PropertyKind,
)
from relasi.customers.property_services import property_create
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_granted, permission_require


def _checked_file(file: File | IO[bytes]) -> tuple[IO[bytes], str, list[str], int]:
    """The file's stream, format, headers and row count; refused before any work when over the limits."""
    max_bytes = settings.CUSTOMER_IMPORT_MAX_BYTES
    size = file_size(file)
    if size > max_bytes:
        raise refusal(
            _("The file is %(size)s; the limit is %(limit)s. Split it into smaller files.")
            % {"size": size_text(size), "limit": size_text(max_bytes)},
            TOO_LARGE,
        )
    if size == 0:
        raise refusal(_("The file is empty."), EMPTY)
    stream = binary_stream(file)
    file_format = format_detect(stream)
    delimiter = delimiter_detect(stream) if file_format == FORMAT_CSV else ","
    headers, total = rows_count(stream, file_format, delimiter, settings.CUSTOMER_IMPORT_MAX_ROWS)
    if not any(headers):
        raise refusal(_("The file has no header row."), EMPTY)
    if total == 0:
        raise refusal(_("The file has a header row but no customers under it."), EMPTY)
    return stream, file_format, headers, total


def customer_import_upload(
    *, workspace: Workspace, actor: Actor | User | None, file: File | IO[bytes], original_name: str
) -> CustomerImport:
    """Check and store an import file; ready for column mapping. Refused before any work when over the limits."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.IMPORT_CUSTOMERS)
    stream, file_format, headers, total = _checked_file(file)
    who = actor_of(actor)
    customer_import = CustomerImport(
        workspace=workspace,
        created_by=who.user,
        created_by_api_key=who.api_key,
        created_by_system=who.system if who.user is None and who.api_key is None else "",
        original_name=PurePath(original_name or "import").name[:255],
        file_format=file_format,
        headers=headers,
        total_rows=total,
        status=ImportStatus.UPLOADED,
    )
    stream.seek(0)
    customer_import.file.save(f"{uuid.uuid4().hex}.{file_format}", File(stream), save=False)
    try:
        with transaction.atomic():
            customer_import.save()
            audit_record(
                workspace=workspace,
                actor=who,
                action="customer_import.uploaded",
                target=customer_import,
                changes={"file": customer_import.original_name, "format": file_format, "rows": total},
            )
    except BaseException:
        customer_import.file.delete(save=False)
        raise
    return customer_import


def _create_new_properties(
    *, workspace: Workspace, actor: Actor, checked: CheckedMapping
) -> list[Assignment]:
    """Text properties for the "new:<Label>" targets (fields, or where other values go); the Properties menu's
    rule applies. The assignments with the new properties' keys."""
    if not checked.new_labels:
        return checked.assignments
    if not permission_granted(workspace=workspace, actor=actor, permission=Permission.MANAGE_PROPERTIES):
        message = _(
            "Only owners and admins can add properties: import this column into an existing field, or ignore it."
        )
        raise ValidationError(
            {
                f"mapping.{assignment.index}": [message]
                for assignment in checked.assignments
                if assignment.field in checked.new_labels or assignment.rest in checked.new_labels
            }
        )
    taken = set(PropertyDefinition.objects.for_workspace(workspace).values_list("key", flat=True))
    keys: dict[str, str] = {}
    for assignment in checked.assignments:
        for target in (assignment.field, assignment.rest):
            if target in checked.new_labels and target not in keys:
                label = checked.new_labels[target]
                keys[target] = property_create(
                    workspace=workspace,
                    actor=actor,
                    label=label,
                    key=new_property_key(label, taken),
                    kind=PropertyKind.TEXT,
                ).key
    return [
        replace(
            assignment,
            field=keys.get(assignment.field, assignment.field),
            rest=keys.get(assignment.rest, assignment.rest),
        )
        for assignment in checked.assignments
    ]


def _enqueue(customer_import: CustomerImport) -> None:
    from relasi.customers.tasks import customer_import_run_task

    workspace_pk, import_pk = customer_import.workspace_id, customer_import.pk
    transaction.on_commit(lambda: customer_import_run_task.delay(workspace_pk, import_pk))


def customer_import_start(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    import_id: int,
    mapping: dict[str, Any],
    duplicate_mode: str,
    number_format: str | None = None,
    enqueue: bool = True,
) -> CustomerImport:
    """Fix the column mapping (creating the new properties it asks for) and the file's number format (told
    from its number columns when None), and queue the import job.

    With enqueue=False the caller runs `customer_import_run` itself (the command line does).
    """
    permission_require(workspace=workspace, actor=actor, permission=Permission.IMPORT_CUSTOMERS)
    if duplicate_mode not in DuplicateMode.values:
        raise ValidationError({"duplicate_mode": [_("Choose whether duplicates are skipped or updated.")]})
    if number_format is not None and number_format not in NumberFormat.values:
        raise ValidationError(
            {"number_format": [_("Choose how the file writes numbers: Indonesian, English or plain.")]}
        )
    who = actor_of(actor)
    with transaction.atomic():
        customer_import = CustomerImport.objects.locked_or_404(workspace, import_id)
        # Mapping shows the file's rows: someone else's upload is theirs to start (or an owner's or admin's).
        customer_import_file_access_require(workspace=workspace, actor=who, customer_import=customer_import)
        if customer_import.status != ImportStatus.UPLOADED:
            raise ValidationError(_("This import has already been started."))
        checked = mapping_check(workspace=workspace, headers=customer_import.headers, mapping=mapping)
        assignments = _create_new_properties(workspace=workspace, actor=who, checked=checked)
        customer_import.mapping = {str(assignment.index): assignment.stored() for assignment in assignments}
        customer_import.duplicate_mode = duplicate_mode
        customer_import.number_format = number_format or customer_import_number_format_detect(
            workspace=workspace, customer_import=customer_import, assignments=assignments
        )
        customer_import.status = ImportStatus.QUEUED
        customer_import.progressed_at = timezone.now()
        customer_import.save(
            update_fields=["mapping", "duplicate_mode", "number_format", "status", "progressed_at"]
        )
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer_import.started",
            target=customer_import,
            changes={
                "mapping": customer_import.mapping,
                "duplicate_mode": duplicate_mode,
                "number_format": customer_import.number_format,
            },
        )
        if enqueue:
            _enqueue(customer_import)
    return customer_import


def customer_import_resume(
    *, workspace: Workspace, actor: Actor | User | None, import_id: int, enqueue: bool = True
) -> CustomerImport:
    """Queue a stopped import again (failed, or stalled without progress); it continues after its last
    committed batch. A worker that was only slow and wakes up finds its checkpoint moved and stops."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.IMPORT_CUSTOMERS)
    with transaction.atomic():
        customer_import = CustomerImport.objects.locked_or_404(workspace, import_id)
        if not customer_import_can_resume(customer_import):
            raise ValidationError(_("Only an import that stopped before the end can be continued."))
        previous = customer_import.status
        customer_import.status = ImportStatus.QUEUED
        customer_import.progressed_at = timezone.now()
        customer_import.save(update_fields=["status", "progressed_at"])
        audit_record(
            workspace=workspace,
            actor=actor_of(actor),
            action="customer_import.resumed",
            target=customer_import,
            changes={
                "status": [previous, ImportStatus.QUEUED],
                "processed_rows": customer_import.processed_rows,
                "failure_reason": customer_import.failure_reason,
            },
        )
        if enqueue:
            _enqueue(customer_import)
    return customer_import


def customer_import_upload_and_start(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    file: File | IO[bytes],
    original_name: str,
    mapping: dict[str, Any] | None,
    duplicate_mode: str,
    number_format: str | None = None,
    enqueue: bool = True,
) -> CustomerImport:
    """Upload and start in one step (API, command line): the suggested mapping when none is given.

    All or nothing: a refused mapping leaves no import and no stored file behind.
    """
    with transaction.atomic():
        customer_import = customer_import_upload(
            workspace=workspace, actor=actor, file=file, original_name=original_name
        )
        try:
            if mapping is None:
                mapping = customer_import_suggest_mapping(
                    workspace=workspace,
                    headers=customer_import.headers,
                    samples=customer_import_samples(customer_import=customer_import),
                    may_add_properties=permission_granted(
                        workspace=workspace, actor=actor, permission=Permission.MANAGE_PROPERTIES
                    ),
                )
            return customer_import_start(
                workspace=workspace,
                actor=actor,
                import_id=customer_import.pk,
                mapping=mapping,
                duplicate_mode=duplicate_mode,
                number_format=number_format,
                enqueue=enqueue,
            )
        except BaseException:
            customer_import.file.delete(save=False)
            raise
