"""Writes for the Properties menu: the workspace's customer fields. Every write is atomic and audited; only
owners and admins (and API keys) may change them, whoever asks."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, audit_record
from relasi.core.inputs import text_checked
from relasi.core.validation import StateConflict
from relasi.customers.cleaning import BUILTIN_PROPERTIES, RESERVED_KEYS, default_statuses
from relasi.customers.models import PropertyDefinition, PropertyKind
from relasi.customers.properties import KEY_PATTERN
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission, permission_require

LABEL_MAX = 100
OPTION_MAX = 100
# The status is a column of the customer (60 characters); other selects live in the JSON properties.
STATUS_OPTION_MAX = 60
OPTIONS_MAX = 500


def properties_ensure_builtin(*, workspace: Workspace) -> None:
    """Create the built-in property definitions a workspace is missing (safe to repeat).

    The status options are in the active language, the one of whoever creates the workspace; a workspace that
    has its status property keeps its options.
    """
    statuses = default_statuses()
    rows = [
        PropertyDefinition(
            workspace=workspace,
            key=key,
            label=label,
            kind=kind,
            is_builtin=True,
            position=position,
            options=statuses if key == "status" else [],
        )
        for position, (key, label, kind) in enumerate(BUILTIN_PROPERTIES)
    ]
    PropertyDefinition.objects.for_workspace(workspace).bulk_create(rows, ignore_conflicts=True)


def _clean_options(kind: str, options: Any, *, key: str = "") -> list[str]:
    """The options of a select, each once, in order. The status options become a column of 60 characters.

    Other types keep no options, but what was sent is checked all the same: a request is valid or not whatever
    its type.
    """
    values = options if isinstance(options, list) else str(options or "").splitlines()
    if len(values) > OPTIONS_MAX:
        raise ValidationError({"options": [_("At most %(limit)d options.") % {"limit": OPTIONS_MAX}]})
    limit = STATUS_OPTION_MAX if key == "status" else OPTION_MAX
    cleaned: list[str] = []
    try:
        for option in values:
            text = text_checked(option, max_length=limit)
            if text and text not in cleaned:
                cleaned.append(text)
    except ValidationError as error:
        raise ValidationError({"options": error.messages}) from None
    if kind not in (PropertyKind.SELECT, PropertyKind.MULTISELECT):
        return []
    if not cleaned:
        raise ValidationError({"options": [_("A select needs at least one option.")]})
    return cleaned


def _label(value: Any) -> str:
    try:
        label = text_checked(value, max_length=LABEL_MAX)
    except ValidationError as error:
        raise ValidationError({"label": error.messages}) from None
    if not label:
        raise ValidationError({"label": [_("A label is required.")]})
    return label


def _checked_new_property(*, label: Any, key: str, kind: str) -> str:
    """The new property's label; ValidationError naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    try:
        label = _label(label)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not KEY_PATTERN.fullmatch(key):
        errors["key"] = [_("Use lower-case letters, digits and underscores, starting with a letter.")]
    elif key in RESERVED_KEYS:
        errors["key"] = [_("“%(key)s” is a built-in field.") % {"key": key}]
    if kind not in PropertyKind.values:
        errors["kind"] = [_("Choose a property type.")]
    if errors:
        raise ValidationError(errors)
    return str(label)


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
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_PROPERTIES)
    key = str(key).strip()
    label = _checked_new_property(label=label, key=key, kind=kind)
    cleaned_options = _clean_options(kind, options, key=key)
    with transaction.atomic():
        position = PropertyDefinition.objects.for_workspace(workspace).count()
        try:
            with transaction.atomic():
                definition = PropertyDefinition.objects.for_workspace(workspace).create(
                    key=key,
                    label=label,
                    kind=kind,
                    options=cleaned_options,
                    is_required=is_required,
                    position=position,
                )
        except IntegrityError:
            raise StateConflict({"key": [_("A property with this key already exists.")]}) from None
        audit_record(
            workspace=workspace,
            actor=actor,
            action="property.created",
            target=definition,
            changes={"key": key, "kind": kind},
        )
    return definition


def _wanted_values(definition: PropertyDefinition, data: dict[str, Any]) -> dict[str, Any]:
    """The values `data` asks for, cleaned; fields a definition cannot change are left out."""
    wanted: dict[str, Any] = {}
    if "label" in data:
        wanted["label"] = _label(data["label"])
    if "options" in data and definition.has_editable_options:
        wanted["options"] = _clean_options(definition.kind, data["options"], key=definition.key)
    if "is_required" in data and not definition.is_builtin:
        wanted["is_required"] = bool(data["is_required"])
    if "is_visible" in data:
        wanted["is_visible"] = bool(data["is_visible"])
    if "position" in data:
        wanted["position"] = int(data["position"])
    return wanted


def property_update(
    *, workspace: Workspace, actor: Actor | User | None, property_id: int, data: dict[str, Any]
) -> PropertyDefinition:
    """Change label, options, required, shown or order. Key and type are fixed once values exist.

    Values equal to the stored ones are not changes: sending them writes nothing and audits nothing.
    """
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_PROPERTIES)
    with transaction.atomic():
        definition = PropertyDefinition.objects.locked_or_404(workspace, property_id)
        if definition.is_builtin:
            _refuse_builtin_changes(definition, data)
        changes = {
            field: [getattr(definition, field), value]
            for field, value in _wanted_values(definition, data).items()
            if getattr(definition, field) != value
        }
        if not changes:
            return definition
        for field, (_before, after) in changes.items():
            setattr(definition, field, after)
        definition.save(update_fields=list(changes))
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
        raise StateConflict(errors)


def property_set_archived(
    *, workspace: Workspace, actor: Actor | User | None, property_id: int, archived: bool
) -> PropertyDefinition:
    """Archive (values kept, field hidden everywhere) or restore a custom property."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_PROPERTIES)
    with transaction.atomic():
        definition = PropertyDefinition.objects.locked_or_404(workspace, property_id)
        if definition.is_builtin:
            raise StateConflict(_("Built-in fields can be hidden, not archived."))
        if (definition.archived_at is not None) == archived:
            return definition
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
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_PROPERTIES)
    with transaction.atomic():
        definitions = {
            d.key: d for d in PropertyDefinition.objects.for_workspace(workspace).select_for_update()
        }
        moved = []
        for position, key in enumerate(key for key in keys if key in definitions):
            if definitions[key].position != position:
                definitions[key].position = position
                moved.append(definitions[key])
        if not moved:
            return
        PropertyDefinition.objects.for_workspace(workspace).bulk_update(moved, ["position"])
        audit_record(
            workspace=workspace,
            actor=actor,
            action="property.reordered",
            target=workspace,
            changes={"order": keys},
        )
