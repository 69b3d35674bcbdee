"""Changing a balance: the one way is an entry of its ledger, written with the balance after it under the
balance's row lock, once per reference."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.billing.models import LOW_BALANCE_PERCENT, Balance, BalanceKind, EntryType, LedgerEntry
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.emails import email_send_templated, site_link
from relasi.core.inputs import text_checked
from relasi.tenancy.models import Membership, Role, Workspace

# No single change is larger than this (a thousand trillion rupiah): a bigger number is a mistake or an attack,
# refused before any arithmetic or the database sees it.
AMOUNT_LIMIT = 10**15
REASON_MAX = 300
REFERENCE_MAX = 200


@dataclass(frozen=True)
class Change:
    """One change to make: its type, its signed amount, and why."""

    entry_type: str
    amount: int
    reason: str = ""


def _checked(change: Change) -> Change:
    errors: dict[str, list[str]] = {}
    if (
        isinstance(change.amount, bool)
        or not isinstance(change.amount, int)
        or abs(change.amount) > AMOUNT_LIMIT
    ):
        errors["amount"] = [_("Send a whole number of at most %d digits.") % len(str(AMOUNT_LIMIT))]
    if change.entry_type not in EntryType.values:
        errors["entry_type"] = [_("Unknown entry type.")]
    try:
        reason = text_checked(change.reason, max_length=REASON_MAX)
    except ValidationError as error:
        errors["reason"] = list(error.messages)
        reason = ""
    if change.entry_type == EntryType.ADJUSTMENT and not reason.strip():
        errors["reason"] = [_("Say why the balance is adjusted.")]
    if errors:
        raise ValidationError(errors)
    return Change(entry_type=change.entry_type, amount=change.amount, reason=reason)


def _reference_checked(reference: str) -> str:
    """An event's reference as given; "#" is refused, since `#2`, `#3` name the event's later entries."""
    try:
        key = text_checked(reference, max_length=REFERENCE_MAX - 3)
    except ValidationError as error:
        raise ValidationError({"reference": error.messages}) from None
    if "#" in key:
        raise ValidationError({"reference": [_("A reference holds no “#”.")]})
    return key


def reference_of(prefix: str, value: str) -> str:
    """A ledger reference made of an outside id (a provider's message id, a client's event id): "#" and "%"
    escaped as in a URL, and an id too long for the column replaced by its SHA-256, so any id makes a valid,
    distinct reference."""
    escaped = value.replace("%", "%25").replace("#", "%23")
    reference = f"{prefix}:{escaped}"
    if len(reference) > REFERENCE_MAX - 3:
        reference = f"{prefix}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"
    return reference


def _balance_locked(*, workspace: Workspace, kind: str) -> Balance:
    """The workspace's balance of `kind`, made when missing (the unique row decides, not a read), locked until the
    transaction ends."""
    if kind not in BalanceKind.values:
        raise ValidationError({"kind": [_("Unknown balance.")]})
    balances = Balance.objects.for_workspace(workspace)
    balance = balances.select_for_update().filter(kind=kind).first()
    if balance is None:
        balances.bulk_create([Balance(workspace=workspace, kind=kind)], ignore_conflicts=True)
        balance = balances.select_for_update().get(kind=kind)
    return balance


def balance_change(
    *, workspace: Workspace, actor: Actor | User | None, kind: str, changes: list[Change], reference: str = ""
) -> list[LedgerEntry]:
    """Apply the changes of one event to the balance in one transaction, in order, each as a ledger entry carrying
    the balance after it. With a `reference` the event applies once: its first entry carries the reference (the
    next ones `reference#2`, `#3`…), and an event whose reference was applied before writes nothing, whatever its
    changes are this time (a repeated payment that finds the balance in another state). The entries written."""
    checked = [_checked(change) for change in changes]
    key = _reference_checked(reference)
    who = actor_of(actor)
    if kind not in BalanceKind.values:
        raise ValidationError({"kind": [_("Unknown balance.")]})
    with transaction.atomic():
        if len(checked) == 1 and connection.vendor == "postgresql":
            written = _single_change_direct(
                workspace=workspace, kind=kind, change=checked[0], key=key, who=who
            )
            if written is not None:
                return written
        balance = _balance_locked(workspace=workspace, kind=kind)
        now = timezone.now()
        amount = balance.amount
        entries = []
        for position, change in enumerate(checked):
            amount += change.amount
            entries.append(
                LedgerEntry(
                    workspace=workspace,
                    kind=kind,
                    entry_type=change.entry_type,
                    amount=change.amount,
                    balance_after=amount,
                    reason=change.reason,
                    reference=key if not key or not position else f"{key}#{position + 1}",
                    actor=who.user,
                    actor_label=who.label,
                    created_at=now,
                )
            )
        if not entries:
            return []
        try:
            with transaction.atomic():
                LedgerEntry.objects.for_workspace(workspace).bulk_create(entries)
        except IntegrityError:
            if not key:
                raise
            return []  # applied before: the event counts once
        balance.amount = amount
        balance.updated_at = now
        balance.period_total += sum(
            entry.amount for entry in entries if entry.entry_type in (EntryType.ALLOWANCE, EntryType.TOP_UP)
        )
        notify = balance.is_low and not balance.low_notice_sent
        if balance.is_low != balance.low_notice_sent:
            balance.low_notice_sent = balance.is_low
        balance.save(update_fields=["amount", "updated_at", "period_total", "low_notice_sent"])
        if notify:
            low_balance_notify(workspace=workspace, balance=balance)
    return entries


def _single_change_direct(
    *, workspace: Workspace, kind: str, change: Change, key: str, who: Actor
) -> list[LedgerEntry] | None:
    """The one-entry event (a usage debit, most of all) in three plain statements on PostgreSQL: the balance row
    locked and read, the entry inserted unless its reference was applied before (ON CONFLICT DO NOTHING, so no
    savepoint), the row updated. The same rules as the general path, at a fraction of its Python: the ORM's query
    building was most of a debit's cost (docs/benchmarks.md). None when the balance row does not exist yet: the
    general path makes it."""
    balance_table = Balance._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, amount, period_total, low_notice_sent FROM {balance_table} "
            "WHERE workspace_id = %s AND kind = %s FOR UPDATE",
            [workspace.pk, kind],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        now = timezone.now()
        entry = LedgerEntry(
            workspace=workspace,
            kind=kind,
            entry_type=change.entry_type,
            amount=change.amount,
            balance_after=row[1] + change.amount,
            reason=change.reason,
            reference=key,
            actor=who.user,
            actor_label=who.label,
            created_at=now,
        )
        cursor.execute(
            f"INSERT INTO {LedgerEntry._meta.db_table} "
            "(workspace_id, kind, entry_type, amount, balance_after, reason, reference, actor_id, actor_label, "
            "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
            [
                workspace.pk,
                kind,
                entry.entry_type,
                entry.amount,
                entry.balance_after,
                entry.reason,
                entry.reference,
                who.user.pk if who.user is not None else None,
                entry.actor_label,
                now,
            ],
        )
        inserted = cursor.fetchone()
        if inserted is None:
            return []  # applied before: the event counts once
        balance = Balance(
            pk=row[0],
            workspace=workspace,
            kind=kind,
            amount=entry.balance_after,
            period_total=row[2]
            + (change.amount if change.entry_type in (EntryType.ALLOWANCE, EntryType.TOP_UP) else 0),
            low_notice_sent=row[3],
            updated_at=now,
        )
        notify = balance.is_low and not balance.low_notice_sent
        balance.low_notice_sent = balance.is_low
        cursor.execute(
            f"UPDATE {balance_table} SET amount = %s, period_total = %s, low_notice_sent = %s, "
            "updated_at = %s WHERE id = %s",
            [balance.amount, balance.period_total, balance.low_notice_sent, now, balance.pk],
        )
    entry.pk = inserted[0]
    entry._state.adding = False
    entry._state.db = connection.alias
    if notify:
        low_balance_notify(workspace=workspace, balance=balance)
    return [entry]


def low_balance_notify(*, workspace: Workspace, balance: Balance) -> None:
    """One email to the workspace's owners and admins for this crossing, after the commit, and an audit row."""
    audit_record(
        workspace=workspace,
        actor=Actor(system="billing"),
        action="balance.low",
        target=balance,
        changes={"kind": balance.kind, "remaining": balance.amount, "period_total": balance.period_total},
    )
    recipients = sorted(
        Membership.objects.for_workspace(workspace)
        .filter(role__in=[Role.OWNER, Role.ADMIN])
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return
    email_send_templated(
        to=recipients,
        template="low_balance",
        context={
            "workspace_name": workspace.name,
            "kind": balance.kind,
            "remaining": balance.amount,
            "period_total": balance.period_total,
            "percent": LOW_BALANCE_PERCENT,
            "url": site_link(reverse("billing:package_usage", kwargs={"workspace_slug": workspace.slug})),
        },
    )


def balance_top_up(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    kind: str,
    amount: int,
    reference: str,
    reason: str = "",
) -> list[LedgerEntry]:
    """Credit a paid top-up once: the outstanding part of a balance below zero is settled first, the rest is
    added (IDR 5,000 outstanding and a top-up of IDR 1,000,000: 5,000 settles it, 995,000 is added)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= AMOUNT_LIMIT:
        raise ValidationError({"amount": [_("A top-up is a positive whole number.")]})
    with transaction.atomic():
        balance = _balance_locked(workspace=workspace, kind=kind)
        settled, added = top_up_split(balance=balance.amount, amount=amount)
        changes = [Change(entry_type=EntryType.SETTLEMENT, amount=settled, reason=reason)] if settled else []
        if added:
            changes.append(Change(entry_type=EntryType.TOP_UP, amount=added, reason=reason))
        return balance_change(
            workspace=workspace, actor=actor, kind=kind, changes=changes, reference=reference
        )


def top_up_split(*, balance: int, amount: int) -> tuple[int, int]:
    """(settles the outstanding, is added): the rule `balance_top_up` applies, for forms that show it first."""
    settled = min(-balance, amount) if balance < 0 else 0
    return settled, amount - settled


def balance_period_open(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    kind: str,
    starts_on: date,
    allowance: int,
    reset: bool,
) -> list[LedgerEntry]:
    """Start a period: with `reset`, what remains of a positive balance lapses first (an outstanding stays
    owed); then the period's allowance is added. Once per period and balance."""
    if isinstance(allowance, bool) or not isinstance(allowance, int) or not 0 <= allowance <= AMOUNT_LIMIT:
        raise ValidationError({"allowance": [_("An allowance is a whole number, zero or more.")]})
    reference = f"period:{starts_on.isoformat()}"
    with transaction.atomic():
        balance = _balance_locked(workspace=workspace, kind=kind)
        # A period opens once, and never before the current one (a job that runs late, a zone changed backwards);
        # both are read under the balance's lock, so a concurrent opening waits and then finds it done.
        if balance.period_start is not None and starts_on <= balance.period_start:
            return []
        if LedgerEntry.objects.for_workspace(workspace).filter(kind=kind, reference=reference).exists():
            return []
        changes = (
            [Change(entry_type=EntryType.RESET, amount=-balance.amount)]
            if reset and balance.amount > 0
            else []
        )
        changes.append(Change(entry_type=EntryType.ALLOWANCE, amount=allowance))
        balance.period_start = starts_on
        balance.period_total = 0
        balance.save(update_fields=["period_start", "period_total"])
        return balance_change(
            workspace=workspace, actor=actor, kind=kind, changes=changes, reference=reference
        )
