"""The low-balance banner of the app's pages, for those who may see billing."""

from __future__ import annotations

from typing import Any

from django import template

from relasi.billing.models import LOW_BALANCE_PERCENT
from relasi.billing.selectors import low_balances

register = template.Library()


@register.inclusion_tag("billing/_low_balance_banner.html", takes_context=True)
def low_balance_banner(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    workspace = getattr(request, "workspace", None)
    may = getattr(request, "may", None)
    if workspace is None or may is None or not may.view_billing:
        return {"low": []}
    return {"low": low_balances(workspace=workspace), "workspace": workspace, "percent": LOW_BALANCE_PERCENT}
