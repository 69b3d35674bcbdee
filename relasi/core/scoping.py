"""Fail-closed tenant scoping for every workspace-owned model, for reads and writes alike.

`Model.objects` cannot be used without naming a workspace: `Model.objects.all()` raises, and
`Model.objects.for_workspace(workspace)` is the way in. The queryset it returns remembers the workspace,
so `create`, `bulk_create` and `bulk_update` through it refuse a row of another workspace (or of none).
`Model.unscoped` sees every workspace; it may appear only in the modules listed in `UNSCOPED_ALLOWED`
(a test reads the source and fails on any other use).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from relasi.tenancy.models import Workspace

M = TypeVar("M", bound=models.Model)

# The only modules where `.unscoped` may appear (fnmatch patterns on module names), each with its reason.
# System jobs that work on every workspace (purges) loop over the workspaces and scope each one instead.
UNSCOPED_ALLOWED: dict[str, str] = {
    "relasi.*.admin": "the back-office: platform staff see every workspace",
    "relasi.*.migrations.*": "data migrations run for every workspace",
    "relasi.core.scoping": "defines the managers",
    "relasi.core.idempotency": "the hourly purge forgets the expired idempotency keys of every workspace",
    "relasi.customers.recovery": "the scheduled recovery finds the stalled imports and exports of every workspace",
    "relasi.interactions.webhook_jobs": "the scheduled recovery finds the workspaces whose webhook events wait",
    "relasi.billing.checks": "`relasi billing check` proves every workspace's balances against their ledgers",
    "relasi.billing.periods": "the scheduled job opens the monthly period of every subscribed workspace",
    "relasi.billing.orders": "the scheduled job expires every workspace's invoices past their deadline",
    "relasi.billing.payments": "a gateway's callback names an invoice by its number, which finds the workspace",
    "relasi.billing.support": "staff decide support requests from the back-office's queue of every workspace",
}

# Models with a workspace foreign key that do not derive from WorkspaceOwned, and why.
NOT_WORKSPACE_OWNED: dict[str, str] = {
    "core.auditlog": (
        "platform-wide, append-only: staff and partner actions belong to no workspace; written only through "
        "relasi.core.audit and read only in the back-office"
    ),
}


def workspace_key() -> Any:
    """The workspace foreign key of a tenant table without Django's index on it alone: every query of such a table
    names the workspace and something more, which an index starting with the workspace serves (a lone workspace
    index is what PostgreSQL wrongly walks for a workspace its statistics have not seen)."""
    return models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False)


class UnscopedQueryError(RuntimeError):
    pass


class WorkspaceQuerySet(models.QuerySet[M], Generic[M]):
    """A queryset limited to one workspace; its writes refuse rows that belong to another one."""

    _workspace_id: int | None = None

    def _clone(self) -> WorkspaceQuerySet[M]:
        clone: WorkspaceQuerySet[M] = super()._clone()  # type: ignore[misc]
        clone._workspace_id = self._workspace_id
        return clone

    def _refuse_foreign(self, objs: Iterable[M], verb: str) -> None:
        if self._workspace_id is None:
            raise UnscopedQueryError(f"{self.model.__name__}: {verb} needs .for_workspace(workspace) first.")
        for obj in objs:
            row_workspace = getattr(obj, "workspace_id", None)
            if row_workspace != self._workspace_id:
                raise UnscopedQueryError(
                    f"{self.model.__name__}: {verb} of a row of workspace {row_workspace} "
                    f"through the queryset of workspace {self._workspace_id}."
                )

    def _refuse_move(self, values: dict[str, Any], verb: str) -> None:
        """A row's workspace is fixed: values that would set another one are refused."""
        for name in ("workspace", "workspace_id"):
            if name in values:
                value = values[name]
                value_id = getattr(value, "pk", value)
                if value_id != self._workspace_id:
                    raise UnscopedQueryError(
                        f"{self.model.__name__}: {verb} would move rows to workspace {value_id} "
                        f"from the queryset of workspace {self._workspace_id}."
                    )

    def create(self, **kwargs: Any) -> M:
        if self._workspace_id is None:
            raise UnscopedQueryError(f"{self.model.__name__}: create needs .for_workspace(workspace) first.")
        row = self.model(**kwargs)
        if getattr(row, "workspace_id", None) is None:
            row.workspace_id = self._workspace_id  # type: ignore[attr-defined]
        self._refuse_foreign([row], "create")
        self._for_write = True
        row.save(force_insert=True, using=self.db)
        return row

    def update(self, **kwargs: Any) -> int:
        self._refuse_move(kwargs, "update")
        return super().update(**kwargs)

    def update_or_create(
        self,
        defaults: Any = None,
        create_defaults: Any = None,
        **kwargs: Any,
    ) -> tuple[M, bool]:
        for values in (defaults, create_defaults, kwargs):
            if isinstance(values, dict):
                self._refuse_move(values, "update_or_create")
        return super().update_or_create(defaults=defaults, create_defaults=create_defaults, **kwargs)

    def bulk_create(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> list[M]:
        rows = list(objs)
        self._refuse_foreign(rows, "bulk_create")
        if kwargs.get("update_conflicts") and "workspace" not in (kwargs.get("unique_fields") or [""])[:1]:
            # An upsert keyed on anything but the workspace first could update another workspace's row.
            raise UnscopedQueryError(
                f"{self.model.__name__}: an upsert's unique_fields must start with workspace."
            )
        return super().bulk_create(rows, *args, **kwargs)

    def bulk_update(self, objs: Iterable[M], fields: Any, *args: Any, **kwargs: Any) -> int:
        rows = list(objs)
        self._refuse_foreign(rows, "bulk_update")
        if "workspace" in fields or "workspace_id" in fields:
            raise UnscopedQueryError(
                f"{self.model.__name__}: bulk_update cannot move rows to another workspace."
            )
        return super().bulk_update(rows, fields, *args, **kwargs)


class WorkspaceScopedManager(models.Manager[M], Generic[M]):
    def get_queryset(self) -> models.QuerySet[M]:
        raise UnscopedQueryError(
            f"{self.model.__name__}.objects needs a workspace: use .for_workspace(workspace); "
            f"code that must see every workspace is listed in relasi.core.scoping.UNSCOPED_ALLOWED."
        )

    def for_workspace(self, workspace: Workspace | None) -> WorkspaceQuerySet[M]:
        if workspace is None or workspace.pk is None:
            raise UnscopedQueryError(f"{self.model.__name__} queried without a saved workspace.")
        rows: WorkspaceQuerySet[M] = WorkspaceQuerySet(self.model, using=self._db)
        rows._workspace_id = workspace.pk
        return rows.filter(workspace=workspace)

    def locked_or_404(self, workspace: Workspace | None, pk: int, **conditions: Any) -> M:
        """The workspace's row, locked until the transaction ends (call inside `transaction.atomic`).

        Another workspace's row, or one that fails `conditions`, is simply not found: Http404.
        """
        row = self.for_workspace(workspace).select_for_update().filter(pk=pk, **conditions).first()
        if row is None:
            raise Http404
        return row

    def create(self, **kwargs: Any) -> M:
        workspace = kwargs.get("workspace")
        if workspace is None:
            raise UnscopedQueryError(f"{self.model.__name__} created without a workspace.")
        return self.for_workspace(workspace).create(**kwargs)


class WorkspaceOwned(models.Model):
    """Abstract base: a row that belongs to exactly one workspace, for good.

    `save()` refuses to move a loaded row to another workspace, and to link a row to a related row of another
    workspace (e.g. a channel identity of workspace A pointing at a customer of workspace B): the checks that
    the scoped queryset makes for its own writes, made here for writes through related managers and instances.
    """

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")

    unscoped = models.Manager()
    objects = WorkspaceScopedManager()

    class Meta:
        abstract = True
        default_manager_name = "unscoped"
        base_manager_name = "unscoped"

    _loaded_workspace_id: int | None = None

    def save(self, *args: Any, **kwargs: Any) -> None:
        loaded = getattr(self, "_loaded_workspace_id", None)
        if loaded is not None and self.workspace_id != loaded:
            raise UnscopedQueryError(f"{type(self).__name__} {self.pk} cannot move to another workspace.")
        self._refuse_foreign_links()
        super().save(*args, **kwargs)
        self._loaded_workspace_id = self.workspace_id

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Any:
        row = super().from_db(db, field_names, values, **kwargs)
        row._loaded_workspace_id = row.__dict__.get("workspace_id")
        return row

    def _refuse_foreign_links(self) -> None:
        """Related rows already in memory (no query) must be of this row's workspace."""
        for field in self._meta.concrete_fields:
            if (
                not isinstance(field, models.ForeignKey)
                or field.name == "workspace"
                or not field.is_cached(self)
            ):
                continue
            related = field.get_cached_value(self)
            if isinstance(related, WorkspaceOwned) and related.workspace_id != self.workspace_id:
                raise UnscopedQueryError(
                    f"{type(self).__name__} of workspace {self.workspace_id} linked to "
                    f"{type(related).__name__} of workspace {related.workspace_id}."
                )
