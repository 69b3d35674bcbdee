"""One row of an import file, validated without touching the database: its cleaned values or its reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError

from relasi.core.inputs import text_checked
from relasi.customers.cleaning import FIELD_LIMITS, TEXT_COLUMNS, ZIP_CODE
from relasi.customers.imports import reasons
from relasi.customers.imports.contacts import cell_values
from relasi.customers.imports.job import ImportJob, Source
from relasi.customers.normalize import DEFAULT_REGION, normalize_email, normalize_phone
from relasi.customers.properties import clean_property_value

# Plain Indonesian numbers (0812…, 62812…, +62 812-…): the bulk of any import file.
_PLAIN_ID_PHONE = re.compile(r"^(?:\+62|62|0)([1-9]\d{5,12})$")
_PHONE_SEPARATORS = re.compile(r"[\s.()\-]")
FIELD_ORDER = ["full_name", "source", "channel_username", "phone", "email", "status", *TEXT_COLUMNS]


@dataclass
class ImportRow:
    number: int  # among the file's customer rows: 1 is the first under the header
    values: list[str]
    line: int = 0  # as the spreadsheet numbers it: the header line is row 1
    cleaned: dict[str, Any] = field(default_factory=dict)
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.line = self.line or self.number + 1

    @property
    def error(self) -> str:
        """The reasons as one line in the active language, each after its field's key (for logs and tests)."""
        return " ".join(f"{item['field'] or 'row'}: {reasons.reason_text(item)}" for item in self.reasons)


@dataclass
class _Collected:
    """A row's cells gathered by field, before cleaning, with the reasons found on the way."""

    data: dict[str, Any]
    phone: str = ""
    source: str = ""
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _reason_rank(job: ImportJob, item: dict[str, Any]) -> tuple[int, int]:
    """The file's column order; a field without a column of its own (a required property) after, in the
    form's order."""
    key = str(item.get("field", ""))
    if key in job.column_rank:
        return (job.column_rank[key], 0)
    return (len(job.column_rank) + 10_000, FIELD_ORDER.index(key) if key in FIELD_ORDER else len(FIELD_ORDER))


def _width_reason(job: ImportJob, values: list[str]) -> dict[str, Any] | None:
    """A CSV row longer than its header line means a value with an unquoted delimiter."""
    if (
        job.width_limit
        and len(values) > job.width_limit
        and any(cell.strip() for cell in values[job.width_limit :])
    ):
        return reasons.reason(
            reasons.TOO_MANY_VALUES, column="", field="", count=len(values), width=job.width_limit
        )
    return None


def _cell(source: Source, cell: str, extras: list[str]) -> str:
    """A cell's value for its field: a multi-valued cell gives its first value (the others go to `extras`),
    unless the field is a text property, which keeps them all."""
    if ":::" not in cell:
        return cell.strip()
    found = cell_values(cell)
    if source.keeps_every_value:
        return ", ".join(found)
    extras.extend(found[1:])
    return found[0] if found else ""


def source_value(source: Source, values: list[str], extras: list[str]) -> str:
    """The field's value in a row: its columns' values joined (name parts), else its fallback column's."""
    joined = " ".join(text for index in source.parts if (text := _cell(source, values[index], extras)))
    for index in source.fallbacks:
        if joined:
            break
        joined = _cell(source, values[index], extras)
    return joined


def _collect(job: ImportJob, values: list[str]) -> _Collected:
    extras: list[str] = []
    collected = _Collected(data={"full_name": source_value(job.name, values, extras)})
    properties: dict[str, str] = {}
    rests: dict[str, list[str]] = {}
    for source in job.sources:
        kept: list[str] = []
        value = source_value(source, values, kept)
        if kept and source.rest:
            rests.setdefault(source.rest, []).extend(kept)
        if not value:
            continue
        target = source.field
        if target in job.options:
            option = job.options[target].get(value.lower())
            if option is None:
                collected.reasons.append(
                    reasons.reason(
                        reasons.CHOICE,
                        column=source.column,
                        field=target,
                        value=value,
                        choices=list(job.options[target].values()),
                    )
                )
                continue
            value = option
        if source.is_custom:
            properties[target] = value
        elif target == "phone":
            collected.phone = value
        elif target == "source":
            collected.source = job.channels.get(value.lower(), "")
            if not collected.source:
                collected.reasons.append(
                    reasons.reason(reasons.CHANNEL, column=source.column, field=target, value=value)
                )
        else:
            collected.data[target] = value
    for key, kept in rests.items():
        properties[key] = ", ".join(kept)
    if properties:
        collected.data["properties"] = properties
    if collected.source:
        # A known channel needs no check (the cleaner's costs more than the rest of the row); it still
        # tells the cleaner the channel so a username is accepted.
        collected.data["_existing_source"] = collected.source
    return collected


def import_row_prepare(job: ImportJob, number: int, values: list[str], line: int = 0) -> ImportRow:
    """Validate one row (no database access): the cleaned values, or the reasons it fails."""
    row = ImportRow(number=number, values=values, line=line)
    if len(values) < job.width:
        values = values + [""] * (job.width - len(values))
    else:
        width = _width_reason(job, values)
        if width is not None:
            row.reasons = [width]
            return row
    collected = _collect(job, values)
    found = list(collected.reasons)
    cleaned: dict[str, Any] = {}
    try:
        cleaned = job.cleaner.clean(collected.data, partial=True)
    except ValidationError as error:
        found.extend(_cleaner_reasons(job, collected.data, error))
    if collected.source:
        cleaned["source"] = collected.source
    if collected.phone:
        # Same rule as CustomerCleaner (it calls normalize_phone); plain Indonesian numbers take a faster path.
        try:
            normalized = fast_normalize_phone(collected.phone)
        except ValidationError as error:
            found.append(
                reasons.reason_of_error(
                    error, column=job.columns_by_field["phone"], field="phone", value=collected.phone
                )
            )
        else:
            if normalized:
                cleaned["phone"] = normalized
                cleaned["phone_raw"] = collected.phone[:50]
    if found:
        if any(item["code"] == reasons.CHANNEL for item in found):  # the channel's own reason says it all
            found = [item for item in found if item["code"] != reasons.CHANNEL_NEEDED]
        row.reasons = sorted(found, key=lambda item: _reason_rank(job, item))
        return row
    # Only values the row really has: an update never blanks a field the file leaves empty.
    row.cleaned = {key: value for key, value in cleaned.items() if value not in ("", None, [], {})}
    return row


def _cleaner_reasons(job: ImportJob, data: dict[str, Any], error: ValidationError) -> list[dict[str, Any]]:
    """The cleaner's refusals as reasons: each field's value checked again by the rule that refused it, whose
    error carries a code (the cleaner's own messages are words only)."""
    found: list[dict[str, Any]] = []
    for key, messages in error.message_dict.items():
        if key == "source":  # the only refusal of "source" left: a username without a channel
            column = job.columns_by_field.get("channel_username", "")
            found.append(
                reasons.reason(
                    reasons.CHANNEL_NEEDED,
                    column=column,
                    field="channel_username",
                    value=data.get("channel_username", ""),
                )
            )
            continue
        field_key = key.removeprefix("properties.")
        value = str(
            data.get("properties", {}).get(field_key, "")
            if key.startswith("properties.")
            else data.get(key, "")
        )
        column = job.columns_by_field.get(field_key, "")
        if key == "full_name" and not value.strip():
            found.append(reasons.reason(reasons.REQUIRED, column=column, field=key, value=""))
            continue
        refusal = _refusal(job, key, value)
        if refusal is None:
            found.append(
                reasons.reason(
                    reasons.TEXT, column=column, field=field_key, value=value, text=" ".join(messages)
                )
            )
        else:
            definition = job.cleaner.custom.get(field_key)
            found.append(
                reasons.reason_of_error(
                    refusal,
                    column=column,
                    field=field_key,
                    value=value,
                    style=job.number_style,
                    choices=list(definition.options) if definition is not None else [],
                )
            )
    return found


def _refusal(job: ImportJob, key: str, value: str) -> ValidationError | None:
    """The coded error of the rule that refuses this value of this field (None if none does, here)."""
    try:
        if key.startswith("properties."):
            definition = job.cleaner.custom.get(key.removeprefix("properties."))
            if definition is None:
                return None
            clean_property_value(definition, value, number_style=job.number_style)
            return None
        if key in FIELD_LIMITS:
            text = text_checked(value, max_length=FIELD_LIMITS[key])
            if key == "email":
                normalize_email(text)
            elif key == "zip_code" and text and not ZIP_CODE.fullmatch(text):
                # The cleaner's rule (its message is words only), coded so the reason is worded when read.
                raise ValidationError("Not a postal code.", code="zip_code")
    except ValidationError as error:
        return error
    return None


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
