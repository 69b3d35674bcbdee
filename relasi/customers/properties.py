"""Validating custom property values by their type, the same way in forms, the API and imports."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from relasi.core.inputs import NUMBER_MAX_TEXT, date_checked, datetime_checked, number_checked, text_checked
from relasi.core.money import RUPIAH_EXAMPLES
from relasi.customers.models import PropertyDefinition, PropertyKind
from relasi.customers.normalize import normalize_email, normalize_phone

TRUE_WORDS = {"true", "yes", "ya", "y", "1", "on"}
FALSE_WORDS = {"false", "no", "tidak", "n", "0", "off"}
DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
# The types whose values are numbers: read in a number style, and told from a file's columns by imports.
NUMBER_KINDS = (PropertyKind.NUMBER, PropertyKind.CURRENCY)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value).replace(";", ",").split(",") if part.strip()]


def clean_property_value(definition: PropertyDefinition, value: Any, *, number_style: str = "plain") -> Any:
    """The stored (JSON) form of `value` for this property, or ValidationError. Empty → None.

    `number_style` says how a number written as text reads (relasi.core.inputs.number_checked): "plain" for the
    API, the page's language for the customer form, the file's style for an import.
    """
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        if definition.is_required:
            raise ValidationError(
                _("%(label)s is required."), code="required", params={"label": definition.label}
            )
        return None
    kind = definition.kind
    if kind in (PropertyKind.TEXT, PropertyKind.LONG_TEXT):
        return text_checked(value, max_length=TEXT_LIMITS[kind])
    if kind == PropertyKind.NUMBER:
        return number_checked(value, style=number_style)
    if kind == PropertyKind.CURRENCY:
        return _rupiah(value, number_style=number_style)
    if kind == PropertyKind.DATE:
        return date_checked(value, formats=DATE_FORMATS).isoformat()
    if kind == PropertyKind.DATETIME:
        return datetime_checked(value).isoformat()
    if kind == PropertyKind.BOOLEAN:
        return _boolean(value)
    if kind in (PropertyKind.SELECT, PropertyKind.MULTISELECT):
        return _choices(definition, value)
    text = text_checked(value, max_length=OTHER_LIMITS[kind]) if kind in OTHER_LIMITS else ""
    if kind == PropertyKind.PHONE:
        return normalize_phone(text) or None
    if kind == PropertyKind.EMAIL:
        return normalize_email(text) or None
    if kind == PropertyKind.URL:
        try:
            URLValidator()(text)
        except ValidationError:
            raise ValidationError(
                _("“%(value)s” is not a web address."), code="url", params={"value": text}
            ) from None
        return text
    raise ValidationError(_("Unknown property type."), code="kind")


TEXT_LIMITS: dict[str, int] = {PropertyKind.TEXT: 255, PropertyKind.LONG_TEXT: 5000}
OTHER_LIMITS: dict[str, int] = {PropertyKind.PHONE: 50, PropertyKind.EMAIL: 254, PropertyKind.URL: 2000}
OPTION_LIMIT = 100


def _rupiah(value: Any, *, number_style: str) -> int:
    """A whole number of rupiah, within the bounds of every number (relasi.core.inputs.number_checked).

    "Rp 1.500.000" and "1.500.000,00" are read; an amount with cents ("2,5", 1500000.5) is refused rather than
    rounded: nobody means half a rupiah, and a rounded amount would differ from the one the person typed.
    """
    amount = number_checked(value, style=number_style)
    if isinstance(amount, float):
        raise ValidationError(
            _("“%(value)s” is not a whole number of rupiah: write it without decimals, like %(example)s."),
            code="currency",
            params={"value": str(value)[:NUMBER_MAX_TEXT], "example": RUPIAH_EXAMPLES[number_style]},
        )
    return amount


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = text_checked(value, max_length=20).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no."), code="boolean", params={"value": word})


def _choices(definition: PropertyDefinition, value: Any) -> str | list[str]:
    if definition.kind == PropertyKind.SELECT:
        choice = text_checked(value, max_length=OPTION_LIMIT)
        if choice not in definition.options:
            raise ValidationError(
                _("“%(value)s” is not one of the options: %(options)s."),
                code="choice",
                params={"value": choice, "options": ", ".join(definition.options)},
            )
        return choice
    items = value if isinstance(value, list | tuple) else [value]
    if len(items) > len(definition.options) + 10:
        raise ValidationError(_("Choose from the options only."), code="choice")
    choices = _as_list([text_checked(item, max_length=OPTION_LIMIT * 50) for item in items])
    unknown = [choice for choice in choices if choice not in definition.options]
    if unknown:
        raise ValidationError(
            _("“%(value)s” is not one of the options: %(options)s."),
            code="choice",
            params={"value": ", ".join(unknown), "options": ", ".join(definition.options)},
        )
    return choices
