"""Bounds on every value a person or a program sends, checked before Python converts it or the database stores it.

One set of rules for the pages, the API and imports: text without NUL characters or broken Unicode and within its
length, numbers of a size a person means (never a conversion that takes minutes), and dates that exist on the
calendar. A value out of bounds is a ValidationError with a message saying what is allowed, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# Numbers: at most 15 significant digits in all (what a double, and so a stored JSON number, holds exactly; more
# than any amount of rupiah), at most 6 of them after the point, at most 30 characters of text before they are
# looked at. A 16th digit would be rounded away silently when the value is stored.
NUMBER_MAX_TEXT = 30
NUMBER_LIMIT = Decimal("999999999999999")
NUMBER_MAX_DECIMALS = 6
NUMBER_MAX_DIGITS = 15
NUMBER_RANGE = gettext_noop(
    "use a number from -999,999,999,999,999 to 999,999,999,999,999 with at most 6 decimals and 15 digits in all"
)
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


# How people write a number ("style"): `plain` is the machine form (what the API accepts and JSON writes),
# `id` and `en` the ways Indonesian and English speakers write it.
NUMBER_STYLES = ("plain", "id", "en")
# An example of each style's whole numbers and decimals, for the messages that say what is expected.
_NUMBER_EXAMPLES = {
    "plain": ("1500000", "-2.5"),
    "id": ("1.500.000", "2,5"),
    "en": ("1,500,000", "2.5"),
}
# style: (thousands separator, decimal separator)
_SEPARATORS = {"id": (".", ","), "en": (",", ".")}
_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# A sign, then "Rp" (a rupiah amount as pages show it: "-Rp 5.000"), or "Rp" then a sign ("Rp -5.000").
_SIGNED = re.compile(
    r"(?P<sign>[+-]?)(?:\s*(?P<currency>[Rr][Pp]\.?)\s*(?P<sign_after>[+-]?))?(?P<body>.*)", re.DOTALL
)


def _grouped(thousands: str, decimal: str) -> re.Pattern[str]:
    """Whole digits in threes after a first group of one to three that does not start with 0, then decimals."""
    t, d = re.escape(thousands), re.escape(decimal)
    return re.compile(rf"[1-9]\d{{0,2}}(?:{t}\d{{3}})+(?:{d}\d+)?")


_GROUPED = {style: _grouped(*separators) for style, separators in _SEPARATORS.items()}
# Every thousands separator followed by exactly three digits: a number meant to be grouped.
_GROUP_LIKE = {
    style: re.compile(rf"\d+(?:{re.escape(t)}\d{{3}})+(?:{re.escape(d)}\d+)?")
    for style, (t, d) in _SEPARATORS.items()
}
_UNGROUPED = {style: re.compile(rf"\d+{re.escape(d)}\d+") for style, (_t, d) in _SEPARATORS.items()}
# How many of a column's values number_style_detect looks at.
NUMBER_STYLE_SAMPLES = 1000


def number_style_for_language(language: str | None) -> str:
    """The number style of a page shown in `language` (translation.get_language()): "id" or "en"."""
    return "id" if (language or "").lower().split("-")[0] == "id" else "en"


def _value_text(value: Any) -> str:
    """What a message shows of the value sent: its first characters, never the whole of a huge one."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"{Decimal(value):.6e}"
    return str(value)[:NUMBER_MAX_TEXT]


def _number_refused(value: Any, style: str = "plain", *, code: str = "number") -> ValidationError:
    whole, decimal = _NUMBER_EXAMPLES[style]
    message = (
        _("“%(value)s” is not grouped in thousands: write it like %(whole)s or %(decimal)s.")
        if code == "number_grouping"
        else _("“%(value)s” is not a number: write it like %(whole)s or %(decimal)s.")
    )
    return ValidationError(
        message, code=code, params={"value": _value_text(value), "whole": whole, "decimal": decimal}
    )


def number_range_text(value: Any) -> str:
    """Why `value` is refused as out of range, in the active language (forms, the import's reasons)."""
    return _("“%(value)s” is out of range: %(rule)s.") % {
        "value": _value_text(value),
        "rule": _(NUMBER_RANGE),
    }


def _number_out_of_range(value: Any) -> ValidationError:
    return ValidationError(
        _("“%(value)s” is out of range: %(rule)s."),
        code="number_range",
        params={"value": _value_text(value), "rule": _(NUMBER_RANGE)},
    )


class _IllGrouped(Exception):
    pass


def _styled_as_plain(body: str, style: str) -> str | None:
    """`body` (a number without its sign) in the plain form, or None when `style` does not read it.

    _IllGrouped when its separators say it is meant to be grouped in thousands but it is not.
    """
    if style == "plain":
        return body if _PLAIN.fullmatch(body) else None
    thousands, decimal = _SEPARATORS[style]
    if _GROUPED[style].fullmatch(body):
        return body.replace(thousands, "").replace(decimal, ".")
    if _GROUP_LIKE[style].fullmatch(body) or body.count(thousands) > 1:
        raise _IllGrouped
    if _UNGROUPED[style].fullmatch(body):
        return body.replace(decimal, ".")
    # The machine form where it cannot be read as grouped: "2.5", "1500000", "1e6" in Indonesian.
    return body if _PLAIN.fullmatch(body) else None


def _plain_text(text: str, style: str) -> str:
    """The plain form of `text` written in `style`; ValidationError naming the style's form when it is not."""
    signed = _SIGNED.fullmatch(text)
    assert signed is not None  # every text matches: each part is optional
    sign, sign_after = signed["sign"], signed["sign_after"] or ""
    if (sign and sign_after) or (signed["currency"] and style == "plain"):
        raise _number_refused(text, style)
    try:
        plain = _styled_as_plain(signed["body"], style)
    except _IllGrouped:
        raise _number_refused(text, style, code="number_grouping") from None
    if plain is None or plain[:1] in "+-":
        raise _number_refused(text, style)
    return (sign or sign_after) + plain


def number_checked(value: Any, *, style: str = "plain") -> int | float:
    """A number within ±999,999,999,999,999 with at most 6 decimals and 15 significant digits in all (what is stored
    exactly), as an int when it is whole: 123456789012345.5 is refused, never rounded.

    `style` says how text is written; numbers (int, float, Decimal) are read as they are, whatever the style.

    - "plain", the machine form (the API): digits, an optional sign, one decimal point, an optional exponent:
      `1500000`, `-2.5`, `1e6`. No thousands separators, so "1.500.000" and "2,5" are refused.
    - "id", Indonesian: dots group thousands and a comma writes decimals: `1.500.000`, `2,5`, `1.500.000,75`,
      `1500000,75`. A dot followed by exactly three digits is a thousands separator, so "1.500" is 1500 (never
      1.5) and "1.500,5" is 1500.5. A plain form that cannot be read as grouped is read as plain: "2.5" and
      "1234.5" are decimals, "1e6" a million.
    - "en", English: commas group thousands and a point writes decimals: `1,500,000`, `2.5`, `1,500,000.75`.
      "1,500" is 1500; "2,5" is refused (a comma is never a decimal point in English). Every plain form is read
      as plain.

    Grouped means in threes after a first group of one to three digits that does not start with 0. A number
    whose separators say it is meant to be grouped but is not ("1.50.000", "1234.567", "0.500" in Indonesian;
    "1,50,000" in English) is refused with a message showing the expected form, never guessed. In "id" and "en" a
    rupiah amount as pages show it is read too: `Rp 1.500.000`, `-Rp 5.000`.

    The text is bounded before Decimal sees it, and the size is checked on the exponent before any conversion
    to int: "1e400000" is refused at once instead of taking minutes.
    """
    if style not in NUMBER_STYLES:
        raise ValueError(f"Unknown number style {style!r}: use one of {NUMBER_STYLES}.")
    if isinstance(value, bool):
        raise _number_refused(value, style)
    if isinstance(value, int | float | Decimal):
        return _number_bounded(_number_decimal(value), value, style)
    text = str(value).strip()
    if not text or text_problem(text):
        raise _number_refused(value, style)
    if len(text) > NUMBER_MAX_TEXT:
        raise _number_out_of_range(value)
    try:
        number = Decimal(_plain_text(text, style))
    except InvalidOperation:
        raise _number_refused(value, style) from None
    return _number_bounded(number, value, style)


def _number_decimal(value: int | float | Decimal) -> Decimal:
    if isinstance(value, int):
        # Beyond 64 bits it is out of range anyway; str() of a huge int is slow, or refused past 4,300 digits.
        if value.bit_length() > 64:
            raise _number_out_of_range(value)
        return Decimal(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**63:
            return Decimal(int(value))
        # repr is the shortest text that reads back as the same float: 0.1 stays 0.1, not 0.1000000000000000055…
        return Decimal(repr(value))
    return value


def _number_bounded(number: Decimal, value: Any, style: str) -> int | float:
    if not number.is_finite():
        raise _number_refused(value, style)
    if number.adjusted() > 14 or abs(number) > NUMBER_LIMIT:
        raise _number_out_of_range(value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -NUMBER_MAX_DECIMALS:
        raise _number_out_of_range(value)
    if len(number.normalize().as_tuple().digits) > NUMBER_MAX_DIGITS:
        raise _number_out_of_range(value)
    return int(number) if number == number.to_integral_value() else float(number)


def number_text(value: int | float | Decimal, *, style: str = "plain") -> str:
    """`value` written in `style`, as number_checked reads it back: 1500000.5 is "1500000.5" (plain),
    "1.500.000,5" (id) or "1,500,000.5" (en). Every decimal the value has, none added, never an exponent."""
    if style not in NUMBER_STYLES:
        raise ValueError(f"Unknown number style {style!r}: use one of {NUMBER_STYLES}.")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError("number_text takes a number")
    text = f"{_number_decimal(value):f}"
    if style == "plain":
        return text
    thousands, decimal = _SEPARATORS[style]
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _point, decimals = digits.partition(".")
    grouped = f"{int(whole):,}".replace(",", thousands)
    return sign + grouped + (decimal + decimals if decimals else "")


def number_style_detect(samples: Iterable[str]) -> str:
    """The style a column's values are written in: "id", "en", or "plain" when they do not say.

    Each value is read in Indonesian and in English. A value only one of them reads is a clear vote for it
    ("1.500.000", "2,5", "1.500,75" → Indonesian; "1,500,000", "1,500.75" → English). A value both read, to
    different numbers, is a weak vote for the one that reads it as grouped in thousands ("1.500" → Indonesian, 1500;
    "1,500" → English, 1500). A value every style reads the same ("1500", "2.5"), or that none reads, says
    nothing. The clear votes decide, then the weak ones; a tie, or no vote at all, is "plain". The first
    NUMBER_STYLE_SAMPLES non-empty values are looked at.
    """
    clear = {"id": 0, "en": 0}
    weak = {"id": 0, "en": 0}
    looked = 0
    for sample in samples:
        text = str(sample).strip()
        if not text:
            continue
        looked += 1
        if looked > NUMBER_STYLE_SAMPLES:
            break
        read_id, read_en = _reading(text, "id"), _reading(text, "en")
        if read_id is not None and read_en is None:
            clear["id"] += 1
        elif read_en is not None and read_id is None:
            clear["en"] += 1
        elif read_id is not None and read_id != read_en:
            weak["id" if "." in text else "en"] += 1
    for votes in (clear, weak):
        if votes["id"] != votes["en"]:
            return "id" if votes["id"] > votes["en"] else "en"
    return "plain"


def _reading(text: str, style: str) -> int | float | None:
    try:
        return number_checked(text, style=style)
    except ValidationError:
        return None


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


def request_body_within(request: HttpRequest, max_bytes: int) -> bytes | None:
    """A webhook's raw body, or None when it is larger than `max_bytes` — refused by its declared length before
    any of it is read, and by what was read when the declaration was missing or wrong."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and len(declared) < 12 and int(declared) > max_bytes:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return body if len(body) <= max_bytes else None
