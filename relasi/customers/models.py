"""Customer Data Platform: customers, their channel identities, property definitions, views, imports, exports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relasi.core.scoping import WorkspaceOwned


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook Messenger")
    TELEGRAM = "telegram", _("Telegram")
    LINE = "line", _("LINE")
    LIVE_CHAT = "livechat", _("Live chat (web)")
    EMAIL = "email", _("Email")
    TIKTOK = "tiktok", _("TikTok")
    OTHER = "other", _("Other")


class Customer(WorkspaceOwned):
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="customers")
    full_name = models.CharField(_("full name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assignee"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Channel.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164, e.g. +6281234567890"))
    phone_raw = models.CharField(_("phone as entered"), max_length=50, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    status = models.CharField(_("status"), max_length=60, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    province = models.CharField(_("province"), max_length=80, blank=True)
    city = models.CharField(_("regency/city"), max_length=80, blank=True)
    district = models.CharField(_("district"), max_length=80, blank=True)
    subdistrict = models.CharField(_("subdistrict"), max_length=80, blank=True)
    zip_code = models.CharField(_("zip code"), max_length=10, blank=True)
    properties = models.JSONField(_("custom properties"), default=dict, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_by_label = models.CharField(_("added by"), max_length=200, blank=True)
    # Set by services (not auto_now) so imports and the benchmark can write real history in bulk.
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last update"), default=timezone.now)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    # Which import row created this customer: lets an interrupted import resume without duplicates.
    source_import = models.ForeignKey(
        "customers.CustomerImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_row = models.PositiveIntegerField(null=True, blank=True)
    # Set when this customer was merged into another (a tombstone: deleted, kept so its old links and API id lead
    # to the survivor; relasi.customers.merge).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(
                fields=["workspace", "-updated_at", "-id"],
                name="customer_recent",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["workspace", "full_name", "id"],
                name="customer_name",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["workspace", "source", "-updated_at", "-id"],
                name="customer_source_recent",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["workspace", "-deleted_at", "-id"],
                name="customer_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
            # Pattern operators on PostgreSQL: the same index answers equality (duplicate checks) and
            # "starts with" (searching 0812… finds +62812… without a trigram scan over digits).
            models.Index(
                fields=["workspace", "phone"],
                name="customer_phone",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["workspace", "email"], name="customer_email"),
            # Deleting a customer makes PostgreSQL look for tombstones pointing at it (the merged_into foreign
            # key): without an index that is a scan of the table per deleted row. Few customers are merged, so
            # the partial index is small and that check reads it whole.
            models.Index(
                fields=["workspace", "merged_into"],
                name="customer_merged_into",
                condition=Q(merged_into__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "source_import", "source_row"],
                name="customer_import_row_unique",
                condition=Q(source_import__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.full_name


class IdentityKind(models.TextChoices):
    # The channel's own id for the person (WhatsApp's business-scoped `user_id`): stable, never reused.
    ID = "id", _("User id")
    # The handle people see and type (an Instagram or WhatsApp username): the person may change it, and the
    # channel may give it to someone else later, so it is matched after the id.
    USERNAME = "username", _("Username")


class ChannelIdentity(WorkspaceOwned):
    """One customer's handle on one channel (an Instagram username, a WhatsApp user id...).

    Unique per workspace, channel and kind, so the same person reaching the business again lands on the same
    profile. Ids and usernames are separate namespaces (docs/decisions.md): a username that happens to read like
    another person's id never matches it.
    """

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # Rows written before ids were kept (forms, imports: the "channel username" field) are usernames; the
    # database default keeps the importer's raw INSERT writing usernames without naming the column.
    kind = models.CharField(
        _("kind"),
        max_length=8,
        choices=IdentityKind.choices,
        default=IdentityKind.USERNAME,
        db_default=IdentityKind.USERNAME,
    )
    external_id = models.CharField(_("username or id"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("channel identity")
        verbose_name_plural = _("channel identities")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "kind", "external_id"], name="channel_identity_kind_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


class ClaimKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class ContactClaim(WorkspaceOwned):
    """Which customer identity resolution created (or last re-created) for a phone or an email.

    Customer.phone and Customer.email are not unique (imports and people may keep duplicates on purpose), so
    they cannot stop two concurrent events for the same new number from creating two customers. This row can:
    the resolver inserts it with the new customer, and the loser of a race gets an IntegrityError, rolls back its
    savepoint and resolves again, finding the winner's customer (docs/decisions.md).
    """

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=5, choices=ClaimKind.choices)
    # The normalised value: E.164 for a phone, lower case for an email.
    value = models.CharField(max_length=254)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind", "value"], name="contact_claim_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class DuplicateReason(models.TextChoices):
    IDENTITY = "identity", _("Channel identity")
    USERNAME = "username", _("Channel username")
    PHONE = "phone", _("Phone number")
    EMAIL = "email", _("Email")


class PossibleDuplicate(WorkspaceOwned):
    """Two customers that one event's identifiers pointed at: never merged automatically, shown to people instead.

    The pair is stored once, lower id first, whichever customer the event attached to; "Not a duplicate" sets
    dismissed_at, and a dismissed pair is not flagged again.
    """

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    customer_low = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_high = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # Which identifier of the event pointed at the customer it was not attached to.
    reason = models.CharField(max_length=10, choices=DuplicateReason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_by_label = models.CharField(max_length=200, blank=True)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "customer_low", "customer_high"], name="possible_duplicate_pair_unique"
            ),
            models.CheckConstraint(
                condition=Q(customer_low__lt=models.F("customer_high")),
                name="possible_duplicate_pair_ordered",
            ),
        ]
        indexes = [
            # The open pairs, newest first: the page and the API.
            models.Index(
                fields=["workspace", "-id"],
                name="possible_duplicate_open",
                condition=Q(dismissed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"customers {self.customer_low_id} and {self.customer_high_id}"

    @property
    def customers(self) -> list[Customer]:
        """Both customers, lower id first (load them with select_related)."""
        return [self.customer_low, self.customer_high]


class TimelineEntry(WorkspaceOwned):
    """One line of a customer's activity timeline: what was done to the customer, or to a record associated with it
    (a conversation, a ticket...), by whom and when.

    Written by the service that made the change, in its transaction, one row per customer the change concerns, so
    the timeline of a customer is one range of one index however many records it has. It is the customer's
    history as the page shows it; the audit log stays the record of who changed what for the workspace.
    """

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    # What happened, e.g. "customer.updated", "ticket.created", "association.added", "message.received".
    action = models.CharField(max_length=40)
    # The record it happened to: empty for the customer itself.
    record_kind = models.CharField(max_length=20, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    # What the page shows of it: a title, the changed fields with their values before and after.
    summary = models.JSONField(default=dict, blank=True)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "customer", "-at", "-id"], name="timeline_customer_recent")
        ]

    def __str__(self) -> str:
        return f"{self.action} of customer {self.customer_id}"


class PropertyKind(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Number")
    # Whole rupiah, stored as a JSON integer; shown `Rp 1.500.000` in pages, a plain integer in the API and exports.
    CURRENCY = "currency", _("Amount in rupiah")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes/no")
    SELECT = "select", _("Single select")
    MULTISELECT = "multiselect", _("Multi select")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    URL = "url", _("URL")


class PropertyDefinition(WorkspaceOwned):
    """A customer field of a workspace. Built-in fields map to columns; custom ones to `Customer.properties`."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    # Unique with the workspace (property_key_unique), which serves every lookup by key: no index of its own.
    key = models.SlugField(_("key"), max_length=60, db_index=False)
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("type"), max_length=12, choices=PropertyKind.choices, default=PropertyKind.TEXT)
    options = models.JSONField(_("options"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    is_builtin = models.BooleanField(_("built-in"), default=False)
    is_visible = models.BooleanField(_("shown"), default=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("customer property")
        verbose_name_plural = _("customer properties")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="property_key_unique")]

    def __str__(self) -> str:
        return self.label

    @property
    def has_editable_options(self) -> bool:
        """Selects have options, except the channel list: the product fixes it (integrations depend on it)."""
        return self.kind in (PropertyKind.SELECT, PropertyKind.MULTISELECT) and self.key != "source"


class CustomerView(WorkspaceOwned):
    """The columns one user chose, in order, for the All customers table of one workspace."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    columns = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceOwned.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="customer_view_unique")]

    def __str__(self) -> str:
        return f"{self.user} view"


class DuplicateMode(models.TextChoices):
    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Update the existing customer")


class DuplicateMatch(models.TextChoices):
    IDENTITY = "identity", _("Channel and username")
    PHONE = "phone", _("Phone number")
    EMAIL = "email", _("Email")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class UndoStatus(models.TextChoices):
    QUEUED = "queued", _("Undo queued")
    RUNNING = "running", _("Undoing")
    COMPLETED = "completed", _("Undone")
    FAILED = "failed", _("Undo failed")


class NumberFormat(models.TextChoices):
    # The values are the number styles of relasi.core.inputs.number_checked.
    ID = "id", _("Indonesian: 1.500.000,5")
    EN = "en", _("English: 1,500,000.5")
    PLAIN = "plain", _("Plain: 1500000.5")


class CustomerImport(WorkspaceOwned):
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An import sent through the API runs as the key that sent it (for its audit rows and "Added by").
    created_by_api_key = models.ForeignKey(
        "tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Or the system job that started it (the `relasi import-customers` command).
    created_by_system = models.CharField(max_length=60, blank=True)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, blank=True)
    duplicate_mode = models.CharField(max_length=8, choices=DuplicateMode.choices, default=DuplicateMode.SKIP)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error_file = models.FileField(upload_to="imports/errors/%Y/%m/", blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life (queued, started, or a batch committed): how a stopped worker is told from a slow one.
    progressed_at = models.DateTimeField(null=True, blank=True)
    # How the file writes numbers (NumberFormat): chosen in the mapping step, detected from the file by default.
    number_format = models.CharField(max_length=5, choices=NumberFormat.choices, default=NumberFormat.PLAIN)
    # "Undo this import" (UndoStatus; blank until asked): who asked, when, and what it did. The counts grow
    # batch by batch with the cursors (the last customer, then the last CustomerImportUpdate, done), so an
    # undo that stopped continues where it was.
    undo_status = models.CharField(max_length=10, choices=UndoStatus.choices, blank=True)
    undo_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undo_requested_at = models.DateTimeField(null=True, blank=True)
    undo_finished_at = models.DateTimeField(null=True, blank=True)
    undo_progressed_at = models.DateTimeField(null=True, blank=True)
    undo_total = models.PositiveIntegerField(default=0)
    undo_processed = models.PositiveIntegerField(default=0)
    undo_created_cursor = models.BigIntegerField(default=0)
    undo_updated_cursor = models.BigIntegerField(default=0)
    undo_deleted_count = models.PositiveIntegerField(default=0)  # customers it created, now deleted
    undo_reverted_count = models.PositiveIntegerField(default=0)  # customers it updated, values put back
    undo_kept_count = models.PositiveIntegerField(default=0)  # edited since the import: left as they are
    undo_gone_count = models.PositiveIntegerField(default=0)  # already deleted (or purged) before the undo
    undo_failure_reason = models.TextField(blank=True)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.original_name})"


class CustomerImportUpdate(WorkspaceOwned):
    """A customer an import updated: its values before the import (what an undo puts back), and the
    "Last update" the import left, so an undo can tell whether anyone edited the customer since."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    customer_import = models.ForeignKey(CustomerImport, on_delete=models.CASCADE, related_name="updates")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # Field (attname, or "properties.<key>" for a custom property) → the value before the first change the
    # import made; a custom property the customer did not have is null.
    previous = models.JSONField(default=dict, blank=True)
    # Channel usernames the import linked to the customer: [[channel, username], ...].
    identities = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField()

    class Meta(WorkspaceOwned.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "customer_import", "customer"], name="import_update_customer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"import {self.customer_import_id}: customer {self.customer_id}"


class CustomerImportError(WorkspaceOwned):
    """A failed row, kept so the error file can be rebuilt exactly after a resume, in the reader's language."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    customer_import = models.ForeignKey(CustomerImport, on_delete=models.CASCADE, related_name="errors")
    # The row's position among the file's customer rows (1 = the first under the header): the checkpoint's unit.
    row_number = models.PositiveIntegerField()
    # The row as the spreadsheet numbers it (the header line is row 1); null for rows failed before it was kept.
    line = models.PositiveIntegerField(null=True, blank=True)
    values = models.JSONField(default=list)
    # Why, as codes and parameters (relasi.customers.imports.reasons), rendered in the reader's language.
    reasons = models.JSONField(default=list, blank=True)
    # Rows failed before reasons were kept as codes: the reason as text, in the language the import ran in.
    message = models.TextField(blank=True)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "customer_import", "row_number"], name="import_error_row_unique"
            )
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message or self.reasons}"


class CustomerImportDuplicate(WorkspaceOwned):
    """A row skipped because it matched a customer: which one, so the result can link to it."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    customer_import = models.ForeignKey(CustomerImport, on_delete=models.CASCADE, related_name="duplicates")
    row_number = models.PositiveIntegerField()  # as CustomerImportError.row_number
    line = models.PositiveIntegerField()  # as the spreadsheet numbers the row
    # Null once the matched customer is purged (30 days after its deletion).
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    matched_on = models.CharField(max_length=10, choices=DuplicateMatch.choices)
    # The value that matched (the phone, email or username), as the row gave it once cleaned.
    matched_value = models.CharField(max_length=254, blank=True)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "customer_import", "row_number"], name="import_duplicate_row_unique"
            )
        ]

    def __str__(self) -> str:
        return f"row {self.line}: customer {self.customer_id}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Ready")
    FAILED = "failed", _("Failed")


class CustomerExport(WorkspaceOwned):
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    row_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life (queued, or rows written): how the recovery tells a dead worker from a slow one.
    progressed_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.pk}"


# The bulk job lives in its own package; imported here so Django knows it as a model of this app.
from relasi.customers.bulk.models_bulk import BulkJob  # noqa: E402,F401
from relasi.customers.models_merge import CustomerMerge  # noqa: E402,F401
