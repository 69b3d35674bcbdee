"""Writes for the Customer Data Platform. Every write is atomic and audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record, audit_record_many
from relasi.customers.models import (
    Channel,
    ChannelIdentity,
    Customer,
    CustomerView,
    PropertyDefinition,
    PropertyKind,
)
from relasi.customers.normalize import normalize_email, normalize_phone, normalize_username
from relasi.customers.properties import KEY_PATTERN, clean_property_value
from relasi.customers.sample import sample_customers
from relasi.customers.selectors import restorable_since
from relasi.tenancy.models import Membership, Workspace

DEFAULT_STATUSES = ["Lead", "Prospect", "Customer", "Inactive"]

# key, label, kind: the additional fields every workspace starts with (shown, can be hidden).
# Labels are stored in English and marked for translation, so pages show them in the reader's language.
BUILTIN_PROPERTIES: list[tuple[str, str, str]] = [
    ("source", gettext_noop("Channel"), PropertyKind.SELECT),
    ("channel_username", gettext_noop("Username (channel)"), PropertyKind.TEXT),
    ("phone", gettext_noop("Phone number"), PropertyKind.PHONE),
    ("email", gettext_noop("Email"), PropertyKind.EMAIL),
    ("status", gettext_noop("Status"), PropertyKind.SELECT),
    ("job_title", gettext_noop("Job title"), PropertyKind.TEXT),
    ("province", gettext_noop("Province"), PropertyKind.TEXT),
    ("city", gettext_noop("Regency/City"), PropertyKind.TEXT),
    ("district", gettext_noop("District"), PropertyKind.TEXT),
    ("subdistrict", gettext_noop("Subdistrict"), PropertyKind.TEXT),
    ("zip_code", gettext_noop("Zip code"), PropertyKind.TEXT),
]
BUILTIN_KEYS = frozenset(key for key, _label, _kind in BUILTIN_PROPERTIES)
TEXT_COLUMNS = {
    "job_title": 120,
    "province": 80,
    "city": 80,
    "district": 80,
    "subdistrict": 80,
    "zip_code": 10,
}
RESERVED_KEYS = BUILTIN_KEYS | {
    "full_name",
    "owner",
    "assignee",
    "added_by",
    "updated_at",
    "created_at",
    "id",
    "name",
}


def properties_ensure_builtin(*, workspace: Workspace) -> None:
    """Create the built-in property definitions a workspace is missing (safe to repeat)."""
    rows = [
        PropertyDefinition(
            workspace=workspace,
            key=key,
            label=label,
            kind=kind,
            is_builtin=True,
            position=position,
            options=DEFAULT_STATUSES if key == "status" else [],
        )
        for position, (key, label, kind) in enumerate(BUILTIN_PROPERTIES)
    ]
    PropertyDefinition.unscoped.bulk_create(rows, ignore_conflicts=True)


# --- Customers -------------------------------------------------------------------------------------


class CustomerCleaner:
    """Validates customer input for one workspace; loads definitions and members once for many rows."""

    def __init__(self, *, workspace: Workspace) -> None:
        self.workspace = workspace
        definitions = list(PropertyDefinition.objects.for_workspace(workspace))
        self.builtin = {definition.key: definition for definition in definitions if definition.is_builtin}
        self.custom = {
            definition.key: definition
            for definition in definitions
            if not definition.is_builtin and definition.archived_at is None
        }
        self.member_ids = set(
            Membership.objects.filter(workspace=workspace).values_list("user_id", flat=True)
        )

    def clean(self, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Cleaned values for the given keys (all keys when not partial); ValidationError with every field's problem."""
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}

        def fail(field: str, error: ValidationError) -> None:
            errors.setdefault(field, []).extend(error.messages)

        if not partial or "full_name" in data:
            name = str(data.get("full_name") or "").strip()
            if not name:
                errors["full_name"] = [_("Full name is required.")]
            elif len(name) > 200:
                errors["full_name"] = [_("At most 200 characters.")]
            cleaned["full_name"] = name
        for field in ("owner", "assignee"):
            if field in data:
                cleaned[field] = self._member(field, data[field], errors)
        if "source" in data:
            source = str(data.get("source") or "").strip().lower()
            if source and source not in Channel.values:
                errors["source"] = [_("Choose one of the channels.")]
            cleaned["source"] = source
        if "channel_username" in data:
            cleaned["channel_username"] = normalize_username(str(data.get("channel_username") or ""))
            if cleaned["channel_username"] and not (cleaned.get("source") or data.get("_existing_source")):
                errors["source"] = [_("Choose the channel this username belongs to.")]
        if "phone" in data:
            raw = str(data.get("phone") or "").strip()
            try:
                cleaned["phone"] = normalize_phone(raw)
                cleaned["phone_raw"] = raw[:50]
            except ValidationError as error:
                fail("phone", error)
        if "email" in data:
            try:
                cleaned["email"] = normalize_email(str(data.get("email") or ""))
            except ValidationError as error:
                fail("email", error)
        if "status" in data:
            status = str(data.get("status") or "").strip()
            options = self.builtin["status"].options if "status" in self.builtin else DEFAULT_STATUSES
            if status and status not in options:
                errors["status"] = [
                    _("“%(value)s” is not one of the statuses: %(options)s.")
                    % {"value": status, "options": ", ".join(options)}
                ]
            cleaned["status"] = status
        for field, limit in TEXT_COLUMNS.items():
            if field in data:
                value = str(data.get(field) or "").strip()
                if len(value) > limit:
                    errors[field] = [_("At most %(limit)d characters.") % {"limit": limit}]
                cleaned[field] = value
        if "properties" in data or not partial:
            cleaned["properties"] = self._properties(data.get("properties") or {}, errors, partial=partial)
        if errors:
            raise ValidationError(errors)
        return cleaned

    def _member(self, field: str, value: Any, errors: dict[str, list[str]]) -> int | None:
        if value in (None, ""):
            return None
        try:
            user_id = int(value.pk if isinstance(value, User) else value)
        except (TypeError, ValueError):
            user_id = -1
        if user_id not in self.member_ids:
            errors[field] = [_("Choose a member of this workspace.")]
            return None
        return user_id

    def _properties(
        self, values: dict[str, Any], errors: dict[str, list[str]], *, partial: bool
    ) -> dict[str, Any]:
        cleaned: dict[str, Any] = {}
        if not isinstance(values, dict):
            errors["properties"] = [_("Properties must be an object of key → value.")]
            return cleaned
        for key, value in values.items():
            definition = self.custom.get(key)
            if definition is None:
                errors.setdefault(f"properties.{key}", []).append(
                    _("There is no property with the key “%(key)s”.") % {"key": key}
                )
                continue
            try:
                stored = clean_property_value(definition, value)
            except ValidationError as error:
                errors.setdefault(f"properties.{key}", []).extend(error.messages)
                continue
            cleaned[key] = stored
        if not partial:
            for key, definition in self.custom.items():
                if definition.is_required and cleaned.get(key) is None and key not in errors:
                    errors.setdefault(f"properties.{key}", []).append(
                        _("%(label)s is required.") % {"label": definition.label}
                    )
        return cleaned


def _apply(customer: Customer, cleaned: dict[str, Any]) -> dict[str, list[Any]]:
    """Set cleaned values on the customer; return the changes as {field: [before, after]}."""
    changes: dict[str, list[Any]] = {}
    for field, value in cleaned.items():
        if field in ("channel_username", "phone_raw"):
            continue
        if field == "properties":
            merged = {**customer.properties}
            for key, stored in value.items():
                if stored is None:
                    merged.pop(key, None)
                else:
                    merged[key] = stored
            if merged != customer.properties:
                changes["properties"] = [customer.properties, merged]
                customer.properties = merged
            continue
        attribute = f"{field}_id" if field in ("owner", "assignee") else field
        before = getattr(customer, attribute)
        if before != value:
            changes[field] = [before, value]
            setattr(customer, attribute, value)
    if "phone_raw" in cleaned and "phone" in changes:
        customer.phone_raw = cleaned["phone_raw"]
    return changes


def _link_identity(*, customer: Customer, channel: str, username: str) -> None:
    if not channel or not username:
        return
    try:
        with transaction.atomic():
            ChannelIdentity.objects.create(
                workspace=customer.workspace, customer=customer, channel=channel, external_id=username
            )
    except IntegrityError:
        owner = (
            ChannelIdentity.objects.for_workspace(customer.workspace)
            .filter(channel=channel, external_id=username)
            .first()
        )
        if owner is not None and owner.customer_id == customer.pk:
            return
        raise ValidationError(
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
    previous = customer.identities.filter(channel=customer.source).order_by("-id").first()
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
            added_by_label=_added_by_label(who),
            created_at=now,
            updated_at=now,
        )
        changes = _apply(customer, cleaned)
        customer.save()
        _link_identity(
            customer=customer, channel=customer.source, username=cleaned.get("channel_username", "")
        )
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer.created",
            target=customer,
            changes=_jsonable(changes),
        )
    return customer


def _added_by_label(who: Actor) -> str:
    if who.user is not None:
        return who.user.full_name or who.user.email
    if who.api_key is not None:
        return f"API: {who.api_key.name}"
    return "Relasi"


def customer_update(
    *, workspace: Workspace, actor: Actor | User | None, customer_id: int, data: dict[str, Any]
) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.locked_or_404(workspace, customer_id, deleted_at__isnull=True)
        cleaned = CustomerCleaner(workspace=workspace).clean(
            {**data, "_existing_source": customer.source}, partial=True
        )
        changes = _apply(customer, cleaned)
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
                changes=_jsonable(changes),
            )
    return customer


def customers_delete(*, workspace: Workspace, actor: Actor | User | None, customer_ids: Iterable[int]) -> int:
    """Soft-delete: the customers move to the Deleted view and can be restored for 30 days."""
    return _set_deleted(workspace=workspace, actor=actor, customer_ids=customer_ids, deleted=True)


def customers_restore(
    *, workspace: Workspace, actor: Actor | User | None, customer_ids: Iterable[int]
) -> int:
    return _set_deleted(workspace=workspace, actor=actor, customer_ids=customer_ids, deleted=False)


def _set_deleted(
    *, workspace: Workspace, actor: Actor | User | None, customer_ids: Iterable[int], deleted: bool
) -> int:
    # An id the database could not hold matches nothing (rather than failing the whole request).
    ids = [number for number in {int(value) for value in customer_ids} if 0 < number <= LARGEST_ID]
    with transaction.atomic():
        rows = (
            Customer.objects.for_workspace(workspace)
            .select_for_update()
            .filter(pk__in=ids, deleted_at__isnull=deleted)
        )
        if not deleted:
            # Past the retention period a customer waits for the purge and can no longer come back.
            rows = rows.filter(deleted_at__gte=restorable_since())
        targets = [
            (Customer._meta.label_lower, str(pk), name) for pk, name in rows.values_list("pk", "full_name")
        ]
        if not targets:
            return 0
        now = timezone.now()
        Customer.objects.for_workspace(workspace).filter(
            pk__in=[int(target[1]) for target in targets]
        ).update(deleted_at=now if deleted else None, updated_at=now)
        audit_record_many(
            workspace=workspace,
            actor=actor,
            action="customer.deleted" if deleted else "customer.restored",
            targets=targets,
        )
    return len(targets)


LARGEST_ID = 2**63 - 1


def customers_purge_deleted(*, now: datetime | None = None) -> int:
    """Remove for good the customers deleted more than the retention period ago (every workspace)."""
    cutoff = restorable_since(now)
    purged = 0
    workspace_ids = (
        Customer.unscoped.filter(deleted_at__lt=cutoff).values_list("workspace_id", flat=True).distinct()
    )
    for workspace in Workspace.objects.filter(pk__in=list(workspace_ids)):
        with transaction.atomic():
            expired = Customer.objects.for_workspace(workspace).filter(deleted_at__lt=cutoff)
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


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {
        field: [
            value if isinstance(value, str | int | float | bool | dict | list | type(None)) else str(value)
            for value in pair
        ]
        for field, pair in changes.items()
    }


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
    members = list(Membership.objects.filter(workspace=workspace).values_list("user_id", flat=True))
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
        Customer.unscoped.bulk_create(customers, batch_size=1000)
        ChannelIdentity.unscoped.bulk_create(
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
    from relasi.customers.selectors import customer_available_columns

    available = {column.key for column in customer_available_columns(workspace=workspace)}
    chosen: list[str] = []
    for key in columns:
        if key in available and key != "full_name" and key not in chosen:
            chosen.append(key)
    with transaction.atomic():
        view, _created = CustomerView.objects.for_workspace(workspace).update_or_create(
            workspace=workspace, user=user, defaults={"columns": chosen}
        )
    return view


# --- Property definitions ---------------------------------------------------------------------------------


def _clean_options(kind: str, options: Any) -> list[str]:
    if kind not in (PropertyKind.SELECT, PropertyKind.MULTISELECT):
        return []
    values = options if isinstance(options, list) else str(options or "").splitlines()
    cleaned: list[str] = []
    for option in values:
        text = str(option).strip()
        if text and text not in cleaned:
            cleaned.append(text[:100])
    if not cleaned:
        raise ValidationError({"options": [_("A select needs at least one option.")]})
    return cleaned


def property_create(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    label: str,
    key: str,
    kind: str,
    options: Any = None,
    is_required: bool = False,
) -> PropertyDefinition:
    errors: dict[str, list[str]] = {}
    label = label.strip()
    key = key.strip().lower()
    if not label:
        errors["label"] = [_("A label is required.")]
    if not KEY_PATTERN.match(key):
        errors["key"] = [_("Use lower-case letters, digits and underscores, starting with a letter.")]
    elif key in RESERVED_KEYS:
        errors["key"] = [_("“%(key)s” is a built-in field.") % {"key": key}]
    if kind not in PropertyKind.values:
        errors["kind"] = [_("Choose a property type.")]
    if errors:
        raise ValidationError(errors)
    cleaned_options = _clean_options(kind, options)
    with transaction.atomic():
        position = PropertyDefinition.objects.for_workspace(workspace).count()
        try:
            with transaction.atomic():
                definition = PropertyDefinition.objects.create(
                    workspace=workspace,
                    key=key,
                    label=label[:100],
                    kind=kind,
                    options=cleaned_options,
                    is_required=is_required,
                    position=position,
                )
        except IntegrityError:
            raise ValidationError({"key": [_("A property with this key already exists.")]}) from None
        audit_record(
            workspace=workspace,
            actor=actor,
            action="property.created",
            target=definition,
            changes={"key": key, "kind": kind},
        )
    return definition


def property_update(
    *, workspace: Workspace, actor: Actor | User | None, property_id: int, data: dict[str, Any]
) -> PropertyDefinition:
    """Change label, options, required, shown or order. Key and type are fixed once values exist."""
    with transaction.atomic():
        definition = PropertyDefinition.objects.locked_or_404(workspace, property_id)
        changes: dict[str, list[Any]] = {}
        if definition.is_builtin:
            _refuse_builtin_changes(definition, data)
        if "label" in data:
            label = str(data["label"] or "").strip()
            if not label:
                raise ValidationError({"label": [_("A label is required.")]})
            changes["label"] = [definition.label, label[:100]]
            definition.label = label[:100]
        if (
            "options" in data
            and definition.kind in (PropertyKind.SELECT, PropertyKind.MULTISELECT)
            and definition.key != "source"
        ):
            options = _clean_options(definition.kind, data["options"])
            changes["options"] = [definition.options, options]
            definition.options = options
        if "is_required" in data and not definition.is_builtin:
            changes["is_required"] = [definition.is_required, bool(data["is_required"])]
            definition.is_required = bool(data["is_required"])
        if "is_visible" in data:
            changes["is_visible"] = [definition.is_visible, bool(data["is_visible"])]
            definition.is_visible = bool(data["is_visible"])
        if "position" in data:
            changes["position"] = [definition.position, int(data["position"])]
            definition.position = int(data["position"])
        definition.save()
        audit_record(
            workspace=workspace, actor=actor, action="property.updated", target=definition, changes=changes
        )
    return definition


def _refuse_builtin_changes(definition: PropertyDefinition, data: dict[str, Any]) -> None:
    """Built-in fields are Relasi's own: their name (translated for each user) and their optional status stay."""
    errors: dict[str, list[str]] = {}
    if "label" in data and str(data["label"] or "").strip() != definition.label:
        errors["label"] = [_("A built-in field keeps its name; add a custom property for another one.")]
    if "is_required" in data and bool(data["is_required"]) != definition.is_required:
        errors["is_required"] = [_("A built-in field cannot be made required.")]
    if errors:
        raise ValidationError(errors)


def property_set_archived(
    *, workspace: Workspace, actor: Actor | User | None, property_id: int, archived: bool
) -> PropertyDefinition:
    """Archive (values kept, field hidden everywhere) or restore a custom property."""
    with transaction.atomic():
        definition = PropertyDefinition.objects.locked_or_404(workspace, property_id)
        if definition.is_builtin:
            raise ValidationError(_("Built-in fields can be hidden, not archived."))
        definition.archived_at = timezone.now() if archived else None
        definition.save(update_fields=["archived_at"])
        audit_record(
            workspace=workspace,
            actor=actor,
            action="property.archived" if archived else "property.restored",
            target=definition,
        )
    return definition


def properties_reorder(*, workspace: Workspace, actor: Actor | User | None, keys: list[str]) -> None:
    with transaction.atomic():
        definitions = {
            d.key: d for d in PropertyDefinition.objects.for_workspace(workspace).select_for_update()
        }
        for position, key in enumerate(key for key in keys if key in definitions):
            definitions[key].position = position
        PropertyDefinition.unscoped.bulk_update(list(definitions.values()), ["position"])
        audit_record(
            workspace=workspace,
            actor=actor,
            action="property.reordered",
            target=workspace,
            changes={"order": keys},
        )
