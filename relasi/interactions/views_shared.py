"""What the record pages and the customer's tabs share: the kinds' names and URLs, a record as a row of text, the
filter panel of a kind, and paging links. Made from the table of kinds, never written out six times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from relasi.core.formatting import EMPTY, format_date, format_datetime, format_money
from relasi.core.pagination import Page
from relasi.customers.models import Channel
from relasi.interactions.filters import KIND_FILTERS, SlaStatus, TabFilters
from relasi.interactions.forms import field_label
from relasi.interactions.kinds import KINDS, KindSpec
from relasi.interactions.models import (
    PIPELINE_KINDS,
    ApprovalStatus,
    Conversation,
    ConversationStatus,
    Kind,
    Pipeline,
    Priority,
    Record,
    TaskStatus,
    Ticket,
)
from relasi.interactions.selectors import pipelines_of_kind, sla_status
from relasi.tenancy.models import Workspace
from relasi.tenancy.selectors import workspace_member_users

# The kinds in the order of the article's buttons, each with its path segment.
PLURALS: dict[str, str] = {
    Kind.CONVERSATION: "conversations",
    Kind.CAMPAIGN: "campaigns",
    Kind.COMPANY: "companies",
    Kind.TICKET: "tickets",
    Kind.DEAL: "deals",
    Kind.TASK: "tasks",
}
KIND_OF_PLURAL = {plural: kind for kind, plural in PLURALS.items()}

# A list's heading and the menu's link.
LIST_TITLES: dict[str, Promise] = {
    Kind.CONVERSATION: _("Conversations"),
    Kind.CAMPAIGN: _("Campaigns"),
    Kind.COMPANY: _("Companies"),
    Kind.TICKET: _("Tickets"),
    Kind.DEAL: _("Deals"),
    Kind.TASK: _("Tasks"),
}
# The buttons of the customer's page, as the article names them.
TAB_LABELS: dict[str, Promise] = {
    Kind.CONVERSATION: _("Chat"),
    Kind.CAMPAIGN: _("Broadcast"),
    Kind.COMPANY: _("Company"),
    Kind.TICKET: _("Ticket"),
    Kind.DEAL: _("Sales"),
    Kind.TASK: _("Tasks"),
}
NEW_LABELS: dict[str, Promise] = {
    Kind.CONVERSATION: _("New conversation"),
    Kind.CAMPAIGN: _("New campaign"),
    Kind.COMPANY: _("New company"),
    Kind.TICKET: _("New ticket"),
    Kind.DEAL: _("New deal"),
    Kind.TASK: _("New task"),
}
SLA_LABELS: dict[str, Promise] = {
    SlaStatus.ON_TIME: _("On time"),
    SlaStatus.AT_RISK: _("At risk"),
    SlaStatus.BREACHED: _("Breached"),
}
FILTER_LABELS: dict[str, Promise] = {
    "status": _("Status"),
    "channel": _("Channel"),
    "sla": _("SLA status"),
    "pipeline": _("Pipeline"),
    "stage": _("Stage"),
    "reporter": _("Reporter"),
    "assignee": _("Assignee"),
    "owner": _("Owner"),
    "priority": _("Priority"),
    "approval_status": _("Approval status"),
}
# Ticked in boxes (a few fixed values); the others are chosen in a select.
CHECKBOX_FILTERS = ("status", "channel", "sla", "approval_status")


@dataclass(frozen=True)
class Names:
    """Names of the workspace's people and stages, read once per page to show ids as words."""

    members: dict[int, str]
    stages: dict[int, str]
    pipelines: list[Pipeline]

    @property
    def member_choices(self) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in self.members.items()]


def names_of(*, workspace: Workspace, kind: str | None = None) -> Names:
    members = {user.pk: user.full_name or user.email for user in workspace_member_users(workspace=workspace)}
    pipelines = pipelines_of_kind(workspace=workspace, kind=kind) if kind in PIPELINE_KINDS else []
    stages = {stage.pk: stage.name for pipeline in pipelines for stage in pipeline.stages.all()}
    return Names(members=members, stages=stages, pipelines=pipelines)


def value_text(spec: KindSpec, name: str, record: Record, names: Names) -> str:
    """One field of a record as a page shows it."""
    field_spec = next(item for item in spec.fields if item.name == name)
    if field_spec.value_type in ("member", "stage"):
        pk = getattr(record, f"{name}_id")
        if pk is None:
            return EMPTY
        table = names.members if field_spec.value_type == "member" else names.stages
        return table.get(pk, f"#{pk}")
    value = getattr(record, name)
    if value in (None, ""):
        return EMPTY
    if field_spec.value_type == "choice" and field_spec.choices is not None:
        # The label by the enum's own lookup: get_FOO_display() hashes every choice's lazy label on each call, which
        # was a tenth of the customer page's time (200 calls for four tabs of 50 rows).
        try:
            return str(field_spec.choices(value).label)
        except ValueError:
            return str(value)
    if field_spec.value_type == "rupiah":
        return format_money(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    return str(value)


@dataclass(frozen=True)
class Cell:
    label: str
    text: str


@dataclass
class RecordRow:
    pk: int
    title: str
    url: str
    cells: list[Cell] = field(default_factory=list)


def row_headers(spec: KindSpec) -> list[str]:
    headers = [field_label(spec, item.name) for item in spec.fields if item.name != spec.title_field]
    if spec.kind == Kind.TICKET:
        headers.append(str(SLA_STATUS_LABEL))
    if spec.kind == Kind.CONVERSATION:
        headers += [str(_("Messages")), str(_("Last message"))]
    headers.append(str(_("Last update")))
    return headers


SLA_STATUS_LABEL = _("SLA status")


def record_row(spec: KindSpec, record: Record, names: Names, *, url: str) -> RecordRow:
    headers = row_headers(spec)
    texts = [
        value_text(spec, item.name, record, names) for item in spec.fields if item.name != spec.title_field
    ]
    if isinstance(record, Ticket):
        texts.append(str(SLA_LABELS[sla_status(due_at=record.due_at, resolved_at=record.resolved_at)]))
    if isinstance(record, Conversation):
        texts += [
            str(record.messages_count),
            format_datetime(record.last_message_at) if record.last_message_at else EMPTY,
        ]
    texts.append(format_datetime(record.updated_at))
    title = str(getattr(record, spec.title_field) or record)
    return RecordRow(
        pk=record.pk,
        title=title,
        url=url,
        cells=[Cell(label, text) for label, text in zip(headers, texts, strict=True)],
    )


@dataclass(frozen=True)
class FilterOption:
    value: str
    label: str
    checked: bool


@dataclass(frozen=True)
class FilterControl:
    name: str
    label: str
    checkboxes: bool
    options: list[FilterOption]


def _filter_options(kind: str, name: str, names: Names) -> list[tuple[str, str]]:
    if name == "status":
        choices = ConversationStatus if kind == Kind.CONVERSATION else TaskStatus
        return [(value, str(label)) for value, label in choices.choices]
    if name == "channel":
        return [(value, str(label)) for value, label in Channel.choices]
    if name == "sla":
        return [(value, str(label)) for value, label in SLA_LABELS.items()]
    if name == "approval_status":
        return [(value, str(label)) for value, label in ApprovalStatus.choices]
    if name == "priority":
        return [(value, str(label)) for value, label in Priority.choices]
    if name == "pipeline":
        return [(str(pipeline.pk), pipeline.name) for pipeline in names.pipelines]
    if name == "stage":
        return [
            (str(stage.pk), f"{pipeline.name} · {stage.name}" if len(names.pipelines) > 1 else stage.name)
            for pipeline in names.pipelines
            for stage in pipeline.stages.all()
        ]
    return names.member_choices


def filter_controls(kind: str, filters: TabFilters, names: Names) -> list[FilterControl]:
    """The kind's filter panel, each control with what is ticked or chosen now."""
    controls = []
    for name in KIND_FILTERS[kind]:
        chosen = {str(value) for value in getattr(filters, name)}
        controls.append(
            FilterControl(
                name=name,
                label=str(FILTER_LABELS[name]),
                checkboxes=name in CHECKBOX_FILTERS,
                options=[
                    FilterOption(value, label, value in chosen)
                    for value, label in _filter_options(kind, name, names)
                ],
            )
        )
    return controls


def filters_query(filters: TabFilters) -> list[tuple[str, str]]:
    """The filters as query parameters, to carry into paging links."""
    pairs: list[tuple[str, str]] = []
    for name in FILTER_LABELS:
        pairs += [(name, str(value)) for value in getattr(filters, name)]
    return pairs


def filters_active(filters: TabFilters) -> int:
    return sum(1 for name in FILTER_LABELS if getattr(filters, name))


@dataclass(frozen=True)
class Paging:
    previous_url: str | None
    next_url: str | None


def paging_of(base_url: str, filters: TabFilters, page: Page[Any], *, cursor_name: str = "cursor") -> Paging:
    query = filters_query(filters)

    def link(cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return f"{base_url}?{urlencode([*query, (cursor_name, cursor)])}"

    return Paging(previous_url=link(page.previous_cursor), next_url=link(page.next_cursor))


def cursor_of(params: QueryDict, name: str = "cursor") -> str | None:
    return params.get(name) or None


def kinds_in_order() -> list[KindSpec]:
    return [KINDS[kind] for kind in PLURALS]
