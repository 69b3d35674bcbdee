"""Interaction records of the Customer Data Platform: conversations and their messages, WhatsApp campaigns and
their recipients, companies, tickets, deals and tasks; the pipelines and stages of tickets, deals and tasks; and
which customers each record concerns (many to many: one through table per kind, each starting with the workspace).

No table here has an index on the workspace alone (`relasi.core.scoping.workspace_key`): every query
names the workspace and something more, which an index starting with the workspace serves. A lone workspace index
is what PostgreSQL picks for a workspace its statistics have not seen yet (a new or fast-growing one, until the
table is analysed again), and then filters every row of that workspace: 12 s for one lookup among 10,000
conversations in the interactions benchmark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relasi.core.scoping import WorkspaceOwned, workspace_key
from relasi.customers.models import Channel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Kind(models.TextChoices):
    CONVERSATION = "conversation", _("Conversation")
    CAMPAIGN = "campaign", _("Campaign")
    COMPANY = "company", _("Company")
    TICKET = "ticket", _("Ticket")
    DEAL = "deal", _("Deal")
    TASK = "task", _("Task")


# The kinds whose records move through a pipeline's stages.
PIPELINE_KINDS = (Kind.TICKET, Kind.DEAL, Kind.TASK)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


class ApprovalStatus(models.TextChoices):
    NONE = "none", _("None")
    WAITING = "waiting", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class TaskStatus(models.TextChoices):
    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class CompanySize(models.TextChoices):
    MICRO = "1-10", _("1–10 employees")
    SMALL = "11-50", _("11–50 employees")
    MEDIUM = "51-200", _("51–200 employees")
    LARGE = "201-1000", _("201–1,000 employees")
    ENTERPRISE = "1000+", _("More than 1,000 employees")


class Pipeline(WorkspaceOwned):
    """A workspace's own sequence of stages for tickets, deals or tasks (defaults are made with the workspace)."""

    workspace = workspace_key()
    kind = models.CharField(_("for"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["kind", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind", "name"], name="pipeline_name_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=[kind.value for kind in PIPELINE_KINDS]), name="pipeline_kind_staged"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Stage(WorkspaceOwned):
    workspace = workspace_key()
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "pipeline", "name"], name="stage_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


def _user(verbose_name: StrOrPromise) -> Any:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=verbose_name,
    )


class Record(WorkspaceOwned):
    """What every interaction record has: its workspace, who made it and when, its last change."""

    workspace = workspace_key()
    created_by = _user(_("created by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last update"), default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        abstract = True
        ordering = ["-updated_at", "-id"]


class Company(Record):
    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=253, blank=True)
    industry = models.CharField(_("industry"), max_length=80, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [models.Index(fields=["workspace", "-updated_at", "-id"], name="company_recent")]

    def __str__(self) -> str:
        return self.name


class Conversation(Record):
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    assignee = _user(_("assignee"))
    # The provider's id of the chat (e.g. the WhatsApp user the messages come from), so messages find their thread.
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    # Kept up to date with F() by the message service: lists show them without counting messages.
    messages_count = models.PositiveIntegerField(_("messages"), default=0)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [models.Index(fields=["workspace", "-updated_at", "-id"], name="conversation_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "external_id"],
                condition=~Q(external_id=""),
                name="conversation_external_unique",
            )
        ]

    def __str__(self) -> str:
        if self.subject:
            return self.subject
        label = Channel(self.channel).label if self.channel in Channel.values else self.channel
        return f"{label} #{self.pk}"


class Message(WorkspaceOwned):
    workspace = workspace_key()
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    # "text", or what the message holds instead (image, document, location...), as the provider names it.
    message_type = models.CharField(_("type"), max_length=30, default="text")
    text = models.TextField(_("text"), max_length=4096, blank=True)
    sent_at = models.DateTimeField(_("time"), default=timezone.now)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    author = _user(_("sent by"))

    class Meta(WorkspaceOwned.Meta):
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["workspace", "conversation", "sent_at", "id"], name="message_thread")]
        constraints = [
            # A provider delivering the same message twice stores it once.
            models.UniqueConstraint(
                fields=["workspace", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="message_provider_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_type} in conversation {self.conversation_id}"


class Campaign(Record):
    """A WhatsApp broadcast: a template sent to many customers (its recipients, with their delivery status)."""

    name = models.CharField(_("name"), max_length=200)
    template_name = models.CharField(_("template"), max_length=200)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WHATSAPP)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["workspace", "-updated_at", "-id"], name="campaign_recent")]

    def __str__(self) -> str:
        return self.name


class Ticket(Record):
    title = models.CharField(_("title"), max_length=200)
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.PROTECT, related_name="+", verbose_name=_("pipeline")
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("stage"))
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    reporter = _user(_("reporter"))
    assignee = _user(_("assignee"))
    # The SLA status (on time, at risk, breached) is derived from these two, never stored.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [models.Index(fields=["workspace", "-updated_at", "-id"], name="ticket_recent")]

    def __str__(self) -> str:
        return self.title


class Deal(Record):
    name = models.CharField(_("name"), max_length=200)
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.PROTECT, related_name="+", verbose_name=_("pipeline")
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("stage"))
    # Whole rupiah.
    amount = models.BigIntegerField(_("amount"), default=0)
    approval_status = models.CharField(
        _("approval status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.NONE
    )
    owner = _user(_("owner"))
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [models.Index(fields=["workspace", "-updated_at", "-id"], name="deal_recent")]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative")]

    def __str__(self) -> str:
        return self.name


class Task(Record):
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.TODO)
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.PROTECT, related_name="+", verbose_name=_("pipeline")
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("stage"))
    assignee = _user(_("assignee"))
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["workspace", "-updated_at", "-id"], name="task_recent")]

    def __str__(self) -> str:
        return self.title


class Association(WorkspaceOwned):
    """A customer a record concerns. One concrete table per kind (below), so each has a real foreign key."""

    workspace = workspace_key()
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = _user(_("associated by"))

    class Meta(WorkspaceOwned.Meta):
        abstract = True


def _unique_pair(kind: str) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(fields=["workspace", "record", "customer"], name=f"{kind}_customer_unique")
    ]


def _by_customer(kind: str) -> list[models.Index]:
    # The customer's tab and its activity count read one range of this index.
    return [models.Index(fields=["workspace", "customer", "-created_at"], name=f"{kind}_of_customer")]


class ConversationCustomer(Association):
    record = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="associations")

    class Meta(Association.Meta):
        constraints = _unique_pair("conversation")
        indexes = _by_customer("conversation")


class CampaignRecipient(Association):
    """A customer a campaign was sent to, with the delivery status of their message."""

    record = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="associations")
    status = models.CharField(
        _("delivery status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SENT
    )
    provider_message_id = models.CharField(max_length=200, blank=True)
    # WhatsApp's pricing category of the message (marketing, utility, authentication, service), kept for billing.
    pricing_category = models.CharField(max_length=20, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta(Association.Meta):
        constraints = [
            *_unique_pair("campaign"),
            models.UniqueConstraint(
                fields=["workspace", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="campaign_recipient_message_unique",
            ),
        ]
        indexes = _by_customer("campaign")


class CompanyCustomer(Association):
    record = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="associations")

    class Meta(Association.Meta):
        constraints = _unique_pair("company")
        indexes = _by_customer("company")


class TicketCustomer(Association):
    record = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="associations")

    class Meta(Association.Meta):
        constraints = _unique_pair("ticket")
        indexes = _by_customer("ticket")


class DealCustomer(Association):
    record = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="associations")

    class Meta(Association.Meta):
        constraints = _unique_pair("deal")
        indexes = _by_customer("deal")


class TaskCustomer(Association):
    record = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="associations")

    class Meta(Association.Meta):
        constraints = _unique_pair("task")
        indexes = _by_customer("task")


# The ingestion's models (channels, webhook events, pending statuses, event ids) live in their own module.
from relasi.interactions.models_ingestion import (  # noqa: E402,F401
    IngestedEvent,
    PendingDeliveryStatus,
    WebhookEvent,
    WhatsAppChannel,
)
