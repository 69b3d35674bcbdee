"""Writes for bulk actions: prepare (count and snapshot the selection), confirm (check the value, audit once,
queue), run (in chunks, from the checkpoint) and undo a delete.

The rules are those of the single-customer actions: deleting several customers is a bulk action
(`bulk_delete_customers`), restoring and editing are open to every member, and values go through
`CustomerCleaner`, as on the customer form and in the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.validation import StateConflict
from relasi.customers.bulk.models_bulk import ACTION_FIELDS, BulkAction, BulkJob, BulkStatus
from relasi.customers.bulk.selectors import (
    BULK_MAX_CUSTOMERS,
    bulk_job_made_by,
    bulk_job_restorable_ids,
    bulk_job_resumable,
    bulk_job_undoable,
    bulk_property_definition,
    bulk_selection_ids,
)
from relasi.customers.cleaning import CustomerCleaner
from relasi.customers.filters import CustomerFilters
from relasi.customers.models import Customer
from relasi.customers.selectors import property_label, restorable_since
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_require

# Up to this many customers a confirmed job runs in the request that confirmed it (after its commit): the page
# shows the result at once. Larger jobs run in the background and the page shows their progress.
BULK_INLINE_LIMIT = 100
AUDIT_ACTIONS = {
    BulkAction.DELETE: "customer.bulk_deleted",
    BulkAction.RESTORE: "customer.bulk_restored",
    BulkAction.OWNER: "customer.bulk_owner_assigned",
    BulkAction.ASSIGNEE: "customer.bulk_assignee_assigned",
    BulkAction.STATUS: "customer.bulk_status_set",
    BulkAction.PROPERTY: "customer.bulk_property_set",
}


def _permission_check(*, workspace: Workspace, actor: Actor | User | None, action: str, count: int) -> None:
    # As services.customers_delete: one customer anyone may delete; several at once is the bulk permission.
    if action == BulkAction.DELETE and count > 1:
        permission_require(workspace=workspace, actor=actor, permission=Permission.BULK_DELETE_CUSTOMERS)


def bulk_job_prepare(
    *,
    workspace: Workspace,
    actor: Actor | User,
    action: str,
    filters: CustomerFilters,
    ids: list[int] | None = None,
    property_key: str = "",
) -> BulkJob:
    """Count the selection and keep its ids in a draft job, for the confirmation to state the exact count.

    `ids` are ticked rows; None means every customer the filters select ("Select all N matching"). The Deleted
    view offers only Restore, the others every action but Restore. ValidationError for an empty or too large
    selection or an unknown property; PermissionDenied when the actor may not do this to this many customers.
    """
    if action not in BulkAction.values:
        raise ValidationError({"action": [_("Choose one of the bulk actions.")]})
    if filters.deleted != (action == BulkAction.RESTORE):
        raise ValidationError(
            {"action": [_("Deleted customers can only be restored; restore them first to change them.")]}
            if filters.deleted
            else {"action": [_("Only deleted customers can be restored.")]}
        )
    key = ""
    if action == BulkAction.PROPERTY:
        definition = bulk_property_definition(workspace=workspace, key=str(property_key or ""))
        if definition is None:
            raise ValidationError({"property": [_("Choose one of the custom properties.")]})
        key = definition.key
    customer_ids = bulk_selection_ids(workspace=workspace, filters=filters, ids=ids)
    if not customer_ids:
        raise ValidationError({"ids": [_("Select at least one customer.")]})
    if len(customer_ids) > BULK_MAX_CUSTOMERS:
        raise ValidationError(
            {
                "ids": [
                    _("A bulk action can change at most %(max)s customers at once: narrow the filters.")
                    % {"max": f"{BULK_MAX_CUSTOMERS:,}"}
                ]
            }
        )
    _permission_check(workspace=workspace, actor=actor, action=action, count=len(customer_ids))
    who = actor_of(actor)
    with transaction.atomic():
        # A draft never confirmed is dropped when its maker prepares another: at most one waits per person.
        drafts = BulkJob.objects.for_workspace(workspace).filter(status=BulkStatus.DRAFT)
        if who.user is not None:
            drafts.filter(created_by=who.user).delete()
        elif who.api_key is not None:
            drafts.filter(created_by_api_key=who.api_key).delete()
        job = BulkJob.objects.for_workspace(workspace).create(
            created_by=who.user,
            created_by_api_key=who.api_key,
            action=action,
            property_key=key,
            selection={"filters": filters.as_query()} if ids is None else {"ids": len(customer_ids)},
            customer_ids=customer_ids,
            total=len(customer_ids),
        )
    return job


# What an edit says when confirmed with no value and no explicit clear: the customers' values are never wiped
# by a field left on its placeholder (only a bulk delete can be undone).
VALUE_NEEDED = {
    BulkAction.OWNER: gettext_lazy("Choose the owner to give these customers."),
    BulkAction.ASSIGNEE: gettext_lazy("Choose the assignee to give these customers."),
    BulkAction.STATUS: gettext_lazy("Choose the status to give these customers."),
}


def _blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _cleaned_value(
    *, workspace: Workspace, job: BulkJob, value: Any, clear: bool, number_style: str
) -> tuple[bool, Any]:
    """(has a value, the value to store) for the job's action, checked by the customer form's rules.

    An edit needs a value, or `clear` (and then no value): a blank value alone is refused, never taken as "clear".
    """
    if job.action in (BulkAction.DELETE, BulkAction.RESTORE):
        return False, None
    if clear and not _blank(value):
        raise ValidationError({"value": [_("Choose a value or clear it, not both.")]})
    cleaner = CustomerCleaner(workspace=workspace)
    if job.action == BulkAction.PROPERTY:
        definition = bulk_property_definition(workspace=workspace, key=job.property_key)
        if definition is None:
            raise ValidationError(
                {"value": [_("This property was archived or hidden since: choose another.")]}
            )
        if _blank(value) and definition.is_required:
            raise ValidationError({"value": [_("%(label)s is required.") % {"label": definition.label}]})
        if _blank(value) and not clear:
            raise ValidationError(
                {
                    "value": [
                        _("Choose the %(label)s to give these customers.")
                        % {"label": property_label(definition)}
                    ]
                }
            )
        try:
            cleaned = cleaner.clean(
                {"properties": {job.property_key: None if clear else value}, "_number_style": number_style},
                partial=True,
            )
        except ValidationError as error:
            raise _as_value_error(error) from None
        return True, cleaned["properties"].get(job.property_key)
    action = BulkAction(job.action)
    if _blank(value) and not clear:
        raise ValidationError({"value": [str(VALUE_NEEDED[action])]})
    field = ACTION_FIELDS[action]
    try:
        cleaned = cleaner.clean({field: "" if clear else value}, partial=True)
    except ValidationError as error:
        raise _as_value_error(error) from None
    return True, cleaned[field]


def _as_value_error(error: ValidationError) -> ValidationError:
    """The cleaner names the customer's field; here there is one value to name."""
    return ValidationError({"value": list(error.messages)})


def bulk_job_confirm(
    *,
    workspace: Workspace,
    actor: Actor | User,
    job_id: int,
    value: Any = None,
    clear: bool = False,
    number_style: str = "plain",
    expected_total: int | None = None,
) -> BulkJob:
    """Start a prepared job with the value given: checked as the customer form checks it, audited once with the
    count, then run (in this request when small, in the background otherwise).

    An edit (owner, assignee, status, property) needs a `value`, or `clear=True` to empty the field of every
    customer of the job: a ValidationError on `value` otherwise, and the job stays a draft.

    `expected_total`, the count the user confirmed; a StateConflict when it is not the job's (a stale page).
    """
    with transaction.atomic():
        job = BulkJob.objects.for_workspace(workspace).select_for_update().filter(pk=job_id).first()
        if job is None or not bulk_job_made_by(job=job, actor=actor_of(actor)):
            raise Http404
        if job.status != BulkStatus.DRAFT:
            raise StateConflict({"status": [_("This bulk action was already confirmed.")]})
        if expected_total is not None and expected_total != job.total:
            raise StateConflict(
                {
                    "count": [
                        _("The selection holds %(count)s customers: confirm that count.")
                        % {"count": job.total}
                    ]
                }
            )
        _permission_check(workspace=workspace, actor=actor, action=job.action, count=job.total)
        has_value, cleaned = _cleaned_value(
            workspace=workspace, job=job, value=value, clear=clear, number_style=number_style
        )
        now = timezone.now()
        job.value = cleaned if has_value else None
        job.status = BulkStatus.QUEUED
        job.confirmed_at = now
        job.progressed_at = now
        job.save(update_fields=["value", "status", "confirmed_at", "progressed_at"])
        _audit(workspace=workspace, actor=actor, job=job)
        _enqueue(job)
    return job


def _audit(*, workspace: Workspace, actor: Actor | User, job: BulkJob) -> None:
    changes: dict[str, Any] = {"count": job.total, **job.selection}
    if job.action in ACTION_FIELDS:
        changes[ACTION_FIELDS[BulkAction(job.action)]] = job.value
    elif job.action == BulkAction.PROPERTY:
        changes["property"] = job.property_key
        changes["value"] = job.value
    if job.undo_of_id is not None:
        changes["undo_of"] = job.undo_of_id
    audit_record(
        workspace=workspace,
        actor=actor,
        action=AUDIT_ACTIONS[BulkAction(job.action)],
        target=job,
        changes=changes,
    )


def _enqueue(job: BulkJob) -> None:
    from relasi.customers.bulk.tasks import bulk_job_run_task

    workspace_pk, job_pk = job.workspace_id, job.pk
    if job.total <= BULK_INLINE_LIMIT:
        # robust: a failure is kept on the job (and logged) and the page shows it, rather than a server error.
        transaction.on_commit(lambda: bulk_job_run(workspace_id=workspace_pk, job_id=job_pk), robust=True)
    else:
        transaction.on_commit(lambda: bulk_job_run_task.delay(workspace_pk, job_pk))


def bulk_job_run(*, workspace_id: int, job_id: int) -> BulkJob | None:
    """Apply a confirmed job in chunks of BULK_CHUNK customers, each in its own transaction with the checkpoint,
    from where a previous run stopped. A job not queued or running (finished, or a draft) is left alone."""
    workspace = Workspace.objects.get(pk=workspace_id)
    scoped = BulkJob.objects.for_workspace(workspace)
    job = scoped.filter(pk=job_id, status__in=(BulkStatus.QUEUED, BulkStatus.RUNNING)).first()
    if job is None:
        return None
    # Only from queued or running: a second runner (a redelivered task) must not revive a job that ended meanwhile.
    started = scoped.filter(pk=job.pk, status__in=(BulkStatus.QUEUED, BulkStatus.RUNNING)).update(
        status=BulkStatus.RUNNING, progressed_at=timezone.now()
    )
    if not started:
        return None
    customer_ids: list[int] = list(job.customer_ids)
    try:
        while True:
            with transaction.atomic():
                # The checkpoint is read under the lock: a second runner of the same job waits here, then goes on
                # after the first one's chunks instead of repeating them.
                locked = scoped.select_for_update().defer("customer_ids").filter(pk=job.pk).first()
                if locked is None or locked.status != BulkStatus.RUNNING:
                    return locked
                if locked.processed >= len(customer_ids):
                    locked.status = BulkStatus.COMPLETED
                    locked.finished_at = timezone.now()
                    locked.save(update_fields=["status", "finished_at"])
                    return locked
                chunk = customer_ids[locked.processed : locked.processed + _chunk_size()]
                changed = _apply(workspace=workspace, job=locked, customer_ids=chunk, now=timezone.now())
                locked.processed += len(chunk)
                locked.changed_count += changed
                locked.progressed_at = timezone.now()
                locked.save(update_fields=["processed", "changed_count", "progressed_at"])
    except Exception as error:
        scoped.filter(pk=job.pk, status=BulkStatus.RUNNING).update(
            status=BulkStatus.FAILED, failure_reason=str(error)[:2000], finished_at=timezone.now()
        )
        raise


def _chunk_size() -> int:
    from relasi.customers.bulk import selectors

    # Read at run time, so a test can make chunks small.
    return selectors.BULK_CHUNK


def _apply(*, workspace: Workspace, job: BulkJob, customer_ids: list[int], now: datetime) -> int:
    """One chunk of the job: how many customers it changed. Customers deleted since the snapshot (or restored,
    for a restore) are left alone, and "Last update" moves only for an edit of the customer's data."""
    rows = Customer.objects.for_workspace(workspace).filter(pk__in=customer_ids)
    if job.action == BulkAction.DELETE:
        # As services.customers_delete: deleting is not an edit, "Last update" stays.
        return rows.filter(deleted_at__isnull=True).update(deleted_at=now)
    if job.action == BulkAction.RESTORE:
        since = restorable_since(now)
        if job.undo_of_id is not None:
            # An undo restores only what its delete job deleted (not a customer deleted before it, again).
            undone = BulkJob.objects.for_workspace(workspace).defer("customer_ids").get(pk=job.undo_of_id)
            since = max(since, undone.confirmed_at or undone.created_at)
        return rows.filter(deleted_at__isnull=False, deleted_at__gte=since, merged_into__isnull=True).update(
            deleted_at=None
        )
    live = rows.filter(deleted_at__isnull=True)
    if job.action in ACTION_FIELDS:
        field = ACTION_FIELDS[BulkAction(job.action)]
        column = f"{field}_id" if field in ("owner", "assignee") else field
        # Only the customers that do not have the value already: their "Last update" is not touched.
        return live.exclude(**{column: job.value}).update(**{column: job.value, "updated_at": now})
    return _apply_property(workspace=workspace, job=job, rows=live, now=now)


def _apply_property(*, workspace: Workspace, job: BulkJob, rows: Any, now: datetime) -> int:
    key, value = job.property_key, job.value
    changed: list[Customer] = []
    # Locked while read and written back, so an edit of one customer in between is not overwritten.
    for customer in rows.select_for_update().only("pk", "workspace_id", "properties"):
        properties = dict(customer.properties or {})
        if value is None:
            if key not in properties:
                continue
            properties.pop(key)
        elif properties.get(key) == value:
            continue
        else:
            properties[key] = value
        customer.properties = properties
        customer.updated_at = now
        changed.append(customer)
    Customer.objects.for_workspace(workspace).bulk_update(
        changed, ["properties", "updated_at"], batch_size=500
    )
    return len(changed)


def bulk_job_undo(*, workspace: Workspace, actor: Actor | User, job_id: int) -> BulkJob:
    """Restore the customers a delete job deleted that are still deleted (and still restorable), as a restore
    job of its own (audited once with its count). StateConflict when there is nothing left to undo."""
    with transaction.atomic():
        deleted = BulkJob.objects.for_workspace(workspace).select_for_update().filter(pk=job_id).first()
        if deleted is None or deleted.status == BulkStatus.DRAFT:
            raise Http404
        if not bulk_job_undoable(deleted):
            raise StateConflict({"job": [_("This bulk action cannot be undone.")]})
        restorable = bulk_job_restorable_ids(
            workspace=workspace, job=deleted, customer_ids=deleted.customer_ids
        )
        if not restorable:
            raise StateConflict(
                {
                    "job": [
                        _("None of these customers can be restored: they were restored or removed for good.")
                    ]
                }
            )
        now = timezone.now()
        who = actor_of(actor)
        undo = BulkJob.objects.for_workspace(workspace).create(
            created_by=who.user,
            created_by_api_key=who.api_key,
            action=BulkAction.RESTORE,
            selection={"undo_of": deleted.pk},
            customer_ids=restorable,
            total=len(restorable),
            undo_of=deleted,
            status=BulkStatus.QUEUED,
            confirmed_at=now,
            progressed_at=now,
        )
        deleted.undone_at = now
        deleted.save(update_fields=["undone_at"])
        _audit(workspace=workspace, actor=actor, job=undo)
        _enqueue(undo)
    return undo


def bulk_job_resume(*, workspace: Workspace, actor: Actor | User, job_id: int) -> BulkJob:
    """Queue again a job that stopped before the end (failed, or its worker gone); it continues after its last
    committed chunk. The same permission as confirming it; not audited again (it is the same action)."""
    with transaction.atomic():
        job = (
            BulkJob.objects.for_workspace(workspace)
            .select_for_update()
            .defer("customer_ids")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.status == BulkStatus.DRAFT:
            raise Http404
        if not bulk_job_resumable(job):
            raise StateConflict(
                {"job": [_("Only a bulk action that stopped before the end can be continued.")]}
            )
        _permission_check(workspace=workspace, actor=actor, action=job.action, count=job.total)
        job.status = BulkStatus.QUEUED
        job.failure_reason = ""
        job.finished_at = None
        job.progressed_at = timezone.now()
        job.save(update_fields=["status", "failure_reason", "finished_at", "progressed_at"])
        from relasi.customers.bulk.tasks import bulk_job_run_task

        workspace_pk, job_pk = job.workspace_id, job.pk
        transaction.on_commit(lambda: bulk_job_run_task.delay(workspace_pk, job_pk))
    return job
