from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


@register.filter
def join_if_list(value: Any) -> str:
    """Multi-select values show as "A, B"; anything else as text."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)
