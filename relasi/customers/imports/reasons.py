"""Why an import row failed, kept as a code and its parameters and worded only when someone reads it.

A reason names the file's own column (its header), the value, and what is expected, so that a person can fix
the row in their spreadsheet. Stored as data, a reason is worded in the language of whoever reads it: the
page, the API and the error file each render it when they are asked, never when the import runs.

A reason is a JSON object: `code`, `column` (the header, or several joined, "" when the reason is about the
row), `field` (the field's key), `value` (what the cell held, cut to VALUE_CHARS) and the code's own
parameters (`limit`, `choices`, `style`, ...).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from relasi.core.inputs import number_range_text, text_storable
from relasi.core.money import RUPIAH_EXAMPLES
from relasi.customers.cleaning import BUILTIN_PROPERTIES
from relasi.customers.models import Channel

# A value is quoted in a reason up to this many characters (the error file keeps the whole row).
VALUE_CHARS = 80

REQUIRED = "required"  # an empty cell of a field a customer must have
REQUIRED_MISSING = (
    "required_missing"  # a new customer without a required property (its column is empty or unmapped)
)
TOO_LONG = "too_long"
NUL = "nul"
BROKEN_TEXT = "broken_text"
PHONE = "phone"
EMAIL = "email"
CHANNEL = "channel"
CHANNEL_NEEDED = "channel_needed"  # a username without a channel
CHOICE = "choice"  # a status or select value that is not one of the options
NUMBER = "number"
NUMBER_RANGE = "number_range"
CURRENCY = "currency"  # an amount in rupiah with decimals other than ,00
DATE = "date"
DATE_RANGE = "date_range"
DATETIME = "datetime"
BOOLEAN = "boolean"
URL = "url"
ZIP_CODE = "zip_code"  # not five digits (Indonesian postal codes)
TOO_MANY_VALUES = "too_many_values"  # a CSV row wider than its header: an unquoted delimiter
IDENTITY_DELETED = "identity_deleted"  # the username belongs to a deleted customer (update mode)
TEXT = "text"  # a reason only known as words (`text`, in the language the import ran in)

# Examples of each number style of relasi.core.inputs, named in the reason.
NUMBER_EXAMPLES = {"id": "1.500.000,5", "en": "1,500,000.5", "plain": "1500000.5"}

_BUILTIN_LABELS = {key: label for key, label, _kind in BUILTIN_PROPERTIES}
_BUILTIN_LABELS["full_name"] = gettext_noop("Full name")


def reason(code: str, *, column: str, field: str, value: str = "", **params: Any) -> dict[str, Any]:
    """A reason as stored; the value is cut and made storable (no NUL or broken Unicode)."""
    shown = text_storable(str(value))
    if len(shown) > VALUE_CHARS:
        shown = shown[: VALUE_CHARS - 1] + "…"
    return {"code": code, "column": column, "field": field, "value": shown, **params}


# What the coded ValidationErrors of relasi.core.inputs, relasi.customers.normalize and
# relasi.customers.properties mean, as a reason's code.
_ERROR_CODES = {
    "too_long": TOO_LONG,
    "phone": PHONE,
    "email": EMAIL,
    "number": NUMBER,
    "number_grouping": NUMBER,
    "number_range": NUMBER_RANGE,
    "currency": CURRENCY,
    "date": DATE,
    "date_range": DATE_RANGE,
    "datetime": DATETIME,
    "boolean": BOOLEAN,
    "url": URL,
    "zip_code": ZIP_CODE,
    "choice": CHOICE,
    "required": REQUIRED,
}


def reason_of_error(
    error: ValidationError, *, column: str, field: str, value: str, **params: Any
) -> dict[str, Any]:
    """The reason of a coded ValidationError about one cell; its words (TEXT) when its code is not known."""
    first = error.error_list[0] if hasattr(error, "error_list") else error
    code = getattr(first, "code", None) or ""
    if code == "invalid_character":
        return reason(NUL if "\x00" in value else BROKEN_TEXT, column=column, field=field, value=value)
    known = _ERROR_CODES.get(code)
    if known is None:
        return reason(TEXT, column=column, field=field, value=value, text=" ".join(error.messages))
    extra: dict[str, Any] = {}
    error_params = getattr(first, "params", None) or {}
    if known == TOO_LONG:
        extra = {"limit": int(error_params.get("limit", 0)), "length": len(value)}
    elif known in (NUMBER, CURRENCY):
        extra = {"style": params.get("style", "plain")}
    elif known == CHOICE and "choices" in params:
        extra = {"choices": list(params["choices"])}
    return reason(known, column=column, field=field, value=value, **extra)


def field_label(field: str, labels: dict[str, str] | None = None) -> str:
    """A field's name in the reader's language: built-in labels are translated, property labels are the
    workspace's own."""
    if field in _BUILTIN_LABELS:
        return _(_BUILTIN_LABELS[field])
    if labels and field in labels:
        return labels[field]
    return field


def _channels() -> str:
    return ", ".join(str(choice.label) for choice in Channel)


def _choices_text(code: str, choices: Any) -> str:
    """The choices a reason names: its own (a status's or a select's options), or the channels for a channel."""
    if isinstance(choices, list):
        return ", ".join(str(choice) for choice in choices)
    return _channels() if code in (CHANNEL, CHANNEL_NEEDED) else ""


def _templates() -> dict[str, str]:
    """Each code's words, looked up in the active language when a reason is rendered."""
    return {
        REQUIRED: _("“%(column)s” is empty; the field %(field)s is required."),
        REQUIRED_MISSING: _("%(field)s is required for a new customer, and this row has no value for it."),
        TOO_LONG: _("“%(column)s” has %(length)s characters; at most %(limit)s fit in %(field)s."),
        NUL: _("“%(column)s” holds a NUL character (\\0), which cannot be stored: remove it."),
        BROKEN_TEXT: _(
            "“%(column)s” holds a broken character (an invalid Unicode sequence): save the file as UTF-8 again."
        ),
        PHONE: _(
            "“%(column)s”: “%(value)s” is not a phone number (expected e.g. 0812-3456-7890 or +62 812 3456 7890)."
        ),
        EMAIL: _("“%(column)s”: “%(value)s” is not an email address (expected e.g. name@example.com)."),
        CHANNEL: _("“%(column)s”: “%(value)s” is not a channel. Use one of: %(choices)s."),
        CHANNEL_NEEDED: _(
            "“%(column)s”: the username “%(value)s” needs its channel. Give the row a channel, one of: %(choices)s."
        ),
        CHOICE: _("“%(column)s”: “%(value)s” is not one of the options of %(field)s: %(choices)s."),
        NUMBER: _("“%(column)s”: “%(value)s” is not a number (expected e.g. %(example)s)."),
        CURRENCY: _("“%(column)s”: “%(value)s” is not a whole number of rupiah (expected e.g. %(amount)s)."),
        NUMBER_RANGE: _("“%(column)s”: %(text)s"),
        DATE: _("“%(column)s”: “%(value)s” is not a date (expected YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY)."),
        DATE_RANGE: _("“%(column)s”: “%(value)s” is out of range: use a year from 1900 to 2999."),
        DATETIME: _("“%(column)s”: “%(value)s” is not a date and time (expected YYYY-MM-DD HH:MM)."),
        BOOLEAN: _(
            "“%(column)s”: “%(value)s” is not yes or no (expected yes/no, ya/tidak, true/false or 1/0)."
        ),
        URL: _("“%(column)s”: “%(value)s” is not a web address (expected e.g. https://example.com)."),
        ZIP_CODE: _("“%(column)s”: “%(value)s” is not a postal code (expected five digits, e.g. 40115)."),
        TOO_MANY_VALUES: _(
            "The row has %(count)s values but the header has %(width)s columns; a value that holds the "
            "delimiter must be in double quotes."
        ),
        IDENTITY_DELETED: _(
            "“%(column)s”: “%(value)s” belongs to a deleted customer; restore that customer to update it."
        ),
        TEXT: _("“%(column)s”: %(text)s"),
    }


def reason_text(item: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    """One reason in the active language; `labels` names the workspace's properties (key → label)."""
    code = str(item.get("code", ""))
    template = _templates().get(code)
    choices = item.get("choices")
    values = {
        "column": item.get("column") or _("the row"),
        "field": field_label(str(item.get("field", "")), labels),
        "value": item.get("value", ""),
        "limit": item.get("limit", ""),
        "length": item.get("length", ""),
        "count": item.get("count", ""),
        "width": item.get("width", ""),
        "text": item.get("text", ""),
        "example": NUMBER_EXAMPLES.get(str(item.get("style", "plain")), NUMBER_EXAMPLES["plain"]),
        "amount": RUPIAH_EXAMPLES.get(str(item.get("style", "plain")), RUPIAH_EXAMPLES["plain"]),
        "choices": _choices_text(code, choices),
    }
    if code == NUMBER_RANGE:
        values["text"] = number_range_text(values["value"])
    if template is None:
        return str(item.get("text") or item.get("value") or code)
    if code == TEXT and not item.get("column"):
        return str(values["text"])
    return template % values


def reasons_text(items: list[dict[str, Any]], labels: dict[str, str] | None = None) -> str:
    return " ".join(reason_text(item, labels) for item in items)
