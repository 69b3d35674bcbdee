"""Celery tasks of the CDP: thin wrappers around services. Each names its workspace, so the job reads its
rows through the workspace's scope like any request."""

from __future__ import annotations

from celery import shared_task

# A worker discovers the tasks of `<app>.tasks` modules only: the bulk actions' and the import undo's tasks are
# registered through here.
from relasi.customers.bulk.tasks import bulk_job_run_task  # noqa: F401
from relasi.customers.imports.undo import customer_import_undo_task  # noqa: F401


@shared_task
def customers_purge_deleted_task() -> int:
    from relasi.customers.merge import customer_merges_expire
    from relasi.customers.services import customers_purge_deleted

    customer_merges_expire()
    return customers_purge_deleted()


@shared_task(acks_late=True)
def customer_import_run_task(workspace_id: int, import_id: int) -> None:
    # Re-delivered after a worker crash (acks_late); the import resumes from its checkpoint.
    from relasi.customers.imports import customer_import_run

    customer_import_run(workspace_id=workspace_id, import_id=import_id)


@shared_task(acks_late=True)
def customer_export_run_task(workspace_id: int, export_id: int) -> None:
    from relasi.customers.exports import customer_export_run

    customer_export_run(workspace_id=workspace_id, export_id=export_id)


@shared_task
def customer_jobs_recover_task() -> dict[str, list[int]]:
    from relasi.customers.recovery import customer_jobs_recover

    recovered = customer_jobs_recover()
    return {
        "imports": recovered.imports,
        "exports": recovered.exports,
        "bulk_jobs": recovered.bulk_jobs,
        "undos": recovered.undos,
    }
