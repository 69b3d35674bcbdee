"""Turning a stored WhatsApp Cloud API webhook event into customers, conversations, messages and campaign
delivery statuses (the job queued by `channels.webhook_event_receive`).

What is read (docs/ingestion.md lists it too): `entry[].changes[]` whose `field` is "messages", and in its
`value`: `metadata.phone_number_id` (must be the channel's), `contacts[]` (`user_id` — the business-scoped user
id —, `wa_id` — the phone, when the user shares it —, `profile.name`, `profile.username`), `messages[]` (`id`,
`from`, `from_user_id`, `timestamp`, `type`, and the text of `text.body` or a media's `caption`) and `statuses[]`
(`id`, `status`, `timestamp`, `pricing.category`). Anything else is kept in the stored body, untouched; a message
of a type Relasi does not know is stored with its type and no text. One item that cannot be applied is noted on
the event and the others are applied.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from relasi.core.audit import Actor
from relasi.core.inputs import text_problem, text_storable
from relasi.core.validation import validation_error_fields
from relasi.customers.identity import IDENTIFIER_LIMITS, Identifiers, customer_resolve, identifiers_clean
from relasi.customers.models import Channel, Customer
from relasi.interactions.events import (
    RETRYABLE_SQLSTATES,
    conversation_for_customer,
    delivery_status_record,
    delivery_statuses_apply_pending,
    delivery_statuses_apply_pending_many,
)
from relasi.interactions.events_bulk import ContactIntent, IngestPlan, MessageIntent, PlanRefused
from relasi.interactions.events_parsing import MESSAGE_TEXT_MAX, MESSAGE_TYPE_MAX, PROVIDER_ID_MAX
from relasi.interactions.models import Direction, WebhookEvent
from relasi.interactions.services import message_add
from relasi.interactions.usage import inbound_visits_report, whatsapp_pricing_report
from relasi.tenancy.models import Workspace

logger = logging.getLogger(__name__)

ACTOR = Actor(system="whatsapp-webhook")
# A timestamp is seconds since 1970 as text: at most 12 digits (the year 33658), never a conversion that takes long.
TIMESTAMP_MAX_DIGITS = 12
ERROR_MAX = 4000
# Types whose text is in `<type>.caption` (media with a caption).
CAPTIONED = ("image", "video", "document")
# A job applies at most this many waiting events together.
JOB_EVENTS_MAX = 100
ROUND_ATTEMPTS = 3


@dataclass(frozen=True)
class _Person:
    user_id: str = ""
    wa_id: str = ""
    name: str = ""
    username: str = ""


def webhook_event_process(*, workspace_id: int, event_id: int) -> WebhookEvent | None:
    """Apply a stored event once, with the workspace's other waiting events: a second run (a redelivered job)
    finds it processed and changes nothing."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return None
    with transaction.atomic():
        # Locked (a redelivered job waits, then finds it processed), with its channel in the same query.
        event = (
            WebhookEvent.objects.for_workspace(workspace)
            .select_for_update(of=("self",))
            .select_related("channel")
            .filter(pk=event_id)
            .first()
        )
        if event is None:
            return None
        if event.processed_at is not None:
            return event
        _waiting_apply(workspace=workspace, first=[event])
    return event


def _must_retry(error: Exception) -> bool:
    """A deadlock or a serialization failure: PostgreSQL aborted the transaction, not the item. Noting it on the
    event and going on would commit the job without the items it took back; the round is run again instead."""
    return (
        isinstance(error, OperationalError)
        and getattr(error.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


def webhook_events_apply_waiting(*, workspace: Workspace) -> int:
    """Apply the workspace's oldest waiting events (up to JOB_EVENTS_MAX, skipping those another job holds) in one
    transaction; how many. A round that a deadlock aborts (two jobs of one workspace locking customers and
    balances in opposite orders) is run again, up to ROUND_ATTEMPTS times; then the error goes up, the events stay
    waiting, and the recovery gives them a job."""
    for attempt in range(1, ROUND_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _waiting_apply(workspace=workspace, first=[])
        except OperationalError as error:
            if attempt == ROUND_ATTEMPTS or not _must_retry(error):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _waiting_apply(*, workspace: Workspace, first: list[WebhookEvent]) -> int:
    """Their messages go through the set-based path together (`events_bulk`): one job's reads and inserts serve
    many messages. When that path leaves them to the other, each event is applied on its own."""
    waiting = list(
        WebhookEvent.objects.for_workspace(workspace)
        .select_related("channel")
        .select_for_update(of=("self",), skip_locked=True)
        .filter(processed_at__isnull=True)
        .exclude(pk__in=[event.pk for event in first])
        .order_by("pk")[: JOB_EVENTS_MAX - len(first)]
    )
    events = sorted([*first, *waiting], key=lambda row: row.pk)
    if events:
        _events_apply(workspace=workspace, events=events)
    return len(events)


@dataclass
class _Read:
    """A stored event as read: its problems so far, the messages it brings (as intents), its values."""

    problems: list[str] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    intents: list[MessageIntent] = field(default_factory=list)


def _events_apply(*, workspace: Workspace, events: list[WebhookEvent]) -> None:
    reads = [_event_read(event) for event in events]
    together = _messages_apply_together(
        workspace=workspace, intents=[intent for read in reads for intent in read.intents]
    )
    now = timezone.now()
    noted: list[WebhookEvent] = []
    for event, read in zip(events, reads, strict=True):
        problems = list(read.problems)
        for value in read.values:
            if together:
                _statuses_apply(workspace=workspace, value=value, problems=problems)
            else:
                _value_apply(workspace=workspace, value=value, problems=problems)
        event.processed_at = now
        event.error = "\n".join(problems)[:ERROR_MAX]
        if event.error:
            noted.append(event)
    # One statement for the events applied without a note, one per event with its own.
    WebhookEvent.objects.for_workspace(workspace).filter(pk__in=[event.pk for event in events]).update(
        processed_at=now, error=""
    )
    for event in noted:
        WebhookEvent.objects.for_workspace(workspace).filter(pk=event.pk).update(error=event.error)


def _event_read(event: WebhookEvent) -> _Read:
    read = _Read()
    try:
        payload = json.loads(event.body)
    except ValueError:
        payload = None
        read.problems.append("The body is not JSON.")
    phone_number_id = event.channel.phone_number_id if event.channel else ""
    for value in _change_values(payload, read.problems):
        metadata = value.get("metadata")
        sent_to = str(metadata.get("phone_number_id", "")) if isinstance(metadata, dict) else ""
        if phone_number_id and sent_to and sent_to != phone_number_id:
            read.problems.append(f"A change for phone number id {sent_to[:40]}, not this channel's: skipped.")
            continue
        read.values.append(value)
        people = [_person(contact) for contact in _dicts(value.get("contacts"))]
        for message in _dicts(value.get("messages")):
            try:
                read.intents.append(_message_intent(message=message, people=people))
            except ValidationError as error:
                read.problems.append(_message_problem(message, error))
    return read


def _messages_apply_together(*, workspace: Workspace, intents: list[MessageIntent]) -> bool:
    """The events' messages through the set-based path, in a savepoint; False (nothing of it kept) when that path
    leaves them to the one-event-at-a-time path."""
    if not intents:
        return True
    try:
        with transaction.atomic():
            plan = IngestPlan(workspace=workspace, actor=ACTOR)
            plan.apply(list(intents))
            new_ids = plan.write()
            delivery_statuses_apply_pending_many(workspace=workspace, actor=ACTOR, provider_ids=new_ids)
    except (PlanRefused, IntegrityError):
        return False
    except Exception as error:
        if _must_retry(error):
            raise
        # A fault of the set-based path must not lose the messages: the event-by-event path applies them, and
        # notes on its event any message that still fails.
        logger.exception("WhatsApp messages of workspace %s not applied together", workspace.pk)
        return False
    return True


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _change_values(payload: Any, problems: list[str]) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        if payload is not None:
            problems.append("The body is not a JSON object.")
        return []
    values = []
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            if change.get("field") not in (None, "messages"):
                # Other subscriptions (account updates, templates...) are kept in the body, not read.
                continue
            value = change.get("value")
            if isinstance(value, dict):
                values.append(value)
    return values


def _value_apply(*, workspace: Workspace, value: dict[str, Any], problems: list[str]) -> None:
    people = [_person(contact) for contact in _dicts(value.get("contacts"))]
    for message in _dicts(value.get("messages")):
        message_id = _id(message.get("id")) or "(no readable id)"
        try:
            with transaction.atomic():
                _message_apply(workspace=workspace, message=message, people=people)
        except ValidationError as error:
            problems.append(_message_problem(message, error))
        except Exception as error:
            if _must_retry(error):
                raise
            # One message that breaks something unforeseen must not lose the others, nor answer Meta with a 500.
            logger.exception("WhatsApp message %s of workspace %s not applied", message_id, workspace.pk)
            problems.append(f"Message {message_id}: not applied (an internal error, logged).")
    _statuses_apply(workspace=workspace, value=value, problems=problems)


def _message_problem(message: dict[str, Any], error: ValidationError) -> str:
    message_id = _id(message.get("id")) or "(no readable id)"
    return f"Message {message_id}: {json.dumps(validation_error_fields(error), ensure_ascii=False)}"


def _statuses_apply(*, workspace: Workspace, value: dict[str, Any], problems: list[str]) -> None:
    for status in _dicts(value.get("statuses")):
        message_id = _id(status.get("id"))
        if not message_id:
            problems.append("A status without a readable message id: skipped.")
            continue
        pricing = status.get("pricing")
        category = _clean(pricing.get("category"), 20) if isinstance(pricing, dict) else ""
        at = _timestamp(status.get("timestamp"))
        try:
            with transaction.atomic():
                delivery_status_record(
                    workspace=workspace,
                    actor=ACTOR,
                    provider_message_id=message_id,
                    status=_str(status.get("status"))[:10],
                    status_at=at,
                    pricing_category=category,
                )
                whatsapp_pricing_report(
                    workspace=workspace,
                    provider_message_id=message_id,
                    category=category,
                    billable=isinstance(pricing, dict) and pricing.get("billable") is True,
                    at=at,
                )
        except Exception as error:
            if _must_retry(error):
                raise
            logger.exception("WhatsApp status of %s in workspace %s not applied", message_id, workspace.pk)
            problems.append(f"Status of {message_id}: not applied (an internal error, logged).")


def _person(contact: dict[str, Any]) -> _Person:
    profile = contact.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    return _Person(
        user_id=_str(contact.get("user_id")),
        wa_id=_str(contact.get("wa_id")),
        # A profile name is what the person typed: kept readable and cut to the column, never a refusal.
        name=_clean(profile.get("name"), IDENTIFIER_LIMITS["full_name"]),
        username=_str(profile.get("username")),
    )


def _clean(value: Any, limit: int) -> str:
    return text_storable(_str(value)).replace("\ufffd", "").strip()[:limit]


def _id(value: Any) -> str:
    """A provider id as text, or "" when it cannot be one (too long, a NUL, broken Unicode)."""
    text = _str(value)
    return text if len(text) <= PROVIDER_ID_MAX and not text_problem(text) else ""


def _sender(message: dict[str, Any], people: list[_Person]) -> _Person:
    """The contact a message is from: by the business-scoped id, else by the phone; a message without a matching
    contact still carries its sender's ids."""
    from_user_id = _str(message.get("from_user_id"))
    from_phone = _str(message.get("from"))
    for person in people:
        if (from_user_id and person.user_id == from_user_id) or (from_phone and person.wa_id == from_phone):
            return _Person(
                user_id=person.user_id or from_user_id,
                wa_id=person.wa_id or from_phone,
                name=person.name,
                username=person.username,
            )
    if len(people) == 1 and not from_user_id and not from_phone:
        return people[0]
    return _Person(user_id=from_user_id, wa_id=from_phone)


def _message_checked(message: dict[str, Any], people: list[_Person]) -> tuple[_Person, str]:
    """The sender and the message id, or ValidationError saying what is missing."""
    person = _sender(message, people)
    if not person.user_id and not person.wa_id:
        raise ValidationError({"from": ["The message names no sender (no from, no from_user_id)."]})
    message_id = _id(message.get("id"))
    if _str(message.get("id")) and not message_id:
        raise ValidationError(
            {"id": ["The message id is too long or holds a character that cannot be stored."]}
        )
    return person, message_id


def _message_apply(*, workspace: Workspace, message: dict[str, Any], people: list[_Person]) -> None:
    person, message_id = _message_checked(message, people)
    customer = _customer(workspace=workspace, person=person)
    conversation = conversation_for_customer(
        workspace=workspace,
        actor=ACTOR,
        channel=Channel.WHATSAPP,
        customer_id=customer.pk,
        external_ids=_chat_ids(person),
        reopen=True,
    )
    message_type = _clean(message.get("type"), MESSAGE_TYPE_MAX) or "unknown"
    stored, new = message_add(
        workspace=workspace,
        actor=ACTOR,
        conversation_id=conversation.pk,
        direction=Direction.INBOUND,
        text=_message_text(message, message_type),
        message_type=message_type,
        sent_at=_timestamp(message.get("timestamp")),
        provider_message_id=message_id,
    )
    if new:
        inbound_visits_report(workspace=workspace, visits=[(customer.pk, stored.sent_at)])
    if new and message_id:
        delivery_statuses_apply_pending(workspace=workspace, actor=ACTOR, provider_message_id=message_id)


def _message_intent(*, message: dict[str, Any], people: list[_Person]) -> MessageIntent:
    """The message as the set-based path takes it: the same checks and values as `_message_apply`."""
    person, message_id = _message_checked(message, people)
    try:
        clean = identifiers_clean(_identifiers(person))
    except ValidationError as error:
        raise ValidationError({"contact": [str(message) for message in error.messages]}) from None
    message_type = _clean(message.get("type"), MESSAGE_TYPE_MAX) or "unknown"
    return MessageIntent(
        contact=ContactIntent(cleans=(clean,)),
        channel=Channel.WHATSAPP,
        chat_ids=_chat_ids(person),
        direction=Direction.INBOUND,
        text=_message_text(message, message_type),
        message_type=message_type,
        sent_at=_timestamp(message.get("timestamp")),
        provider_id=message_id,
        reopen=True,
    )


def _chat_ids(person: _Person) -> tuple[str, ...]:
    # One conversation per WhatsApp user: by the business-scoped id, or the phone until Meta sends the id.
    return (person.user_id[:200], person.wa_id[:200])


def _identifiers(person: _Person) -> Identifiers:
    """WhatsApp's identifiers: the business-scoped id as the channel identity (it stays when the user hides the
    phone), the username, the phone from `wa_id`, and the profile name."""
    return Identifiers(
        channel=Channel.WHATSAPP,
        external_id=person.user_id,
        username=person.username,
        # wa_id is the international number without its "+" (6281234567890).
        phone=f"+{person.wa_id}" if person.wa_id.isdigit() else person.wa_id,
        full_name=person.name,
    )


def _customer(*, workspace: Workspace, person: _Person) -> Customer:
    try:
        resolution = customer_resolve(workspace=workspace, actor=ACTOR, identifiers=_identifiers(person))
    except ValidationError as error:
        raise ValidationError({"contact": [str(message) for message in error.messages]}) from None
    return resolution.customer


def _message_text(message: dict[str, Any], message_type: str) -> str:
    body: Any = ""
    content = message.get(message_type)
    if message_type == "text" and isinstance(content, dict):
        body = content.get("body")
    elif message_type in CAPTIONED and isinstance(content, dict):
        body = content.get("caption")
    elif message_type == "button" and isinstance(content, dict):
        body = content.get("text")
    return _clean(body, MESSAGE_TEXT_MAX)


def _timestamp(value: Any) -> datetime:
    """Meta's `timestamp` (seconds since 1970, as text); the time of reading when it is missing or unreadable."""
    text = _str(value).strip()
    if text.isdigit() and len(text) <= TIMESTAMP_MAX_DIGITS:
        try:
            return datetime.fromtimestamp(int(text), tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return timezone.now()
