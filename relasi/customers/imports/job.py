"""An import job: what a run needs to know about its import, built once per run from the import row."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from relasi.core.audit import Actor
from relasi.customers.cleaning import BUILTIN_KEYS, CustomerCleaner, added_by_label
from relasi.customers.imports.mapping import TEXT_KINDS, Assignment, mapping_assignments
from relasi.customers.imports.reading import FORMAT_CSV
from relasi.customers.models import Channel, CustomerImport, DuplicateMode, PropertyKind
from relasi.tenancy.models import Workspace

# What people type in a "Channel" column, beyond the channel's value and label.
CHANNEL_ALIASES: dict[str, str] = {
    "wa": Channel.WHATSAPP,
    "ig": Channel.INSTAGRAM,
    "fb": Channel.FACEBOOK,
    "facebook": Channel.FACEBOOK,
    "messenger": Channel.FACEBOOK,
    "live chat": Channel.LIVE_CHAT,
    "web": Channel.LIVE_CHAT,
    "website": Channel.LIVE_CHAT,
    "e-mail": Channel.EMAIL,
    "tik tok": Channel.TIKTOK,
    "lainnya": Channel.OTHER,
}


@dataclass
class Source:
    """The columns that fill one field, and how: one column; parts joined with a space; a fallback column used
    when the others are empty; where the other values of a multi-valued cell go."""

    field: str
    is_custom: bool
    column: str  # the file's name for it, in reasons: its header, or the headers of its parts
    parts: list[int]  # column indexes, in the order they are joined
    fallbacks: list[int] = dataclass_field(default_factory=list)
    rest: str = ""  # a text property
    keeps_every_value: bool = False  # a text property holds a multi-valued cell whole


@dataclass
class ImportJob:
    customer_import: CustomerImport
    workspace: Workspace
    actor: Actor
    added_by_label: str
    cleaner: CustomerCleaner
    name: Source
    sources: list[Source]  # every mapped field but the full name, in field order
    width: int
    update: bool
    check_width: bool
    required: list[tuple[str, str]]  # custom properties a new customer needs: (key, label)
    channels: dict[str, str]
    options: dict[str, dict[str, str]]  # select field → {lower-case option: option}
    labels: dict[str, str]  # custom property key → label, for reasons
    columns_by_field: dict[str, str]  # field → the file's name for it
    number_style: str = "plain"
    width_limit: int = 0
    # field → the position of its (first) column in the file: a row's reasons are listed in the file's order.
    column_rank: dict[str, int] = dataclass_field(default_factory=dict)


def import_actor(customer_import: CustomerImport) -> Actor:
    """Who the import acts for: the user, API key or system job that started it."""
    if customer_import.created_by is not None:
        return Actor(user=customer_import.created_by)
    if customer_import.created_by_api_key is not None:
        return Actor(api_key=customer_import.created_by_api_key)
    return Actor(system=customer_import.created_by_system or "import")


def column_name(headers: list[str], index: int) -> str:
    return (
        headers[index]
        if index < len(headers) and headers[index]
        else _("Column %(number)d") % {"number": index + 1}
    )


def _sources(customer_import: CustomerImport, cleaner: CustomerCleaner) -> list[Source]:
    """One source per mapped field; refused when a mapped field no longer exists."""
    headers = customer_import.headers
    grouped: dict[str, list[Assignment]] = {}
    for assignment in mapping_assignments(customer_import.mapping):
        target = assignment.field
        if target != "full_name" and target not in BUILTIN_KEYS and target not in cleaner.custom:
            raise ValidationError(
                _("The column “%(header)s” is mapped to “%(target)s”, which no longer exists.")
                % {"header": column_name(headers, assignment.index), "target": target}
            )
        if assignment.rest and assignment.rest not in cleaner.custom:
            raise ValidationError(
                _("The column “%(header)s” is mapped to “%(target)s”, which no longer exists.")
                % {"header": column_name(headers, assignment.index), "target": assignment.rest}
            )
        grouped.setdefault(target, []).append(assignment)
    sources: list[Source] = []
    for target, group in grouped.items():
        parts = sorted((a for a in group if not a.fallback), key=lambda a: (a.part, a.index))
        fallbacks = [a.index for a in group if a.fallback]
        definition = cleaner.custom.get(target)
        sources.append(
            Source(
                field=target,
                is_custom=definition is not None,
                column=" + ".join(column_name(headers, a.index) for a in parts)
                or column_name(headers, fallbacks[0]),
                parts=[a.index for a in parts],
                fallbacks=fallbacks,
                rest=next((a.rest for a in group if a.rest), ""),
                keeps_every_value=definition is not None and definition.kind in TEXT_KINDS,
            )
        )
    return sources


def _select_options(cleaner: CustomerCleaner) -> dict[str, dict[str, str]]:
    """Select fields' options by their lower-case spelling, so "lead" in a file means the option "Lead"."""
    options: dict[str, dict[str, str]] = {}
    status = cleaner.builtin.get("status")
    if status is not None:
        options["status"] = {str(option).lower(): str(option) for option in status.options}
    for key, definition in cleaner.custom.items():
        if definition.kind == PropertyKind.SELECT:
            options[key] = {str(option).lower(): str(option) for option in definition.options}
    return options


def import_job_build(customer_import: CustomerImport) -> ImportJob:
    workspace = customer_import.workspace
    cleaner = CustomerCleaner(workspace=workspace, number_style=customer_import.number_format)
    actor = import_actor(customer_import)
    sources = _sources(customer_import, cleaner)
    name = next((source for source in sources if source.field == "full_name"), None)
    if name is None:
        raise ValidationError(_("No column is mapped to the full name."))
    channels: dict[str, str] = dict(CHANNEL_ALIASES)
    for choice in Channel:
        channels[choice.value] = choice.value
        channels[str(choice.label).lower()] = choice.value
    return ImportJob(
        customer_import=customer_import,
        workspace=workspace,
        actor=actor,
        added_by_label=added_by_label(actor),
        cleaner=cleaner,
        name=name,
        sources=sorted((source for source in sources if source is not name), key=lambda source: source.field),
        width=len(customer_import.headers),
        update=customer_import.duplicate_mode == DuplicateMode.UPDATE,
        check_width=customer_import.file_format == FORMAT_CSV,
        required=[
            (key, definition.label) for key, definition in cleaner.custom.items() if definition.is_required
        ],
        channels=channels,
        options=_select_options(cleaner),
        labels={key: definition.label for key, definition in cleaner.custom.items()},
        columns_by_field={source.field: source.column for source in sources},
        number_style=customer_import.number_format,
        column_rank={source.field: min(source.parts + source.fallbacks) for source in sources},
    )
