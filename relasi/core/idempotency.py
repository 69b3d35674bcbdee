"""Idempotent creates: the first answer to a request sent with an `Idempotency-Key` is kept, and a repeat with
the same key and the same body gets that answer back without doing the work again.

The key is claimed first, under the unique constraint and in the same transaction as the work: a concurrent
repeat waits on the constraint and then reads the committed answer, and work that fails (a refused body)
rolls the claim back, so fixing the body and retrying with the same key is allowed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from relasi.core.models import IdempotentRequest

if TYPE_CHECKING:
    from relasi.tenancy.models import Workspace

IDEMPOTENCY_KEY_MAX = 200
# As long as a client can be expected to retry the same request; Stripe keeps keys for 24 hours too.
IDEMPOTENCY_KEY_RETENTION = timedelta(hours=24)


class IdempotencyKeyReused(Exception):
    """The key was first sent with another request body."""


@dataclass(frozen=True)
class IdempotentAnswer:
    status_code: int
    body: Any
    replayed: bool


def request_fingerprint(payload: Any) -> str:
    """SHA-256 of the request's canonical JSON: the same body in any key order is the same request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_run(
    *,
    workspace: Workspace,
    endpoint: str,
    key: str,
    fingerprint: str,
    work: Callable[[], tuple[int, Any]],
) -> IdempotentAnswer:
    """Run `work` (returning status and a JSON-ready body) once per (workspace, endpoint, key).

    IdempotencyKeyReused when the key came first with another fingerprint.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.for_workspace(workspace).create(
                    endpoint=endpoint, key=key, request_hash=fingerprint, status_code=0, response_body={}
                )
        except IntegrityError:
            stored = IdempotentRequest.objects.for_workspace(workspace).get(endpoint=endpoint, key=key)
            if stored.request_hash != fingerprint:
                raise IdempotencyKeyReused(key) from None
            return IdempotentAnswer(status_code=stored.status_code, body=stored.response_body, replayed=True)
        status_code, body = work()
        record.status_code = status_code
        record.response_body = body
        record.save(update_fields=["status_code", "response_body"])
    return IdempotentAnswer(status_code=status_code, body=body, replayed=False)


def idempotent_requests_purge(*, now: datetime | None = None) -> int:
    """Forget stored answers older than the retention period (every workspace); a later request with such a
    key is new."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_RETENTION
    deleted, _per_model = IdempotentRequest.unscoped.filter(created_at__lt=cutoff).delete()
    return deleted
