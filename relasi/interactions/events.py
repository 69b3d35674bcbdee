"""The event ingestion: events from other systems (contacts, messages, conversation status changes, tickets,
deals and tasks), each applied once per client event id; and what the WhatsApp webhook shares with it — finding a
customer's conversation and recording delivery statuses, also those that arrive before their message.

A batch runs in one transaction and each event in a savepoint of it: one bad event is rejected with its reasons
and changes nothing (its savepoint is rolled back), the others are applied, and the batch commits once. The
batch's client event ids are claimed with one insert before any event is applied; customers already resolved by
an earlier event of the batch are not looked up again. Customers are found or created by
`relasi.customers.identity.customer_resolve` (docs/customers.md, "One profile across channels").
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.inputs import text_checked
from relasi.core.validation import validation_error_fields
from relasi.customers.identity import Identifiers, customer_resolve, identifiers_clean
from relasi.customers.models import Customer
from relasi.customers.services import customer_update
from relasi.customers.timeline import timeline_record
from relasi.interactions.events_bulk import PlanRefused, events_apply_set_based
from relasi.interactions.events_parsing import (
    CONVERSATION_ID_MAX,
    EventResult,
    EventStatus,
    contact_identifiers_parse,
    errors_prefixed,
    fields_unknown,
    id_field,
    message_fields_parse,
    text_field,
)
from relasi.interactions.models import (
    CampaignRecipient,
    Conversation,
    ConversationCustomer,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    IngestedEvent,
    Kind,
    Message,
    PendingDeliveryStatus,
)
from relasi.interactions.models_ingestion import IngestResult
from relasi.interactions.services import association_add, message_add, record_create, record_update
from relasi.interactions.usage import inbound_visits_report
from relasi.tenancy.models import Workspace

# At most this many events in one request: a batch answers in well under a second, and a client with more sends
# more batches.
MAX_EVENTS = 500
CLIENT_ID_MAX = 200
RECORD_EVENT_TYPES = (Kind.TICKET.value, Kind.DEAL.value, Kind.TASK.value)
EVENT_TYPES = ("contact", "message", "conversation_status", *RECORD_EVENT_TYPES)
STATUS_FIELDS = {"conversation_id", "channel", "conversation", "status"}
# A delivery status never goes back: "read" after "delivered" applies, "delivered" after "read" does not.
DELIVERY_RANK = {
    DeliveryStatus.SENT: 0,
    DeliveryStatus.DELIVERED: 1,
    DeliveryStatus.READ: 2,
    DeliveryStatus.FAILED: 3,
}


@dataclass(frozen=True)
class _Applied:
    created: bool
    customer_id: int | None = None
    record_id: int | None = None


# What a concurrent batch can make PostgreSQL refuse in the middle of a batch (two batches locking the same
# customers in opposite orders): the batch is then applied again, one event per transaction.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


_MISSING = object()


@dataclass
class _Batch:
    """What the events of one batch (one transaction) learned, so that later events need not ask again: the
    customer each set of identifiers resolved to, the customers created by the batch with the ones given a
    conversation since (a customer created in this transaction has no other), and the provider ids of the
    messages stored. An event that is rejected takes back what it taught (`mark`, `undo`)."""

    customer_keys: dict[tuple[str, ...], int] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    created: dict[int, bool] = field(default_factory=dict)
    provider_ids: dict[str, bool] = field(default_factory=dict)
    _undo: list[tuple[dict[Any, Any], Any, Any]] = field(default_factory=list)

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def mark(self) -> int:
        return len(self._undo)

    def undo(self, mark: int) -> None:
        while len(self._undo) > mark:
            table, key, old = self._undo.pop()
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old


_BATCH: ContextVar[_Batch | None] = ContextVar("relasi_events_batch", default=None)


def events_ingest(
    *, workspace: Workspace, actor: Actor | User | None, events: list[Any], set_based: bool = True
) -> list[EventResult]:
    """Apply each event on its own; one result per event, in the order sent. The batch is one transaction: its
    contacts and messages are applied together (`events_bulk`) when they are the common cases that path takes,
    else each event in a savepoint of it. `set_based=False` takes the event-by-event path always (the tests
    compare the two)."""
    who = actor_of(actor)
    batch = events[:MAX_EVENTS]
    try:
        with transaction.atomic():
            return _batch_apply(workspace=workspace, actor=who, events=batch, set_based=set_based)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) not in RETRYABLE_SQLSTATES:
            raise
    # A deadlock with a concurrent batch: nothing of this one was kept; each event in its own transaction now
    # waits for the other batch instead of holding locks it needs.
    results = []
    for position, event in enumerate(batch):
        with transaction.atomic():
            results += _batch_apply(
                workspace=workspace, actor=who, events=[event], first_position=position, set_based=set_based
            )
    return results


def event_apply(*, workspace: Workspace, actor: Actor, event: Any, position: int = 0) -> EventResult:
    """One event: created or updated (and remembered by its client id), a duplicate of one applied before
    (nothing changes), or rejected with its reasons (nothing changes, nothing is remembered: a corrected event
    may be sent again with the same id)."""
    with transaction.atomic():
        [result] = _batch_apply(workspace=workspace, actor=actor, events=[event], first_position=position)
    return result


def _batch_apply(
    *, workspace: Workspace, actor: Actor, events: list[Any], first_position: int = 0, set_based: bool = True
) -> list[EventResult]:
    envelopes = [_event_envelope(event, first_position + index) for index, event in enumerate(events)]
    wanted: dict[str, str] = {}
    for event, (client_id, errors) in zip(events, envelopes, strict=True):
        if not errors:
            wanted.setdefault(client_id, event["type"])
    # The unique (workspace, client id) decides, not a read first: the ids are claimed with one insert, and an id
    # already there (a retried batch, or the same event in a concurrent batch, whose insert this one waits for)
    # is a duplicate of that event.
    claimed = _ledger_claim(workspace=workspace, wanted=wanted)
    earlier = {
        row.client_event_id: row
        for row in IngestedEvent.objects.for_workspace(workspace).filter(
            client_event_id__in=[client_id for client_id in wanted if client_id not in claimed]
        )
    }
    firsts: dict[str, tuple[str, str, Any]] = {}
    for event, (client_id, errors) in zip(events, envelopes, strict=True):
        if not errors and client_id in claimed and client_id not in firsts:
            firsts[client_id] = (client_id, event["type"], event[event["type"]])
    planned = _set_based(workspace=workspace, actor=actor, items=list(firsts.values())) if set_based else None
    state = _Batch()
    token = _BATCH.set(state)
    results: list[EventResult] = []
    applied: dict[str, EventResult] = {}
    try:
        for event, (client_id, errors) in zip(events, envelopes, strict=True):
            if errors:
                results.append(EventResult(id=client_id, status=EventStatus.REJECTED, errors=errors))
            elif client_id in applied or client_id not in claimed:
                first = applied.get(client_id) or earlier.get(client_id)
                results.append(
                    EventResult(
                        id=client_id,
                        status=EventStatus.DUPLICATE,
                        customer_id=first.customer_id if first else None,
                        record_id=first.record_id if first else None,
                    )
                )
            else:
                if planned is not None:
                    result = planned[0][client_id]
                else:
                    result = _event_run(workspace=workspace, actor=actor, event=event, client_id=client_id)
                if result.status != EventStatus.REJECTED:
                    applied[client_id] = result
                    ledger = claimed[client_id]
                    ledger.event_type = event["type"]
                    ledger.result = (
                        IngestResult.CREATED if result.status == EventStatus.CREATED else IngestResult.UPDATED
                    )
                    ledger.customer_id = result.customer_id
                    ledger.record_id = result.record_id
                results.append(result)
        provider_ids = planned[1] if planned is not None else list(state.provider_ids)
        if provider_ids:
            delivery_statuses_apply_pending_many(workspace=workspace, actor=actor, provider_ids=provider_ids)
    finally:
        _BATCH.reset(token)
    ledger_rows = IngestedEvent.objects.for_workspace(workspace)
    # A rejected event is not remembered: a corrected one may come with the same id.
    forgotten = [row.pk for client_id, row in claimed.items() if client_id not in applied]
    if forgotten:
        ledger_rows.filter(pk__in=forgotten).delete()
    kept = [row for client_id, row in claimed.items() if client_id in applied]
    if kept:
        _ledger_complete(workspace=workspace, rows=kept)
    return results


def _set_based(
    *, workspace: Workspace, actor: Actor, items: list[tuple[str, str, Any]]
) -> tuple[dict[str, EventResult], list[str]] | None:
    """The batch applied by the set-based path, in a savepoint; None when that path leaves it to this one (a case
    it does not take, or a unique row a concurrent batch inserted first): nothing of it stays."""
    if not items:
        return None
    try:
        with transaction.atomic():
            return events_apply_set_based(workspace=workspace, actor=actor, items=items)
    except (PlanRefused, IntegrityError):
        return None


def _ledger_claim(*, workspace: Workspace, wanted: dict[str, str]) -> dict[str, IngestedEvent]:
    """Insert a ledger row for each client id not yet in the workspace's ledger; the rows inserted, by id.

    One INSERT … ON CONFLICT DO NOTHING RETURNING (PostgreSQL and SQLite): the ORM's bulk_create cannot say which
    rows a conflict skipped. The ids go in sorted, so two batches sharing ids wait for each other in one order
    instead of deadlocking. Scoped by hand: every row is the workspace's."""
    if not wanted:
        return {}
    table = connection.ops.quote_name(IngestedEvent._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ids = sorted(wanted)
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(ids))
    params: list[Any] = []
    for client_id in ids:
        params += [workspace.pk, client_id, wanted[client_id], IngestResult.CREATED, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, client_event_id, event_type, result, received_at) "
            f"VALUES {rows} ON CONFLICT DO NOTHING RETURNING id, client_event_id",
            params,
        )
        inserted = cursor.fetchall()
    claimed = {}
    for pk, client_id in inserted:
        row = IngestedEvent(
            pk=pk,
            workspace=workspace,
            client_event_id=client_id,
            event_type=wanted[client_id],
            result=IngestResult.CREATED,
        )
        row._loaded_workspace_id = workspace.pk
        claimed[client_id] = row
    return claimed


def _ledger_complete(*, workspace: Workspace, rows: list[IngestedEvent]) -> None:
    """Write what each applied event did onto its claimed row, with one statement: the claimed rows conflict on
    their unique (workspace, client id), and the conflict updates them. (The ORM's bulk_update builds a CASE per
    column and row, which took longer than applying the batch.) Scoped by hand: every row is the workspace's."""
    table = connection.ops.quote_name(IngestedEvent._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for row in rows:
        assert row.workspace_id == workspace.pk
        params += [
            workspace.pk,
            row.client_event_id,
            row.event_type,
            row.result,
            row.customer_id,
            row.record_id,
            now,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, client_event_id, event_type, result, customer_id, record_id, "
            f"received_at) VALUES {values} ON CONFLICT (workspace_id, client_event_id) DO UPDATE SET "
            "event_type = excluded.event_type, result = excluded.result, customer_id = excluded.customer_id, "
            "record_id = excluded.record_id",
            params,
        )


def _event_run(*, workspace: Workspace, actor: Actor, event: dict[str, Any], client_id: str) -> EventResult:
    """Apply one event whose id this batch claimed, in a savepoint: on a refusal nothing of it stays, not even
    what the batch learned from it."""
    event_type: str = event["type"]
    state = _BATCH.get()
    mark = state.mark() if state is not None else 0
    try:
        with transaction.atomic():
            applied = _APPLIERS[event_type](workspace, actor, event[event_type])
    except (ValidationError, Http404, PermissionDenied) as error:
        if state is not None:
            state.undo(mark)
        if isinstance(error, ValidationError):
            return EventResult(
                id=client_id, status=EventStatus.REJECTED, errors=errors_prefixed(event_type, error)
            )
        message = str(error) if isinstance(error, PermissionDenied) and str(error) else _("Not found.")
        return EventResult(id=client_id, status=EventStatus.REJECTED, errors={event_type: [message]})
    return EventResult(
        id=client_id,
        status=EventStatus.CREATED if applied.created else EventStatus.UPDATED,
        customer_id=applied.customer_id,
        record_id=applied.record_id,
    )


def _event_envelope(event: Any, position: int) -> tuple[str, dict[str, list[str]]]:
    """The client id (or a stand-in naming the position) and what is wrong with the event's outer shape."""
    if not isinstance(event, dict):
        return f"#{position}", {"__all__": [_("Send each event as an object.")]}
    raw_id = event.get("id")
    errors: dict[str, list[str]] = {}
    client_id = ""
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        errors["id"] = [_("Send the event's own id, a text of 1 to %d characters.") % CLIENT_ID_MAX]
    else:
        try:
            client_id = text_checked(str(raw_id), max_length=CLIENT_ID_MAX)
        except ValidationError as error:
            errors["id"] = list(error.messages)
        if not client_id and "id" not in errors:
            errors["id"] = [_("Send the event's own id, a text of 1 to %d characters.") % CLIENT_ID_MAX]
    event_type = event.get("type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        errors["type"] = [_("Use one of: %s.") % ", ".join(EVENT_TYPES)]
    else:
        if not isinstance(event.get(event_type), dict):
            errors[event_type] = [_("Send the %s as an object.") % event_type]
        for name in sorted(set(event) - {"id", "type", event_type}):
            errors[str(name)[:50]] = [_("There is no such field.")]
    return client_id or f"#{position}", errors


# Contacts


def contact_resolve(*, workspace: Workspace, actor: Actor, data: Any) -> tuple[Customer, bool]:
    """The customer a contact names (created when new), with the name it sends when it differs."""
    created = False
    customer: Customer | None = None
    for identifiers in contact_identifiers_parse(data):
        found, new = _customer_resolve_once_per_batch(
            workspace=workspace, actor=actor, identifiers=identifiers
        )
        if customer is None:
            customer, created = found, new
    assert customer is not None
    name = data.get("full_name")
    if not created and isinstance(name, str) and name.strip() and name.strip() != customer.full_name:
        customer = customer_update(
            workspace=workspace, actor=actor, customer_id=customer.pk, data={"full_name": name}
        )
        state = _BATCH.get()
        if state is not None and customer.pk in state.customers:
            state.put(state.customers, customer.pk, customer)
    return customer, created


def _customer_resolve_once_per_batch(
    *, workspace: Workspace, actor: Actor, identifiers: Identifiers
) -> tuple[Customer, bool]:
    """customer_resolve, except that identifiers an earlier event of the batch resolved name the same customer
    without asking again: resolving them again would find the customer the first resolution found or created and
    linked them to (the claims and identity rows it read are locked by this transaction), and write nothing."""
    state = _BATCH.get()
    clean = identifiers_clean(identifiers)
    key = (clean.channel, clean.external_id, clean.username, clean.phone, clean.email)
    # Without an id, a username, a phone or an email, every resolution makes a new customer: nothing to remember.
    cacheable = state is not None and any(key[1:])
    if state is not None and cacheable and key in state.customer_keys:
        return state.customers[state.customer_keys[key]], False
    resolution = customer_resolve(workspace=workspace, actor=actor, identifiers=identifiers)
    customer = resolution.customer
    if state is not None:
        if cacheable:
            state.put(state.customer_keys, key, customer.pk)
        state.put(state.customers, customer.pk, customer)
        if resolution.created:
            # True while the batch has given it no conversation: then it has none at all.
            state.put(state.created, customer.pk, True)
    return customer, resolution.created


def _apply_contact(workspace: Workspace, actor: Actor, data: dict[str, Any]) -> _Applied:
    try:
        customer, created = contact_resolve(workspace=workspace, actor=actor, data=data)
    except ValidationError as error:
        raise ValidationError(validation_error_fields(error)) from None
    return _Applied(created=created, customer_id=customer.pk)


# Messages and conversations


def conversation_for_customer(
    *,
    workspace: Workspace,
    actor: Actor,
    channel: str,
    customer_id: int,
    external_ids: tuple[str, ...] = (),
    reopen: bool = False,
    without_conversations: bool = False,
) -> Conversation:
    """The customer's conversation on the channel: the one whose chat id is one of `external_ids` (the first is
    the preferred one, given to a conversation found by another), else the customer's latest open one when no chat
    id is known, else a new one. Two events creating the same chat at once make one conversation (the unique chat
    id decides). `reopen`: a resolved conversation that receives a message is open again.
    `without_conversations`: the caller knows the customer has none (created in this transaction and given none
    since), so there is no latest one to look for."""
    ids = tuple(value for value in external_ids if value)
    conversations = Conversation.objects.for_workspace(workspace)
    conversation: Conversation | None = None
    if ids:
        # One query for all the chat ids; the first id (in the order given) that names a conversation wins.
        by_id = {row.external_id: row for row in conversations.filter(channel=channel, external_id__in=ids)}
        for value in ids:
            conversation = by_id.get(value)
            if conversation is not None:
                if value != ids[0]:
                    _rekey(workspace=workspace, conversation=conversation, external_id=ids[0])
                break
    if conversation is None and not ids and not without_conversations:
        # The customer's conversations first, then the open one among them: two lookups by index. As one query
        # with a subquery, PostgreSQL walked every conversation of a workspace its statistics had not seen yet and
        # probed the associations for each (2 s among 10,000).
        linked = list(
            ConversationCustomer.objects.for_workspace(workspace)
            .filter(customer_id=customer_id)
            .values_list("record_id", flat=True)
        )
        conversation = (
            conversations.filter(
                pk__in=linked,
                channel=channel,
                status__in=[ConversationStatus.OPEN, ConversationStatus.PENDING],
            )
            .order_by("-updated_at", "-id")
            .first()
            if linked
            else None
        )
    if conversation is None:
        conversation = _conversation_create(
            workspace=workspace, actor=actor, channel=channel, customer_id=customer_id, external_id=ids[:1]
        )
    else:
        # Usually the customer's own conversation already: a read says so without the locks and the failing
        # insert of association_add (which still decides when the association is missing).
        associated = (
            ConversationCustomer.objects.for_workspace(workspace)
            .filter(record_id=conversation.pk, customer_id=customer_id)
            .exists()
        )
        if not associated:
            association_add(
                workspace=workspace,
                actor=actor,
                kind=Kind.CONVERSATION,
                record_id=conversation.pk,
                customer_id=customer_id,
            )
        if reopen and conversation.status == ConversationStatus.RESOLVED:
            record_update(
                workspace=workspace,
                actor=actor,
                kind=Kind.CONVERSATION,
                record_id=conversation.pk,
                data={"status": ConversationStatus.OPEN},
            )
    return conversation


def _conversation_create(
    *, workspace: Workspace, actor: Actor, channel: str, customer_id: int, external_id: tuple[str, ...]
) -> Conversation:
    try:
        with transaction.atomic():
            record = record_create(
                workspace=workspace,
                actor=actor,
                kind=Kind.CONVERSATION,
                data={"channel": channel},
                customer_ids=[customer_id],
            )
            assert isinstance(record, Conversation)
            if external_id:
                Conversation.objects.for_workspace(workspace).filter(pk=record.pk).update(
                    external_id=external_id[0]
                )
                record.external_id = external_id[0]
    except IntegrityError:
        # Another event created this chat's conversation meanwhile: that one is the conversation.
        found = (
            Conversation.objects.for_workspace(workspace)
            .filter(channel=channel, external_id=external_id[0])
            .first()
        )
        if found is None:
            raise
        association_add(
            workspace=workspace,
            actor=actor,
            kind=Kind.CONVERSATION,
            record_id=found.pk,
            customer_id=customer_id,
        )
        return found
    return record


def _rekey(*, workspace: Workspace, conversation: Conversation, external_id: str) -> None:
    # A chat first known by the phone, now by WhatsApp's user id: the id is what later messages carry.
    try:
        with transaction.atomic():
            Conversation.objects.for_workspace(workspace).filter(pk=conversation.pk).update(
                external_id=external_id
            )
    except IntegrityError:
        pass


def _apply_message(workspace: Workspace, actor: Actor, data: dict[str, Any]) -> _Applied:
    fields = message_fields_parse(data, workspace)
    try:
        customer, _created = contact_resolve(workspace=workspace, actor=actor, data=fields.contact)
    except ValidationError as error:
        raise ValidationError(errors_prefixed("contact", error)) from None
    channel, chat_id, direction, provider_id = (
        fields.channel,
        fields.chat_id,
        fields.direction,
        fields.provider_id,
    )
    campaign_id = fields.campaign_id
    state = _BATCH.get()
    conversation = conversation_for_customer(
        workspace=workspace,
        actor=actor,
        channel=channel,
        customer_id=customer.pk,
        external_ids=(chat_id,) if chat_id else (),
        reopen=direction == Direction.INBOUND,
        without_conversations=state is not None and state.created.get(customer.pk, False),
    )
    if state is not None and state.created.get(customer.pk):
        state.put(state.created, customer.pk, False)
    message, new = message_add(
        workspace=workspace,
        actor=actor,
        conversation_id=conversation.pk,
        direction=direction,
        text=fields.text,
        message_type=fields.message_type,
        sent_at=fields.sent_at,
        provider_message_id=provider_id,
    )
    if campaign_id is not None:
        campaign_recipient_sent(
            workspace=workspace,
            actor=actor,
            campaign_id=campaign_id,
            customer_id=customer.pk,
            provider_message_id=provider_id,
            sent_at=message.sent_at,
        )
    if new and direction == Direction.INBOUND:
        inbound_visits_report(workspace=workspace, visits=[(customer.pk, message.sent_at)])
    if new and provider_id:
        if state is not None:
            # Looked up once for the batch's messages, at its end (still in its transaction).
            state.put(state.provider_ids, provider_id, True)
        else:
            delivery_statuses_apply_pending(workspace=workspace, actor=actor, provider_message_id=provider_id)
    return _Applied(created=new, customer_id=customer.pk, record_id=conversation.pk)


def _apply_conversation_status(workspace: Workspace, actor: Actor, data: dict[str, Any]) -> _Applied:
    errors = fields_unknown(data, STATUS_FIELDS)
    if errors:
        raise ValidationError(errors)
    conversation_id = id_field(data, "conversation_id")
    if conversation_id is None:
        channel = text_field(data, "channel", 16).lower()
        chat_id = text_field(data, "conversation", CONVERSATION_ID_MAX)
        if not channel or not chat_id:
            raise ValidationError(
                {
                    "conversation_id": [
                        _("Send the conversation_id, or the channel and the conversation (chat id).")
                    ]
                }
            )
        found = (
            Conversation.objects.for_workspace(workspace)
            .filter(channel=channel, external_id=chat_id)
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            raise ValidationError({"conversation": [_("No such conversation in this workspace.")]})
        conversation_id = found
    if "status" not in data:
        raise ValidationError({"status": [_("This field is required.")]})
    record = record_update(
        workspace=workspace,
        actor=actor,
        kind=Kind.CONVERSATION,
        record_id=conversation_id,
        data={"status": data["status"]},
    )
    return _Applied(created=False, record_id=record.pk)


def _apply_record(kind: str) -> Any:
    def apply(workspace: Workspace, actor: Actor, data: dict[str, Any]) -> _Applied:
        fields = {name: value for name, value in data.items() if name not in ("record_id", "contact")}
        record_id = id_field(data, "record_id")
        customer: Customer | None = None
        if "contact" in data:
            try:
                customer, _created = contact_resolve(workspace=workspace, actor=actor, data=data["contact"])
            except ValidationError as error:
                raise ValidationError(errors_prefixed("contact", error)) from None
        if record_id is None:
            record = record_create(
                workspace=workspace,
                actor=actor,
                kind=kind,
                data=fields,
                customer_ids=[customer.pk] if customer else [],
            )
            return _Applied(created=True, customer_id=customer.pk if customer else None, record_id=record.pk)
        try:
            record = record_update(
                workspace=workspace, actor=actor, kind=kind, record_id=record_id, data=fields
            )
        except Http404:
            raise ValidationError({"record_id": [_("No such record in this workspace.")]}) from None
        if customer is not None:
            association_add(
                workspace=workspace, actor=actor, kind=kind, record_id=record.pk, customer_id=customer.pk
            )
        return _Applied(created=False, customer_id=customer.pk if customer else None, record_id=record.pk)

    return apply


_APPLIERS: dict[str, Any] = {
    "contact": _apply_contact,
    "message": _apply_message,
    "conversation_status": _apply_conversation_status,
    **{kind: _apply_record(kind) for kind in RECORD_EVENT_TYPES},
}


# Campaign delivery statuses


def campaign_recipient_sent(
    *,
    workspace: Workspace,
    actor: Actor,
    campaign_id: int,
    customer_id: int,
    provider_message_id: str,
    sent_at: datetime,
) -> CampaignRecipient:
    """The customer is a recipient of the campaign, through the message with this provider id."""
    try:
        association_add(
            workspace=workspace,
            actor=actor,
            kind=Kind.CAMPAIGN,
            record_id=campaign_id,
            customer_id=customer_id,
        )
    except Http404:
        raise ValidationError({"campaign_id": [_("No such campaign in this workspace.")]}) from None
    recipients = CampaignRecipient.objects.for_workspace(workspace)
    recipient = recipients.select_for_update().get(record_id=campaign_id, customer_id=customer_id)
    if recipient.provider_message_id != provider_message_id:
        try:
            with transaction.atomic():
                recipients.filter(pk=recipient.pk).update(
                    provider_message_id=provider_message_id, status_at=recipient.status_at or sent_at
                )
        except IntegrityError:
            raise ValidationError(
                {"provider_message_id": [_("This message was already sent to another recipient.")]}
            ) from None
        recipient.refresh_from_db()
    return recipient


def delivery_status_record(
    *,
    workspace: Workspace,
    actor: Actor,
    provider_message_id: str,
    status: str,
    status_at: datetime,
    pricing_category: str = "",
) -> str:
    """A provider's delivery status of a message: "applied" to its campaign recipient, "pending" when its
    message is not known yet (applied when it arrives), or "ignored" (a conversation message, which keeps no
    delivery status, or a status that is not sent, delivered, read or failed)."""
    if status not in DELIVERY_RANK or not provider_message_id:
        return "ignored"
    recipient = (
        CampaignRecipient.objects.for_workspace(workspace)
        .select_for_update()
        .select_related("record")
        .filter(provider_message_id=provider_message_id)
        .first()
    )
    if recipient is not None:
        _recipient_status_apply(
            workspace=workspace,
            actor=actor,
            recipient=recipient,
            status=status,
            status_at=status_at,
            pricing_category=pricing_category,
        )
        return "applied"
    if Message.objects.for_workspace(workspace).filter(provider_message_id=provider_message_id).exists():
        return "ignored"
    try:
        with transaction.atomic():
            PendingDeliveryStatus.objects.for_workspace(workspace).create(
                provider_message_id=provider_message_id,
                status=status,
                status_at=status_at,
                pricing_category=pricing_category,
            )
    except IntegrityError:
        pass  # the same status delivered again: kept once
    return "pending"


def delivery_statuses_apply_pending_many(
    *, workspace: Workspace, actor: Actor, provider_ids: list[str]
) -> None:
    """The statuses that waited for the batch's new messages: one query finds whether any did."""
    waiting = (
        PendingDeliveryStatus.objects.for_workspace(workspace)
        .filter(provider_message_id__in=provider_ids)
        .values_list("provider_message_id", flat=True)
        .distinct()
    )
    for provider_id in sorted(set(waiting)):
        delivery_statuses_apply_pending(workspace=workspace, actor=actor, provider_message_id=provider_id)


def delivery_statuses_apply_pending(*, workspace: Workspace, actor: Actor, provider_message_id: str) -> int:
    """Apply the statuses that waited for this message (in the order they happened); how many were applied."""
    pending = list(
        PendingDeliveryStatus.objects.for_workspace(workspace)
        .select_for_update()
        .filter(provider_message_id=provider_message_id)
        .order_by("status_at", "id")
    )
    if not pending:
        return 0
    applied = 0
    for row in pending:
        outcome = delivery_status_record(
            workspace=workspace,
            actor=actor,
            provider_message_id=provider_message_id,
            status=row.status,
            status_at=row.status_at,
            pricing_category=row.pricing_category,
        )
        applied += outcome == "applied"
        if outcome == "pending":
            return applied  # still no message: the rows stay (the one just tried was already there)
    PendingDeliveryStatus.objects.for_workspace(workspace).filter(pk__in=[row.pk for row in pending]).delete()
    return applied


def _recipient_status_apply(
    *,
    workspace: Workspace,
    actor: Actor,
    recipient: CampaignRecipient,
    status: str,
    status_at: datetime,
    pricing_category: str,
) -> None:
    changes: dict[str, list[Any]] = {}
    if DELIVERY_RANK[DeliveryStatus(status)] > DELIVERY_RANK.get(DeliveryStatus(recipient.status), -1) or (
        recipient.status == status and recipient.status_at is None
    ):
        changes["status"] = [recipient.status, status]
        recipient.status = status
        recipient.status_at = status_at
    if pricing_category and pricing_category != recipient.pricing_category:
        changes["pricing_category"] = [recipient.pricing_category, pricing_category]
        recipient.pricing_category = pricing_category
    if not changes:
        return
    recipient.save(update_fields=["status", "status_at", "pricing_category"])
    audit_record(
        workspace=workspace, actor=actor, action="campaign.delivery", target=recipient.record, changes=changes
    )
    if "status" in changes:
        timeline_record(
            workspace=workspace,
            customer_ids=[recipient.customer_id],
            actor=actor,
            action=f"campaign.{status}",
            record_kind=Kind.CAMPAIGN,
            record_id=recipient.record_id,
            summary={"title": recipient.record.name, "status": status},
            at=status_at,
        )
