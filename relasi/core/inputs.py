"""Bounds on every value a person or a program sends, checked before Python converts it or the database stores it.

One set of rules for the pages, the API and imports: text without NUL characters or broken Unicode and within its
length, numbers of a size a person means (never a conversion that takes minutes), and dates that exist on the
calendar. A value out of bounds is a ValidationError with a message saying what is allowed, never a 500.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

# Numbers: up to 15 significant digits before the point (what a double holds exactly, and more than any amount
# of rupiah), at most 30 characters of text before they are looked at.
NUMBER_MAX_TEXT = 30
NUMBER_LIMIT = Decimal("999999999999999")
NUMBER_MAX_DECIMALS = 6
NUMBER_RANGE = "use a number from -999,999,999,999,999 to 999,999,999,999,999 with at most 6 decimals"
# Dates: the years people mean; year 1 and 9999 overflow when moved across time zones.
FIRST_YEAR = 1900
LAST_YEAR = 2999
# The same years as a regular expression, for the API's description of date parameters.
YEAR_REGEX = "(19|2[0-9])[0-9]{2}"
# A date or date-time is never longer than this as text (2026-03-31T23:59:59.999999+07:00 is 32).
MOMENT_MAX_TEXT = 40

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str:
    """Why this text cannot be stored ("" when it can): a NUL character, or a lone surrogate (broken Unicode)."""
    if "\x00" in text:
        return _("Remove the NUL character (\\0): it cannot be stored.")
    if _SURROGATE.search(text):
        return _("The text holds an invalid character (a broken Unicode sequence).")
    return ""


def text_storable(text: str) -> str:
    """The text with NUL characters and lone surrogates replaced by U+FFFD, for keeping what a person sent
    (a failed import row) where neither can be stored: PostgreSQL refuses both in text and JSON."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", "\ufffd"))


def text_checked(value: Any, *, max_length: int) -> str:
    """The text, trimmed; ValidationError for NUL, broken Unicode or more than `max_length` characters.

    The length is of the text as sent, spaces included: the limit a client reads in the API's description is
    the one applied.
    """
    text = "" if value is None else str(value)
    if len(text) > max_length:
        raise ValidationError(
            _("At most %(limit)d characters."), code="too_long", params={"limit": max_length}
        )
    problem = text_problem(text)
    if problem:
        raise ValidationError(problem, code="invalid_character")
    return text.strip()


def _number_refused(value: Any) -> ValidationError:
    return ValidationError(
        _("“%(value)s” is not a number."), code="number", params={"value": str(value)[:NUMBER_MAX_TEXT]}
    )


def _number_out_of_range(value: Any) -> ValidationError:
    return ValidationError(
        _(
            "“%(value)s” is out of range: use a number from -999,999,999,999,999 to 999,999,999,999,999 with at most 6 decimals."
        ),
        code="number_range",
        params={"value": str(value)[:NUMBER_MAX_TEXT]},
    )


def number_checked(value: Any) -> int | float:
    """A number within ±999,999,999,999,999 with at most 6 decimals, as an int when it is whole.

    The text is bounded before Decimal sees it, and the size is checked on the exponent before any conversion
    to int: "1e400000" is refused at once instead of taking minutes.
    """
    if isinstance(value, bool):
        raise _number_refused(value)
    text = str(value).strip().replace(",", ".")
    if not text or text_problem(text):
        raise _number_refused(value)
    if len(text) > NUMBER_MAX_TEXT:
        raise _number_out_of_range(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _number_refused(value) from None
    if not number.is_finite():
        raise _number_refused(value)
    if number.adjusted() > 14 or abs(number) > NUMBER_LIMIT:
        raise _number_out_of_range(value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -NUMBER_MAX_DECIMALS:
        raise _number_out_of_range(value)
    return int(number) if number == number.to_integral_value() else float(number)


def _year_checked(moment: date, value: Any) -> None:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValidationError(
            _("“%(value)s” is out of range: use a year from 1900 to 2999."),
            code="date_range",
            params={"value": str(value)[:MOMENT_MAX_TEXT]},
        )


def _moment_text(value: Any, message: str, *, code: str) -> str:
    """The text of a date or date-time, refused before parsing when it is longer than any or not storable."""
    text = str(value).strip()
    if len(text) > MOMENT_MAX_TEXT or text_problem(text):
        raise ValidationError(message, code=code, params={"value": text[:MOMENT_MAX_TEXT]})
    return text


def date_checked(value: Any, *, formats: tuple[str, ...] = ()) -> date:
    """A calendar date (ISO, or one of `formats`), years 1900–2999; "2026-02-30" is refused, never a crash."""
    message = _("“%(value)s” is not a date (use YYYY-MM-DD).")
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        _year_checked(value, value)
        return value
    text = _moment_text(value, message, code="date")
    parsed: date | None
    try:
        parsed = parse_date(text)
    except ValueError:
        parsed = None
    for pattern in formats:
        if parsed is not None:
            break
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    if parsed is None:
        raise ValidationError(message, code="date", params={"value": text})
    _year_checked(parsed, text)
    return parsed


def datetime_checked(value: Any) -> datetime:
    """A date and time that exists (hours 0–23, an offset within ±14:00), years 1900–2999."""
    message = _("“%(value)s” is not a date and time (use YYYY-MM-DD HH:MM).")
    if isinstance(value, datetime):
        _year_checked(value, value)
        return value
    text = _moment_text(value, message, code="datetime")
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    offset = parsed.utcoffset() if parsed is not None else None
    if parsed is None or (offset is not None and abs(offset.total_seconds()) > 14 * 3600):
        raise ValidationError(message, code="datetime", params={"value": text})
    _year_checked(parsed, text)
    return parsed


def structure_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first (field path, reason) of a JSON-like value holding text that cannot be stored, or None."""
    if isinstance(value, str):
        problem = text_problem(value)
        return (path or "__all__", problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            key_problem = text_problem(key_text)
            if key_problem:
                return (path or "__all__", key_problem)
            found = structure_problem(item, f"{path}.{key_text}" if path else key_text)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = structure_problem(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None
