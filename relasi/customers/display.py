"""The text of a cell of the customers table, formatted in Python.

A million-row workspace shows 50 rows per request, and the template engine's per-value filters and tags cost more
than the query behind the page; so the cells arrive as text. The rules are relasi.core.formatting's, the same as
every other page: numbers grouped in the reader's language, money `Rp 1.500.000`, dates `28 Nov 2026`,
date-times with their minutes, phones `+62 812-3456-7890`, Yes/No, lists joined with commas, and None for an empty
cell of any column (the table shows "—").
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from relasi.core.formatting import (
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_phone,
    is_empty,
)
from relasi.customers.models import Customer, PropertyKind
from relasi.customers.selectors import Column, customer_cell


def customer_cell_text(customer: Customer, column: Column) -> str | None:
    """The cell's text, or None when the customer has no value there (built-in and custom columns alike)."""
    value: Any = customer_cell(customer, column)
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime):
        return format_datetime(value)
    if column.is_property and column.definition is not None:
        return _property_text(value, column.definition.kind)
    return str(value)


def _property_text(value: Any, kind: str) -> str:
    """A custom property's stored (JSON) value as text; a value of another type than its property's (the type
    changed since) is shown as it is."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if kind == PropertyKind.NUMBER and isinstance(value, int | float | Decimal):
        return format_number(value)
    if kind == PropertyKind.CURRENCY and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value)
    if isinstance(value, str):
        if kind == PropertyKind.DATE:
            return format_date(value)
        if kind == PropertyKind.DATETIME:
            return format_datetime(value)
        if kind == PropertyKind.PHONE:
            return format_phone(value)
    return str(value)
