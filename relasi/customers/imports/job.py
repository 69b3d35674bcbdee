"""An import job: what a run needs to know about its import, built once per run from the import row."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from relasi.core.audit import Actor
from relasi.customers.cleaning import BUILTIN_KEYS, CustomerCleaner, added_by_label
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
class ImportJob:
    customer_import: CustomerImport
    workspace: Workspace
    actor: Actor
    added_by_label: str
    cleaner: CustomerCleaner
    name_index: int
    columns: list[tuple[int, str, bool]]  # (column index, target key, is a custom property)
    width: int
    update: bool
    check_width: bool
    required: list[tuple[str, str]]  # custom properties a new customer needs: (key, label)
    channels: dict[str, str]
    options: dict[str, dict[str, str]]  # select field → {lower-case option: option}
    width_limit: int = 0


def import_actor(customer_import: CustomerImport) -> Actor:
    """Who the import acts for: the user, API key or system job that started it."""
    if customer_import.created_by is not None:
        return Actor(user=customer_import.created_by)
    if customer_import.created_by_api_key is not None:
        return Actor(api_key=customer_import.created_by_api_key)
    return Actor(system=customer_import.created_by_system or "import")


def _mapped_columns(
    customer_import: CustomerImport, cleaner: CustomerCleaner
) -> tuple[int, list[tuple[int, str, bool]]]:
    """The full name's column and the other mapped columns; refused when a mapped field no longer exists."""
    columns: list[tuple[int, str, bool]] = []
    name_index = -1
    for raw_index, target in customer_import.mapping.items():
        index = int(raw_index)
        if target == "full_name":
            name_index = index
        elif target in BUILTIN_KEYS:
            columns.append((index, target, False))
        elif target in cleaner.custom:
            columns.append((index, target, True))
        else:
            raise ValidationError(
                _("The column “%(header)s” is mapped to “%(target)s”, which no longer exists.")
                % {"header": customer_import.headers[index], "target": target}
            )
    if name_index < 0:
        raise ValidationError(_("No column is mapped to the full name."))
    return name_index, sorted(columns)


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
    cleaner = CustomerCleaner(workspace=workspace)
    actor = import_actor(customer_import)
    name_index, columns = _mapped_columns(customer_import, cleaner)
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
        name_index=name_index,
        columns=columns,
        width=len(customer_import.headers),
        update=customer_import.duplicate_mode == DuplicateMode.UPDATE,
        check_width=customer_import.file_format == FORMAT_CSV,
        required=[
            (key, definition.label) for key, definition in cleaner.custom.items() if definition.is_required
        ],
        channels=channels,
        options=_select_options(cleaner),
    )
