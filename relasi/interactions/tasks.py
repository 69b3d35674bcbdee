"""Celery tasks of interactions: thin wrappers around services. Each names its workspace, so the job reads its
rows through the workspace's scope like any request."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def webhook_event_process_task(workspace_id: int, event_id: int) -> None:
    # The job of one event, as queued before drain jobs (kept so that such jobs still run after an upgrade).
    # Re-delivered after a worker crash (acks_late): an event already processed is left as it is.
    from relasi.interactions.channels_whatsapp import webhook_event_process

    webhook_event_process(workspace_id=workspace_id, event_id=event_id)


@shared_task(acks_late=True)
def webhook_events_drain_task(workspace_id: int) -> None:
    # Safe to run twice: an event is applied once, under its row lock.
    from relasi.interactions.webhook_jobs import webhook_events_drain

    webhook_events_drain(workspace_id=workspace_id)


@shared_task
def webhook_events_recover_task() -> list[int]:
    from relasi.interactions.webhook_jobs import webhook_events_recover

    return webhook_events_recover()
