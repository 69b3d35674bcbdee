"""The scheduled recovery: imports and exports whose worker is gone are queued again, in every workspace."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from relasi.core.models import AuditLog
from relasi.customers.exports import customer_export_create
from relasi.customers.filters import CustomerFilters
from relasi.customers.imports.rows import import_row_prepare
from relasi.customers.imports.writer import import_batch_write
from relasi.customers.models import Customer, CustomerExport, CustomerImport, ExportStatus, ImportStatus
from relasi.customers.recovery import customer_jobs_recover
from relasi.customers.tasks import customer_jobs_recover_task
from tests.customers.importing import job_of, started

FILE = b"Nama,No HP\nAni,081234567801\nBudi,081234567802\nCici,081234567803\n"


def _quiet_for(model: type, pk: int, seconds: int) -> None:
    model.unscoped.filter(pk=pk).update(progressed_at=timezone.now() - timedelta(seconds=seconds))


def test_a_stalled_import_is_continued_to_the_end_with_exact_counts(
    acme, alice, settings, django_capture_on_commit_callbacks
) -> None:
    # given an import whose worker died after its first batch (status still running, no progress for 4 minutes)
    settings.CUSTOMER_IMPORT_BATCH_SIZE = 1
    customer_import = started(acme, alice, FILE)
    job = job_of(customer_import)
    import_batch_write(job, [import_row_prepare(job, 1, ["Ani", "081234567801"])])
    CustomerImport.unscoped.filter(pk=customer_import.pk).update(status=ImportStatus.RUNNING)
    _quiet_for(CustomerImport, customer_import.pk, 240)
    # when the recovery runs (tasks run in-process here, as without Redis)
    with django_capture_on_commit_callbacks(execute=True):
        recovered = customer_jobs_recover()
    # then it was queued again and finished
    assert recovered.imports == [customer_import.pk]
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.created_count, customer_import.processed_rows) == (
        ImportStatus.COMPLETED,
        3,
        3,
    )
    assert sorted(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == [
        "Ani",
        "Budi",
        "Cici",
    ]
    resumed = AuditLog.objects.get(action="customer_import.resumed")
    assert resumed.actor_label == "system:recovery"


def test_a_busy_import_a_finished_one_and_a_failed_one_are_left_alone(acme, globex, alice, charlie) -> None:
    busy = started(acme, alice, FILE)
    CustomerImport.unscoped.filter(pk=busy.pk).update(
        status=ImportStatus.RUNNING, progressed_at=timezone.now()
    )
    failed = started(globex, charlie, FILE)
    CustomerImport.unscoped.filter(pk=failed.pk).update(status=ImportStatus.FAILED)
    _quiet_for(CustomerImport, failed.pk, 3600)
    assert customer_jobs_recover().imports == []
    assert not AuditLog.objects.filter(action="customer_import.resumed").exists()
    assert list(CustomerImport.unscoped.order_by("pk").values_list("status", flat=True)) == [
        ImportStatus.RUNNING,
        ImportStatus.FAILED,
    ]


def test_a_stalled_export_is_written_again(acme, alice, django_capture_on_commit_callbacks) -> None:
    Customer.objects.create(workspace=acme, full_name="Ani")
    # given an export whose worker died while it ran
    export = customer_export_create(workspace=acme, actor=alice, filters=CustomerFilters())
    CustomerExport.unscoped.filter(pk=export.pk).update(status=ExportStatus.RUNNING)
    _quiet_for(CustomerExport, export.pk, 240)
    # when the scheduled task runs
    with django_capture_on_commit_callbacks(execute=True):
        result = customer_jobs_recover_task.delay().get()
    # then the export is done
    assert result == {"imports": [], "exports": [export.pk], "bulk_jobs": [], "undos": []}
    export.refresh_from_db()
    assert (export.status, export.row_count) == (ExportStatus.COMPLETED, 1)
    assert (
        AuditLog.objects.filter(action="customer_export.resumed", actor_label="system:recovery").count() == 1
    )


@pytest.mark.parametrize("quiet_seconds", [0, 179])
def test_a_job_that_showed_life_within_the_threshold_is_not_touched(acme, alice, quiet_seconds) -> None:
    customer_import = started(acme, alice, FILE)
    _quiet_for(CustomerImport, customer_import.pk, quiet_seconds)
    assert customer_jobs_recover().imports == []


def test_a_stalled_bulk_action_is_continued_to_the_end(
    acme, alice, make_customer, django_capture_on_commit_callbacks
) -> None:
    # given a bulk status change of three customers whose worker died before its first chunk
    from relasi.customers.bulk.models_bulk import BulkJob, BulkStatus
    from relasi.customers.bulk.services import bulk_job_prepare
    from relasi.customers.filters import customer_filters_parse

    for name in ("Ani", "Budi", "Cici"):
        make_customer(acme, name, status="Lead")
    job = bulk_job_prepare(workspace=acme, actor=alice, action="status", filters=customer_filters_parse({}))
    BulkJob.objects.for_workspace(acme).filter(pk=job.pk).update(status=BulkStatus.RUNNING, value="Customer")
    _quiet_for(BulkJob, job.pk, 240)
    # when the recovery runs
    with django_capture_on_commit_callbacks(execute=True):
        recovered = customer_jobs_recover()
    # then the job was queued again and changed every customer of its snapshot
    assert recovered.bulk_jobs == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.processed, job.changed_count) == (BulkStatus.COMPLETED, 3, 3)
    assert sorted(Customer.objects.for_workspace(acme).values_list("status", flat=True)) == ["Customer"] * 3
    # and a job that is not stalled is left alone
    assert customer_jobs_recover().bulk_jobs == []
