"""Normalising what people type: phones to E.164 (default region Indonesia), emails, channel usernames."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from relasi.core.formatting import format_phone

DEFAULT_REGION = "ID"
# Values people put in a field when they have nothing: a form or an import stores them as empty. A subset of the
# values of data/junk_identifiers.json (relasi.customers.junk), which identity resolution never matches: the others
# there ("test", "x", "?") are refused by a phone or email field as what they are, and a username may be "test".
JUNK_VALUES = frozenset(
    {"", "0", "-", "--", "null", "none", "nil", "n/a", "na", "anonymous", "unknown", "tidak ada"}
)


def is_junk(value: str) -> bool:
    return value.strip().lower() in JUNK_VALUES


def normalize_phone(raw: str) -> str:
    """E.164 for a valid number; "" for an empty or junk value; ValidationError otherwise."""
    value = raw.strip()
    if is_junk(value):
        return ""
    if value.startswith("62") and not value.startswith("+"):
        value = "+" + value
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("“%(value)s” is not a phone number."), code="phone", params={"value": raw}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number."), code="phone", params={"value": raw}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    value = raw.strip().lower()
    if is_junk(value):
        return ""
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            _("“%(value)s” is not an email address."), code="email", params={"value": raw}
        ) from None
    return value


def normalize_username(raw: str) -> str:
    value = raw.strip().lstrip("@").lower()
    return "" if is_junk(value) else value


PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{4,}$")


def phone_search_digits(query: str) -> str | None:
    """Digits to look for in stored E.164 phones when a search looks like a phone (0812… or +62812…)."""
    if not PHONE_LIKE.match(query.strip()):
        return None
    digits = re.sub(r"\D", "", query)
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits or None


# Pages show phones in one international style; the function lives with the other formats of relasi.core.
display_phone = format_phone
