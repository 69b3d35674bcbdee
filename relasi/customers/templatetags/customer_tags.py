from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)
