"""Identity resolution: one profile per customer across channels, and the pairs it could not tell apart.

`customer_resolve` is the one entry point of everything that brings customers in from outside (the event API, the
WhatsApp webhook, later the import): it finds the customer an event's identifiers name, in this order — the
channel's id for the person, the channel username, the phone in E.164, the email — or creates one, links what
the event taught about the customer, and flags other customers the identifiers pointed at as possible
duplicates. Two customers are never merged here: a person decides (docs/customers.md, "One profile across
channels").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.formatting import format_phone
from relasi.core.inputs import text_checked
from relasi.customers.cleaning import FIELD_LIMITS, added_by_label
from relasi.customers.junk import junk_email, junk_phone, junk_text
from relasi.customers.models import (
    Channel,
    ChannelIdentity,
    ClaimKind,
    ContactClaim,
    Customer,
    DuplicateReason,
    IdentityKind,
    PossibleDuplicate,
)
from relasi.customers.normalize import normalize_email, normalize_phone, normalize_username
from relasi.customers.timeline import timeline_record
from relasi.tenancy.models import Workspace

# A concurrent event that created the same new customer first makes our insert fail: resolving again finds it.
# Two retries are enough (the second attempt sees the winner's committed rows); a third failure is a real error.
MAX_ATTEMPTS = 3
# Customers kept with the same phone or email on purpose can be many: the event flags at most this many.
MAX_FLAGGED = 5
# What each identifier is bounded to before anything else looks at it (the columns that store them).
IDENTIFIER_LIMITS = {
    "channel": 16,
    "external_id": 200,
    "username": 200,
    "phone": FIELD_LIMITS["phone"],
    "email": FIELD_LIMITS["email"],
    "full_name": FIELD_LIMITS["full_name"],
}


@dataclass(frozen=True)
class Identifiers:
    """What an inbound event says about who it is from. Every field is optional; values are as sent."""

    channel: str = ""
    # The channel's own id for the person; for WhatsApp the business-scoped user id (`user_id`).
    external_id: str = ""
    # The WhatsApp or Instagram username, when the channel sent one.
    username: str = ""
    # Any form: 0812…, +62812…, 62812….
    phone: str = ""
    email: str = ""
    full_name: str = ""


@dataclass(frozen=True)
class Resolution:
    customer: Customer
    created: bool
    # What found the customer: "identity", "username", "phone", "email", or "new".
    matched: str
    # Other customers the identifiers pointed at, now (or already) an open possible-duplicate pair with it.
    possible_duplicate_ids: tuple[int, ...] = ()
    # Identifiers the event taught about the customer: "identity", "username", "phone", "email".
    linked: tuple[str, ...] = ()
    # Identifiers neither matched nor stored: junk ("0", "null", 08888888888...) or not a phone or email.
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class CleanIdentifiers:
    channel: str = ""
    external_id: str = ""
    username: str = ""
    phone: str = ""
    phone_raw: str = ""
    email: str = ""
    full_name: str = ""
    ignored: tuple[str, ...] = ()


def identifiers_clean(identifiers: Identifiers) -> CleanIdentifiers:
    """Bounded (length, NUL), normalised, junk and unreadable values dropped. ValidationError only for what the
    caller must fix: an over-long or broken value, an unknown channel, an id or username without a channel."""
    errors: dict[str, list[str]] = {}
    text: dict[str, str] = {}
    for name, limit in IDENTIFIER_LIMITS.items():
        try:
            text[name] = text_checked(getattr(identifiers, name), max_length=limit)
        except ValidationError as error:
            errors[name] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    channel = text["channel"].lower()
    if channel and channel not in Channel.values:
        raise ValidationError({"channel": [_("Unknown channel: use one of %s.") % ", ".join(Channel.values)]})
    ignored: list[str] = []
    external_id = text["external_id"]
    if external_id and junk_text(external_id):
        ignored.append("external_id")
        external_id = ""
    username = normalize_username(text["username"])
    if text["username"] and (not username or junk_text(username)):
        ignored.append("username")
        username = ""
    if (external_id or username) and not channel:
        raise ValidationError({"channel": [_("Name the channel of the id or username.")]})
    phone = ""
    if text["phone"]:
        try:
            phone = normalize_phone(text["phone"])
        except ValidationError:
            phone = ""
        if phone and junk_phone(phone):
            phone = ""
        if not phone:
            ignored.append("phone")
    email = ""
    if text["email"]:
        try:
            email = normalize_email(text["email"])
        except ValidationError:
            email = ""
        if email and junk_email(email):
            email = ""
        if not email:
            ignored.append("email")
    full_name = "" if junk_text(text["full_name"]) else text["full_name"]
    return CleanIdentifiers(
        channel=channel,
        external_id=external_id,
        username=username,
        phone=phone,
        phone_raw=text["phone"] if phone else "",
        email=email,
        full_name=full_name,
        ignored=tuple(ignored),
    )


def customer_resolve(
    *, workspace: Workspace, actor: Actor | User | None, identifiers: Identifiers
) -> Resolution:
    """The customer the identifiers name, created when none does; see the module's docstring for the order.

    Concurrent events for the same new identifier create one customer: each creation inserts a unique row (the
    channel identity, or a ContactClaim for a phone or email) in a savepoint; the event that loses the race gets an
    IntegrityError, and resolving again finds the winner's customer. Nothing checks first and inserts after.
    """
    clean = identifiers_clean(identifiers)
    who = actor_of(actor)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _resolve_once(workspace=workspace, who=who, clean=clean)
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class _Found:
    """What the identifiers point at, in the resolution order."""

    # (match, customer) for each live customer found, in order; a customer appears once, at its best match.
    matches: list[tuple[str, Customer]] = field(default_factory=list)
    # Identity rows and claims found, locked until the transaction ends, by kind.
    identities: dict[str, ChannelIdentity] = field(default_factory=dict)
    claims: dict[str, ContactClaim] = field(default_factory=dict)

    def add(self, match: str, customer: Customer) -> None:
        if customer.deleted_at is None and all(found.pk != customer.pk for _match, found in self.matches):
            self.matches.append((match, customer))


def _lookups(*, workspace: Workspace, clean: CleanIdentifiers) -> _Found:
    found = _Found()
    # Locks first (the identity rows and claims), lookups of customers after: on PostgreSQL each statement sees
    # what committed before it, so an event that waited for a lock finds the customer the other event created.
    identities = ChannelIdentity.objects.for_workspace(workspace).select_for_update(of=("self",))
    for kind, value in ((IdentityKind.ID, clean.external_id), (IdentityKind.USERNAME, clean.username)):
        if value:
            row = (
                identities.select_related("customer")
                .filter(channel=clean.channel, kind=kind, external_id=value)
                .first()
            )
            if row is not None:
                found.identities[kind] = row
    claims = ContactClaim.objects.for_workspace(workspace).select_for_update()
    for claim_kind, value in ((ClaimKind.PHONE, clean.phone), (ClaimKind.EMAIL, clean.email)):
        if value:
            claim = claims.filter(kind=claim_kind, value=value).first()
            if claim is not None:
                found.claims[claim_kind] = claim
    # A deleted customer (deleted_at set) is never matched: it sits in the Deleted view, maybe on its way to the
    # purge, and events attached to it would vanish with it. The event goes to a live customer instead (found by
    # the next identifier, or created), and the identity rows and claims that pointed at the deleted one move to
    # it (`_link`), so the next event finds it directly. Restoring the deleted customer later brings it back
    # without them; a person can compare the two.
    if "id" in found.identities:
        found.add("identity", found.identities["id"].customer)
    if "username" in found.identities:
        found.add("username", found.identities["username"].customer)
    customers = Customer.objects.for_workspace(workspace).filter(deleted_at__isnull=True)
    for column, value in (("phone", clean.phone), ("email", clean.email)):
        if value:
            # The oldest first: with several customers of one phone, the first one known is the best guess.
            for customer in customers.filter(**{column: value}).order_by("id")[: MAX_FLAGGED + 1]:
                found.add(column, customer)
    return found


def _resolve_once(*, workspace: Workspace, who: Actor, clean: CleanIdentifiers) -> Resolution:
    found = _lookups(workspace=workspace, clean=clean)
    now = timezone.now()
    if found.matches:
        matched, customer = found.matches[0]
        created = False
    else:
        matched, created = "new", True
        customer = Customer(
            workspace=workspace,
            full_name=clean.full_name or customer_fallback_name(clean),
            source=clean.channel,
            added_by=who.user,
            added_by_label=added_by_label(who),
            # Nobody holds the phone or email (nothing matched): the new customer is inserted with them, and
            # `_link` claims them.
            phone=clean.phone,
            phone_raw=clean.phone_raw,
            email=clean.email,
            created_at=now,
            updated_at=now,
        )
        customer.save()
    linked = _link(workspace=workspace, customer=customer, clean=clean, found=found, now=now, new=created)
    if created:
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.created",
            target=customer,
            changes={"via": "identity resolution", "full_name": customer.full_name, "linked": linked},
        )
        timeline_record(
            workspace=workspace,
            customer_ids=[customer.pk],
            actor=who,
            action="customer.created",
            summary={"name": customer.full_name},
            at=now,
        )
    elif linked:
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.identified",
            target=customer,
            changes={"linked": linked},
        )
        timeline_record(
            workspace=workspace,
            customer_ids=[customer.pk],
            actor=who,
            action="customer.identified",
            summary={"linked": linked},
            at=now,
        )
    flagged = [
        other.pk
        for match, other in found.matches[1 : MAX_FLAGGED + 1]
        if _flag(workspace=workspace, who=who, customer=customer, other=other, reason=match, now=now)
    ]
    return Resolution(
        customer=customer,
        created=created,
        matched=matched,
        possible_duplicate_ids=tuple(flagged),
        linked=tuple(linked),
        ignored=clean.ignored,
    )


def customer_fallback_name(clean: CleanIdentifiers) -> str:
    """A new customer's name when the event sent none: what people will recognise them by."""
    if clean.username:
        return f"@{clean.username}"
    if clean.phone:
        return format_phone(clean.phone)
    if clean.email:
        return clean.email
    return f"{Channel(clean.channel).label} {clean.external_id}" if clean.channel else "—"


def _link(
    *,
    workspace: Workspace,
    customer: Customer,
    clean: CleanIdentifiers,
    found: _Found,
    now: Any,
    new: bool = False,
) -> dict[str, Any]:
    """Give the customer the identifiers it lacks; what changed, for the audit row and the timeline.

    An identifier that already belongs to another live customer stays theirs (that pair is flagged instead);
    one that belonged to a deleted customer moves here. A `new` customer was inserted with the phone and email
    already (one write instead of two): they are linked all the same.
    """
    linked: dict[str, Any] = {}
    identities = ChannelIdentity.objects.for_workspace(workspace)
    for kind, value, name in (
        (IdentityKind.ID, clean.external_id, "identity"),
        (IdentityKind.USERNAME, clean.username, "username"),
    ):
        if not value:
            continue
        row = found.identities.get(kind)
        if row is None:
            # A concurrent event may insert the same row first: the IntegrityError makes the caller resolve again.
            identities.create(customer=customer, channel=clean.channel, kind=kind, external_id=value)
            linked[name] = f"{clean.channel}:{value}"
        elif row.customer_id != customer.pk and row.customer.deleted_at is not None:
            linked[name] = f"{clean.channel}:{value}"
            linked[f"{name}_moved_from"] = row.customer_id
            row.customer = customer
            row.save(update_fields=["customer"])
    changed: list[str] = []
    for claim_kind, value in ((ClaimKind.PHONE, clean.phone), (ClaimKind.EMAIL, clean.email)):
        if not value:
            continue
        held_by_other = any(match == claim_kind and other.pk != customer.pk for match, other in found.matches)
        if held_by_other:
            continue  # another customer's phone or email stays theirs: the pair is flagged instead
        if new:
            linked[claim_kind] = value
        elif not getattr(customer, claim_kind):
            setattr(customer, claim_kind, value)
            if claim_kind == ClaimKind.PHONE:
                customer.phone_raw = clean.phone_raw
                changed.append("phone_raw")
            changed.append(claim_kind)
            linked[claim_kind] = value
        if getattr(customer, claim_kind) != value:
            continue  # the customer keeps its own value; the event's one stays unclaimed
        claim = found.claims.get(claim_kind)
        if claim is None:
            if not any(match == claim_kind for match, _other in found.matches):
                # The first customer to hold this value through resolution: a concurrent event that inserts the
                # same claim first makes this one fail, and the caller resolves again (finding that customer).
                ContactClaim.objects.for_workspace(workspace).create(
                    kind=claim_kind, value=value, customer=customer, created_at=now
                )
        elif claim.customer_id != customer.pk and not any(
            match == claim_kind and other.pk == claim.customer_id for match, other in found.matches
        ):
            # The claimed customer was deleted, or no longer has this value: the claim follows the value.
            claim.customer = customer
            claim.save(update_fields=["customer"])
    if changed:
        customer.updated_at = now
        customer.save(update_fields=[*changed, "updated_at"])
    return linked


def _flag(
    *, workspace: Workspace, who: Actor, customer: Customer, other: Customer, reason: str, now: Any
) -> bool:
    """Record the pair as a possible duplicate (once); False when a person already said it is not one."""
    low, high = sorted((customer.pk, other.pk))
    pairs = PossibleDuplicate.objects.for_workspace(workspace)
    existing = pairs.filter(customer_low_id=low, customer_high_id=high).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = pairs.create(
                    customer_low_id=low, customer_high_id=high, reason=DuplicateReason(reason), created_at=now
                )
        except IntegrityError:
            # Flagged by a concurrent event meanwhile: the pair exists, which is all this wanted.
            existing = pairs.filter(customer_low_id=low, customer_high_id=high).first()
            return existing is not None and existing.dismissed_at is None
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.possible_duplicate",
            target=existing,
            changes={"customers": [low, high], "reason": reason},
        )
    return existing.dismissed_at is None


def possible_duplicate_dismiss(
    *, workspace: Workspace, actor: Actor | User | None, duplicate_id: int
) -> PossibleDuplicate:
    """ "Not a duplicate": the pair leaves the list and is not flagged again. Dismissing a dismissed pair changes
    nothing. Every member may decide (like editing either customer)."""
    with transaction.atomic():
        pair = PossibleDuplicate.objects.locked_or_404(workspace, duplicate_id)
        if pair.dismissed_at is not None:
            return pair
        who = actor_of(actor)
        pair.dismissed_at = timezone.now()
        pair.dismissed_by = who.user
        pair.dismissed_by_label = who.label
        pair.save(update_fields=["dismissed_at", "dismissed_by", "dismissed_by_label"])
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.duplicate_dismissed",
            target=pair,
            changes={"customers": [pair.customer_low_id, pair.customer_high_id], "reason": pair.reason},
        )
        timeline_record(
            workspace=workspace,
            customer_ids=[pair.customer_low_id, pair.customer_high_id],
            actor=who,
            action="duplicate.dismissed",
            record_kind="possible_duplicate",
            record_id=pair.pk,
            summary={"customers": [pair.customer_low_id, pair.customer_high_id]},
            at=pair.dismissed_at,
        )
    return pair
