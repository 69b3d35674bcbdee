"""Who an import row is a duplicate of: channel identity, then phone, then email, in the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from relasi.customers.imports.job import ImportJob
from relasi.customers.imports.rows import ImportRow
from relasi.customers.models import ChannelIdentity, Customer, DuplicateMatch, IdentityKind


@dataclass(eq=False)
class Pending:
    """A customer this batch creates: its column values, and its id once inserted."""

    attrs: dict[str, Any]
    pk: int | None = None

    @property
    def full_name(self) -> str:
        return str(self.attrs["full_name"])


Ref = int | Pending  # an existing customer (its id) or one this batch creates


def identity_of(cleaned: dict[str, Any]) -> tuple[str, str] | None:
    if cleaned.get("channel_username") and cleaned.get("source"):
        return (cleaned["source"], cleaned["channel_username"])
    return None


def ref_pk(ref: Ref) -> int:
    if isinstance(ref, Pending):
        assert ref.pk is not None, "inserted before its identities"
        return ref.pk
    return ref


def attrs_merge(attrs: dict[str, Any], cleaned: dict[str, Any]) -> None:
    """Fold a row's cleaned values into the column values of a customer this batch creates."""
    for key, value in cleaned.items():
        if key == "properties":
            attrs["properties"] = {**attrs.get("properties", {}), **value}
        elif key != "channel_username":
            attrs[key] = value


def _matching(queryset: QuerySet[Any], column: str, values: set[str]) -> QuerySet[Any]:
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands: binding long IN lists costs more than the query.
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        condition = RawSQL(
            f"{table}.{connection.ops.quote_name(column)} = ANY(%s)",
            (list(values),),
            output_field=BooleanField(),
        )
        return queryset.filter(condition)
    return queryset.filter(**{f"{column}__in": values})


class MatchIndex:
    """Built once per batch with a few lookups; then kept up to date as the batch creates and updates
    customers, so a row also matches the rows before it in the same batch (earlier batches are in the
    database already)."""

    def __init__(self, job: ImportJob, rows: list[ImportRow]) -> None:
        pairs = {identity for row in rows if (identity := identity_of(row.cleaned)) is not None}
        phones = {row.cleaned["phone"] for row in rows if row.cleaned.get("phone")}
        emails = {row.cleaned["email"] for row in rows if row.cleaned.get("email")}
        customers = Customer.objects.for_workspace(job.workspace)
        self.by_identity: dict[tuple[str, str], Ref] = dict(self._identities(job, pairs))
        owners = {ref for ref in self.by_identity.values() if isinstance(ref, int)}
        self.deleted: set[int] = set()
        if owners:
            self.deleted = set(
                customers.filter(pk__in=owners, deleted_at__isnull=False).values_list("pk", flat=True)
            )
        self.by_phone: dict[str, Ref] = self._first_live_by(customers, "phone", phones)
        self.by_email: dict[str, Ref] = self._first_live_by(customers, "email", emails)
        self.customers: dict[int, Customer] = {}
        if job.update:
            found: set[int] = set()
            for refs in (self.by_identity, self.by_phone, self.by_email):
                found.update(ref for ref in refs.values() if isinstance(ref, int))
            self.customers = {customer.pk: customer for customer in customers.filter(pk__in=found)}

    @staticmethod
    def _identities(job: ImportJob, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        if not pairs:
            return {}
        # The channel too, so the (workspace, channel, external_id) index is used in full.
        identities = ChannelIdentity.objects.for_workspace(job.workspace).filter(
            channel__in={channel for channel, _username in pairs}, kind=IdentityKind.USERNAME
        )
        found: dict[tuple[str, str], int] = {}
        for channel, external_id, customer_id in _matching(
            identities, "external_id", {username for _channel, username in pairs}
        ).values_list("channel", "external_id", "customer_id"):
            if (channel, external_id) in pairs:
                found[(channel, external_id)] = customer_id
        return found

    @staticmethod
    def _first_live_by(customers: QuerySet[Customer], column: str, values: set[str]) -> dict[str, Ref]:
        """The first live customer (by id) for each value.

        Deliberately without `deleted_at IS NULL` in the SQL: the trigram search indexes are partial on live
        rows, so a query that does not say "live" can only use the plain (workspace, column) index. With the
        condition, PostgreSQL sometimes planned the lookup of 2,000 phones on the phone's trigram index (its
        equality support), which took seconds a batch in a workspace that already had customers.
        """
        first: dict[str, Ref] = {}
        if values:
            rows = _matching(customers, column, values).order_by("pk").values_list("pk", column, "deleted_at")
            for pk, value, deleted_at in rows:
                if deleted_at is None:
                    first.setdefault(value, pk)
        return first

    def match(self, cleaned: dict[str, Any]) -> tuple[Ref, tuple[str, str]] | None:
        """The customer the row duplicates, and what matched: (DuplicateMatch, the value)."""
        identity = identity_of(cleaned)
        if identity is not None and identity in self.by_identity:
            return self.by_identity[identity], (DuplicateMatch.IDENTITY, f"{identity[0]}: {identity[1]}")
        phone = cleaned.get("phone")
        if phone and phone in self.by_phone:
            return self.by_phone[phone], (DuplicateMatch.PHONE, phone)
        email = cleaned.get("email")
        if email and email in self.by_email:
            return self.by_email[email], (DuplicateMatch.EMAIL, email)
        return None

    def register(self, ref: Ref, before: tuple[str, str], after: tuple[str, str]) -> None:
        """Make later rows of the batch see the customer as it is now (its phone or email may have changed)."""
        for index, old, new in ((self.by_phone, before[0], after[0]), (self.by_email, before[1], after[1])):
            if old and old != new and index.get(old) is ref:
                del index[old]
            if new:
                index.setdefault(new, ref)
