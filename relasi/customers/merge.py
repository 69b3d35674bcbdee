"""Merging two customers into one, by hand, and undoing it for 30 days.

The survivor keeps its id and takes, field by field, the values chosen from the other customer; the other's
channel identities, contact claims and timeline lines move to the survivor, and so do the records of other domains
(the `customer_merged` signal: each receiver moves its rows and answers what it moved). The other customer stays as
a tombstone: deleted, pointing at the survivor, so its old page and API id lead there. Everything is written in one
transaction with the audit rows, and what moved is kept on the CustomerMerge row for the undo.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.validation import StateConflict
from relasi.customers.models import (
    ChannelIdentity,
    ContactClaim,
    Customer,
    CustomerMerge,
    PossibleDuplicate,
    TimelineEntry,
)
from relasi.customers.selectors import restorable_since
from relasi.customers.timeline import timeline_record
from relasi.tenancy.models import Workspace

# The fields a person chooses between, in the order the merge page shows them. Custom properties are kept from
# both: the survivor's value wins for a property both have.
MERGE_FIELDS = (
    "full_name",
    "phone",
    "email",
    "source",
    "status",
    "job_title",
    "province",
    "city",
    "district",
    "subdistrict",
    "zip_code",
    "owner",
    "assignee",
)
SURVIVOR = "survivor"
MERGED = "merged"

# Sent inside the merge's transaction with workspace, survivor_id and merged_id; each receiver moves its own rows
# from the merged customer to the survivor and returns {key: what it moved} (JSON), kept for the undo.
customer_merged = Signal()
# Sent inside the undo's transaction with workspace, survivor_id, merged_id and moved (every receiver's answers).
customer_merge_undone = Signal()


def _column(field: str) -> str:
    return f"{field}_id" if field in ("owner", "assignee") else field


def merge_choices_default(*, survivor: Customer, merged: Customer) -> dict[str, str]:
    """What the merge page ticks first: the survivor's value, unless it has none and the other customer has one."""
    choices = {}
    for field in MERGE_FIELDS:
        column = _column(field)
        empty = getattr(survivor, column) in ("", None)
        choices[field] = MERGED if empty and getattr(merged, column) not in ("", None) else SURVIVOR
    return choices


def _choices_checked(choices: Mapping[str, Any]) -> dict[str, str]:
    errors = {}
    checked = {}
    for field, choice in choices.items():
        if field not in MERGE_FIELDS:
            errors[str(field)[:50]] = [_("There is no such field.")]
        elif choice not in (SURVIVOR, MERGED):
            errors[field] = [_("Choose survivor or merged.")]
        else:
            checked[field] = str(choice)
    if errors:
        raise ValidationError(errors)
    return checked


def _locked_pair(*, workspace: Workspace, ids: list[int]) -> dict[int, Customer]:
    # Both rows locked in id order, so two merges of the same pair cannot deadlock.
    rows = Customer.objects.for_workspace(workspace).select_for_update().filter(pk__in=ids).order_by("pk")
    return {customer.pk: customer for customer in rows}


def customers_merge(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    survivor_id: int,
    merged_id: int,
    choices: Mapping[str, Any] | None = None,
) -> CustomerMerge:
    """Merge `merged_id` into `survivor_id` (both live customers of the workspace; 404 otherwise)."""
    if survivor_id == merged_id:
        raise ValidationError({"merged_id": [_("Choose two different customers.")]})
    chosen = _choices_checked(choices or {})
    who = actor_of(actor)
    with transaction.atomic():
        pair = _locked_pair(workspace=workspace, ids=[survivor_id, merged_id])
        survivor, merged = pair.get(survivor_id), pair.get(merged_id)
        if survivor is None or merged is None or survivor.deleted_at or merged.deleted_at:
            raise Http404
        now = timezone.now()
        effective = {**merge_choices_default(survivor=survivor, merged=merged), **chosen}
        before, changes = _apply_choices(survivor=survivor, merged=merged, choices=effective)
        survivor.updated_at = now
        survivor.save()
        moved = _move_own_rows(workspace=workspace, survivor=survivor, merged=merged, now=now)
        for _receiver, answer in customer_merged.send(
            sender=CustomerMerge, workspace=workspace, survivor_id=survivor.pk, merged_id=merged.pk
        ):
            if isinstance(answer, dict):
                moved.update(answer)
        merged.deleted_at = now
        merged.merged_into = survivor
        merged.save(update_fields=["deleted_at", "merged_into"])
        record = CustomerMerge.objects.for_workspace(workspace).create(
            survivor=survivor,
            merged=merged,
            created_at=now,
            created_by=who.user,
            created_by_label=who.label,
            survivor_before=before,
            survivor_updated_at=now,
            moved=moved,
        )
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.merged",
            target=survivor,
            changes={"merged": [None, merged.pk], **changes},
        )
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.merged_into",
            target=merged,
            changes={"merged_into": [None, survivor.pk]},
        )
        timeline_record(
            workspace=workspace,
            customer_ids=[survivor.pk],
            actor=who,
            action="customer.merged",
            summary={
                "name": merged.full_name,
                "merged_id": merged.pk,
                "merge_id": record.pk,
                "changes": changes,
            },
            at=now,
        )
    return record


def _apply_choices(
    *, survivor: Customer, merged: Customer, choices: dict[str, str]
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Set the survivor's fields chosen from the merged customer; (its values before, the changes)."""
    before: dict[str, Any] = {"properties": dict(survivor.properties)}
    changes: dict[str, list[Any]] = {}
    for field, choice in choices.items():
        column = _column(field)
        old, new = getattr(survivor, column), getattr(merged, column)
        if choice == MERGED and old != new:
            before[column] = old
            changes[field] = [old, new]
            setattr(survivor, column, new)
    combined = {**merged.properties, **survivor.properties}
    if combined != survivor.properties:
        changes["properties"] = [survivor.properties, combined]
        survivor.properties = combined
    return before, changes


def _move_own_rows(
    *, workspace: Workspace, survivor: Customer, merged: Customer, now: datetime
) -> dict[str, Any]:
    moved: dict[str, Any] = {}
    for key, model in (
        ("identities", ChannelIdentity),
        ("claims", ContactClaim),
        ("timeline", TimelineEntry),
    ):
        rows = model.objects.for_workspace(workspace).filter(customer=merged)
        moved[key] = list(rows.values_list("pk", flat=True))
        rows.update(customer=survivor)
    # The pairs the merged customer was in are settled by the merge: closed, and opened again by an undo.
    pairs = PossibleDuplicate.objects.for_workspace(workspace).filter(
        Q(customer_low=merged) | Q(customer_high=merged), dismissed_at__isnull=True
    )
    moved["closed_pairs"] = list(pairs.values_list("pk", flat=True))
    PossibleDuplicate.objects.for_workspace(workspace).filter(pk__in=moved["closed_pairs"]).update(
        dismissed_at=now, dismissed_by_label="merge"
    )
    return moved


def customer_merge_undo(
    *, workspace: Workspace, actor: Actor | User | None, merge_id: int, now: datetime | None = None
) -> CustomerMerge:
    """Bring the merged customer back with what moved from it. The survivor's fields go back to their values
    before the merge unless someone edited the survivor since (their edit is kept)."""
    who = actor_of(actor)
    moment = now or timezone.now()
    with transaction.atomic():
        record = CustomerMerge.objects.locked_or_404(workspace, merge_id)
        if record.undone_at is not None:
            raise StateConflict(_("This merge was already undone."))
        if record.expired_at is not None or record.created_at < restorable_since(moment):
            raise StateConflict(_("A merge can be undone for 30 days; this one is older."))
        pair = _locked_pair(workspace=workspace, ids=[record.survivor_id, record.merged_id])
        survivor, merged = pair[record.survivor_id], pair[record.merged_id]
        if merged.merged_into_id != survivor.pk or survivor.deleted_at is not None:
            raise StateConflict(_("The survivor was deleted or merged since: restore it first."))
        kept_edit = survivor.updated_at != record.survivor_updated_at
        if not kept_edit:
            for column, value in record.survivor_before.items():
                setattr(survivor, column, value)
            survivor.updated_at = moment
            survivor.save()
        moved = record.moved
        for key, model in (
            ("identities", ChannelIdentity),
            ("claims", ContactClaim),
            ("timeline", TimelineEntry),
        ):
            model.objects.for_workspace(workspace).filter(
                pk__in=moved.get(key, []), customer=survivor
            ).update(customer=merged)
        PossibleDuplicate.objects.for_workspace(workspace).filter(
            pk__in=moved.get("closed_pairs", [])
        ).update(dismissed_at=None, dismissed_by_label="")
        customer_merge_undone.send(
            sender=CustomerMerge,
            workspace=workspace,
            survivor_id=survivor.pk,
            merged_id=merged.pk,
            moved=moved,
        )
        merged.deleted_at = None
        merged.merged_into = None
        merged.save(update_fields=["deleted_at", "merged_into"])
        record.undone_at = moment
        record.save(update_fields=["undone_at"])
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.merge_undone",
            target=survivor,
            changes={"merged": [merged.pk, None], "survivor_fields_restored": [None, not kept_edit]},
        )
        timeline_record(
            workspace=workspace,
            customer_ids=[survivor.pk, merged.pk],
            actor=who,
            action="customer.merge_undone",
            summary={
                "survivor_id": survivor.pk,
                "merged_id": merged.pk,
                "survivor_fields_restored": not kept_edit,
            },
            at=moment,
        )
    return record


def customer_merges_expire(*, now: datetime | None = None) -> int:
    """Past the undo period, empty what merges kept of people: the tombstone's own data (it keeps its id and the
    link to the survivor) and the survivor's values before the merge. Returns how many merges were expired."""
    cutoff = restorable_since(now)
    expired = 0
    for workspace in Workspace.objects.filter(
        customers__merged_into__isnull=False, customers__deleted_at__lt=cutoff
    ).distinct():
        with transaction.atomic():
            merges = CustomerMerge.objects.for_workspace(workspace).filter(
                expired_at__isnull=True, undone_at__isnull=True, created_at__lt=cutoff
            )
            merged_ids = list(merges.values_list("merged_id", flat=True))
            Customer.objects.for_workspace(workspace).filter(
                pk__in=merged_ids, merged_into__isnull=False
            ).update(
                full_name=_("Merged customer"),
                phone="",
                phone_raw="",
                email="",
                status="",
                job_title="",
                province="",
                city="",
                district="",
                subdistrict="",
                zip_code="",
                properties={},
            )
            expired += merges.update(expired_at=timezone.now(), survivor_before={}, moved={})
    return expired
