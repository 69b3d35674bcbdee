"""Writes for customers: create, update, delete and restore, purge, sample data, the user's table view.

Every write is atomic and audited; input goes through `CustomerCleaner`, the same rules as the API and
imports. Property definitions are written by `property_services`, imports by the `imports` package.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record, audit_record_many
from relasi.core.ids import ids_parse
from relasi.core.validation import StateConflict
from relasi.customers.cleaning import (
    CustomerCleaner,
    added_by_label,
    changes_jsonable,
    customer_changes_apply,
    unchanged_left_out,
)
from relasi.customers.models import Channel, ChannelIdentity, Customer, CustomerView, IdentityKind
from relasi.customers.sample import sample_customers
from relasi.customers.selectors import customer_available_columns, restorable_since
from relasi.customers.timeline import timeline_record
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_require
from relasi.tenancy.selectors import workspace_member_ids

# --- Customers -------------------------------------------------------------------------------------


def _link_identity(*, customer: Customer, channel: str, username: str) -> None:
    if not channel or not username:
        return
    try:
        with transaction.atomic():
            ChannelIdentity.objects.for_workspace(customer.workspace).create(
                customer=customer, channel=channel, external_id=username
            )
    except IntegrityError:
        owner = (
            ChannelIdentity.objects.for_workspace(customer.workspace)
            .filter(channel=channel, kind=IdentityKind.USERNAME, external_id=username)
            .first()
        )
        if owner is not None and owner.customer_id == customer.pk:
            return
        raise StateConflict(
            {
                "channel_username": [
                    _("Another customer already uses this %(channel)s username.")
                    % {"channel": Channel(channel).label}
                ]
            }
        ) from None


def _set_username(*, customer: Customer, username: str) -> list[str | None] | None:
    """Make `username` the customer's identity on their source channel, replacing the one shown until now
    (an edited handle no longer belongs to them); an empty one removes it. [before, after] if it changed."""
    if not customer.source:
        return None
    previous = (
        customer.identities.filter(channel=customer.source, kind=IdentityKind.USERNAME)
        .order_by("-id")
        .first()
    )
    before = previous.external_id if previous is not None else None
    after = username or None
    if before == after:
        return None
    if after is not None:
        _link_identity(customer=customer, channel=customer.source, username=after)
    if previous is not None:
        previous.delete()
    return [before, after]


def customer_create(*, workspace: Workspace, actor: Actor | User | None, data: dict[str, Any]) -> Customer:
    cleaned = CustomerCleaner(workspace=workspace).clean(data)
    who = actor_of(actor)
    with transaction.atomic():
        now = timezone.now()
        customer = Customer(
            workspace=workspace,
            added_by=who.user,
            added_by_label=added_by_label(who),
            created_at=now,
            updated_at=now,
        )
        changes = customer_changes_apply(customer, cleaned)
        customer.save()
        _link_identity(
            customer=customer, channel=customer.source, username=cleaned.get("channel_username", "")
        )
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.created",
            target=customer,
            changes=changes_jsonable(changes),
        )
        timeline_record(
            workspace=workspace,
            customer_ids=[customer.pk],
            actor=who,
            action="customer.created",
            summary={"name": customer.full_name},
            at=now,
        )
    return customer


def customer_update(
    *, workspace: Workspace, actor: Actor | User | None, customer_id: int, data: dict[str, Any]
) -> Customer:
    """Change the fields `data` names. Values equal to the stored ones are not changes: a save that changes
    nothing writes nothing and audits nothing."""
    with transaction.atomic():
        customer = Customer.objects.locked_or_404(workspace, customer_id, deleted_at__isnull=True)
        cleaned = CustomerCleaner(workspace=workspace).clean(
            {**unchanged_left_out(customer, data), "_existing_source": customer.source}, partial=True
        )
        changes = customer_changes_apply(customer, cleaned)
        if "channel_username" in cleaned:
            username_change = _set_username(customer=customer, username=cleaned["channel_username"])
            if username_change is not None:
                changes["channel_username"] = username_change
        if changes:
            customer.updated_at = timezone.now()
            customer.save()
            audit_record(
                workspace=workspace,
                actor=actor,
                action="customer.updated",
                target=customer,
                changes=changes_jsonable(changes),
            )
            timeline_record(
                workspace=workspace,
                customer_ids=[customer.pk],
                actor=actor,
                action="customer.updated",
                summary={"changes": changes_jsonable(changes)},
                at=customer.updated_at,
            )
    return customer


def customers_delete(*, workspace: Workspace, actor: Actor | User | None, customer_ids: Iterable[int]) -> int:
    """Soft-delete: the customers move to the Deleted view and can be restored for 30 days.

    Deleting several at once is a bulk action (owners and admins, or agents when the owner allows it).
    """
    ids = _valid_ids(customer_ids)
    if len(ids) > 1:
        permission_require(workspace=workspace, actor=actor, permission=Permission.BULK_DELETE_CUSTOMERS)
    return _set_deleted(workspace=workspace, actor=actor, customer_ids=ids, deleted=True)


def customers_restore(
    *, workspace: Workspace, actor: Actor | User | None, customer_ids: Iterable[int]
) -> int:
    return _set_deleted(
        workspace=workspace, actor=actor, customer_ids=_valid_ids(customer_ids), deleted=False
    )


def _valid_ids(customer_ids: Iterable[int]) -> list[int]:
    # An id the database could not hold matches nothing (rather than failing the whole request).
    return ids_parse(customer_ids)


def _set_deleted(
    *, workspace: Workspace, actor: Actor | User | None, customer_ids: list[int], deleted: bool
) -> int:
    ids = customer_ids
    with transaction.atomic():
        rows = (
            Customer.objects.for_workspace(workspace)
            .select_for_update()
            .filter(pk__in=ids, deleted_at__isnull=deleted)
        )
        if not deleted:
            # Past the retention period a customer waits for the purge and can no longer come back; a merged
            # customer comes back only by undoing its merge.
            rows = rows.filter(deleted_at__gte=restorable_since(), merged_into__isnull=True)
        targets = [
            (Customer._meta.label_lower, str(pk), name) for pk, name in rows.values_list("pk", "full_name")
        ]
        if not targets:
            return 0
        # Deleting and restoring are not edits of the customer's data: "Last update" stays as it was (the
        # Deleted view sorts by deleted_at). `.update()` leaves every other column alone.
        Customer.objects.for_workspace(workspace).filter(
            pk__in=[int(target[1]) for target in targets]
        ).update(deleted_at=timezone.now() if deleted else None)
        audit_record_many(
            workspace=workspace,
            actor=actor,
            action="customer.deleted" if deleted else "customer.restored",
            targets=targets,
        )
        timeline_record(
            workspace=workspace,
            customer_ids=[int(target[1]) for target in targets],
            actor=actor,
            action="customer.deleted" if deleted else "customer.restored",
        )
    return len(targets)


def customers_purge_deleted(*, now: datetime | None = None) -> int:
    """Remove for good the customers deleted more than the retention period ago (every workspace)."""
    cutoff = restorable_since(now)
    purged = 0
    # Each workspace on its own, through its scoped rows; the join only finds who has something to purge.
    for workspace in Workspace.objects.filter(
        customers__deleted_at__lt=cutoff, customers__merged_into__isnull=True
    ).distinct():
        with transaction.atomic():
            # A merged customer's tombstone stays (its links lead to the survivor); merge.customer_merges_expire
            # empties its data instead.
            expired = Customer.objects.for_workspace(workspace).filter(
                deleted_at__lt=cutoff, merged_into__isnull=True
            )
            targets = [
                (Customer._meta.label_lower, str(pk), name)
                for pk, name in expired.values_list("pk", "full_name")
            ]
            audit_record_many(
                workspace=workspace, actor=Actor(system="purge"), action="customer.purged", targets=targets
            )
            expired.delete()
            purged += len(targets)
    return purged


def customers_create_sample(
    *,
    workspace: Workspace,
    actor: User | None,
    count: int,
    now: datetime,
    seed: int,
    only_if_empty: bool = False,
) -> int:
    """Add varied sample customers (demo data). With only_if_empty, a workspace that has customers is left alone."""
    if only_if_empty and Customer.objects.for_workspace(workspace).exists():
        return 0
    members = sorted(workspace_member_ids(workspace=workspace))
    label = actor.full_name if actor else "Relasi"
    with transaction.atomic():
        customers: list[Customer] = []
        usernames: list[tuple[int, str, str]] = []
        for index, sample in enumerate(sample_customers(count=count, seed=seed, now=now)):
            customers.append(
                Customer(
                    workspace=workspace,
                    **sample.customer_fields(),
                    owner_id=members[0] if members else None,
                    assignee_id=members[index % len(members)] if members else None,
                    added_by=actor,
                    added_by_label=label,
                )
            )
            if sample.username:
                usernames.append((index, sample.source, sample.username))
        Customer.objects.for_workspace(workspace).bulk_create(customers, batch_size=1000)
        ChannelIdentity.objects.for_workspace(workspace).bulk_create(
            [
                ChannelIdentity(
                    workspace=workspace, customer=customers[index], channel=channel, external_id=username
                )
                for index, channel, username in usernames
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        audit_record_many(
            workspace=workspace,
            actor=actor,
            action="customer.created",
            targets=[
                (Customer._meta.label_lower, str(customer.pk), customer.full_name) for customer in customers
            ],
            changes={"via": "sample"},
        )
    return len(customers)


# --- Manage view ---------------------------------------------------------------------------------------


def customer_view_save(*, workspace: Workspace, user: User, columns: list[str]) -> CustomerView:
    """Save the user's columns for the All customers table. Unknown columns are dropped; name stays first."""
    available = {column.key for column in customer_available_columns(workspace=workspace)}
    chosen: list[str] = []
    for key in columns:
        if key in available and key != "full_name" and key not in chosen:
            chosen.append(key)
    with transaction.atomic():
        view, _created = CustomerView.objects.for_workspace(workspace).update_or_create(
            user=user, defaults={"columns": chosen}
        )
    return view
