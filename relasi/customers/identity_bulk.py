"""Identity resolution for a batch at once: the same decisions as `identity.customer_resolve`, with the batch's
identity rows, claims and customers read in three queries and the new ones written with one insert per table.

It takes the common cases only — every identifier of an event names nothing yet (a new customer) or one live
customer that needs no change but new identity rows or a missing claim — and refuses the rest with
`PlanRefused` before it has written anything: a flagged pair, an identity or claim that moves from a deleted
customer, a phone or email given to a customer that had none. The caller then applies the batch event by event
through `customer_resolve`, which handles everything. A concurrent batch that inserts the same new identifier
first makes `write` fail with IntegrityError; the caller rolls back and does the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from relasi.core.audit import Actor
from relasi.customers.cleaning import added_by_label
from relasi.customers.identity import CleanIdentifiers, customer_fallback_name
from relasi.customers.journal import Journal
from relasi.customers.models import ChannelIdentity, ClaimKind, ContactClaim, Customer, IdentityKind
from relasi.tenancy.models import Workspace


class PlanRefused(Exception):
    """The batch holds a case the set-based path does not take; nothing was written."""


def same_customer(one: Customer, other: Customer) -> bool:
    # A customer read twice is two objects with one id; a planned one has no id yet and is only itself.
    return one is other or (one.pk is not None and one.pk == other.pk)


@dataclass
class IdentityPlan:
    workspace: Workspace
    actor: Actor
    journal: Journal
    now: datetime
    # (channel, kind, value) → the customer holding that identity (read, or planned by this batch).
    _identities: dict[tuple[str, str, str], Customer] = field(default_factory=dict)
    # (kind, value) → the customer the claim names; planned claims too.
    _claims: dict[tuple[str, str], Customer] = field(default_factory=dict)
    # "phone"/"email" → value → the live customers holding it, oldest first (at most two are read: two is a pair).
    _holders: dict[str, dict[str, list[Customer]]] = field(default_factory=dict)
    _new_customers: list[Customer] = field(default_factory=list)
    _new_identities: list[ChannelIdentity] = field(default_factory=list)
    _new_claims: list[ContactClaim] = field(default_factory=list)

    def read(self, cleans: list[CleanIdentifiers]) -> None:
        """Lock the identity rows and claims the batch names (in id order, as concurrent batches do) and read the
        live customers holding its phones and emails."""
        ids = {(clean.channel, IdentityKind.ID, clean.external_id) for clean in cleans if clean.external_id}
        ids |= {(clean.channel, IdentityKind.USERNAME, clean.username) for clean in cleans if clean.username}
        if ids:
            rows = (
                ChannelIdentity.objects.for_workspace(self.workspace)
                .select_for_update(of=("self",))
                .select_related("customer")
                .filter(external_id__in=sorted({value for _channel, _kind, value in ids}))
                .order_by("pk")
            )
            for row in rows:
                if (row.channel, row.kind, row.external_id) in ids:
                    self._identities[(row.channel, row.kind, row.external_id)] = row.customer
        values: dict[str, list[str]] = {
            kind: sorted({getattr(clean, kind) for clean in cleans if getattr(clean, kind)})
            for kind in (ClaimKind.PHONE, ClaimKind.EMAIL)
        }
        if values[ClaimKind.PHONE] or values[ClaimKind.EMAIL]:
            claims = (
                ContactClaim.objects.for_workspace(self.workspace)
                .select_for_update(of=("self",))
                .select_related("customer")
                .filter(value__in=values[ClaimKind.PHONE] + values[ClaimKind.EMAIL])
                .order_by("pk")
            )
            for claim in claims:
                if claim.value in values.get(claim.kind, ()):
                    self._claims[(claim.kind, claim.value)] = claim.customer
        for column in (ClaimKind.PHONE, ClaimKind.EMAIL):
            holders: dict[str, list[Customer]] = {}
            if values[column]:
                ranked = (
                    Customer.objects.for_workspace(self.workspace)
                    .filter(deleted_at__isnull=True, **{f"{column}__in": values[column]})
                    .annotate(rank=Window(RowNumber(), partition_by=[F(column)], order_by=F("id").asc()))
                    .filter(rank__lte=2)
                    .order_by("id")
                )
                for customer in ranked:
                    holders.setdefault(getattr(customer, column), []).append(customer)
            self._holders[column] = holders

    def resolve(self, clean: CleanIdentifiers) -> tuple[Customer, bool]:
        """The customer the identifiers name (planned when new) and whether this call planned it."""
        matches: list[tuple[str, Customer]] = []

        def add(match: str, customer: Customer) -> None:
            if not any(same_customer(found, customer) for _match, found in matches):
                matches.append((match, customer))

        for kind, value, match in (
            (IdentityKind.ID, clean.external_id, "identity"),
            (IdentityKind.USERNAME, clean.username, "username"),
        ):
            holder = self._identities.get((clean.channel, kind, value)) if value else None
            if holder is not None:
                if holder.deleted_at is not None:
                    raise PlanRefused("an identity of a deleted customer moves")
                add(match, holder)
        for column in (ClaimKind.PHONE, ClaimKind.EMAIL):
            value = getattr(clean, column)
            for holder in self._holders[column].get(value, []) if value else []:
                add(column, holder)
        if len(matches) > 1:
            raise PlanRefused("the identifiers name two customers")
        if not matches:
            return self._customer_new(clean), True
        match, customer = matches[0]
        self._customer_link(clean=clean, customer=customer, matched=match)
        return customer, False

    def _customer_new(self, clean: CleanIdentifiers) -> Customer:
        for kind in (ClaimKind.PHONE, ClaimKind.EMAIL):
            value = getattr(clean, kind)
            if value and (kind, value) in self._claims:
                raise PlanRefused("a claim moves to the new customer")
        customer = Customer(
            workspace=self.workspace,
            full_name=clean.full_name or customer_fallback_name(clean),
            source=clean.channel,
            added_by=self.actor.user,
            added_by_label=added_by_label(self.actor),
            phone=clean.phone,
            phone_raw=clean.phone_raw,
            email=clean.email,
            created_at=self.now,
            updated_at=self.now,
        )
        self._new_customers.append(customer)
        linked = self._identities_add(clean=clean, customer=customer)
        for kind in (ClaimKind.PHONE, ClaimKind.EMAIL):
            value = getattr(clean, kind)
            if value:
                linked[kind] = value
                self._claim_add(kind=kind, value=value, customer=customer)
                self._holders[kind].setdefault(value, []).append(customer)
        self.journal.audit(
            action="customer.created",
            target=customer,
            changes={"via": "identity resolution", "full_name": customer.full_name, "linked": linked},
        )
        self.journal.timeline(
            action="customer.created",
            customers=lambda: [customer.pk],
            at=self.now,
            summary={"name": customer.full_name},
        )
        return customer

    def _customer_link(self, *, clean: CleanIdentifiers, customer: Customer, matched: str) -> None:
        linked = self._identities_add(clean=clean, customer=customer)
        for kind in (ClaimKind.PHONE, ClaimKind.EMAIL):
            value = getattr(clean, kind)
            if not value:
                continue
            held = getattr(customer, kind)
            if not held:
                raise PlanRefused("the customer gains a phone or an email")
            if held != value:
                continue  # the customer keeps its own value; the event's one stays unclaimed
            claimant = self._claims.get((kind, value))
            if claimant is None:
                if matched != kind:
                    # Found by another identifier, holding this value unclaimed: the claim is made.
                    self._claim_add(kind=kind, value=value, customer=customer)
            elif not same_customer(claimant, customer):
                raise PlanRefused("a claim moves to the customer")
        if linked:
            self.journal.audit(action="customer.identified", target=customer, changes={"linked": linked})
            self.journal.timeline(
                action="customer.identified",
                customers=lambda: [customer.pk],
                at=self.now,
                summary={"linked": linked},
            )

    def _identities_add(self, *, clean: CleanIdentifiers, customer: Customer) -> dict[str, Any]:
        linked: dict[str, Any] = {}
        for kind, value, name in (
            (IdentityKind.ID, clean.external_id, "identity"),
            (IdentityKind.USERNAME, clean.username, "username"),
        ):
            if value and (clean.channel, kind, value) not in self._identities:
                self._new_identities.append(
                    ChannelIdentity(
                        workspace=self.workspace,
                        customer=customer,
                        channel=clean.channel,
                        kind=kind,
                        external_id=value,
                    )
                )
                self._identities[(clean.channel, kind, value)] = customer
                linked[name] = f"{clean.channel}:{value}"
        return linked

    def _claim_add(self, *, kind: str, value: str, customer: Customer) -> None:
        self._new_claims.append(
            ContactClaim(
                workspace=self.workspace, kind=kind, value=value, customer=customer, created_at=self.now
            )
        )
        self._claims[(kind, value)] = customer

    def write(self) -> None:
        """Insert the planned customers (which gives them their ids), then their identity rows and claims. A
        unique row inserted meanwhile by a concurrent batch raises IntegrityError."""
        Customer.objects.for_workspace(self.workspace).bulk_create(self._new_customers)
        for identity in self._new_identities:
            identity.customer_id = identity.customer.pk
        for claim in self._new_claims:
            claim.customer_id = claim.customer.pk
        ChannelIdentity.objects.for_workspace(self.workspace).bulk_create(self._new_identities)
        ContactClaim.objects.for_workspace(self.workspace).bulk_create(self._new_claims)
