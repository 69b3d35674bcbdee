"""Recovery of imports, exports and bulk actions whose worker is gone (killed, out of memory, a machine that went away).

A scheduled job (every JOBS_RECOVERY_INTERVAL_SECONDS) looks in every workspace for imports, exports and bulk actions
that are queued or running yet have shown no sign of life for CUSTOMER_IMPORT_STALLED_SECONDS, and queues them again —
exactly what "Continue the import" does by hand. An import continues after its last committed batch; an export
is written again; a bulk action continues after its last committed chunk. A worker that was only slow and wakes up finds its import's checkpoint moved and stops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from relasi.core.audit import Actor
from relasi.core.validation import StateConflict
from relasi.customers.bulk.models_bulk import BulkJob, BulkStatus
from relasi.customers.bulk.services import bulk_job_resume
from relasi.customers.exports import customer_export_resume
from relasi.customers.imports import customer_import_resume, customer_import_undo_resume
from relasi.customers.models import CustomerExport, CustomerImport, ExportStatus, ImportStatus, UndoStatus

logger = logging.getLogger(__name__)

RECOVERY = Actor(system="recovery")


@dataclass(frozen=True)
class Recovered:
    imports: list[int]
    exports: list[int]
    bulk_jobs: list[int]
    undos: list[int]  # imports whose "Undo this import" was continued


def _quiet_since(now: datetime | None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=settings.CUSTOMER_IMPORT_STALLED_SECONDS)


def customer_jobs_recover(*, now: datetime | None = None) -> Recovered:
    """Queue again every stalled import, export and bulk action of every workspace; the ids queued."""
    cutoff = _quiet_since(now)
    quiet = Q(progressed_at__lt=cutoff) | Q(progressed_at__isnull=True, created_at__lt=cutoff)
    imports = CustomerImport.unscoped.filter(quiet, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
    exports = CustomerExport.unscoped.filter(quiet, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING])
    bulk_jobs = BulkJob.unscoped.filter(quiet, status__in=[BulkStatus.QUEUED, BulkStatus.RUNNING])
    undos = CustomerImport.unscoped.filter(
        Q(undo_progressed_at__lt=cutoff) | Q(undo_progressed_at__isnull=True),
        undo_status__in=[UndoStatus.QUEUED, UndoStatus.RUNNING],
    )
    recovered = Recovered(imports=[], exports=[], bulk_jobs=[], undos=[])
    for customer_import in imports.select_related("workspace").order_by("pk"):
        try:
            customer_import_resume(
                workspace=customer_import.workspace, actor=RECOVERY, import_id=customer_import.pk
            )
        except (ValidationError, Http404):
            continue  # it moved on (or finished) since the look-up
        recovered.imports.append(customer_import.pk)
    for export in exports.select_related("workspace").order_by("pk"):
        try:
            customer_export_resume(workspace=export.workspace, actor=RECOVERY, export_id=export.pk)
        except (ValidationError, Http404):
            continue
        recovered.exports.append(export.pk)
    for job in bulk_jobs.defer("customer_ids").select_related("workspace").order_by("pk"):
        try:
            bulk_job_resume(workspace=job.workspace, actor=RECOVERY, job_id=job.pk)
        except (StateConflict, Http404):
            continue
        recovered.bulk_jobs.append(job.pk)
    for undone in undos.only("pk", "workspace").select_related("workspace").order_by("pk"):
        try:
            if customer_import_undo_resume(workspace=undone.workspace, import_id=undone.pk):
                recovered.undos.append(undone.pk)
        except Http404:
            continue
    if recovered.imports or recovered.exports or recovered.bulk_jobs or recovered.undos:
        logger.warning(
            "Continued stalled jobs: imports %s, exports %s, bulk actions %s, undos of imports %s",
            recovered.imports,
            recovered.exports,
            recovered.bulk_jobs,
            recovered.undos,
        )
    return recovered
