"""Celery tasks of interactions: thin wrappers around services. Each names its workspace, so the job reads its
rows through the workspace's scope like any request."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def webhook_event_process_task(workspace_id: int, event_id: int) -> None:
    # Re-delivered after a worker crash (acks_late): an event already processed is left as it is.
    from relasi.interactions.channels_whatsapp import webhook_event_process

    webhook_event_process(workspace_id=workspace_id, event_id=event_id)
