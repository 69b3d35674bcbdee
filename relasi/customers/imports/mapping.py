"""Column mapping of an import: which file column fills which customer field, suggested from the headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _

from relasi.core.inputs import text_checked
from relasi.customers.cleaning import RESERVED_KEYS
from relasi.customers.imports.contacts import (
    EXPORT_HEADERS,
    NAME_PARTS,
    ORGANISATION,
    export_kind,
    header_key,
)
from relasi.customers.models import PropertyDefinition, PropertyKind
from relasi.customers.properties import KEY_PATTERN
from relasi.customers.selectors import property_label
from relasi.tenancy.models import Workspace

NEW_PROPERTY_PREFIX = "new:"
TEXT_KINDS = (PropertyKind.TEXT, PropertyKind.LONG_TEXT)
PART_MAX = 9

# Header words people use, in English and Indonesian, normalised by `header_key` (lower case, words only).
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "nama",
        "nama lengkap",
        "nama pelanggan",
        "nama customer",
        "nama kontak",
        "name",
        "full name",
        "fullname",
        "customer name",
        "contact name",
    ),
    "phone": (
        "no hp",
        "nomor hp",
        "no handphone",
        "nomor handphone",
        "handphone",
        "hp",
        "nomor telepon",
        "no telepon",
        "no telp",
        "nomor telp",
        "telepon",
        "telp",
        "no wa",
        "nomor wa",
        "nomor whatsapp",
        "phone",
        "phone number",
        "mobile",
        "mobile phone",
        "whatsapp",
        "whatsapp number",
    ),
    "email": ("email", "e mail", "surel", "alamat email", "email address"),
    "city": ("kota", "kabupaten kota", "kab kota", "kabupaten", "city", "regency", "regency city"),
    "province": ("provinsi", "propinsi", "province"),
    "district": ("kecamatan", "district"),
    "subdistrict": ("kelurahan", "desa", "kelurahan desa", "subdistrict", "village"),
    "zip_code": ("kode pos", "kodepos", "zip", "zip code", "postal code", "postcode"),
    "job_title": ("jabatan", "pekerjaan", "job title", "job", "position", "occupation"),
    "status": ("status", "status pelanggan"),
    "source": ("channel", "sumber", "source", "kanal", "saluran"),
    "channel_username": ("username", "user name", "nama pengguna", "akun", "handle"),
}


@dataclass(frozen=True)
class Assignment:
    """One column's part in the mapping: the field it fills, and how when several columns fill one field."""

    index: int
    field: str
    part: int = 0  # 1, 2, 3...: one part of the field, joined with the others in this order (name parts)
    fallback: bool = False  # used only when the field's other columns are empty in the row (the company)
    rest: str = ""  # where the other values of a multi-valued cell go (a text property); "" drops them

    def stored(self) -> str | dict[str, Any]:
        """The mapping value: the plain field key unless a role says more (the form of every older import)."""
        if not (self.part or self.fallback or self.rest):
            return self.field
        value: dict[str, Any] = {"field": self.field}
        if self.part:
            value["part"] = self.part
        if self.fallback:
            value["fallback"] = True
        if self.rest:
            value["rest"] = self.rest
        return value


def mapping_assignments(mapping: dict[str, Any]) -> list[Assignment]:
    """The stored mapping (checked when the import started) as assignments, in column order."""
    assignments: list[Assignment] = []
    for raw_index, value in mapping.items():
        if isinstance(value, dict):
            assignments.append(
                Assignment(
                    index=int(raw_index),
                    field=str(value.get("field", "")),
                    part=int(value.get("part") or 0),
                    fallback=bool(value.get("fallback")),
                    rest=str(value.get("rest") or ""),
                )
            )
        elif value:
            assignments.append(Assignment(index=int(raw_index), field=str(value)))
    return sorted(assignments, key=lambda assignment: assignment.index)


def customer_import_targets(*, workspace: Workspace) -> list[tuple[str, str]]:
    """The fields a column can be imported into: (key, label), full name first, then the workspace's properties."""
    targets = [("full_name", _("Full name"))]
    for definition in _definitions(workspace):
        targets.append((definition.key, property_label(definition)))
    return targets


def customer_import_rest_targets(*, workspace: Workspace) -> list[tuple[str, str]]:
    """Where the other values of a multi-valued cell can go: the text properties."""
    return [
        (definition.key, property_label(definition))
        for definition in _definitions(workspace)
        if not definition.is_builtin and definition.kind in TEXT_KINDS
    ]


def _definitions(workspace: Workspace) -> QuerySet[PropertyDefinition]:
    return PropertyDefinition.objects.for_workspace(workspace).filter(archived_at__isnull=True)


@dataclass
class Suggestion:
    """The mapping suggested for a file, and the export it was recognised as ("" when none)."""

    mapping: dict[str, str | dict[str, Any]]
    export: str = ""


def _lookup(workspace: Workspace) -> tuple[dict[str, tuple[int, str]], dict[str, PropertyDefinition]]:
    """Header key → (rank, target): the exports' headers first, then the plain synonyms, then the workspace's
    own property names; and the custom properties by their label's key."""
    lookup: dict[str, tuple[int, str]] = {}
    for target, words in EXPORT_HEADERS.items():
        for rank, word in enumerate(words):
            lookup.setdefault(word, (rank, target))
    for target, words in HEADER_SYNONYMS.items():
        for word in words:
            lookup.setdefault(word, (50, target))
    lookup.setdefault("full name", (50, "full_name"))
    by_label: dict[str, PropertyDefinition] = {}
    for definition in _definitions(workspace):
        # The key, the stored label and the label in the current language all name the field.
        for name in (definition.key, definition.label, property_label(definition)):
            lookup.setdefault(header_key(name), (60, definition.key))
        if not definition.is_builtin:
            by_label.setdefault(header_key(definition.label), definition)
    return lookup, by_label


def _has_several_values(samples: list[list[str]], index: int) -> bool:
    return any(index < len(row) and ":::" in row[index] for row in samples)


def customer_import_suggest(
    *,
    workspace: Workspace,
    headers: list[str],
    samples: list[list[str]] | None = None,
    may_add_properties: bool = False,
) -> Suggestion:
    """The mapping suggested from the headers (and a sample of rows): known exports' name parts joined into
    the full name with the organisation as its fallback, the best of several phone columns, and the other
    values of a multi-valued phone or email cell kept in a text property."""
    lookup, by_label = _lookup(workspace)
    keys = [header_key(header) for header in headers]
    best: dict[str, tuple[int, int]] = {}  # target → (rank, column)
    for index, key in enumerate(keys):
        if key in lookup:
            rank, target = lookup[key]
            if target not in best or rank < best[target][0]:
                best[target] = (rank, index)
    mapping: dict[str, str | dict[str, Any]] = {str(index): "" for index in range(len(headers))}
    for target, (_rank, index) in best.items():
        mapping[str(index)] = target
    _suggest_name(mapping, keys, has_name="full_name" in best)
    for target, label in (("phone", _("Other phone numbers")), ("email", _("Other emails"))):
        if target in best and _has_several_values(samples or [], best[target][1]):
            existing = by_label.get(header_key(label))
            rest = (
                existing.key
                if existing is not None
                else f"{NEW_PROPERTY_PREFIX}{label}"
                if may_add_properties
                else ""
            )
            if rest:
                mapping[str(best[target][1])] = {"field": target, "rest": rest}
    return Suggestion(mapping=mapping, export=export_kind(set(keys)))


def _suggest_name(mapping: dict[str, str | dict[str, Any]], keys: list[str], *, has_name: bool) -> None:
    """Name parts into the full name (when no column holds it whole); the organisation as its fallback."""
    if not has_name:
        parts = [(NAME_PARTS[key], index) for index, key in enumerate(keys) if key in NAME_PARTS]
        seen: set[int] = set()
        for part, index in sorted(parts):
            if part not in seen and mapping[str(index)] == "":
                seen.add(part)
                mapping[str(index)] = {"field": "full_name", "part": part}
    named = any(
        value == "full_name" or (isinstance(value, dict) and value["field"] == "full_name")
        for value in mapping.values()
    )
    for index, key in enumerate(keys):
        if key in ORGANISATION and mapping[str(index)] == "":
            mapping[str(index)] = {"field": "full_name", "fallback": True} if named else "full_name"
            break


def customer_import_suggest_mapping(
    *,
    workspace: Workspace,
    headers: list[str],
    samples: list[list[str]] | None = None,
    may_add_properties: bool = False,
) -> dict[str, str | dict[str, Any]]:
    """Column index (as text) → target for each header that names a known field; "" (ignore) otherwise."""
    return customer_import_suggest(
        workspace=workspace, headers=headers, samples=samples, may_add_properties=may_add_properties
    ).mapping


def new_property_key(label: str, taken: set[str]) -> str:
    base = slugify(label).replace("-", "_")[:50].strip("_")
    if not base or not base[0].isalpha():
        base = f"field_{base}".strip("_")
    key, suffix = base, 2
    while key in taken or key in RESERVED_KEYS or not KEY_PATTERN.fullmatch(key):
        key = f"{base}_{suffix}"
        suffix += 1
    taken.add(key)
    return key


def _column_index(raw_index: Any, headers: list[str]) -> int | None:
    index = str(raw_index)
    if index.isascii() and index.isdigit() and len(index) <= 6 and int(index) < len(headers):
        return int(index)
    return None


def _new_label(target: str) -> str:
    """The label of a "new:<Label>" column, bounded like any property label."""
    return text_checked(target.removeprefix(NEW_PROPERTY_PREFIX), max_length=100)


@dataclass
class CheckedMapping:
    """A mapping that passed `mapping_check`: its assignments, where a field or `rest` may still be
    "new:<Label>" (a text property to create), and the labels of those new properties."""

    assignments: list[Assignment]
    new_labels: dict[str, str]  # "new:<Label>" as sent → the label


def _entry(raw: Any) -> tuple[str, int, bool, str]:
    """(field, part, fallback, rest) of one mapping value; ValidationError when it is not one."""
    if raw is None or isinstance(raw, str):
        return text_checked(raw or "", max_length=200), 0, False, ""
    if not isinstance(raw, dict) or not set(raw) <= {"field", "part", "fallback", "rest"}:
        raise ValidationError(_("Give a field key, or an object of field, part, fallback and rest."))
    field, part, fallback, rest = (
        raw.get("field"),
        raw.get("part", 0),
        raw.get("fallback", False),
        raw.get("rest", ""),
    )
    if not isinstance(field, str) or not isinstance(rest, str) or not isinstance(fallback, bool):
        raise ValidationError(_("Give a field key, or an object of field, part, fallback and rest."))
    if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part <= PART_MAX:
        raise ValidationError(_("A part is a whole number from 1 to %(max)d.") % {"max": PART_MAX})
    return text_checked(field, max_length=200), part, fallback, text_checked(rest, max_length=200)


class _Checker:
    """The checks of one mapping, collecting every column's problem."""

    def __init__(self, workspace: Workspace, headers: list[str]) -> None:
        self.headers = headers
        self.labels = dict(customer_import_targets(workspace=workspace))
        self.rest_keys = {key for key, _label in customer_import_rest_targets(workspace=workspace)}
        self.errors: dict[str, list[str]] = {}
        self.new_labels: dict[str, str] = {}

    def header(self, index: int) -> str:
        return self.headers[index] or _("Column %(number)d") % {"number": index + 1}

    def target(self, index: str, target: str) -> bool:
        """Whether the target is a field, or a new property with a name (the error of the column if not)."""
        if target.startswith(NEW_PROPERTY_PREFIX):
            label = _new_label(target)
            if not label:
                self.errors[f"mapping.{index}"] = [_("Give the new property a name.")]
                return False
            self.new_labels[target] = label
            return True
        if target not in self.labels:
            self.errors[f"mapping.{index}"] = [
                _("“%(target)s” is not a field you can import into.") % {"target": target}
            ]
            return False
        return True

    def rest(self, index: str, rest: str) -> bool:
        if not rest or rest.startswith(NEW_PROPERTY_PREFIX):
            return self.target(index, rest) if rest else True
        if rest not in self.rest_keys:
            self.errors[f"mapping.{index}"] = [
                _("The other values of a cell go into a text property; “%(target)s” is not one.")
                % {"target": rest}
            ]
            return False
        return True

    def shared(self, assignments: list[Assignment]) -> None:
        """A field filled by several columns needs each one's part (or one of them as the fallback)."""
        by_field: dict[str, list[Assignment]] = {}
        for assignment in assignments:
            by_field.setdefault(assignment.field, []).append(assignment)
        rests = {assignment.rest for assignment in assignments if assignment.rest}
        for field, group in by_field.items():
            if field in rests:
                self.errors[f"mapping.{group[0].index}"] = [
                    _("%(field)s already holds the other values of a cell.") % {"field": self._name(field)}
                ]
            if len(group) < 2:
                continue
            self._parts(field, [a for a in group if not a.fallback], [a for a in group if a.fallback])

    def _parts(self, field: str, parts: list[Assignment], fallbacks: list[Assignment]) -> None:
        name = self._name(field)
        for extra in fallbacks[1:]:
            self.errors[f"mapping.{extra.index}"] = [
                _("%(field)s already falls back to the column “%(header)s”.")
                % {"field": name, "header": self.headers[fallbacks[0].index]}
            ]
        if len(parts) < 2:
            return
        if not any(assignment.part for assignment in parts):
            for extra in parts[1:]:
                self.errors[f"mapping.{extra.index}"] = [
                    _("%(field)s is already imported from the column “%(header)s”.")
                    % {"field": name, "header": self.headers[parts[0].index]}
                ]
            return
        for assignment in parts:
            if not assignment.part:
                self.errors[f"mapping.{assignment.index}"] = [
                    _("%(field)s is made of several columns here: choose which part this one is.")
                    % {"field": name}
                ]

    def _name(self, field: str) -> str:
        return self.new_labels.get(field) or self.labels.get(field, field)


def mapping_check(*, workspace: Workspace, headers: list[str], mapping: Any) -> CheckedMapping:
    """The assignments of a mapping sent by a page, the API or the command line; ValidationError naming each
    bad column. A value is a field key ("" ignores the column, "new:<Label>" creates a text property) or an
    object {"field", "part", "fallback", "rest"} (see Assignment)."""
    if not isinstance(mapping, dict) or len(mapping) > len(headers):
        raise ValidationError({"mapping": [_("The mapping must be an object of column → field.")]})
    checker = _Checker(workspace, headers)
    assignments: list[Assignment] = []
    for raw_index, raw_target in mapping.items():
        column = _column_index(raw_index, headers)
        if column is None:
            checker.errors.setdefault("mapping", []).append(
                _("There is no column %(index)s in the file.") % {"index": str(raw_index)[:20]}
            )
            continue
        index = str(column)
        try:
            field, part, fallback, rest = _entry(raw_target)
        except ValidationError as error:
            checker.errors[f"mapping.{index}"] = error.messages
            continue
        if field and checker.target(index, field) and checker.rest(index, rest):
            assignments.append(Assignment(index=column, field=field, part=part, fallback=fallback, rest=rest))
    assignments.sort(key=lambda assignment: assignment.index)
    checker.shared(assignments)
    if not any(assignment.field == "full_name" for assignment in assignments) and not checker.errors:
        checker.errors["mapping"] = [_("Choose the column that holds the customer's full name.")]
    if checker.errors:
        raise ValidationError(checker.errors)
    return CheckedMapping(assignments=assignments, new_labels=checker.new_labels)
