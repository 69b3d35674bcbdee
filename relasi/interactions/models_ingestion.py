"""What comes in from outside without a person: connected WhatsApp numbers, the raw webhook events they send,
delivery statuses waiting for their message, and the client event ids of the event API (each applied once).

Registered by `relasi.interactions.models` (imported at its end), so Django sees them as the app's models.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relasi.core.scoping import WorkspaceOwned, WorkspaceScopedManager, workspace_key

# The header Meta signs each webhook POST with: "sha256=<hex HMAC-SHA256 of the raw body, keyed by the app secret>".
SIGNATURE_PREFIX = "sha256="


class WhatsAppChannelManager(WorkspaceScopedManager["WhatsAppChannel"]):
    def by_url_token(self, token: str) -> WhatsAppChannel | None:
        """The channel whose webhook URL holds this token, whatever its workspace: Meta's request is how the
        workspace becomes known, so (like an API key's prefix) this is a lookup that cannot be scoped first."""
        rows: models.QuerySet[WhatsAppChannel] = models.QuerySet(self.model, using=self._db)
        return rows.select_related("workspace").filter(url_token=token).first()


class WhatsAppChannel(WorkspaceOwned):
    """A WhatsApp Business number connected to a workspace through Meta's Cloud API webhook."""

    workspace = workspace_key()
    # Meta's id of the business number (`metadata.phone_number_id` in every payload). Unique across workspaces:
    # one number's messages belong to one workspace.
    phone_number_id = models.CharField(_("phone number id"), max_length=64, unique=True)
    display_phone_number = models.CharField(_("phone number"), max_length=32, blank=True)
    # Needed as it is to check each POST's signature, so it cannot be hashed; never shown after it is saved.
    app_secret = models.CharField(max_length=200)
    verify_token = models.CharField(max_length=200)
    # The unguessable part of the webhook URL (/hooks/whatsapp/<url_token>): finds the channel of a request.
    url_token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("connected"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects: ClassVar[WhatsAppChannelManager] = WhatsAppChannelManager()

    class Meta(WorkspaceOwned.Meta):
        ordering = ["created_at", "id"]
        verbose_name = _("WhatsApp channel")
        verbose_name_plural = _("WhatsApp channels")
        indexes = [models.Index(fields=["workspace", "created_at"], name="whatsapp_channel_of_workspace")]

    def __str__(self) -> str:
        return f"WhatsApp {self.display_phone_number or self.phone_number_id}"

    def signature_valid(self, body: bytes, header: str) -> bool:
        """Whether `header` (X-Hub-Signature-256) is Meta's signature of exactly these bytes; compared in
        constant time, so the time taken says nothing about how much of a forged signature was right."""
        if not header.startswith(SIGNATURE_PREFIX):
            return False
        expected = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, header[len(SIGNATURE_PREFIX) :].strip().lower())

    def verify_token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.verify_token.encode(), token.encode())


class WebhookEvent(WorkspaceOwned):
    """One POST of a channel's webhook, kept as received (after its signature was checked) until a job has turned
    it into customers, conversations, messages and delivery statuses — and after, for the record."""

    workspace = workspace_key()
    # Kept when the channel is removed: what arrived stays what arrived.
    channel = models.ForeignKey(WhatsAppChannel, null=True, on_delete=models.SET_NULL, related_name="events")
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # What the job could not apply (one line per item), or why the body could not be read at all.
    error = models.TextField(blank=True)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(fields=["workspace", "processed_at", "received_at"], name="webhook_event_pending")
        ]

    def __str__(self) -> str:
        return f"webhook event {self.pk}"


class PendingDeliveryStatus(WorkspaceOwned):
    """A delivery status (sent, delivered, read, failed) that arrived before Relasi knew its message: applied,
    then deleted, when a message or campaign recipient with this provider message id appears."""

    workspace = workspace_key()
    provider_message_id = models.CharField(max_length=200)
    status = models.CharField(max_length=10)
    status_at = models.DateTimeField()
    pricing_category = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["status_at", "id"]
        constraints = [
            # A redelivered status is kept once.
            models.UniqueConstraint(
                fields=["workspace", "provider_message_id", "status"], name="pending_status_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status} of {self.provider_message_id}"


class IngestResult(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")


class IngestedEvent(WorkspaceOwned):
    """An event of the event API that was applied, by its client's id: the unique constraint makes a repeat (a
    retried batch, the same event twice in one batch, two batches at once) a duplicate that changes nothing."""

    workspace = workspace_key()
    client_event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=30)
    result = models.CharField(max_length=10, choices=IngestResult.choices)
    customer_id = models.BigIntegerField(null=True, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "client_event_id"], name="ingested_event_unique")
        ]

    def __str__(self) -> str:
        return f"event {self.client_event_id}"
