"""When the WhatsApp webhook's stored events are applied: one job per burst, not one per POST.

A POST queues a drain job for its workspace unless one is queued already and has not started (a flag in the
cache — Redis in production — set with an atomic add). The job starts WEBHOOK_DRAIN_DELAY_SECONDS later (0.2 s by
default), so that it takes the events of that moment together: one set of reads and inserts for a burst instead
of one per message, which leaves the web processes the CPU they need to answer Meta at once. The job clears the
flag before it reads the waiting events,
then applies them in rounds of up to JOB_EVENTS_MAX (`channels_whatsapp.webhook_events_apply_waiting`), so an event
stored after that read queues a job of its own and none is left behind. A job lost with its flag (a Redis restart)
is made good by the scheduled recovery: events waiting longer than WEBHOOK_EVENTS_STALLED_SECONDS get a drain job
whatever the flag says.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from relasi.interactions.channels_whatsapp import JOB_EVENTS_MAX, webhook_events_apply_waiting
from relasi.interactions.models import WebhookEvent
from relasi.tenancy.models import Workspace

# A queued job that never ran (a purged queue) stops holding the flag after this long.
DRAIN_FLAG_SECONDS = 300
# A job applies at most this many rounds before it queues its successor, so other workspaces' jobs get a turn.
DRAIN_ROUNDS_MAX = 20


def _flag(workspace_id: int) -> str:
    return f"relasi:webhook-drain:{workspace_id}"


def webhook_events_drain_request(*, workspace_id: int) -> bool:
    """Queue the workspace's drain job unless one is waiting to start; whether this call queued it."""
    from relasi.interactions.tasks import webhook_events_drain_task

    if not cache.add(_flag(workspace_id), 1, timeout=DRAIN_FLAG_SECONDS):
        return False
    webhook_events_drain_task.apply_async((workspace_id,), countdown=settings.WEBHOOK_DRAIN_DELAY_SECONDS)
    return True


def webhook_events_drain(*, workspace_id: int) -> int:
    """Apply the workspace's waiting events; how many this job applied."""
    cache.delete(_flag(workspace_id))
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    applied = 0
    for _round in range(DRAIN_ROUNDS_MAX):
        count = webhook_events_apply_waiting(workspace=workspace)
        applied += count
        if count < JOB_EVENTS_MAX:
            return applied
    webhook_events_drain_request(workspace_id=workspace_id)
    return applied


def webhook_events_recover(*, now: datetime | None = None) -> list[int]:
    """Queue a drain job for every workspace with an event waiting too long; the workspaces' ids."""
    from relasi.interactions.tasks import webhook_events_drain_task

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.WEBHOOK_EVENTS_STALLED_SECONDS)
    stalled = sorted(
        set(
            WebhookEvent.unscoped.filter(processed_at__isnull=True, received_at__lt=cutoff).values_list(
                "workspace_id", flat=True
            )
        )
    )
    for workspace_id in stalled:
        webhook_events_drain_task.delay(workspace_id)
    return stalled
