"""Numbers, money, counts, dates and phones as pages show them, in the reader's language.

One rule for every page: numbers grouped in thousands with the language's separators (`1.500.000` and `2,5` in
Indonesian, `1,500,000` and `2.5` in English), whole rupiah as `Rp 1.500.000`, date-times with their minutes
(`28 Nov 2026, 23.00`), phones in the international style (`+62 812-3456-7890`), and "—" for a value that is
not there. The formats are the language's format module (relasi/formats, through Django's localization);
USE_THOUSAND_SEPARATOR stays off, so ids and values in URLs, forms and JSON are never grouped. The API and exports
keep the plain values: these functions are for pages only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import phonenumbers
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, get_format, number_format

from relasi.core.money import format_rupiah

EMPTY = "—"


def is_empty(value: Any) -> bool:
    """Nothing to show: None, blank text or an empty list. 0 and False are values."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and not value


def format_number(value: int | float | Decimal) -> str:
    """`1.500.000` / `1,500,000`, `2,5` / `2.5`: every decimal the value has, none added, never an exponent."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError("format_number takes a number")
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 0.1, not 0.1000000000000000055…
        value = Decimal(repr(value))
    return number_format(value, force_grouping=True)


def format_count(count: int) -> str:
    """A count of things, grouped: `30.258 pelanggan` / `30,258 customers`."""
    return format_number(count)


def format_money(amount: int) -> str:
    """Whole rupiah: `Rp 1.500.000` in Indonesian, `Rp 1,500,000` in English; `-Rp 5.000` below zero."""
    return format_rupiah(amount, thousands=str(get_format("THOUSAND_SEPARATOR")))


def format_date(value: date | str) -> str:
    """`28 Nov 2026`; a stored ISO date ("2026-11-28") too. Text that is no date is shown as it is."""
    if isinstance(value, str):
        parsed = _date_or_none(value)
        if parsed is None:
            return value
        value = parsed
    if isinstance(value, datetime):
        return format_datetime(value)
    return date_format(value, "DATE_FORMAT")


def format_datetime(value: datetime | str) -> str:
    """`28 Nov 2026, 23.00` / `28 Nov 2026, 23:00`, in the current time zone when the moment has an offset."""
    if isinstance(value, str):
        parsed = _datetime_or_none(value)
        if parsed is None:
            return value
        value = parsed
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATETIME_FORMAT")


def _date_or_none(text: str) -> date | None:
    try:
        return parse_date(text.strip())
    except ValueError:
        return None


def _datetime_or_none(text: str) -> datetime | None:
    try:
        return parse_datetime(text.strip())
    except ValueError:
        return None


# The same customers are shown over and over (first pages, shared links); parsing costs ~40 µs each.
@lru_cache(maxsize=8192)
def format_phone(e164: str) -> str:
    """+6281234567890 → +62 812-3456-7890, for reading; stored, exported and API values stay E.164."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164
