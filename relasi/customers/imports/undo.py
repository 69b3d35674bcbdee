"""“Undo this import”: within UNDO_DAYS of its end, an import's customers go back to how they were.

The customers it created are deleted (soft: they wait in the Deleted view and can be restored like any
other); the customers it updated get their values from before the import back (CustomerImportUpdate), their
"Last update" included. A customer someone edited since the import (its "Last update" is no longer the one the
import left) is kept as it is: undoing would throw that edit away. Those already deleted are counted apart.

It runs as a background job, batch by batch: each batch is one transaction that moves the cursors and the
counts, so an undo that stopped continues where it was. One audit row records the whole undo with its counts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.customers.models import (
    ChannelIdentity,
    Customer,
    CustomerImport,
    CustomerImportUpdate,
    IdentityKind,
    ImportStatus,
    UndoStatus,
)
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_require

logger = logging.getLogger(__name__)

UNDO_DAYS = 30
BATCH = 500
UNDO_BUSY = (UndoStatus.QUEUED, UndoStatus.RUNNING)


def customer_import_undo_until(customer_import: CustomerImport) -> datetime | None:
    """Until when the import can be undone (None: it has not finished)."""
    if customer_import.finished_at is None:
        return None
    return customer_import.finished_at + timedelta(days=UNDO_DAYS)


def customer_import_undo_refusal(customer_import: CustomerImport, *, now: datetime | None = None) -> str:
    """Why the import cannot be undone now, in words ("" when it can)."""
    if customer_import.undo_status == UndoStatus.COMPLETED:
        return _("This import has already been undone.")
    if customer_import.undo_status in UNDO_BUSY:
        return _("This import is being undone.")
    until = customer_import_undo_until(customer_import)
    if customer_import.status != ImportStatus.COMPLETED or until is None:
        return _("Only an import that has finished can be undone.")
    if not customer_import.created_count and not customer_import.updated_count:
        return _("This import created and updated no customer: there is nothing to undo.")
    if (now or timezone.now()) > until:
        return _(
            "An import can be undone for %(days)d days after it finished; this one finished on %(date)s."
        ) % {
            "days": UNDO_DAYS,
            "date": formats.date_format(timezone.localtime(customer_import.finished_at), "DATE_FORMAT"),
        }
    return ""


def customer_import_undo(
    *, workspace: Workspace, actor: Actor | User | None, import_id: int, enqueue: bool = True
) -> CustomerImport:
    """Queue the undo of a finished import (or continue one that failed). Those who may import may undo."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.IMPORT_CUSTOMERS)
    who = actor_of(actor)
    now = timezone.now()
    with transaction.atomic():
        customer_import = CustomerImport.objects.locked_or_404(workspace, import_id)
        refusal = customer_import_undo_refusal(customer_import, now=now)
        if refusal:
            raise ValidationError(refusal)
        if not customer_import.undo_status:
            customer_import.undo_requested_by = who.user
            customer_import.undo_requested_at = now
            customer_import.undo_total = (
                _created(customer_import).count()
                + _updates(customer_import).exclude(customer__source_import=customer_import).count()
            )
        # Who asked, in the same transaction: the row of the finished undo names the requester again, but an API
        # key's request or an undo that never finishes would otherwise leave no trace of the asking.
        audit_record(
            workspace=workspace,
            actor=actor,
            action="customer_import.undo_requested",
            target=customer_import,
            changes={"status": [customer_import.undo_status, UndoStatus.QUEUED]},
        )
        customer_import.undo_status = UndoStatus.QUEUED
        customer_import.undo_progressed_at = now
        customer_import.undo_failure_reason = ""
        customer_import.save(
            update_fields=[
                "undo_status",
                "undo_requested_by",
                "undo_requested_at",
                "undo_total",
                "undo_progressed_at",
                "undo_failure_reason",
            ]
        )
        if enqueue:
            workspace_pk, import_pk = workspace.pk, customer_import.pk
            transaction.on_commit(lambda: customer_import_undo_task.delay(workspace_pk, import_pk))
    return customer_import


def customer_import_undo_resume(*, workspace: Workspace, import_id: int) -> bool:
    """Queue again an undo whose worker is gone (the recovery's call); it goes on from what is left. Not audited
    again: it is the same undo. False when the undo is no longer queued or running."""
    with transaction.atomic():
        customer_import = CustomerImport.objects.locked_or_404(workspace, import_id)
        if customer_import.undo_status not in UNDO_BUSY:
            return False
        customer_import.undo_progressed_at = timezone.now()
        customer_import.save(update_fields=["undo_progressed_at"])
        workspace_pk, import_pk = workspace.pk, customer_import.pk
        transaction.on_commit(lambda: customer_import_undo_task.delay(workspace_pk, import_pk))
    return True


def customer_import_undo_percent(customer_import: CustomerImport) -> int:
    if customer_import.undo_status == UndoStatus.COMPLETED:
        return 100
    if not customer_import.undo_total:
        return 0
    return min(99, customer_import.undo_processed * 100 // customer_import.undo_total)


@shared_task(acks_late=True)
def customer_import_undo_task(workspace_id: int, import_id: int) -> None:
    customer_import_undo_run(workspace_id=workspace_id, import_id=import_id)


def customer_import_undo_run(*, workspace_id: int, import_id: int) -> CustomerImport:
    """Undo batch by batch until nothing is left; a second run of the same undo finds nothing to do."""
    workspace = Workspace.objects.get(pk=workspace_id)
    try:
        while _undo_batch(workspace, import_id):
            pass
    except Exception as error:
        logger.exception("Undoing customer import %s failed", import_id)
        with transaction.atomic():
            CustomerImport.objects.for_workspace(workspace).filter(
                pk=import_id, undo_status__in=UNDO_BUSY
            ).update(undo_status=UndoStatus.FAILED, undo_failure_reason=str(error)[:1000])
        raise
    return CustomerImport.objects.for_workspace(workspace).get(pk=import_id)


def _created(customer_import: CustomerImport) -> Any:
    return Customer.objects.for_workspace(customer_import.workspace).filter(source_import=customer_import)


def _updates(customer_import: CustomerImport) -> Any:
    return CustomerImportUpdate.objects.for_workspace(customer_import.workspace).filter(
        customer_import=customer_import
    )


def _undo_batch(workspace: Workspace, import_id: int) -> bool:
    """One batch in one transaction; False once the undo is complete (or not asked for)."""
    with transaction.atomic():
        customer_import = (
            CustomerImport.objects.for_workspace(workspace).select_for_update().filter(pk=import_id).first()
        )
        if customer_import is None or customer_import.undo_status not in UNDO_BUSY:
            return False
        now = timezone.now()
        customer_import.undo_status = UndoStatus.RUNNING
        customer_import.undo_progressed_at = now
        fields = ["undo_status", "undo_progressed_at", "undo_processed"]
        if _undo_created(customer_import, now):
            fields += ["undo_created_cursor", "undo_deleted_count", "undo_kept_count", "undo_gone_count"]
            customer_import.save(update_fields=fields)
            return True
        if _undo_updates(customer_import):
            fields += ["undo_updated_cursor", "undo_reverted_count", "undo_kept_count"]
            customer_import.save(update_fields=fields)
            return True
        customer_import.undo_status = UndoStatus.COMPLETED
        customer_import.undo_finished_at = now
        customer_import.save(update_fields=[*fields, "undo_finished_at"])
        requested_by = customer_import.undo_requested_by
        audit_record(
            workspace=workspace,
            actor=Actor(user=requested_by) if requested_by is not None else Actor(system="import-undo"),
            action="customer_import.undone",
            target=customer_import,
            changes={
                "deleted": customer_import.undo_deleted_count,
                "reverted": customer_import.undo_reverted_count,
                "kept_edited": customer_import.undo_kept_count,
                "already_deleted": customer_import.undo_gone_count,
            },
        )
        return False


def _undo_created(customer_import: CustomerImport, now: datetime) -> bool:
    """Delete the next batch of customers the import created; False when none is left."""
    rows = list(
        _created(customer_import)
        .select_for_update()
        .filter(pk__gt=customer_import.undo_created_cursor)
        .order_by("pk")
        .values_list("pk", "created_at", "updated_at", "deleted_at")[:BATCH]
    )
    if not rows:
        return False
    # A customer the import created and then updated (a later row matched it) was last left at that update.
    left_at = dict(
        _updates(customer_import)
        .filter(customer_id__in=[pk for pk, *_rest in rows])
        .values_list("customer_id", "updated_at")
    )
    delete: list[int] = []
    for pk, created_at, updated_at, deleted_at in rows:
        if deleted_at is not None:
            customer_import.undo_gone_count += 1
        elif updated_at not in (created_at, left_at.get(pk)):
            customer_import.undo_kept_count += 1
        else:
            delete.append(pk)
    # As the Deleted view's delete: only deleted_at changes, so a restore brings the customer back as it was.
    Customer.objects.for_workspace(customer_import.workspace).filter(pk__in=delete).update(deleted_at=now)
    customer_import.undo_deleted_count += len(delete)
    customer_import.undo_processed += len(rows)
    customer_import.undo_created_cursor = rows[-1][0]
    return True


def _undo_updates(customer_import: CustomerImport) -> bool:
    """Put back the values of the next batch of customers the import updated; False when none is left."""
    updates = list(
        _updates(customer_import).filter(pk__gt=customer_import.undo_updated_cursor).order_by("pk")[:BATCH]
    )
    if not updates:
        return False
    customers = {
        customer.pk: customer
        for customer in Customer.objects.for_workspace(customer_import.workspace)
        .select_for_update()
        .filter(pk__in=[update.customer_id for update in updates])
        .exclude(source_import=customer_import)  # created by this import: the step before dealt with them
    }
    identities = ChannelIdentity.objects.for_workspace(customer_import.workspace)
    for update in updates:
        customer = customers.get(update.customer_id)
        if customer is None:
            continue
        customer_import.undo_processed += 1
        if customer.updated_at != update.updated_at:
            customer_import.undo_kept_count += 1
            continue
        changed = _previous_apply(customer, update.previous)
        customer.save(update_fields=changed)
        for channel, username in update.identities:
            identities.filter(
                customer_id=customer.pk, channel=channel, kind=IdentityKind.USERNAME, external_id=username
            ).delete()
        customer_import.undo_reverted_count += 1
    customer_import.undo_updated_cursor = updates[-1].pk
    return True


def _previous_apply(customer: Customer, previous: dict[str, Any]) -> list[str]:
    """Set the stored values back on the customer; the names of the columns to save."""
    columns: set[str] = set()
    properties = dict(customer.properties)
    for name, value in previous.items():
        if name.startswith("properties."):
            key = name.removeprefix("properties.")
            if value is None:
                properties.pop(key, None)
            else:
                properties[key] = value
            columns.add("properties")
        elif name == "updated_at":
            customer.updated_at = datetime.fromisoformat(value)
            columns.add("updated_at")
        else:
            setattr(customer, name, value)
            columns.add(name)
    customer.properties = properties
    return sorted(columns)
