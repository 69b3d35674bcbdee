"""Reads of connected channels: a workspace's WhatsApp numbers, the channel of a webhook URL, its address."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse

from relasi.core.emails import site_link
from relasi.interactions.models import WebhookEvent, WhatsAppChannel
from relasi.tenancy.models import Workspace


def whatsapp_channels_of_workspace(*, workspace: Workspace) -> QuerySet[WhatsAppChannel]:
    return (
        WhatsAppChannel.objects.for_workspace(workspace)
        .select_related("created_by")
        .order_by("created_at", "id")
    )


def whatsapp_channel_by_url_token(*, token: str) -> WhatsAppChannel | None:
    """The channel of a webhook URL, whatever its workspace (the request names no workspace); None when none."""
    if not token or len(token) > 64:
        return None
    return WhatsAppChannel.objects.by_url_token(token)


def whatsapp_webhook_url(channel: WhatsAppChannel) -> str:
    """The address to give Meta: always RELASI_SITE_URL, never the host a request came to."""
    return site_link(reverse("whatsapp_webhook", kwargs={"token": channel.url_token}))


def webhook_event_get(*, workspace: Workspace, event_id: int) -> WebhookEvent | None:
    return WebhookEvent.objects.for_workspace(workspace).filter(pk=event_id).first()
