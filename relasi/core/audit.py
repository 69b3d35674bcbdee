"""Writing the audit log. Services call `audit_record` inside their own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from relasi.core.models import AuditLog

if TYPE_CHECKING:
    from relasi.accounts.models import User
    from relasi.tenancy.models import ApiKey, Workspace


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in user, an API key, or the system itself (a scheduled job)."""

    user: User | None = None
    api_key: ApiKey | None = None
    system: str = ""

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return f"api-key:{self.api_key.prefix} ({self.api_key.name})"
        return f"system:{self.system or 'relasi'}"


def actor_of(value: Actor | User | None) -> Actor:
    if value is None:
        return Actor(system="relasi")
    if isinstance(value, Actor):
        return value
    return Actor(user=value)


def audit_record(
    *,
    workspace: Workspace | None,
    actor: Actor | User | None,
    action: str,
    target: models.Model,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    row = audit_row(workspace=workspace, actor=actor, action=action, target=target, changes=changes)
    row.save(force_insert=True)
    return row


def audit_row(
    *,
    workspace: Workspace | None,
    actor: Actor | User | None,
    action: str,
    target: models.Model,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """The row `audit_record` writes, not yet written: set-based work builds its rows and writes them together
    (`audit_rows_write`)."""
    who = actor_of(actor)
    return AuditLog(
        workspace=workspace,
        actor=who.user,
        actor_label=who.label,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:300],
        changes=changes or {},
    )


def audit_rows_write(rows: list[AuditLog]) -> None:
    """Write rows built by `audit_row`, in the transaction of the changes they record."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_rows_write must run inside the transaction of the changes it records")
    AuditLog.objects.bulk_create(rows, batch_size=1000)


def audit_record_many(
    *,
    workspace: Workspace | None,
    actor: Actor | User | None,
    action: str,
    targets: list[tuple[str, str, str]],
    changes: dict[str, Any] | None = None,
) -> int:
    """Bulk variant for batch work (imports, purges): targets are (type, id, label) triples."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record_many must run inside the transaction of the change it records")
    who = actor_of(actor)
    rows = [
        AuditLog(
            workspace=workspace,
            actor=who.user,
            actor_label=who.label,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_label=label[:300],
            changes=changes or {},
        )
        for target_type, target_id, label in targets
    ]
    AuditLog.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
