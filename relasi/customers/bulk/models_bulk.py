"""The bulk job: one action on a fixed set of customers, chosen as ids or as every customer the list's filters
select, counted and snapshotted when the user asks for it, so the confirmation's count is what the job acts on.

Imported at the end of relasi/customers/models.py, so Django knows it as a model of the customers app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relasi.core.scoping import WorkspaceOwned


class BulkAction(models.TextChoices):
    DELETE = "delete", _("Delete")
    RESTORE = "restore", _("Restore")
    OWNER = "owner", _("Assign owner")
    ASSIGNEE = "assignee", _("Assign assignee")
    STATUS = "status", _("Set status")
    PROPERTY = "property", _("Set a property")


# The customer column each of these actions sets (PROPERTY sets a key of `properties`).
ACTION_FIELDS = {BulkAction.OWNER: "owner", BulkAction.ASSIGNEE: "assignee", BulkAction.STATUS: "status"}


class BulkStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for confirmation")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class BulkJob(WorkspaceOwned):
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_api_key = models.ForeignKey(
        "tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=10, choices=BulkAction.choices)
    # The custom property a PROPERTY job sets.
    property_key = models.CharField(max_length=60, blank=True)
    # The cleaned value, set when the job is confirmed: a user id, a status, a property's stored value; null clears.
    value = models.JSONField(null=True, blank=True)
    # How the customers were chosen: {"filters": {...}} for "all matching", {"ids": n} for ticked rows.
    selection = models.JSONField(default=dict, blank=True)
    # The snapshot: exactly the customers counted for the confirmation, in id order. The job's checkpoint is an
    # index into it (processed), so a resumed job neither skips nor repeats a customer.
    customer_ids = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    # Customers the job changed: one already deleted, or already with the value, is counted as processed only.
    changed_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=BulkStatus.choices, default=BulkStatus.DRAFT)
    failure_reason = models.TextField(blank=True)
    # A RESTORE job made by "Undo" names the delete job it undoes; the delete job records when it was undone.
    undo_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life (confirmed, or a chunk committed): how a stopped worker is told from a slow one.
    progressed_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceOwned.Meta):
        app_label = "customers"
        ordering = ["-created_at"]
        verbose_name = _("bulk action")
        verbose_name_plural = _("bulk actions")

    def __str__(self) -> str:
        return f"Bulk {self.action} {self.pk} ({self.total})"

    @property
    def is_finished(self) -> bool:
        return self.status in (BulkStatus.COMPLETED, BulkStatus.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)
