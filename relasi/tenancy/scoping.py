"""Fail-closed tenant scoping for every workspace-owned model.

`Model.objects` cannot be queried without naming a workspace: `Model.objects.all()` raises, and
`Model.objects.for_workspace(workspace)` is the only way in. Back-office and system jobs that must
see every workspace say so explicitly with `Model.unscoped`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from relasi.tenancy.models import Workspace

M = TypeVar("M", bound=models.Model)


class UnscopedQueryError(RuntimeError):
    pass


class WorkspaceScopedManager(models.Manager[M], Generic[M]):
    def get_queryset(self) -> models.QuerySet[M]:
        raise UnscopedQueryError(
            f"{self.model.__name__}.objects needs a workspace: use .for_workspace(workspace), "
            f"or {self.model.__name__}.unscoped in back-office and system code."
        )

    def for_workspace(self, workspace: Workspace | None) -> models.QuerySet[M]:
        if workspace is None or workspace.pk is None:
            raise UnscopedQueryError(f"{self.model.__name__} queried without a saved workspace.")
        return super().get_queryset().filter(workspace=workspace)

    def locked_or_404(self, workspace: Workspace | None, pk: int, **conditions: Any) -> M:
        """The workspace's row, locked until the transaction ends (call inside `transaction.atomic`).

        Another workspace's row, or one that fails `conditions`, is simply not found: Http404.
        """
        row = self.for_workspace(workspace).select_for_update().filter(pk=pk, **conditions).first()
        if row is None:
            raise Http404
        return row

    def create(self, **kwargs: Any) -> M:
        if kwargs.get("workspace") is None and kwargs.get("workspace_id") is None:
            raise UnscopedQueryError(f"{self.model.__name__} created without a workspace.")
        return super().get_queryset().create(**kwargs)


class WorkspaceOwned(models.Model):
    """Abstract base: a row that belongs to exactly one workspace."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")

    unscoped = models.Manager()
    objects = WorkspaceScopedManager()

    class Meta:
        abstract = True
        default_manager_name = "unscoped"
        base_manager_name = "unscoped"
