"""The audit rows and timeline lines of set-based work (a batch of events applied together): noted while the
changes are planned, built once the rows they name have their ids, and written with two inserts, in the order of
the changes, inside their transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models

from relasi.core.audit import Actor, audit_row, audit_rows_write
from relasi.core.models import AuditLog
from relasi.customers.models import TimelineEntry
from relasi.customers.timeline import timeline_rows, timeline_rows_write
from relasi.tenancy.models import Workspace

# What a note holds until the rows it names are written: the value, or what computes it then.
Later = Callable[[], Any]


def _now_or_later(value: Any) -> Any:
    return value() if callable(value) else value


@dataclass
class Journal:
    workspace: Workspace
    actor: Actor
    _notes: list[Callable[[], tuple[list[AuditLog], list[TimelineEntry]]]] = field(default_factory=list)

    def audit(self, *, action: str, target: models.Model, changes: dict[str, Any] | Later) -> None:
        def build() -> tuple[list[AuditLog], list[TimelineEntry]]:
            row = audit_row(
                workspace=self.workspace,
                actor=self.actor,
                action=action,
                target=target,
                changes=_now_or_later(changes),
            )
            return [row], []

        self._notes.append(build)

    def timeline(
        self,
        *,
        action: str,
        customers: Callable[[], Iterable[int]],
        at: datetime,
        summary: dict[str, Any] | Later,
        record_kind: str = "",
        record: models.Model | None = None,
    ) -> None:
        def build() -> tuple[list[AuditLog], list[TimelineEntry]]:
            lines = timeline_rows(
                workspace=self.workspace,
                customer_ids=customers(),
                actor=self.actor,
                action=action,
                record_kind=record_kind,
                record_id=record.pk if record is not None else None,
                summary=_now_or_later(summary),
                at=at,
            )
            return [], lines

        self._notes.append(build)

    def write(self) -> None:
        audit: list[AuditLog] = []
        lines: list[TimelineEntry] = []
        for build in self._notes:
            rows, entries = build()
            audit += rows
            lines += entries
        if audit:
            audit_rows_write(audit)
        if lines:
            timeline_rows_write(workspace=self.workspace, rows=lines)
