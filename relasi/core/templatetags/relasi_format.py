"""Template filters for numbers, money, counts and phones in the reader's language (relasi.core.formatting).

    {% load relasi_format %}
    {{ value|number }}      1.500.000 · 2,5 (Indonesian), 1,500,000 · 2.5 (English)
    {{ amount|rupiah }}     Rp 1.500.000
    {{ total|count }}       30.258
    {{ customer.phone|phone }}   +62 812-3456-7890
    {{ value|or_dash }}     the value, or "—" when there is none

Dates need no filter of ours: `{{ moment|date:"DATETIME_FORMAT" }}` and `{{ day|date }}` follow relasi/formats.
A value a filter cannot format (text where a number was expected) is shown as it is, never an error page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from relasi.core.formatting import EMPTY, format_count, format_money, format_number, format_phone, is_empty

register = template.Library()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


@register.filter
def number(value: Any) -> Any:
    return format_number(value) if _is_number(value) else value


@register.filter
def rupiah(value: Any) -> Any:
    return format_money(value) if isinstance(value, int) and not isinstance(value, bool) else value


@register.filter
def count(value: Any) -> Any:
    return format_count(value) if isinstance(value, int) and not isinstance(value, bool) else value


@register.filter
def phone(value: Any) -> Any:
    return format_phone(value) if isinstance(value, str) else value


@register.filter
def or_dash(value: Any) -> Any:
    return EMPTY if is_empty(value) else value
