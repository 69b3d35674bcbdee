"""The customer activity timeline in the reader's words: each stored line (an action and a summary of ids and
values, kept in no language) becomes a sentence such as "Alice changed Status from New to Active",
"Ticket “Refund” created" or "Message received: Halo", with who did it and when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.translation import gettext as _

from relasi.core.formatting import EMPTY, format_date, format_datetime, format_money
from relasi.customers.models import Channel, TimelineEntry
from relasi.customers.selectors import property_definitions, property_label
from relasi.interactions.forms import field_label
from relasi.interactions.kinds import KINDS
from relasi.interactions.models import PIPELINE_KINDS, Kind
from relasi.interactions.selectors import pipelines_of_kind
from relasi.interactions.views_shared import PLURALS
from relasi.tenancy.models import Workspace
from relasi.tenancy.selectors import workspace_member_users

# A message's text on one timeline line: the rest is in the conversation.
MESSAGE_PREVIEW = 120


@dataclass(frozen=True)
class TimelineLine:
    pk: int
    text: str
    who: str
    at: str
    icon: str
    url: str | None


class _Words:
    """What the lines of one page need to turn ids into names: members, stages and pipelines, property labels.
    Read once per page, whatever its number of lines."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.members = {
            user.pk: user.full_name or user.email for user in workspace_member_users(workspace=workspace)
        }
        self.stages: dict[int, str] = {}
        self.pipelines: dict[int, str] = {}
        for kind in PIPELINE_KINDS:
            for pipeline in pipelines_of_kind(workspace=workspace, kind=kind):
                self.pipelines[pipeline.pk] = pipeline.name
                self.stages.update({stage.pk: stage.name for stage in pipeline.stages.all()})
        self._properties: dict[str, str] | None = None

    def property_labels(self) -> dict[str, str]:
        if self._properties is None:
            self._properties = {
                definition.key: property_label(definition)
                for definition in property_definitions(workspace=self.workspace, include_archived=True)
            }
        return self._properties


def _kind_word(kind: str) -> str:
    return str(Kind(kind).label) if kind in Kind.values else kind


def _value(words: _Words, kind: str, name: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if name in ("owner", "assignee", "reporter"):
        return words.members.get(value, f"#{value}") if isinstance(value, int) else str(value)
    if name == "stage":
        return words.stages.get(value, f"#{value}") if isinstance(value, int) else str(value)
    if name == "pipeline":
        return words.pipelines.get(value, f"#{value}") if isinstance(value, int) else str(value)
    if name in ("source", "channel"):
        return str(Channel(value).label) if value in Channel.values else str(value)
    spec = KINDS.get(kind)
    field_spec = next((item for item in spec.fields if item.name == name), None) if spec else None
    if field_spec is not None and field_spec.choices is not None and value in field_spec.choices.values:
        return str(field_spec.choices(value).label)
    if field_spec is not None and field_spec.value_type == "rupiah" and isinstance(value, int):
        return format_money(value)
    if field_spec is not None and field_spec.value_type == "datetime" and isinstance(value, str):
        return format_datetime(value)
    if field_spec is not None and field_spec.value_type == "date" and isinstance(value, str):
        return format_date(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _label(words: _Words, kind: str, name: str) -> str:
    if kind == "customer":
        fixed = {"full_name": _("Full name"), "owner": _("Owner"), "assignee": _("Assignee")}
        if name in fixed:
            return str(fixed[name])
        return words.property_labels().get(name, name)
    spec = KINDS.get(kind)
    try:
        return field_label(spec, name) if spec else name
    except FieldDoesNotExist:  # a field the kind no longer has: its stored name
        return name


def _change_sentence(words: _Words, who: str, kind: str, name: str, pair: Any) -> str:
    before, after = ([*pair, None, None])[:2] if isinstance(pair, list) else (None, pair)
    params = {
        "who": who,
        "field": _label(words, kind, name),
        "before": _value(words, kind, name, before),
        "after": _value(words, kind, name, after),
    }
    if before in (None, "", []):
        return _("%(who)s set %(field)s to %(after)s") % params
    if after in (None, "", []):
        return _("%(who)s cleared %(field)s") % params
    return _("%(who)s changed %(field)s from %(before)s to %(after)s") % params


def _customer_changes(words: _Words, who: str, changes: dict[str, Any]) -> list[str]:
    sentences = []
    for name, pair in changes.items():
        if name == "properties" and isinstance(pair, list) and len(pair) == 2:
            before = pair[0] if isinstance(pair[0], dict) else {}
            after = pair[1] if isinstance(pair[1], dict) else {}
            for key in sorted(set(before) | set(after)):
                if before.get(key) != after.get(key):
                    sentences.append(
                        _change_sentence(words, who, "customer", key, [before.get(key), after.get(key)])
                    )
            continue
        sentences.append(_change_sentence(words, who, "customer", name, pair))
    return sentences


def _sentence(words: _Words, entry: TimelineEntry, who: str) -> str:
    summary = entry.summary if isinstance(entry.summary, dict) else {}
    title = str(summary.get("title", ""))
    changes = summary.get("changes") if isinstance(summary.get("changes"), dict) else {}
    action = entry.action
    kind, _dot, verb = action.partition(".")
    if kind == "customer":
        if verb == "updated":
            return "; ".join(_customer_changes(words, who, changes or {})) or _(
                "%(who)s saved the customer"
            ) % {"who": who}
        customer_words = {
            "created": _("%(who)s added the customer"),
            "deleted": _("%(who)s deleted the customer"),
            "restored": _("%(who)s restored the customer"),
        }
        if verb in customer_words:
            return customer_words[verb] % {"who": who}
    if kind == "message":
        text = str(summary.get("text", ""))
        if len(text) > MESSAGE_PREVIEW:
            text = text[:MESSAGE_PREVIEW] + "…"
        if verb == "received":
            return _("Message received: %(text)s") % {"text": text}
        return _("Message sent: %(text)s") % {"text": text}
    record = _kind_word(entry.record_kind or kind)
    if kind == "association":
        if verb == "added":
            return _("%(kind)s “%(title)s” associated") % {"kind": record, "title": title}
        return _("%(kind)s “%(title)s” no longer associated") % {"kind": record, "title": title}
    if kind in KINDS and verb == "created":
        return _("%(kind)s “%(title)s” created") % {"kind": record, "title": title}
    if kind in KINDS and verb == "updated":
        details = [_change_sentence(words, who, kind, name, pair) for name, pair in (changes or {}).items()]
        return _("%(kind)s “%(title)s”: %(changes)s") % {
            "kind": record,
            "title": title,
            "changes": "; ".join(details),
        }
    return action


ICONS = {
    "customer": "bi-person",
    "message": "bi-chat-dots",
    "association": "bi-link-45deg",
    Kind.CONVERSATION: "bi-chat-dots",
    Kind.CAMPAIGN: "bi-megaphone",
    Kind.COMPANY: "bi-building",
    Kind.TICKET: "bi-ticket-perforated",
    Kind.DEAL: "bi-briefcase",
    Kind.TASK: "bi-check2-square",
}


def timeline_lines(*, workspace: Workspace, entries: list[TimelineEntry]) -> list[TimelineLine]:
    """The lines of one page of the timeline, in the active language."""
    if not entries:
        return []
    words = _Words(workspace)
    lines = []
    for entry in entries:
        # A person by the name they go by now; an API key or the system by the label kept with the line.
        who = (entry.actor.full_name if entry.actor else "") or entry.actor_label or _("System")
        url = None
        if entry.record_kind in PLURALS and entry.record_id:
            url = reverse(
                "interactions:record_detail",
                kwargs={
                    "workspace_slug": workspace.slug,
                    "kind": entry.record_kind,
                    "record_id": entry.record_id,
                },
            )
        lines.append(
            TimelineLine(
                pk=entry.pk,
                text=_sentence(words, entry, who),
                who=who,
                at=format_datetime(entry.at),
                icon=ICONS.get(entry.action.partition(".")[0], "bi-dot"),
                url=url,
            )
        )
    return lines
