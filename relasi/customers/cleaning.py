"""Validating customer input and applying it to a customer: one set of rules for pages, the API and imports."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.core.inputs import NUMBER_STYLES, text_checked
from relasi.customers.models import Channel, Customer, PropertyDefinition, PropertyKind
from relasi.customers.normalize import normalize_email, normalize_phone, normalize_username
from relasi.customers.properties import clean_property_value
from relasi.tenancy.models import Workspace
from relasi.tenancy.selectors import workspace_member_ids

# The status options a new workspace starts with, in the language it was created in. They are the workspace's own
# words from then on (owners rename them on the Properties page), so they are stored as written, not translated.
DEFAULT_STATUSES_BY_LANGUAGE: dict[str, list[str]] = {
    "en": ["Lead", "Prospect", "Customer", "Inactive"],
    "id": ["Lead", "Prospek", "Pelanggan", "Tidak aktif"],
}
DEFAULT_STATUSES = DEFAULT_STATUSES_BY_LANGUAGE["en"]
# Indonesian postal codes are five digits (10110 to 99xxx).
ZIP_CODE = re.compile(r"[0-9]{5}")

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
# Every text field a customer has, with the most characters its column holds.
FIELD_LIMITS: dict[str, int] = {}
TEXT_COLUMNS = {
    "job_title": 120,
    "province": 80,
    "city": 80,
    "district": 80,
    "subdistrict": 80,
    "zip_code": 10,
}
FIELD_LIMITS.update(
    {
        "full_name": 200,
        "source": 16,
        "channel_username": 200,
        "phone": 50,
        "email": 254,
        "status": 60,
        **TEXT_COLUMNS,
    }
)
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


def default_statuses(language: str | None = None) -> list[str]:
    """The status options of a workspace created now: in `language`, or the active one (English otherwise)."""
    code = (language or get_language() or "en").lower().split("-")[0]
    return list(DEFAULT_STATUSES_BY_LANGUAGE.get(code, DEFAULT_STATUSES))


class CustomerCleaner:
    """Validates customer input for one workspace; loads definitions and members once for many rows.

    `number_style` is how numbers written as text read (relasi.core.inputs.number_checked): "plain" for the API
    (and JSON numbers), the viewer's language for the customer form, the file's style for an import. The form
    names its style in the data it sends (`_number_style`), so the services pass it on without knowing pages.
    """

    def __init__(self, *, workspace: Workspace, number_style: str = "plain") -> None:
        if number_style not in NUMBER_STYLES:
            raise ValueError(f"Unknown number style {number_style!r}: use one of {NUMBER_STYLES}.")
        self.workspace = workspace
        self.number_style = number_style
        definitions = list(PropertyDefinition.objects.for_workspace(workspace))
        self.builtin = {definition.key: definition for definition in definitions if definition.is_builtin}
        self.custom = {
            definition.key: definition
            for definition in definitions
            if not definition.is_builtin and definition.archived_at is None
        }
        self.member_ids = workspace_member_ids(workspace=workspace)

    def clean(self, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Cleaned values for the given keys (all keys when not partial); ValidationError with every field's problem."""
        errors: dict[str, list[str]] = {}
        number_style = data.get("_number_style", self.number_style)
        if number_style not in NUMBER_STYLES:
            number_style = self.number_style
        texts = _bounded_texts(data, errors)
        cleaned: dict[str, Any] = {}
        if not partial or "full_name" in data:
            cleaned["full_name"] = texts.get("full_name", "")
            if not cleaned["full_name"] and "full_name" not in errors:
                errors["full_name"] = [_("Full name is required.")]
        for field in ("owner", "assignee"):
            if field in data:
                cleaned[field] = self._member(field, data[field], errors)
        if "source" in texts:
            cleaned["source"] = texts["source"].lower()
            if cleaned["source"] and cleaned["source"] not in Channel.values:
                errors["source"] = [
                    _("“%(value)s” is not a channel. Use one of: %(choices)s.")
                    % {"value": texts["source"], "choices": ", ".join(Channel.values)}
                ]
        if "channel_username" in texts:
            cleaned["channel_username"] = normalize_username(texts["channel_username"])
            if cleaned["channel_username"] and not (cleaned.get("source") or data.get("_existing_source")):
                errors["source"] = [_("Choose the channel this username belongs to.")]
        self._contacts(texts, cleaned, errors)
        if "status" in texts:
            cleaned["status"] = self._status(texts["status"], errors)
        for field in TEXT_COLUMNS:
            if field in texts:
                cleaned[field] = texts[field]
        if cleaned.get("zip_code") and not ZIP_CODE.fullmatch(cleaned["zip_code"]):
            errors["zip_code"] = [
                _("“%(value)s” is not a postal code: Indonesian postal codes are five digits, like 40115.")
                % {"value": cleaned["zip_code"]}
            ]
        if "properties" in data or not partial:
            cleaned["properties"] = self._properties(
                data.get("properties") or {}, errors, partial=partial, number_style=number_style
            )
        if errors:
            raise ValidationError(errors)
        return cleaned

    @staticmethod
    def _contacts(texts: dict[str, str], cleaned: dict[str, Any], errors: dict[str, list[str]]) -> None:
        if "phone" in texts:
            try:
                cleaned["phone"] = normalize_phone(texts["phone"])
                cleaned["phone_raw"] = texts["phone"]
            except ValidationError as error:
                errors.setdefault("phone", []).extend(error.messages)
        if "email" in texts:
            try:
                cleaned["email"] = normalize_email(texts["email"])
            except ValidationError as error:
                errors.setdefault("email", []).extend(error.messages)

    def _status(self, status: str, errors: dict[str, list[str]]) -> str:
        options = self.builtin["status"].options if "status" in self.builtin else DEFAULT_STATUSES
        if status and status not in options:
            errors["status"] = [
                _("“%(value)s” is not one of the statuses: %(options)s.")
                % {"value": status, "options": ", ".join(options)}
            ]
        return status

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
        self, values: dict[str, Any], errors: dict[str, list[str]], *, partial: bool, number_style: str
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
                stored = clean_property_value(definition, value, number_style=number_style)
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


def _bounded_texts(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, str]:
    """The text fields `data` holds, trimmed and bounded (relasi.core.inputs): no NUL, no broken Unicode, no more
    than the column holds. A refused one is an error of its field and left out."""
    texts: dict[str, str] = {}
    for field, limit in FIELD_LIMITS.items():
        if field not in data:
            continue
        try:
            texts[field] = text_checked(data[field] or "", max_length=limit)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.messages)
    return texts


def customer_changes_apply(customer: Customer, cleaned: dict[str, Any]) -> dict[str, list[Any]]:
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


def added_by_label(who: Actor) -> str:
    if who.user is not None:
        return who.user.full_name or who.user.email
    if who.api_key is not None:
        return f"API: {who.api_key.name}"
    return "Relasi"


def changes_jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {
        field: [
            value if isinstance(value, str | int | float | bool | dict | list | type(None)) else str(value)
            for value in pair
        ]
        for field, pair in changes.items()
    }


def _same_value(stored: Any, value: Any) -> bool:
    if isinstance(stored, list) and isinstance(value, list | tuple):
        return sorted(map(str, stored)) == sorted(map(str, value))
    return stored is not None and not isinstance(stored, bool) and str(stored) == str(value)


def unchanged_left_out(customer: Customer, data: dict[str, Any]) -> dict[str, Any]:
    """`data` without the status and property values the customer already has.

    Sending a stored value back is no change, so it is not validated again: a value whose option was
    removed since (or a postal code from before the five-digit rule) stays on the customer when the rest of the
    customer is saved.
    """
    kept = dict(data)
    if "status" in kept and kept["status"] == customer.status:
        del kept["status"]
    # A postal code saved before the five-digit rule stays until someone changes it.
    if "zip_code" in kept and kept["zip_code"] == customer.zip_code:
        del kept["zip_code"]
    properties = kept.get("properties")
    if isinstance(properties, dict):
        kept["properties"] = {
            key: value
            for key, value in properties.items()
            if not _same_value(customer.properties.get(key), value)
        }
    return kept
