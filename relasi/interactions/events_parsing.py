"""Reading one event of the ingestion API: the checks that need no database, shared by the event-by-event path
(`events`) and the set-based one (`events_bulk`), so that both refuse the same events with the same reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.core.inputs import datetime_checked, text_checked
from relasi.core.validation import validation_error_fields
from relasi.customers.identity import Identifiers
from relasi.customers.models import Channel
from relasi.interactions.cleaning import ID_MAX_DIGITS
from relasi.interactions.models import Direction
from relasi.tenancy.models import Workspace

MAX_IDENTITIES = 5
MESSAGE_TEXT_MAX = 4096
MESSAGE_TYPE_MAX = 30
PROVIDER_ID_MAX = 200
CONVERSATION_ID_MAX = 200
CONTACT_FIELDS = {"full_name", "phone", "email", "identities"}
IDENTITY_FIELDS = {"channel", "external_id", "username"}
MESSAGE_FIELDS = {
    "contact",
    "channel",
    "conversation",
    "direction",
    "type",
    "text",
    "sent_at",
    "provider_message_id",
    "campaign_id",
}


class EventStatus:
    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass
class EventResult:
    id: str
    status: str
    customer_id: int | None = None
    record_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageFields:
    """A message event's own fields, checked; its contact is read by `contact_identifiers_parse`."""

    channel: str
    direction: str
    text: str
    message_type: str
    provider_id: str
    # The chat id: the one sent, else the contact's id on the message's channel ("" when neither).
    chat_id: str
    sent_at: datetime | None
    campaign_id: int | None
    contact: Any


def errors_prefixed(prefix: str, error: ValidationError) -> dict[str, list[str]]:
    return {
        prefix if name == "__all__" else f"{prefix}.{name}": messages
        for name, messages in validation_error_fields(error).items()
    }


def fields_unknown(data: dict[str, Any], allowed: set[str]) -> dict[str, list[str]]:
    return {str(name)[:50]: [_("There is no such field.")] for name in sorted(set(data) - allowed)}


def text_field(data: dict[str, Any], name: str, max_length: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({name: [_("Send text.")]})
    try:
        return text_checked(value, max_length=max_length)
    except ValidationError as error:
        raise ValidationError({name: error.messages}) from None


def id_field(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or len(text) > ID_MAX_DIGITS:
        raise ValidationError({name: [_("“%(value)s” is not an id.") % {"value": text[:30]}]})
    return int(text)


def moment_parse(value: Any, workspace: Workspace) -> datetime:
    try:
        moment = datetime_checked(value)
    except ValidationError as error:
        raise ValidationError({"sent_at": error.messages}) from None
    return timezone.make_aware(moment, workspace.zone) if timezone.is_naive(moment) else moment


def contact_identifiers_parse(data: Any) -> list[Identifiers]:
    """One Identifiers per identity (phone, email and name with each); one without an identity when none."""
    if not isinstance(data, dict):
        raise ValidationError({"contact": [_("Send the contact as an object.")]})
    errors = fields_unknown(data, CONTACT_FIELDS)
    identities = data.get("identities") or []
    if not isinstance(identities, list) or len(identities) > MAX_IDENTITIES:
        errors["identities"] = [_("Send a list of at most %d identities.") % MAX_IDENTITIES]
        identities = []
    for position, identity in enumerate(identities):
        if not isinstance(identity, dict):
            errors[f"identities.{position}"] = [_("Send each identity as an object.")]
            continue
        for name, messages in fields_unknown(identity, IDENTITY_FIELDS).items():
            errors[f"identities.{position}.{name}"] = messages
        if not identity.get("external_id") and not identity.get("username"):
            errors[f"identities.{position}"] = [_("Send the external_id or the username.")]
    values: dict[str, str] = {}
    for name in ("full_name", "phone", "email"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = [_("Send text.")]
        values[name] = value if isinstance(value, str) else ""
    if len(identities) > 1 and not (values["phone"] or values["email"]):
        # customer_resolve joins one identity to a customer at a time; the later ones find the same customer
        # through the phone or email the first one gave it.
        errors["identities"] = [
            _("Send a phone or an email with more than one identity, or one identity per event.")
        ]
    if not identities and not any(values.values()):
        errors["__all__"] = [_("Send at least an identity, a phone, an email or a name.")]
    if errors:
        raise ValidationError(errors)
    if not identities:
        return [Identifiers(**values)]
    return [
        Identifiers(
            channel=_plain(identity.get("channel")),
            external_id=_plain(identity.get("external_id")),
            username=_plain(identity.get("username")),
            **values,
        )
        for identity in identities
    ]


def _plain(value: Any) -> str:
    # Numbers are ids too (a phone-like WhatsApp id sent as a number); other types are refused by identifiers_clean.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else "" if value is None else str(value)[:300]


def message_fields_parse(data: dict[str, Any], workspace: Workspace) -> MessageFields:
    """The message's fields, or ValidationError naming each wrong one (the contact is read after them)."""
    errors = fields_unknown(data, MESSAGE_FIELDS)
    if errors:
        raise ValidationError(errors)
    channel = text_field(data, "channel", 16).lower() or Channel.OTHER
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Unknown channel: use one of %s.") % ", ".join(Channel.values)]})
    direction = text_field(data, "direction", 10) or Direction.INBOUND
    if direction not in Direction.values:
        raise ValidationError({"direction": [_("Use inbound or outbound.")]})
    text = text_field(data, "text", MESSAGE_TEXT_MAX)
    message_type = text_field(data, "type", MESSAGE_TYPE_MAX) or "text"
    provider_id = text_field(data, "provider_message_id", PROVIDER_ID_MAX)
    chat_id = text_field(data, "conversation", CONVERSATION_ID_MAX)
    sent_at = moment_parse(data.get("sent_at"), workspace) if data.get("sent_at") is not None else None
    campaign_id = id_field(data, "campaign_id")
    if campaign_id is not None and (direction != Direction.OUTBOUND or not provider_id):
        raise ValidationError(
            {
                "campaign_id": [
                    _("Only an outbound message with its provider_message_id is sent to a campaign.")
                ]
            }
        )
    if "contact" not in data:
        raise ValidationError({"contact": [_("This field is required.")]})
    contact = data["contact"]
    if not chat_id and isinstance(contact, dict):
        # Without a chat id, the contact's id on this channel names the chat (one conversation per person).
        identities = contact.get("identities") or []
        chat_id = next(
            (
                str(identity["external_id"])
                for identity in (identities if isinstance(identities, list) else [])
                if isinstance(identity, dict)
                and identity.get("channel") == channel
                and isinstance(identity.get("external_id"), str)
            ),
            "",
        )
    return MessageFields(
        channel=channel,
        direction=direction,
        text=text,
        message_type=message_type,
        provider_id=provider_id,
        chat_id=chat_id[:CONVERSATION_ID_MAX],
        sent_at=sent_at,
        campaign_id=campaign_id,
        contact=contact,
    )
