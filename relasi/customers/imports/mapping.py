"""Column mapping of an import: which file column fills which customer field, suggested from the headers."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _

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
    while key in taken or key in RESERVED_KEYS or not KEY_PATTERN.match(key):
        key = f"{base}_{suffix}"
        suffix += 1
    taken.add(key)
    return key


def mapping_check(
    *, workspace: Workspace, headers: list[str], mapping: Any
) -> tuple[dict[str, str], dict[str, str]]:
    """(index → existing target, index → label of a new property); ValidationError naming each bad column."""
    errors: dict[str, list[str]] = {}
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": [_("The mapping must be an object of column → field.")]})
    labels = dict(customer_import_targets(workspace=workspace))
    chosen: dict[str, str] = {}
    new: dict[str, str] = {}
    used: dict[str, str] = {}
    for raw_index, raw_target in mapping.items():
        index = str(raw_index)
        target = str(raw_target or "").strip()
        if not index.isdigit() or int(index) >= len(headers):
            errors.setdefault("mapping", []).append(
                _("There is no column %(index)s in the file.") % {"index": index}
            )
            continue
        if not target:
            continue
        if target.startswith(NEW_PROPERTY_PREFIX):
            label = target.removeprefix(NEW_PROPERTY_PREFIX).strip()[:100]
            if not label:
                errors[f"mapping.{index}"] = [_("Give the new property a name.")]
            else:
                new[index] = label
            continue
        if target not in labels:
            errors[f"mapping.{index}"] = [
                _("“%(target)s” is not a field you can import into.") % {"target": target}
            ]
            continue
        if target in used:
            errors[f"mapping.{index}"] = [
                _("%(field)s is already imported from the column “%(header)s”.")
                % {"field": labels[target], "header": headers[int(used[target])]}
            ]
            continue
        used[target] = index
        chosen[index] = target
    if "full_name" not in used and not errors:
        errors["mapping"] = [_("Choose the column that holds the customer's full name.")]
    if errors:
        raise ValidationError(errors)
    return chosen, new
