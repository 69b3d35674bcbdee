"""The filters of a kind's list and of a customer's tab, from query parameters (pages and the API alike)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from relasi.customers.models import Channel
from relasi.interactions.models import ApprovalStatus, ConversationStatus, Kind, Priority, TaskStatus

# How many values one filter may tick, and how long an id may be: a hostile URL is refused before any query.
MAX_VALUES = 50
ID_MAX_DIGITS = 18


class SlaStatus:
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    ALL = (ON_TIME, AT_RISK, BREACHED)


@dataclass(frozen=True)
class TabFilters:
    """The filters of a list or a customer's tab; each holds the values ticked (empty: no filter)."""

    status: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    sla: tuple[str, ...] = ()
    pipeline: tuple[int, ...] = ()
    stage: tuple[int, ...] = ()
    reporter: tuple[int, ...] = ()
    assignee: tuple[int, ...] = ()
    owner: tuple[int, ...] = ()
    priority: tuple[str, ...] = ()
    approval_status: tuple[str, ...] = ()


# Which filters each kind offers (the article's filter panels of the customer's tabs; the kind's list the same).
KIND_FILTERS: dict[str, tuple[str, ...]] = {
    Kind.CONVERSATION: ("status", "channel"),
    Kind.CAMPAIGN: (),
    Kind.COMPANY: (),
    Kind.TICKET: ("sla", "pipeline", "reporter", "assignee", "priority"),
    Kind.DEAL: ("approval_status", "pipeline", "owner", "priority"),
    Kind.TASK: ("status", "stage", "assignee", "priority"),
}

ID_FILTERS = ("pipeline", "stage", "reporter", "assignee", "owner")


def _choices(kind: str, name: str) -> set[str]:
    if name == "status":
        return set((ConversationStatus if kind == Kind.CONVERSATION else TaskStatus).values)
    if name == "channel":
        return set(Channel.values)
    if name == "sla":
        return set(SlaStatus.ALL)
    if name == "priority":
        return set(Priority.values)
    return set(ApprovalStatus.values)


class FilterError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def tab_filters_parse(params: QueryDict | Mapping[str, Any], *, kind: str) -> TabFilters:
    """The kind's filters from query parameters (each may be repeated: `?priority=high&priority=urgent`).
    Parameters the kind does not offer are ignored, as a page's other parameters are; FilterError names each bad
    value."""
    errors: dict[str, str] = {}
    values: dict[str, tuple[Any, ...]] = {}
    for name in KIND_FILTERS[kind]:
        raw = _values(params, name)
        if not raw:
            continue
        if len(raw) > MAX_VALUES:
            errors[name] = _("At most %(count)d values.") % {"count": MAX_VALUES}
            continue
        if name in ID_FILTERS:
            # ASCII digits only: "²" is a digit to str.isdigit but not to int.
            bad = [
                value
                for value in raw
                if not (value.isascii() and value.isdigit()) or len(value) > ID_MAX_DIGITS
            ]
            if bad:
                errors[name] = _("“%(value)s” is not an id.") % {"value": bad[0][:30]}
                continue
            values[name] = tuple(dict.fromkeys(int(value) for value in raw))
            continue
        allowed = _choices(kind, name)
        bad = [value for value in raw if value not in allowed]
        if bad:
            errors[name] = _("“%(value)s” is not one of: %(choices)s.") % {
                "value": bad[0][:30],
                "choices": ", ".join(sorted(allowed)),
            }
            continue
        values[name] = tuple(dict.fromkeys(raw))
    if errors:
        raise FilterError(errors)
    return TabFilters(**values)


def _values(params: QueryDict | Mapping[str, Any], name: str) -> list[str]:
    if isinstance(params, QueryDict):
        raw: list[Any] = params.getlist(name)
    else:
        value = params.get(name)
        raw = list(value) if isinstance(value, list | tuple) else ([] if value is None else [value])
    # Values are bounded before anything looks at them: an empty one is no value.
    return [str(value).strip()[:100] for value in raw[: MAX_VALUES + 1] if str(value).strip()]
