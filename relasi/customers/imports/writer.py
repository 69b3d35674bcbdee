"""Writing one batch of an import: duplicates decided, customers created or updated, identities linked,
audit rows and failed rows written, and the checkpoint moved, all in one transaction.

On PostgreSQL the customers and their audit rows go in with COPY: Django's bulk_create prepares every value
of every row in Python, which costs more than the insert itself at an import's volume.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, JSONField, Model
from django.utils import timezone

from relasi.core.audit import audit_record_many
from relasi.core.inputs import text_storable
from relasi.core.models import AuditLog
from relasi.customers.cleaning import changes_jsonable, customer_changes_apply
from relasi.customers.imports import reasons
from relasi.customers.imports.job import ImportJob
from relasi.customers.imports.matching import MatchIndex, Pending, Ref, attrs_merge, identity_of, ref_pk
from relasi.customers.imports.rows import ImportRow
from relasi.customers.models import (
    ChannelIdentity,
    Customer,
    CustomerImport,
    CustomerImportDuplicate,
    CustomerImportError,
    CustomerImportUpdate,
    TimelineEntry,
)
from relasi.customers.timeline import timeline_summary_bounded


class BatchSuperseded(Exception):
    """Another run of the same import moved the checkpoint first; this one stops without writing."""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass
class _Plan:
    """What one batch will write, decided row by row before anything is written."""

    base: dict[str, Any]
    index: MatchIndex
    created: list[Pending] = field(default_factory=list)
    updated: dict[int, Customer] = field(default_factory=dict)
    updated_fields: set[str] = field(default_factory=set)
    identities: list[tuple[Ref, str, str]] = field(default_factory=list)
    errors: list[CustomerImportError] = field(default_factory=list)
    duplicates: list[tuple[ImportRow, Ref, tuple[str, str]]] = field(default_factory=list)
    # What "Undo this import" needs of each existing customer this batch changes: the values before the
    # batch's first change of each field, and the usernames it linked.
    previous: dict[int, dict[str, Any]] = field(default_factory=dict)
    linked: dict[int, list[list[str]]] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)

    def fail(self, job: ImportJob, row: ImportRow) -> None:
        self.errors.append(
            CustomerImportError(
                workspace=job.workspace,
                customer_import=job.customer_import,
                row_number=row.number,
                line=row.line,
                values=[text_storable(value) for value in row.values],
                reasons=row.reasons,
            )
        )

    def skip(self, job: ImportJob, row: ImportRow, ref: Ref, matched: tuple[str, str]) -> None:
        """A duplicate left as it is: counted, and kept with the customer it matched (its id once inserted,
        when it is one this batch creates)."""
        self.counts.skipped += 1
        self.duplicates.append((row, ref, matched))

    def link(self, ref: Ref, identity: tuple[str, str]) -> None:
        self.identities.append((ref, *identity))
        self.index.by_identity[identity] = ref
        if isinstance(ref, int):
            self.linked.setdefault(ref, []).append(list(identity))

    def remember(self, customer: Customer, changes: dict[str, list[Any]], phone_raw: str) -> None:
        """Keep each changed field's value from before the first change (a later row of the batch may
        change it again): custom properties one by one, null for one the customer did not have."""
        previous = self.previous.setdefault(customer.pk, {})
        for name, (before, after) in changes.items():
            if name == "properties":
                for key in sorted(set(before) | set(after)):
                    if before.get(key) != after.get(key):
                        previous.setdefault(f"properties.{key}", before.get(key))
            else:
                previous.setdefault(f"{name}_id" if name in ("owner", "assignee") else name, before)
        if "phone" in changes:
            previous.setdefault("phone_raw", phone_raw)
        # Undone, the import was never an edit: "Last update" goes back too.
        previous.setdefault("updated_at", customer.updated_at.isoformat())


def import_batch_write(job: ImportJob, rows: list[ImportRow]) -> None:
    """Write one batch and move the checkpoint past it, all in one transaction."""
    customer_import = job.customer_import
    with transaction.atomic():
        _checkpoint_claim(job, first_row=rows[0].number)
        if connection.vendor == "postgresql":
            # Safe without waiting for the disk: a batch lost in a server crash loses its checkpoint with it,
            # and the next run writes it again.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF; SET CONSTRAINTS ALL IMMEDIATE")
        now = timezone.now()
        plan = _plan(job, rows, now)
        _persist(job, plan, now)
        counts = plan.counts
        CustomerImport.objects.for_workspace(job.workspace).filter(pk=customer_import.pk).update(
            progressed_at=now,
            processed_rows=F("processed_rows") + len(rows),
            created_count=F("created_count") + counts.created,
            updated_count=F("updated_count") + counts.updated,
            skipped_count=F("skipped_count") + counts.skipped,
            failed_count=F("failed_count") + counts.failed,
        )
    customer_import.processed_rows += len(rows)
    customer_import.created_count += counts.created
    customer_import.updated_count += counts.updated
    customer_import.skipped_count += counts.skipped
    customer_import.failed_count += counts.failed


def _checkpoint_claim(job: ImportJob, *, first_row: int) -> None:
    """Lock the import row; BatchSuperseded unless the checkpoint is right before this batch."""
    locked = (
        CustomerImport.objects.for_workspace(job.workspace)
        .select_for_update()
        .only("pk", "processed_rows")
        .get(pk=job.customer_import.pk)
    )
    if locked.processed_rows != first_row - 1:
        raise BatchSuperseded


def _plan(job: ImportJob, rows: list[ImportRow], now: datetime) -> _Plan:
    plan = _Plan(
        base={
            "workspace_id": job.workspace.pk,
            "added_by_id": job.actor.user.pk if job.actor.user is not None else None,
            "added_by_label": job.added_by_label,
            "created_at": now,
            "updated_at": now,
            "source_import_id": job.customer_import.pk,
        },
        index=MatchIndex(job, [row for row in rows if not row.reasons]),
    )
    for row in rows:
        if row.reasons:
            plan.fail(job, row)
            continue
        found = plan.index.match(row.cleaned)
        if found is None:
            _plan_new(job, plan, row)
        elif job.update:
            _plan_update(job, plan, row, found[0], found[1], now)
        else:
            plan.skip(job, row, *found)
    return plan


def _plan_new(job: ImportJob, plan: _Plan, row: ImportRow) -> None:
    cleaned = row.cleaned
    given = cleaned.get("properties", {})
    missing = [(key, label) for key, label in job.required if key not in given]
    if missing:
        row.reasons = [
            reasons.reason(reasons.REQUIRED_MISSING, column=job.columns_by_field.get(key, ""), field=key)
            for key, _label in missing
        ]
        plan.fail(job, row)
        return
    pending = Pending(attrs={**plan.base, "source_row": row.number})
    attrs_merge(pending.attrs, cleaned)
    plan.created.append(pending)
    plan.index.register(pending, ("", ""), (cleaned.get("phone", ""), cleaned.get("email", "")))
    identity = identity_of(cleaned)
    if identity is not None:
        plan.link(pending, identity)
    plan.counts.created += 1


def _plan_update(
    job: ImportJob, plan: _Plan, row: ImportRow, ref: Ref, matched: tuple[str, str], now: datetime
) -> None:
    cleaned = row.cleaned
    if isinstance(ref, Pending):
        before = (ref.attrs.get("phone", ""), ref.attrs.get("email", ""))
        attrs_merge(ref.attrs, cleaned)
        after = (ref.attrs.get("phone", ""), ref.attrs.get("email", ""))
        changed = True
    else:
        if ref in plan.index.deleted:
            row.reasons = [
                reasons.reason(
                    reasons.IDENTITY_DELETED,
                    column=job.columns_by_field.get("channel_username", ""),
                    field="channel_username",
                    value=cleaned.get("channel_username", ""),
                )
            ]
            plan.fail(job, row)
            return
        customer = plan.index.customers[ref]
        before = (customer.phone, customer.email)
        phone_raw = customer.phone_raw
        changes = customer_changes_apply(customer, cleaned)
        after = (customer.phone, customer.email)
        changed = bool(changes)
        if changes:
            plan.remember(customer, changes, phone_raw)
            customer.updated_at = now
            plan.updated[customer.pk] = customer
            plan.updated_fields.update(changes)
            if "phone" in changes:
                plan.updated_fields.add("phone_raw")
    plan.index.register(ref, before, after)
    identity = identity_of(cleaned)
    if identity is not None and identity not in plan.index.by_identity:
        plan.link(ref, identity)
        changed = True
    # A duplicate that the file would leave exactly as it is was not updated: say skipped.
    if changed:
        plan.counts.updated += 1
    else:
        plan.skip(job, row, ref, matched)


def _persist(job: ImportJob, plan: _Plan, now: datetime) -> None:
    _insert_customers(job, plan.created)
    if plan.updated:
        Customer.objects.for_workspace(job.workspace).bulk_update(
            list(plan.updated.values()), sorted(plan.updated_fields | {"updated_at"}), batch_size=500
        )
    _insert_identities(
        job, [(ref_pk(ref), channel, username) for ref, channel, username in plan.identities], now
    )
    _updates_remember(job, plan)
    label = Customer._meta.label_lower
    note = {"via": "import", "import_id": job.customer_import.pk}
    _audit_many(
        job,
        action="customer.created",
        targets=[(label, str(pending.pk), pending.full_name) for pending in plan.created],
        changes=note,
        now=now,
    )
    _audit_many(
        job,
        action="customer.updated",
        targets=[(label, str(customer.pk), customer.full_name) for customer in plan.updated.values()],
        changes=note,
        now=now,
    )
    _timeline_lines(job, plan, now)
    CustomerImportError.objects.for_workspace(job.workspace).bulk_create(plan.errors, batch_size=1000)
    plan.counts.failed = len(plan.errors)
    CustomerImportDuplicate.objects.for_workspace(job.workspace).bulk_create(
        [
            CustomerImportDuplicate(
                workspace=job.workspace,
                customer_import=job.customer_import,
                row_number=row.number,
                line=row.line,
                customer_id=ref_pk(ref),
                matched_on=matched_on,
                matched_value=matched_value[:254],
            )
            for row, ref, (matched_on, matched_value) in plan.duplicates
        ],
        batch_size=1000,
    )


def _updates_remember(job: ImportJob, plan: _Plan) -> None:
    """One CustomerImportUpdate per existing customer the import changed: an earlier batch's values before
    win (they are older), and the "Last update" the import left is the latest."""
    pks = set(plan.previous) | set(plan.linked)
    if not pks:
        return
    updates = CustomerImportUpdate.objects.for_workspace(job.workspace)
    existing = {
        update.customer_id: update
        for update in updates.filter(customer_import=job.customer_import, customer_id__in=pks)
    }
    new: list[CustomerImportUpdate] = []
    for pk in sorted(pks):
        customer = plan.index.customers[pk]
        update = existing.get(pk)
        if update is None:
            new.append(
                CustomerImportUpdate(
                    workspace=job.workspace,
                    customer_import=job.customer_import,
                    customer_id=pk,
                    previous=plan.previous.get(pk, {}),
                    identities=plan.linked.get(pk, []),
                    updated_at=customer.updated_at,
                )
            )
            continue
        update.previous = {**plan.previous.get(pk, {}), **update.previous}
        update.identities = [*update.identities, *plan.linked.get(pk, [])]
        update.updated_at = customer.updated_at
    updates.bulk_create(new, batch_size=1000)
    if existing:
        updates.bulk_update(list(existing.values()), ["previous", "identities", "updated_at"], batch_size=500)


def _insert_customers(job: ImportJob, created: list[Pending]) -> None:
    if not created:
        return
    customers = Customer.objects.for_workspace(job.workspace)
    if connection.vendor == "postgresql":
        _copy_insert(Customer, [pending.attrs for pending in created])
        # Each row's id, found by the (import, row) pair that is unique to it.
        by_row = {pending.attrs["source_row"]: pending for pending in created}
        for pk, source_row in customers.filter(
            source_import_id=job.customer_import.pk,
            source_row__gte=min(by_row),
            source_row__lte=max(by_row),
        ).values_list("pk", "source_row"):
            if source_row in by_row:
                by_row[source_row].pk = pk
        return
    rows = [Customer(**pending.attrs) for pending in created]
    customers.bulk_create(rows, batch_size=1000)
    for pending, customer in zip(created, rows, strict=True):
        pending.pk = customer.pk


def _insert_identities(job: ImportJob, identities: list[tuple[int, str, str]], now: datetime) -> None:
    """Link usernames to customers; a username someone else claimed since the lookup stays theirs."""
    if not identities:
        return
    if connection.vendor != "postgresql":
        ChannelIdentity.objects.for_workspace(job.workspace).bulk_create(
            [
                ChannelIdentity(
                    workspace_id=job.workspace.pk, customer_id=pk, channel=channel, external_id=username
                )
                for pk, channel, username in identities
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        return
    customer_ids, channels, usernames = (list(column) for column in zip(*identities, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(ChannelIdentity._meta.db_table)} "
            "(workspace_id, customer_id, channel, external_id, created_at) "
            "SELECT %s, new.customer_id, new.channel, new.external_id, %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS new(customer_id, channel, external_id) "
            "ON CONFLICT DO NOTHING",
            [job.workspace.pk, now, customer_ids, channels, usernames],
        )


def _audit_many(
    job: ImportJob,
    *,
    action: str,
    targets: list[tuple[str, str, str]],
    changes: dict[str, Any],
    now: datetime,
) -> None:
    """audit_record_many, with PostgreSQL's COPY for the one-row-per-customer volume of an import."""
    if not targets:
        return
    if connection.vendor != "postgresql":
        audit_record_many(
            workspace=job.workspace, actor=job.actor, action=action, targets=targets, changes=changes
        )
        return
    base = {
        "workspace_id": job.workspace.pk,
        "actor_id": job.actor.user.pk if job.actor.user is not None else None,
        "actor_label": job.actor.label,
        "action": action,
        "changes": changes,
        "created_at": now,
    }
    _copy_insert(
        AuditLog,
        [
            {**base, "target_type": target_type, "target_id": target_id, "target_label": label[:300]}
            for target_type, target_id, label in targets
        ],
    )


def _timeline_lines(job: ImportJob, plan: _Plan, now: datetime) -> None:
    """Each created customer's "added" line and each updated one's changes, as a person's edit writes them."""
    lines: list[tuple[int | None, str, dict[str, Any]]] = [
        (pending.pk, "customer.created", {"name": pending.full_name}) for pending in plan.created
    ]
    for pk, customer in plan.updated.items():
        lines.append(
            (pk, "customer.updated", {"changes": _changes_since(plan.previous.get(pk, {}), customer)})
        )
    if not lines:
        return
    actor_id = job.actor.user.pk if job.actor.user is not None else None
    rows = [
        {
            "workspace_id": job.workspace.pk,
            "customer_id": customer_id,
            "at": now,
            "actor_id": actor_id,
            "actor_label": job.actor.label,
            "action": action,
            "record_kind": "",
            "record_id": None,
            "summary": timeline_summary_bounded(summary),
        }
        for customer_id, action, summary in lines
    ]
    if connection.vendor == "postgresql":
        _copy_insert(TimelineEntry, rows)
    else:
        TimelineEntry.objects.for_workspace(job.workspace).bulk_create(
            [TimelineEntry(**row) for row in rows], batch_size=1000
        )


def _changes_since(previous: dict[str, Any], customer: Customer) -> dict[str, list[Any]]:
    """{field: [before, after]} from the values the batch found (`_Plan.remember`) and the customer's now."""
    changes: dict[str, list[Any]] = {}
    before_properties: dict[str, Any] = {}
    after_properties: dict[str, Any] = {}
    for name, before in previous.items():
        if name in ("phone_raw", "updated_at"):
            continue
        if name.startswith("properties."):
            key = name.removeprefix("properties.")
            before_properties[key] = before
            after_properties[key] = customer.properties.get(key)
            continue
        changes[name.removesuffix("_id")] = [before, getattr(customer, name)]
    if before_properties:
        changes["properties"] = [before_properties, after_properties]
    return changes_jsonable(changes)


def _copy_insert(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows (attname → value, without the id) with PostgreSQL's COPY.

    Missing values get the field's default; JSON fields are serialised here.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    json_fields = [field.attname for field in fields if isinstance(field, JSONField)]
    attnames = [field.attname for field in fields]
    columns = ", ".join(quote(str(field.column)) for field in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = {**defaults, **row}
            for attname in json_fields:
                values[attname] = json.dumps(values[attname])
            copy.write_row([values[attname] for attname in attnames])
