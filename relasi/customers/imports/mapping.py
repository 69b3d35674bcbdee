"""Column mapping of an import: which file column fills which customer field, suggested from the headers."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _

from relasi.core.inputs import text_checked
from relasi.customers.cleaning import RESERVED_KEYS
from relasi.customers.models import PropertyDefinition
from relasi.customers.properties import KEY_PATTERN
from relasi.customers.selectors import property_label
from relasi.tenancy.models import Workspace

NEW_PROPERTY_PREFIX = "new:"

# Header words people use, in English and Indonesian, normalised by `_header_key` (lower case, words only).
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


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def customer_import_targets(*, workspace: Workspace) -> list[tuple[str, str]]:
    """The fields a column can be imported into: (key, label), full name first, then the workspace's properties."""
    targets = [("full_name", _("Full name"))]
    for definition in _definitions(workspace):
        targets.append((definition.key, property_label(definition)))
    return targets


def _definitions(workspace: Workspace) -> QuerySet[PropertyDefinition]:
    return PropertyDefinition.objects.for_workspace(workspace).filter(archived_at__isnull=True)


def customer_import_suggest_mapping(*, workspace: Workspace, headers: list[str]) -> dict[str, str]:
    """Column index (as text) → target key for each header that names a known field; "" (ignore) otherwise."""
    lookup: dict[str, str] = {}
    for target, words in HEADER_SYNONYMS.items():
        for word in words:
            lookup.setdefault(word, target)
    lookup.setdefault("full name", "full_name")
    for definition in _definitions(workspace):
        # The key, the stored label and the label in the current language all name the field.
        for name in (definition.key, definition.label, property_label(definition)):
            lookup.setdefault(_header_key(name), definition.key)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        target = lookup.get(_header_key(header), "")
        if target in used:
            target = ""
        if target:
            used.add(target)
        mapping[str(index)] = target
    return mapping


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


def mapping_check(
    *, workspace: Workspace, headers: list[str], mapping: Any
) -> tuple[dict[str, str], dict[str, str]]:
    """(index → existing target, index → label of a new property); ValidationError naming each bad column."""
    errors: dict[str, list[str]] = {}
    if not isinstance(mapping, dict) or len(mapping) > len(headers):
        raise ValidationError({"mapping": [_("The mapping must be an object of column → field.")]})
    labels = dict(customer_import_targets(workspace=workspace))
    chosen: dict[str, str] = {}
    new: dict[str, str] = {}
    used: dict[str, str] = {}
    for raw_index, raw_target in mapping.items():
        column = _column_index(raw_index, headers)
        if column is None:
            errors.setdefault("mapping", []).append(
                _("There is no column %(index)s in the file.") % {"index": str(raw_index)[:20]}
            )
            continue
        index = str(column)
        try:
            target = text_checked(raw_target or "", max_length=200)
            label = _new_label(target) if target.startswith(NEW_PROPERTY_PREFIX) else ""
        except ValidationError as error:
            errors[f"mapping.{index}"] = error.messages
            continue
        if not target:
            continue
        if target.startswith(NEW_PROPERTY_PREFIX):
            if label:
                new[index] = label
            else:
                errors[f"mapping.{index}"] = [_("Give the new property a name.")]
        elif target not in labels:
            errors[f"mapping.{index}"] = [
                _("“%(target)s” is not a field you can import into.") % {"target": target}
            ]
        elif target in used:
            errors[f"mapping.{index}"] = [
                _("%(field)s is already imported from the column “%(header)s”.")
                % {"field": labels[target], "header": headers[int(used[target])]}
            ]
        else:
            used[target] = index
            chosen[index] = target
    if "full_name" not in used and not errors:
        errors["mapping"] = [_("Choose the column that holds the customer's full name.")]
    if errors:
        raise ValidationError(errors)
    return chosen, new
