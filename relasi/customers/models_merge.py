"""A merge of two customers, kept so it can be undone for 30 days (relasi.customers.merge)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from relasi.core.scoping import WorkspaceOwned


class CustomerMerge(WorkspaceOwned):
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    survivor = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    # The tombstone: deleted, with merged_into pointing at the survivor.
    merged = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    # The survivor's fields before the merge changed them, and the survivor's Last update after it: an undo puts
    # them back only while nobody has edited the survivor since.
    survivor_before = models.JSONField(default=dict, blank=True)
    survivor_updated_at = models.DateTimeField(null=True, blank=True)
    # What moved from the merged customer to the survivor, per table: the rows an undo moves back.
    moved = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    # Past the undo period the snapshots are emptied: a tombstone keeps no one's data longer than needed.
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceOwned.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "merged", "-created_at"], name="customer_merge_of_merged")
        ]

    def __str__(self) -> str:
        return f"customer {self.merged_id} merged into {self.survivor_id}"
