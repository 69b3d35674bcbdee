"""Writes of the shared core."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from relasi.core.models import IdempotentRequest

# As long as a client can be expected to retry the same request; Stripe keeps keys for 24 hours too.
IDEMPOTENCY_KEY_RETENTION = timedelta(hours=24)


def idempotent_requests_purge(*, now: datetime | None = None) -> int:
    """Forget stored responses older than the retention period; a later request with such a key is new."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_RETENTION
    deleted, _per_model = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
