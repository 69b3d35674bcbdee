"""Writes of connected channels: connecting and removing a WhatsApp number (owners and admins), and receiving one
webhook POST (stored as it came, then turned into customers and messages by a job after the commit)."""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.inputs import text_checked, text_storable
from relasi.interactions.models import WebhookEvent, WhatsAppChannel
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_require

# Meta's phone number ids are digits (15 or 16 today); a little room for longer ones.
PHONE_NUMBER_ID = re.compile(r"^[0-9]{5,30}$")
SECRET_MAX = 200
URL_TOKEN_BYTES = 32


def _manage_require(*, workspace: Workspace, actor: Actor) -> None:
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_CHANNELS)


def whatsapp_channel_add(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    phone_number_id: str,
    app_secret: str,
    verify_token: str,
    display_phone_number: str = "",
) -> WhatsAppChannel:
    """Connect a WhatsApp number; its webhook URL holds a new unguessable token."""
    who = actor_of(actor)
    _manage_require(workspace=workspace, actor=who)
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name, value, limit in (
        ("phone_number_id", phone_number_id, 30),
        ("app_secret", app_secret, SECRET_MAX),
        ("verify_token", verify_token, SECRET_MAX),
        ("display_phone_number", display_phone_number, 32),
    ):
        try:
            values[name] = text_checked(value or "", max_length=limit)
        except ValidationError as error:
            errors[name] = list(error.messages)
            continue
        if not values[name] and name != "display_phone_number":
            errors[name] = [_("This field is required.")]
    if "phone_number_id" not in errors and not PHONE_NUMBER_ID.match(values["phone_number_id"]):
        errors["phone_number_id"] = [
            _("Write the phone number id Meta shows (digits only), not the phone number.")
        ]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            channel = WhatsAppChannel.objects.for_workspace(workspace).create(
                url_token=secrets.token_urlsafe(URL_TOKEN_BYTES),
                created_by=who.user,
                **values,
            )
            audit_record(
                workspace=workspace,
                actor=who,
                action="channel.connected",
                target=channel,
                changes={"phone_number_id": values["phone_number_id"]},
            )
    except IntegrityError:
        raise ValidationError(
            {"phone_number_id": [_("This number is already connected to a workspace.")]}
        ) from None
    return channel


def whatsapp_channel_remove(
    *, workspace: Workspace, actor: Actor | User | None, channel_id: int
) -> WhatsAppChannel:
    """Disconnect a number: its webhook URL answers 404 from now on; what it brought in stays."""
    who = actor_of(actor)
    _manage_require(workspace=workspace, actor=who)
    with transaction.atomic():
        channel = WhatsAppChannel.objects.locked_or_404(workspace, channel_id)
        audit_record(
            workspace=workspace,
            actor=who,
            action="channel.removed",
            target=channel,
            changes={"phone_number_id": channel.phone_number_id},
        )
        channel.delete()
    return channel


def webhook_event_receive(*, channel: WhatsAppChannel, body: bytes) -> WebhookEvent:
    """Keep a signed POST as it came and, once the row is committed, make sure a job will read it (one job per
    burst: `webhook_jobs`)."""
    from relasi.interactions.webhook_jobs import webhook_events_drain_request

    workspace = channel.workspace
    # Meta sends UTF-8 JSON; anything else is kept readable (and the job reports it) rather than refused.
    text = text_storable(body.decode("utf-8", errors="replace"))
    with transaction.atomic():
        event = WebhookEvent.objects.for_workspace(workspace).create(
            channel=channel, body=text, received_at=timezone.now()
        )
        transaction.on_commit(lambda: webhook_events_drain_request(workspace_id=workspace.pk))
    return event
