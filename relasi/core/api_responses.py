"""Pieces every domain's API router shares: the common error responses, the Idempotency-Key header and
running a create once per key."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from ninja.params import HeaderEx, P
from ninja.responses import NinjaJSONEncoder, Response

from relasi.core.idempotency import IDEMPOTENCY_KEY_MAX, idempotent_run, request_fingerprint
from relasi.core.problems import ProblemOut

if TYPE_CHECKING:
    from relasi.core.audit import Actor
    from relasi.tenancy.models import Workspace

# Every endpoint may answer 401 (no valid key or session) and 429 (over the rate limit).
COMMON_ERRORS: dict[int, Any] = {401: ProblemOut, 429: ProblemOut}

IdempotencyKeyHeader = HeaderEx[
    str | None,
    P(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX, description="Makes retries safe."),
]
IDEMPOTENCY_DESCRIPTION = (
    "Send an `Idempotency-Key` header (any unique string up to 200 characters) to make retries safe: a repeat "
    "with the same key and body returns the first result without creating another one; the same key with a "
    "different body is a 409. A request refused as invalid is not remembered."
)


def json_rendered(data: Any) -> Any:
    """The JSON exactly as the API renders it, so a stored answer replays byte for byte like a live one."""
    return json.loads(json.dumps(data, cls=NinjaJSONEncoder))


def idempotent_response(
    *,
    workspace: Workspace,
    actor: Actor,
    endpoint: str,
    key: str | None,
    payload: Any,
    work: Callable[[], tuple[int, Any]],
) -> HttpResponse:
    """Run `work` (returning status and a rendered body) once per Idempotency-Key; without a key, just run it.

    `payload` is what makes two requests the same one (or a function giving it, called only with a key). The
    actor is part of it: another API key or user reusing a key gets a 409, never the first caller's answer
    (which would skip the permission check that `work` makes).
    """
    key = (key or "").strip()
    if not key:
        status, body = work()
        return Response(body, status=status)
    answer = idempotent_run(
        workspace=workspace,
        endpoint=endpoint,
        key=key,
        fingerprint=request_fingerprint(
            {"actor": actor.label, "request": payload() if callable(payload) else payload}
        ),
        work=work,
    )
    # Already rendered (and possibly replayed from storage): sent as is, not through the response schema.
    return Response(answer.body, status=answer.status_code)
