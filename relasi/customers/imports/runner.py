"""Running an import: the rows after the checkpoint, validated and written batch by batch.

Each batch is one transaction that also moves the checkpoint (`CustomerImport.processed_rows` and the
counters). A run that dies is simply run again: it skips the rows up to the checkpoint, and the unique
(source_import, source_row) constraint on customers makes a second write of the same row impossible.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.core.audit import Actor, audit_record
from relasi.customers.imports.job import ImportJob, import_job_build
from relasi.customers.imports.reading import Table, stored_table_open
from relasi.customers.imports.rows import ImportRow, import_row_prepare
from relasi.customers.imports.writer import BatchSuperseded, import_batch_write
from relasi.customers.models import ChannelIdentity, Customer, CustomerImport, ImportStatus
from relasi.tenancy.models import Workspace

logger = logging.getLogger(__name__)

# Refresh the database's statistics once an import has created this many customers (see _analyze).
ANALYZE_FIRST = 2000

ProgressCallback = Callable[[CustomerImport], None]


def customer_import_run(
    *, workspace_id: int, import_id: int, on_progress: ProgressCallback | None = None
) -> CustomerImport:
    """Run (or resume) an import job. Safe to call again after a crash: it continues from its checkpoint."""
    workspace = Workspace.objects.get(pk=workspace_id)
    customer_import = _claim(workspace, import_id)
    if customer_import.status == ImportStatus.COMPLETED:
        return customer_import
    try:
        job = import_job_build(customer_import)
        _run_rows(job, on_progress)
        _search_indexes_flush(job)
        return _finish(job)
    except BatchSuperseded:
        return CustomerImport.objects.for_workspace(workspace).get(pk=import_id)
    except Exception as error:
        try:
            _mark_failed(customer_import, error)
        except Exception:
            logger.exception("Could not mark customer import %s as failed", import_id)
        raise


def _claim(workspace: Workspace, import_id: int) -> CustomerImport:
    """The import, marked running (a completed one is returned as it is)."""
    with transaction.atomic():
        customer_import = (
            CustomerImport.objects.for_workspace(workspace)
            .select_for_update(of=("self",))
            .select_related("workspace", "created_by", "created_by_api_key")
            .get(pk=import_id)
        )
        if customer_import.status == ImportStatus.COMPLETED:
            return customer_import
        if customer_import.status == ImportStatus.UPLOADED:
            raise ValidationError(_("Map the columns and start the import first."))
        customer_import.status = ImportStatus.RUNNING
        customer_import.started_at = customer_import.started_at or timezone.now()
        customer_import.progressed_at = timezone.now()
        customer_import.finished_at = None
        customer_import.failure_reason = ""
        customer_import.save(
            update_fields=["status", "started_at", "progressed_at", "finished_at", "failure_reason"]
        )
    return customer_import


def _run_rows(job: ImportJob, on_progress: ProgressCallback | None) -> None:
    customer_import = job.customer_import
    with stored_table_open(customer_import) as table:
        # A CSV row longer than its header line means a value with an unquoted delimiter.
        job.width_limit = table.header_width if job.check_width else 0
        batches = _prepared_batches(
            job,
            table,
            done=customer_import.processed_rows,
            size=max(1, int(settings.CUSTOMER_IMPORT_BATCH_SIZE)),
        )
        next_analyze = ANALYZE_FIRST
        for batch in batches:
            import_batch_write(job, batch)
            if customer_import.created_count >= next_analyze:
                _analyze()
                next_analyze = customer_import.created_count * 8
            if on_progress is not None:
                on_progress(customer_import)


def _analyze() -> None:
    """Refresh PostgreSQL's statistics of the tables an import grows.

    The duplicate lookups filter by workspace; while the statistics still say the workspace has a handful
    of customers, the planner scans all of them for every batch instead of using the phone and email
    indexes, and each batch gets slower than the last. Refreshing at 2,000 created customers, then each
    time the count grows eightfold, keeps the plans right for three or four ANALYZE runs per import.
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Only the looked-up columns: a full ANALYZE also samples the trigram index expressions, far slower.
        cursor.execute(
            f"ANALYZE {quote(Customer._meta.db_table)} (workspace_id, phone, email, deleted_at), "
            f"{quote(ChannelIdentity._meta.db_table)} (workspace_id, channel, external_id)"
        )


# The trigram indexes of the customer search (migration 0002), GIN with PostgreSQL's fast update.
SEARCH_INDEXES = ("customer_name_trgm", "customer_email_trgm", "customer_phone_trgm")


def _search_indexes_flush(job: ImportJob) -> None:
    """Merge the search indexes' pending entries once the rows are in.

    GIN indexes take new rows into a pending list that every search then reads in full until autovacuum
    merges it; after a large import that list made searches slow for minutes. Merging once, at the end, costs
    a few seconds and keeps the search as fast after an import as before it.
    """
    if connection.vendor != "postgresql" or not job.customer_import.created_count:
        return
    with connection.cursor() as cursor:
        for index in SEARCH_INDEXES:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


def _prepared_batches(job: ImportJob, table: Table, *, done: int, size: int) -> Iterator[list[ImportRow]]:
    """The rows after the checkpoint, validated, in batches."""
    batch: list[ImportRow] = []
    for number, values in enumerate(table.rows, start=1):
        if number <= done:
            continue
        batch.append(import_row_prepare(job, number, values, table.line))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _finish(job: ImportJob) -> CustomerImport:
    scoped = CustomerImport.objects.for_workspace(job.workspace)
    customer_import = scoped.select_related("workspace").get(pk=job.customer_import.pk)
    with transaction.atomic():
        scoped.filter(pk=customer_import.pk).update(status=ImportStatus.COMPLETED, finished_at=timezone.now())
        customer_import.refresh_from_db()
        audit_record(
            workspace=customer_import.workspace,
            actor=job.actor,
            action="customer_import.completed",
            target=customer_import,
            changes={
                "rows": customer_import.processed_rows,
                "created": customer_import.created_count,
                "updated": customer_import.updated_count,
                "skipped": customer_import.skipped_count,
                "failed": customer_import.failed_count,
            },
        )
    return customer_import


def _mark_failed(customer_import: CustomerImport, error: Exception) -> None:
    if isinstance(error, ValidationError):
        reason = " ".join(str(message) for message in error.messages)
    else:
        reason = f"{type(error).__name__}: {error}"
    with transaction.atomic():
        CustomerImport.objects.for_workspace(customer_import.workspace).filter(pk=customer_import.pk).update(
            status=ImportStatus.FAILED, failure_reason=reason[:2000], finished_at=timezone.now()
        )
        customer_import.refresh_from_db()
        audit_record(
            workspace=customer_import.workspace,
            actor=Actor(system="import"),
            action="customer_import.failed",
            target=customer_import,
            changes={"reason": reason[:500], "processed_rows": customer_import.processed_rows},
        )
