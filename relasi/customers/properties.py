"""Validating custom property values by their type, the same way in forms, the API and imports."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from relasi.customers.models import PropertyDefinition, PropertyKind
from relasi.customers.normalize import normalize_email, normalize_phone

TRUE_WORDS = {"true", "yes", "ya", "y", "1", "on"}
FALSE_WORDS = {"false", "no", "tidak", "n", "0", "off"}
DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d"]
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def _parse_date(text: str) -> date | None:
    parsed = parse_date(text)
    if parsed:
        return parsed
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value).replace(";", ",").split(",") if part.strip()]


def clean_property_value(definition: PropertyDefinition, value: Any) -> Any:
    """The stored (JSON) form of `value` for this property, or ValidationError. Empty → None."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        if definition.is_required:
            raise ValidationError(
                _("%(label)s is required."), code="required", params={"label": definition.label}
            )
        return None
    kind = definition.kind
    text = value.strip() if isinstance(value, str) else value
    if kind in (PropertyKind.TEXT, PropertyKind.LONG_TEXT):
        limit = 255 if kind == PropertyKind.TEXT else 5000
        text = str(text)
        if len(text) > limit:
            raise ValidationError(
                _("At most %(limit)d characters."), code="too_long", params={"limit": limit}
            )
        return text
    if kind == PropertyKind.NUMBER:
        try:
            number = Decimal(str(text).replace(",", "."))
        except InvalidOperation:
            raise ValidationError(
                _("“%(value)s” is not a number."), code="number", params={"value": value}
            ) from None
        if not number.is_finite():
            raise ValidationError(_("“%(value)s” is not a number."), code="number", params={"value": value})
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == PropertyKind.DATE:
        parsed_date = text if isinstance(text, date) else _parse_date(str(text))
        if parsed_date is None:
            raise ValidationError(
                _("“%(value)s” is not a date (use YYYY-MM-DD)."), code="date", params={"value": value}
            )
        return parsed_date.isoformat()
    if kind == PropertyKind.DATETIME:
        parsed_moment = text if isinstance(text, datetime) else parse_datetime(str(text))
        if parsed_moment is None:
            raise ValidationError(
                _("“%(value)s” is not a date and time (use YYYY-MM-DD HH:MM)."),
                code="datetime",
                params={"value": value},
            )
        return parsed_moment.isoformat()
    if kind == PropertyKind.BOOLEAN:
        if isinstance(text, bool):
            return text
        word = str(text).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(_("“%(value)s” is not yes or no."), code="boolean", params={"value": value})
    if kind == PropertyKind.SELECT:
        choice = str(text)
        if choice not in definition.options:
            raise ValidationError(
                _("“%(value)s” is not one of the options: %(options)s."),
                code="choice",
                params={"value": value, "options": ", ".join(definition.options)},
            )
        return choice
    if kind == PropertyKind.MULTISELECT:
        choices = _as_list(text)
        unknown = [choice for choice in choices if choice not in definition.options]
        if unknown:
            raise ValidationError(
                _("“%(value)s” is not one of the options: %(options)s."),
                code="choice",
                params={"value": ", ".join(unknown), "options": ", ".join(definition.options)},
            )
        return choices
    if kind == PropertyKind.PHONE:
        return normalize_phone(str(text)) or None
    if kind == PropertyKind.EMAIL:
        return normalize_email(str(text)) or None
    if kind == PropertyKind.URL:
        url = str(text)
        try:
            URLValidator()(url)
        except ValidationError:
            raise ValidationError(
                _("“%(value)s” is not a web address."), code="url", params={"value": value}
            ) from None
        return url
    raise ValidationError(_("Unknown property type."), code="kind")
