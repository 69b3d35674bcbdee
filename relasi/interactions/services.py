"""Writes of interaction records: default pipelines, records, their customers (associations) and messages.

Each change runs in one transaction with its audit row and a timeline line for every customer it concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.ids import ids_parse
from relasi.customers.models import Customer
from relasi.customers.timeline import timeline_record
from relasi.interactions.cleaning import RecordCleaner
from relasi.interactions.kinds import KINDS, KindSpec, kind_spec
from relasi.interactions.models import Conversation, Direction, Kind, Message, Pipeline, Record, Stage
from relasi.interactions.selectors import RECORD_ID, record_customer_ids
from relasi.tenancy.models import Workspace


def _default_pipelines() -> dict[str, tuple[str, list[str]]]:
    # Words in the active language: the workspace's, when called while the workspace is created.
    return {
        Kind.TICKET: (_("Support"), [_("New"), _("In progress"), _("Waiting on customer"), _("Resolved")]),
        Kind.DEAL: (_("Sales"), [_("Qualification"), _("Proposal"), _("Negotiation"), _("Won"), _("Lost")]),
        Kind.TASK: (_("Follow-up"), [_("To plan"), _("Planned"), _("Done")]),
    }


def pipelines_ensure_default(*, workspace: Workspace) -> None:
    """One pipeline with its stages for each kind that has none yet."""
    with transaction.atomic():
        existing = set(Pipeline.objects.for_workspace(workspace).values_list("kind", flat=True))
        for kind, (name, stage_names) in _default_pipelines().items():
            if kind in existing:
                continue
            pipeline = Pipeline.objects.for_workspace(workspace).create(kind=kind, name=name)
            Stage.objects.for_workspace(workspace).bulk_create(
                [
                    Stage(workspace=workspace, pipeline=pipeline, name=stage_name, position=position)
                    for position, stage_name in enumerate(stage_names)
                ]
            )


def _title(spec: KindSpec, record: Record) -> str:
    return str(getattr(record, spec.title_field) or record)


def _live_customer_ids(*, workspace: Workspace, customer_ids: Iterable[Any]) -> list[int]:
    """The ids as live customers of the workspace; ValidationError naming the ones that are not (another
    workspace's customer is "not found", as a missing one: nothing is said about other workspaces)."""
    sent = list(customer_ids)
    wanted = ids_parse(sent)
    found = set(
        Customer.objects.for_workspace(workspace)
        .filter(pk__in=wanted, deleted_at__isnull=True)
        .values_list("pk", flat=True)
    )
    missing = [customer_id for customer_id in wanted if customer_id not in found]
    # A customer named twice is associated once; a value that is no id at all is refused like a missing one.
    if missing or len(wanted) != len({str(value).strip() for value in sent}):
        raise ValidationError({"customers": [_("No such customer in this workspace.")]})
    return wanted


def record_create(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    kind: str,
    data: dict[str, Any],
    customer_ids: Iterable[Any] = (),
) -> Record:
    """A record of `kind`, associated with the customers named (each one's timeline shows it)."""
    spec = kind_spec(kind)
    cleaned = RecordCleaner(workspace=workspace, spec=spec).clean(data)
    who = actor_of(actor)
    ids = list(customer_ids)
    with transaction.atomic():
        customers = _live_customer_ids(workspace=workspace, customer_ids=ids) if ids else []
        now = timezone.now()
        record = spec.model(
            workspace=workspace, created_by=who.user, created_at=now, updated_at=now, **cleaned
        )
        record.save()
        audit_record(
            workspace=workspace,
            actor=who,
            action=f"{kind}.created",
            target=record,
            changes=record_changes_jsonable({name: [None, value] for name, value in cleaned.items()}),
        )
        for customer_id in customers:
            _associate(spec=spec, workspace=workspace, who=who, record=record, customer_id=customer_id)
        timeline_record(
            workspace=workspace,
            customer_ids=customers,
            actor=who,
            action=f"{kind}.created",
            record_kind=kind,
            record_id=record.pk,
            summary={"title": _title(spec, record)},
            at=now,
        )
    return record


def record_update(
    *, workspace: Workspace, actor: Actor | User | None, kind: str, record_id: int, data: dict[str, Any]
) -> Record:
    """Change the fields `data` names; a save that changes nothing writes nothing."""
    spec = kind_spec(kind)
    cleaned = RecordCleaner(workspace=workspace, spec=spec).clean(data, partial=True)
    who = actor_of(actor)
    with transaction.atomic():
        record = spec.model.objects.locked_or_404(workspace, record_id)
        changes: dict[str, list[Any]] = {}
        for name, value in cleaned.items():
            before = getattr(record, name)
            if before != value:
                changes[name] = [before, value]
                setattr(record, name, value)
        if not changes:
            return record
        record.updated_at = timezone.now()
        record.save()
        shown = record_changes_jsonable(changes)
        audit_record(workspace=workspace, actor=who, action=f"{kind}.updated", target=record, changes=shown)
        timeline_record(
            workspace=workspace,
            customer_ids=record_customer_ids(workspace=workspace, kind=kind, record_id=record.pk),
            actor=who,
            action=f"{kind}.updated",
            record_kind=kind,
            record_id=record.pk,
            summary={"title": _title(spec, record), "changes": shown},
            at=record.updated_at,
        )
    return record


def association_add(
    *, workspace: Workspace, actor: Actor | User | None, kind: str, record_id: int, customer_id: Any
) -> bool:
    """Associate an existing record with a customer; False when they already were (nothing written)."""
    spec = kind_spec(kind)
    who = actor_of(actor)
    with transaction.atomic():
        record = spec.model.objects.locked_or_404(workspace, record_id)
        [customer] = _live_customer_ids(workspace=workspace, customer_ids=[customer_id])
        return _associate(
            spec=spec, workspace=workspace, who=who, record=record, customer_id=customer, log=True
        )


def association_remove(
    *, workspace: Workspace, actor: Actor | User | None, kind: str, record_id: int, customer_id: int
) -> bool:
    """Take a customer off a record; False when they were not associated."""
    spec = kind_spec(kind)
    who = actor_of(actor)
    with transaction.atomic():
        record = spec.model.objects.locked_or_404(workspace, record_id)
        deleted, _count = (
            spec.association.objects.for_workspace(workspace)
            .filter(Q(record=record), customer_id=customer_id)
            .delete()
        )
        if not deleted:
            return False
        audit_record(
            workspace=workspace,
            actor=who,
            action="association.removed",
            target=record,
            changes={"customer": [customer_id, None]},
        )
        timeline_record(
            workspace=workspace,
            customer_ids=[customer_id],
            actor=who,
            action="association.removed",
            record_kind=kind,
            record_id=record.pk,
            summary={"title": _title(spec, record)},
        )
    return True


def _associate(
    *, spec: KindSpec, workspace: Workspace, who: Actor, record: Record, customer_id: int, log: bool = False
) -> bool:
    try:
        # The unique constraint decides, not a read first: two people associating at once make one row.
        with transaction.atomic():
            association = spec.association(workspace=workspace, customer_id=customer_id, created_by=who.user)
            association.record = record  # type: ignore[attr-defined]  # each concrete table has its own
            association.save()
    except IntegrityError:
        return False
    audit_record(
        workspace=workspace,
        actor=who,
        action="association.added",
        target=record,
        changes={"customer": [None, customer_id]},
    )
    if log:
        timeline_record(
            workspace=workspace,
            customer_ids=[customer_id],
            actor=who,
            action="association.added",
            record_kind=spec.kind,
            record_id=record.pk,
            summary={"title": _title(spec, record)},
        )
    return True


def message_add(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    conversation_id: int,
    direction: str,
    text: str = "",
    message_type: str = "text",
    sent_at: datetime | None = None,
    provider_message_id: str = "",
) -> tuple[Message, bool]:
    """A message of a conversation, and whether it is new: a provider id seen before returns the stored one."""
    if direction not in Direction.values:
        raise ValidationError({"direction": [_("Use inbound or outbound.")]})
    who = actor_of(actor)
    moment = sent_at or timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.locked_or_404(workspace, conversation_id)
        try:
            # The unique provider id decides whether it is new: a redelivery (even a concurrent one) stores nothing.
            with transaction.atomic():
                message = Message.objects.for_workspace(workspace).create(
                    conversation=conversation,
                    direction=direction,
                    message_type=message_type,
                    text=text,
                    sent_at=moment,
                    provider_message_id=provider_message_id,
                    author=who.user if direction == Direction.OUTBOUND else None,
                )
        except IntegrityError:
            return Message.objects.for_workspace(workspace).get(
                provider_message_id=provider_message_id
            ), False
        Conversation.objects.for_workspace(workspace).filter(pk=conversation.pk).update(
            messages_count=F("messages_count") + 1,
            last_message_at=Greatest(F("last_message_at"), moment)
            if conversation.last_message_at
            else moment,
            updated_at=timezone.now(),
        )
        timeline_record(
            workspace=workspace,
            customer_ids=record_customer_ids(
                workspace=workspace, kind=Kind.CONVERSATION, record_id=conversation.pk
            ),
            actor=who,
            action=f"message.{'received' if direction == Direction.INBOUND else 'sent'}",
            record_kind=Kind.CONVERSATION,
            record_id=conversation.pk,
            summary={"title": str(conversation), "text": text or message_type},
            at=moment,
        )
    return message, True


def record_changes_jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Changes as the audit log and the timeline keep them: related rows by id, dates as ISO text."""
    return {name.removesuffix("_id"): [_plain(value) for value in pair] for name, pair in changes.items()}


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def associations_move(*, workspace: Workspace, from_id: int, to_id: int) -> dict[str, dict[str, list[int]]]:
    """Move every association of customer `from_id` to `to_id` (a merge). A record both were associated with keeps
    the survivor's association and loses the other. Answers, per kind, the associations moved and the records whose
    association was dropped, for the undo."""
    answer: dict[str, dict[str, list[int]]] = {}
    for kind in KINDS:
        association = kind_spec(kind).association
        rows = association.objects.for_workspace(workspace)
        already = set(rows.filter(customer_id=to_id).values_list(RECORD_ID, flat=True))
        duplicates = rows.filter(customer_id=from_id).filter(Q(record_id__in=already))
        dropped = list(duplicates.values_list(RECORD_ID, flat=True))
        duplicates.delete()
        moving = rows.filter(customer_id=from_id)
        moved = list(moving.values_list("pk", flat=True))
        moving.update(customer_id=to_id)
        if moved or dropped:
            answer[kind] = {"moved": moved, "dropped_records": dropped}
    return answer


def associations_move_back(
    *, workspace: Workspace, survivor_id: int, merged_id: int, moved: dict[str, dict[str, list[int]]]
) -> None:
    """Undo `associations_move`: the moved associations go back, the dropped ones are made again."""
    for kind, rows_moved in moved.items():
        association = kind_spec(kind).association
        rows = association.objects.for_workspace(workspace)
        rows.filter(pk__in=rows_moved.get("moved", []), customer_id=survivor_id).update(customer_id=merged_id)
        for record_id in rows_moved.get("dropped_records", []):
            restored = association(workspace=workspace, customer_id=merged_id)
            restored.record_id = record_id  # type: ignore[attr-defined]  # each concrete table has its own
            try:
                with transaction.atomic():
                    restored.save()
            except IntegrityError:
                continue
