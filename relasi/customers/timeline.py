"""Writing the customer activity timeline. Services call `timeline_record` inside the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from relasi.core.audit import Actor, actor_of
from relasi.customers.models import TimelineEntry

if TYPE_CHECKING:
    from datetime import datetime

    from relasi.accounts.models import User
    from relasi.tenancy.models import Workspace

# A summary is shown, never searched: its values are cut to what a timeline line can show.
SUMMARY_VALUE_CHARS = 200


def timeline_record(
    *,
    workspace: Workspace,
    customer_ids: Iterable[int],
    actor: Actor | User | None,
    action: str,
    record_kind: str = "",
    record_id: int | None = None,
    summary: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """One timeline line for each of `customer_ids` (a change to a record shows on every customer it concerns)."""
    entries = timeline_rows(
        workspace=workspace,
        customer_ids=customer_ids,
        actor=actor,
        action=action,
        record_kind=record_kind,
        record_id=record_id,
        summary=summary,
        at=at,
    )
    return timeline_rows_write(workspace=workspace, rows=entries)


def timeline_rows(
    *,
    workspace: Workspace,
    customer_ids: Iterable[int],
    actor: Actor | User | None,
    action: str,
    record_kind: str = "",
    record_id: int | None = None,
    summary: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> list[TimelineEntry]:
    """The lines `timeline_record` writes, not yet written: set-based work builds its lines and writes them
    together (`timeline_rows_write`)."""
    who = actor_of(actor)
    moment = at or timezone.now()
    shown = timeline_summary_bounded(summary or {})
    return [
        TimelineEntry(
            workspace=workspace,
            customer_id=customer_id,
            at=moment,
            actor=who.user,
            actor_label=who.label,
            action=action,
            record_kind=record_kind,
            record_id=record_id,
            summary=shown,
        )
        for customer_id in dict.fromkeys(customer_ids)
    ]


def timeline_rows_write(*, workspace: Workspace, rows: list[TimelineEntry]) -> int:
    """Write lines built by `timeline_rows`, in the transaction of the changes they show."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("timeline lines must be written inside the transaction of the change they record")
    TimelineEntry.objects.for_workspace(workspace).bulk_create(rows, batch_size=1000)
    return len(rows)


def timeline_summary_bounded(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as a line keeps it: its texts cut to what a line can show."""
    return {key: _value_bounded(value) for key, value in summary.items()}


def _value_bounded(value: Any) -> Any:
    if isinstance(value, str):
        return value[:SUMMARY_VALUE_CHARS]
    if isinstance(value, list | tuple):
        return [_value_bounded(item) for item in value]
    if isinstance(value, dict):
        return timeline_summary_bounded(value)
    return value
