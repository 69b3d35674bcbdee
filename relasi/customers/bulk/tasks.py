"""The bulk job's Celery task: a thin wrapper naming the workspace, so the job reads through its scope."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def bulk_job_run_task(workspace_id: int, job_id: int) -> None:
    # Re-delivered after a worker crash (acks_late); the job continues from its checkpoint.
    from relasi.customers.bulk.services import bulk_job_run

    bulk_job_run(workspace_id=workspace_id, job_id=job_id)
