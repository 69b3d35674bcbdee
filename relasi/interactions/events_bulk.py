"""The set-based path of ingestion: contacts and messages of a batch planned in memory from a few reads, then
written with one insert per table (customers, identity rows, claims, conversations, associations, messages, audit
rows, timeline lines) — the same rows, in the same order, as applying the events one by one.

It takes the common cases: a known or new customer (see `relasi.customers.identity_bulk`), the customer's
conversation found by its chat id or as its latest open one, or a new one; a new or redelivered message. Anything
else — another event type, a campaign message, a name that changes, a chat known by a second id, a resolved
conversation that reopens, a conversation the customer is not on — raises PlanRefused before anything is written,
and the caller applies the batch event by event (`relasi.interactions.events`), which handles every case. A
unique row inserted meanwhile by a concurrent batch makes `write` raise IntegrityError: the caller rolls back to
its savepoint and does the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from relasi.core.audit import Actor
from relasi.customers.identity import CleanIdentifiers, identifiers_clean
from relasi.customers.identity_bulk import IdentityPlan, PlanRefused, same_customer
from relasi.customers.journal import Journal
from relasi.customers.models import Customer
from relasi.interactions.cleaning import RecordCleaner
from relasi.interactions.events_parsing import (
    EventResult,
    EventStatus,
    contact_identifiers_parse,
    errors_prefixed,
    message_fields_parse,
)
from relasi.interactions.kinds import kind_spec
from relasi.interactions.models import (
    Conversation,
    ConversationCustomer,
    ConversationStatus,
    Direction,
    Kind,
    Message,
)
from relasi.interactions.services import record_changes_jsonable
from relasi.interactions.usage import inbound_visits_report
from relasi.tenancy.models import Workspace

__all__ = ["ContactIntent", "IngestPlan", "MessageIntent", "PlanRefused", "events_apply_set_based"]

OPEN_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)


@dataclass(frozen=True)
class ContactIntent:
    cleans: tuple[CleanIdentifiers, ...]
    # The name sent; a known customer whose name differs would be renamed (a case this path leaves to the other).
    name: Any = None


@dataclass(frozen=True)
class MessageIntent:
    contact: ContactIntent
    channel: str
    # The chat's ids, preferred first; empty: the customer's latest open conversation on the channel.
    chat_ids: tuple[str, ...]
    direction: str
    text: str
    message_type: str
    sent_at: datetime | None
    provider_id: str
    # A resolved conversation receiving the message opens again.
    reopen: bool


@dataclass
class Outcome:
    """What one intent did; the ids are read once the plan is written."""

    created: bool
    customer: Customer
    conversation: Conversation | None = None


@dataclass
class _Thread:
    """A conversation the batch reads or writes: its customers (ids, or customers planned by the batch), its new
    messages, and when the batch last created it or gave it a message (0: never; the order of its updated_at)."""

    row: Conversation
    new: bool
    customers: list[Customer | int]
    added: int = 0
    last_at: datetime | None = None
    touched: int = 0

    def has(self, customer: Customer) -> bool:
        return any(
            same_customer(held, customer) if isinstance(held, Customer) else held == customer.pk
            for held in self.customers
        )


def _ids(customers: list[Customer | int]) -> list[int]:
    """The ids of a conversation's customers, once those the batch planned have theirs."""
    return [held.pk if isinstance(held, Customer) else held for held in customers]


@dataclass
class IngestPlan:
    workspace: Workspace
    actor: Actor
    now: datetime = field(default_factory=timezone.now)
    journal: Journal = field(init=False)
    identity: IdentityPlan = field(init=False)
    _threads_by_chat: dict[tuple[str, str], _Thread] = field(default_factory=dict)
    _threads: list[_Thread] = field(default_factory=list)
    _latest_read: dict[tuple[int, str], _Thread | None] = field(default_factory=dict)
    _provider_ids: set[str] = field(default_factory=set)
    _new_provider_ids: list[str] = field(default_factory=list)
    _messages: list[tuple[Message, _Thread, Customer]] = field(default_factory=list)
    _associations: list[tuple[_Thread, Customer]] = field(default_factory=list)
    _touches: int = 0

    def __post_init__(self) -> None:
        self.journal = Journal(workspace=self.workspace, actor=self.actor)
        self.identity = IdentityPlan(
            workspace=self.workspace, actor=self.actor, journal=self.journal, now=self.now
        )

    # Planning

    def apply(self, intents: list[ContactIntent | MessageIntent]) -> list[Outcome]:
        """Plan each intent in order (so that audit rows and timeline lines follow the events' order), after
        reading what the batch names."""
        contacts = [intent.contact if isinstance(intent, MessageIntent) else intent for intent in intents]
        self.identity.read([clean for contact in contacts for clean in contact.cleans])
        self._read_threads([intent for intent in intents if isinstance(intent, MessageIntent)])
        outcomes = []
        for intent, contact in zip(intents, contacts, strict=True):
            customer, created = self._contact(contact)
            if isinstance(intent, MessageIntent):
                outcomes.append(self._message(intent, customer))
            else:
                outcomes.append(Outcome(created=created, customer=customer))
        return outcomes

    def _contact(self, contact: ContactIntent) -> tuple[Customer, bool]:
        first: tuple[Customer, bool] | None = None
        for clean in contact.cleans:
            found = self.identity.resolve(clean)
            first = first or found
        assert first is not None
        customer, created = first
        name = contact.name
        if not created and isinstance(name, str) and name.strip() and name.strip() != customer.full_name:
            raise PlanRefused("a known customer is renamed")
        return first

    def _read_threads(self, messages: list[MessageIntent]) -> None:
        """The conversations the messages' chat ids name (locked: their counters change), with their customers,
        and the provider ids already stored."""
        chat_ids = {
            (message.channel, chat_id) for message in messages for chat_id in message.chat_ids if chat_id
        }
        if chat_ids:
            rows = (
                Conversation.objects.for_workspace(self.workspace)
                .select_for_update()
                .filter(external_id__in=sorted({chat_id for _channel, chat_id in chat_ids}))
                .order_by("pk")
            )
            found = [row for row in rows if (row.channel, row.external_id) in chat_ids]
            for thread in self._threads_read(found):
                self._threads_by_chat[(thread.row.channel, thread.row.external_id)] = thread
        provider_ids = sorted({message.provider_id for message in messages if message.provider_id})
        if provider_ids:
            self._provider_ids = set(
                Message.objects.for_workspace(self.workspace)
                .filter(provider_message_id__in=provider_ids)
                .values_list("provider_message_id", flat=True)
            )

    def _threads_read(self, rows: list[Conversation]) -> list[_Thread]:
        customers: dict[int, list[Customer | int]] = {row.pk: [] for row in rows}
        if rows:
            links = (
                ConversationCustomer.objects.for_workspace(self.workspace)
                .filter(record_id__in=list(customers))
                .values_list("record_id", "customer_id")
                .order_by("pk")
            )
            for record_id, customer_id in links:
                customers[record_id].append(customer_id)
        threads = [_Thread(row=row, new=False, customers=customers[row.pk]) for row in rows]
        self._threads += threads
        return threads

    def _message(self, intent: MessageIntent, customer: Customer) -> Outcome:
        thread = self._thread(intent, customer)
        moment = intent.sent_at or timezone.now()
        new = not intent.provider_id or intent.provider_id not in self._provider_ids
        if new:
            message = Message(
                workspace=self.workspace,
                direction=intent.direction,
                message_type=intent.message_type,
                text=intent.text,
                sent_at=moment,
                provider_message_id=intent.provider_id,
                author=self.actor.user if intent.direction == Direction.OUTBOUND else None,
            )
            self._messages.append((message, thread, customer))
            if intent.provider_id:
                self._provider_ids.add(intent.provider_id)
                self._new_provider_ids.append(intent.provider_id)
            thread.added += 1
            thread.last_at = max(thread.last_at or moment, moment)
            self._touches += 1
            thread.touched = self._touches
            shown = list(thread.customers)
            row = thread.row
            self.journal.timeline(
                action=f"message.{'received' if intent.direction == Direction.INBOUND else 'sent'}",
                customers=lambda: _ids(shown),
                record_kind=Kind.CONVERSATION,
                record=row,
                summary=lambda: {"title": str(row), "text": intent.text or intent.message_type},
                at=moment,
            )
        return Outcome(created=new, customer=customer, conversation=thread.row)

    def _thread(self, intent: MessageIntent, customer: Customer) -> _Thread:
        ids = tuple(chat_id for chat_id in intent.chat_ids if chat_id)
        thread: _Thread | None = None
        for position, chat_id in enumerate(ids):
            thread = self._threads_by_chat.get((intent.channel, chat_id))
            if thread is not None:
                if position:
                    raise PlanRefused("a chat known by another id takes the preferred one")
                break
        if thread is None and not ids:
            thread = self._latest_open(channel=intent.channel, customer=customer)
        if thread is None:
            return self._thread_new(channel=intent.channel, chat_id=ids[0] if ids else "", customer=customer)
        if not thread.has(customer):
            raise PlanRefused("the customer joins a conversation")
        if intent.reopen and thread.row.status == ConversationStatus.RESOLVED:
            raise PlanRefused("a resolved conversation opens again")
        return thread

    def _latest_open(self, *, channel: str, customer: Customer) -> _Thread | None:
        """The customer's open conversation on the channel given a message last by this batch, else the one of
        the database updated last (the batch's are newer: their updated_at is now)."""
        touched = [
            thread
            for thread in self._threads
            if thread.touched
            and thread.row.channel == channel
            and thread.row.status in OPEN_STATUSES
            and thread.has(customer)
        ]
        if touched:
            return max(touched, key=lambda thread: thread.touched)
        if customer.pk is None:
            return None  # planned by this batch: its conversations are the batch's, all touched
        key = (customer.pk, channel)
        if key not in self._latest_read:
            self._latest_read[key] = self._latest_open_read(channel=channel, customer_id=customer.pk)
        return self._latest_read[key]

    def _latest_open_read(self, *, channel: str, customer_id: int) -> _Thread | None:
        # Two lookups by index, as `events.conversation_for_customer` does (one query with a subquery was planned
        # row by row by PostgreSQL for a workspace its statistics had not seen).
        linked = list(
            ConversationCustomer.objects.for_workspace(self.workspace)
            .filter(customer_id=customer_id)
            .values_list("record_id", flat=True)
        )
        if not linked:
            return None
        row = (
            Conversation.objects.for_workspace(self.workspace)
            .select_for_update()
            .filter(pk__in=linked, channel=channel, status__in=OPEN_STATUSES)
            .order_by("-updated_at", "-id")
            .first()
        )
        if row is None:
            return None
        known = next((thread for thread in self._threads if thread.row.pk == row.pk), None)
        return known or self._threads_read([row])[0]

    def _thread_new(self, *, channel: str, chat_id: str, customer: Customer) -> _Thread:
        spec = kind_spec(Kind.CONVERSATION)
        cleaned = RecordCleaner(workspace=self.workspace, spec=spec).clean({"channel": channel})
        row = Conversation(
            workspace=self.workspace,
            created_by=self.actor.user,
            created_at=self.now,
            updated_at=self.now,
            external_id=chat_id,
            **cleaned,
        )
        self._touches += 1
        thread = _Thread(row=row, new=True, customers=[customer], touched=self._touches)
        self._threads.append(thread)
        if chat_id:
            self._threads_by_chat[(channel, chat_id)] = thread
        self._associations.append((thread, customer))
        self.journal.audit(
            action=f"{Kind.CONVERSATION}.created",
            target=row,
            changes=record_changes_jsonable({name: [None, value] for name, value in cleaned.items()}),
        )
        self.journal.audit(
            action="association.added", target=row, changes=lambda: {"customer": [None, customer.pk]}
        )
        self.journal.timeline(
            action=f"{Kind.CONVERSATION}.created",
            customers=lambda: [customer.pk],
            record_kind=Kind.CONVERSATION,
            record=row,
            summary=lambda: {"title": str(getattr(row, spec.title_field) or row)},
            at=self.now,
        )
        return thread

    # Writing

    def write(self) -> list[str]:
        """Insert and update what the plan holds; the provider ids of the new messages."""
        self.identity.write()
        conversations = Conversation.objects.for_workspace(self.workspace)
        new_threads = [thread for thread in self._threads if thread.new]
        for thread in new_threads:
            thread.row.messages_count = thread.added
            thread.row.last_message_at = thread.last_at
            if thread.added:
                thread.row.updated_at = timezone.now()
        conversations.bulk_create([thread.row for thread in new_threads])
        associations = []
        for thread, customer in self._associations:
            association = ConversationCustomer(
                workspace=self.workspace, customer_id=customer.pk, created_by=self.actor.user
            )
            association.record = thread.row
            associations.append(association)
        ConversationCustomer.objects.for_workspace(self.workspace).bulk_create(associations)
        for message, thread, _customer in self._messages:
            message.conversation = thread.row
        Message.objects.for_workspace(self.workspace).bulk_create(
            [message for message, _thread, _customer in self._messages]
        )
        for thread in self._threads:
            if thread.new or not thread.added:
                continue
            assert thread.last_at is not None
            last = thread.row.last_message_at
            conversations.filter(pk=thread.row.pk).update(
                messages_count=F("messages_count") + thread.added,
                last_message_at=max(last, thread.last_at) if last else thread.last_at,
                updated_at=timezone.now(),
            )
        self.journal.write()
        inbound_visits_report(
            workspace=self.workspace,
            visits=[
                (customer.pk, message.sent_at)
                for message, _thread, customer in self._messages
                if message.direction == Direction.INBOUND
            ],
        )
        return self._new_provider_ids


def _contact_intent(data: Any) -> ContactIntent:
    """The contact's identifiers, checked as `customer_resolve` checks them."""
    identifiers = contact_identifiers_parse(data)
    cleans = tuple(identifiers_clean(each) for each in identifiers)
    return ContactIntent(cleans=cleans, name=data.get("full_name"))


def events_apply_set_based(
    *, workspace: Workspace, actor: Actor, items: list[tuple[str, str, Any]]
) -> tuple[dict[str, EventResult], list[str]]:
    """Apply the batch's events — (client id, type, payload), each id once — planned together and written
    together: the result of each by client id, and the provider ids of the new messages. PlanRefused when the
    batch holds a case this path leaves to the event-by-event one (nothing written); IntegrityError when a
    concurrent batch inserted a unique row first (the caller rolls back)."""
    results: dict[str, EventResult] = {}
    intents: list[ContactIntent | MessageIntent] = []
    applied: list[str] = []
    for client_id, event_type, payload in items:
        try:
            intent = _intent(event_type, payload, workspace)
        except ValidationError as error:
            results[client_id] = EventResult(
                id=client_id, status=EventStatus.REJECTED, errors=errors_prefixed(event_type, error)
            )
            continue
        intents.append(intent)
        applied.append(client_id)
    plan = IngestPlan(workspace=workspace, actor=actor)
    outcomes = plan.apply(intents)
    new_provider_ids = plan.write()
    for client_id, outcome in zip(applied, outcomes, strict=True):
        results[client_id] = EventResult(
            id=client_id,
            status=EventStatus.CREATED if outcome.created else EventStatus.UPDATED,
            customer_id=outcome.customer.pk,
            record_id=outcome.conversation.pk if outcome.conversation is not None else None,
        )
    return results, new_provider_ids


def _intent(event_type: str, payload: Any, workspace: Workspace) -> ContactIntent | MessageIntent:
    if event_type == "contact":
        return _contact_intent(payload)
    if event_type != "message":
        raise PlanRefused(f"{event_type} events")
    fields = message_fields_parse(payload, workspace)
    if fields.campaign_id is not None:
        raise PlanRefused("a campaign message")
    try:
        contact = _contact_intent(fields.contact)
    except ValidationError as error:
        raise ValidationError(errors_prefixed("contact", error)) from None
    return MessageIntent(
        contact=contact,
        channel=fields.channel,
        chat_ids=(fields.chat_id,) if fields.chat_id else (),
        direction=fields.direction,
        text=fields.text,
        message_type=fields.message_type,
        sent_at=fields.sent_at,
        provider_id=fields.provider_id,
        reopen=fields.direction == Direction.INBOUND,
    )
