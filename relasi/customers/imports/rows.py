"""One row of an import file, validated without touching the database: its cleaned values or its error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from relasi.customers.cleaning import TEXT_COLUMNS
from relasi.customers.imports.job import ImportJob
from relasi.customers.normalize import DEFAULT_REGION, normalize_phone

# Plain Indonesian numbers (0812…, 62812…, +62 812-…): the bulk of any import file.
_PLAIN_ID_PHONE = re.compile(r"^(?:\+62|62|0)([1-9]\d{5,12})$")
_PHONE_SEPARATORS = re.compile(r"[\s.()\-]")
FIELD_ORDER = ["full_name", "source", "channel_username", "phone", "email", "status", *TEXT_COLUMNS]


@dataclass
class ImportRow:
    number: int
    values: list[str]
    cleaned: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class _Collected:
    """A row's cells gathered by field, before cleaning."""

    data: dict[str, Any]
    phone: str = ""
    source: str = ""


def _field_rank(item: tuple[str, Any]) -> int:
    return FIELD_ORDER.index(item[0]) if item[0] in FIELD_ORDER else len(FIELD_ORDER)


def error_text(error: ValidationError) -> str:
    """“phone: “12ab” is not a phone number.”: each problem prefixed by the field it is about."""
    if not hasattr(error, "error_dict"):
        return " ".join(str(message) for message in error.messages)
    parts: list[str] = []
    for name, items in error.error_dict.items():
        label = name.removeprefix("properties.")
        for item in items:
            for message in item.messages:
                parts.append(str(message) if label == "__all__" else f"{label}: {message}")
    return " ".join(parts)


def _width_error(job: ImportJob, values: list[str]) -> str:
    """A CSV row longer than its header line means a value with an unquoted delimiter."""
    if (
        job.width_limit
        and len(values) > job.width_limit
        and any(cell.strip() for cell in values[job.width_limit :])
    ):
        return _(
            "The row has %(count)d values but the header has %(width)d columns; a value that holds the "
            "delimiter must be in double quotes."
        ) % {"count": len(values), "width": job.width_limit}
    return ""


def _collect(job: ImportJob, values: list[str]) -> _Collected:
    collected = _Collected(data={"full_name": values[job.name_index]})
    properties: dict[str, str] = {}
    for index, target, is_custom in job.columns:
        value = values[index].strip()
        if not value:
            continue
        if target in job.options:
            value = job.options[target].get(value.lower(), value)
        if is_custom:
            properties[target] = value
        elif target == "phone":
            collected.phone = value
        elif target == "source":
            collected.source = job.channels.get(value.lower(), "")
            if not collected.source:
                collected.data["source"] = value  # the cleaner words the refusal
        else:
            collected.data[target] = value
    if properties:
        collected.data["properties"] = properties
    if collected.source:
        # A known channel needs no check (the cleaner's costs more than the rest of the row); it still
        # tells the cleaner the channel so a username is accepted.
        collected.data["_existing_source"] = collected.source
    return collected


def import_row_prepare(job: ImportJob, number: int, values: list[str]) -> ImportRow:
    """Validate one row (no database access): the cleaned values, or the reason it fails."""
    row = ImportRow(number=number, values=values)
    if len(values) < job.width:
        values = values + [""] * (job.width - len(values))
    else:
        row.error = _width_error(job, values)
        if row.error:
            return row
    collected = _collect(job, values)
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    try:
        cleaned = job.cleaner.clean(collected.data, partial=True)
    except ValidationError as error:
        problems = error.message_dict
    if collected.source:
        cleaned["source"] = collected.source
    if collected.phone:
        # Same rule as CustomerCleaner (it calls normalize_phone); plain Indonesian numbers take a faster path.
        try:
            normalized = fast_normalize_phone(collected.phone)
        except ValidationError as error:
            problems = {"phone": error.messages, **problems}
        else:
            if normalized:
                cleaned["phone"] = normalized
                cleaned["phone_raw"] = collected.phone[:50]
    if problems:
        row.error = error_text(ValidationError(dict(sorted(problems.items(), key=_field_rank))))
        return row
    # Only values the row really has: an update never blanks a field the file leaves empty.
    row.cleaned = {key: value for key, value in cleaned.items() if value not in ("", None, [], {})}
    return row


def fast_normalize_phone(raw: str) -> str:
    """normalize_phone's answer, without phonenumbers' slow parser for plain Indonesian numbers.

    A plain number (0812…, 62812…, +62812…, with spaces, dots, dashes or brackets) is checked with
    phonenumbers' own validity rules; anything else, and any number those rules refuse, goes through
    normalize_phone itself, so errors and results are the same.
    """
    match = _PLAIN_ID_PHONE.match(_PHONE_SEPARATORS.sub("", raw))
    if match is not None:
        national = match.group(1)
        number = phonenumbers.PhoneNumber(country_code=62, national_number=int(national))
        if phonenumbers.is_valid_number_for_region(number, DEFAULT_REGION):
            return f"+62{national}"
    return normalize_phone(raw)
