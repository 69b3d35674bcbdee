"""What the list's selection bar offers (customers/_bulk_bar.html): the custom properties a bulk action can set,
and whether the status can be set, read once per table."""

from __future__ import annotations

from typing import Any

from django import template

from relasi.customers.bulk.selectors import bulk_property_definitions
from relasi.customers.models import PropertyDefinition

register = template.Library()


@register.simple_tag(takes_context=True)
def bulk_properties(context: dict[str, Any]) -> list[PropertyDefinition]:
    request = context.get("request")
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return []
    return bulk_property_definitions(workspace=workspace)


@register.simple_tag(takes_context=True)
def bulk_status_settable(context: dict[str, Any]) -> bool:
    request = context.get("request")
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return False
    return (
        PropertyDefinition.objects.for_workspace(workspace)
        .filter(key="status", is_builtin=True, is_visible=True)
        .exists()
    )


@register.filter
def is_list_value(value: Any) -> bool:
    return isinstance(value, list | tuple)
