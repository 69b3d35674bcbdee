"""Customer imports: upload a CSV or XLSX file, map its columns, run it as a resumable background job.

The job streams the file and writes one transaction per batch that also moves the checkpoint
(`CustomerImport.processed_rows` and the counters). A job that dies is simply run again: it skips the
rows up to the checkpoint, and the unique (source_import, source_row) constraint on customers makes a
second write of the same row impossible.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import IO, Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.db.models import BooleanField, F, JSONField, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record, audit_record_many
from relasi.core.models import AuditLog
from relasi.customers.models import (
    Channel,
    ChannelIdentity,
    Customer,
    CustomerImport,
    CustomerImportError,
    DuplicateMode,
    ImportStatus,
    PropertyDefinition,
    PropertyKind,
)
from relasi.customers.normalize import DEFAULT_REGION, normalize_phone
from relasi.customers.properties import KEY_PATTERN
from relasi.customers.selectors import property_label
from relasi.customers.services import (
    BUILTIN_KEYS,
    RESERVED_KEYS,
    TEXT_COLUMNS,
    CustomerCleaner,
    _added_by_label,
    _apply,
    property_create,
)
from relasi.tenancy.models import ApiKey, Membership, Workspace

logger = logging.getLogger(__name__)

FORMAT_CSV = "csv"
FORMAT_XLSX = "xlsx"
NEW_PROPERTY_PREFIX = "new:"
FINISHED = (ImportStatus.COMPLETED, ImportStatus.FAILED)
# Enough of the file to tell its kind and its delimiter.
SAMPLE_BYTES = 64 * 1024
# Refresh the database's statistics once an import has created this many customers (see _analyze).
ANALYZE_FIRST = 2000
DELIMITERS = (",", ";", "\t")

# Refusal codes, so the API can answer 413 / 415 / 422 without parsing messages.
TOO_LARGE = "too_large"
TOO_MANY_ROWS = "too_many_rows"
UNSUPPORTED = "unsupported_type"
UNREADABLE = "unreadable"
EMPTY = "empty"

# Header words people use, in English and Indonesian, normalised by `_header_key` (lower case, words only).
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "nama",
        "nama lengkap",
        "nama pelanggan",
        "nama customer",
        "nama kontak",
        "name",
        "full name",
        "fullname",
        "customer name",
        "contact name",
    ),
    "phone": (
        "no hp",
        "nomor hp",
        "no handphone",
        "nomor handphone",
        "handphone",
        "hp",
        "nomor telepon",
        "no telepon",
        "no telp",
        "nomor telp",
        "telepon",
        "telp",
        "no wa",
        "nomor wa",
        "nomor whatsapp",
        "phone",
        "phone number",
        "mobile",
        "mobile phone",
        "whatsapp",
        "whatsapp number",
    ),
    "email": ("email", "e mail", "surel", "alamat email", "email address"),
    "city": ("kota", "kabupaten kota", "kab kota", "kabupaten", "city", "regency", "regency city"),
    "province": ("provinsi", "propinsi", "province"),
    "district": ("kecamatan", "district"),
    "subdistrict": ("kelurahan", "desa", "kelurahan desa", "subdistrict", "village"),
    "zip_code": ("kode pos", "kodepos", "zip", "zip code", "postal code", "postcode"),
    "job_title": ("jabatan", "pekerjaan", "job title", "job", "position", "occupation"),
    "status": ("status", "status pelanggan"),
    "source": ("channel", "sumber", "source", "kanal", "saluran"),
    "channel_username": ("username", "user name", "nama pengguna", "akun", "handle"),
}

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

# Plain Indonesian numbers (0812…, 62812…, +62 812-…): the bulk of any import file.
_PLAIN_ID_PHONE = re.compile(r"^(?:\+62|62|0)([1-9]\d{5,12})$")
_PHONE_SEPARATORS = re.compile(r"[\s.()\-]")


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({"file": [ValidationError(message, code=code)]})


def refusal_code(error: ValidationError) -> str:
    """The refusal code of an upload error (TOO_LARGE, UNSUPPORTED...), or "" for other validation errors."""
    if hasattr(error, "error_dict"):
        for item in error.error_dict.get("file", []):
            return str(item.code or "")
    return ""


# --- Reading files ------------------------------------------------------------------------------------


def _binary(file: Any) -> IO[bytes]:
    """The Python file object under Django's File/UploadedFile wrappers (csv and zipfile want a real one)."""
    inner = file
    while not isinstance(inner, io.IOBase) and getattr(inner, "file", None) is not None:
        inner = inner.file
    return inner


def _detect_format(stream: IO[bytes]) -> str:
    stream.seek(0)
    head = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            names = []
        finally:
            stream.seek(0)
        if any(name.startswith("xl/") for name in names):
            return FORMAT_XLSX
        raise _refuse(_("This is not a CSV or XLSX file. Save it as CSV (UTF-8) or XLSX."), UNSUPPORTED)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(
            _("Old Excel files (.xls) are not supported. Save the sheet as XLSX or CSV (UTF-8)."), UNSUPPORTED
        )
    if b"\x00" in head or _undecodable(head):
        raise _refuse(
            _(
                "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX."
            ),
            UNSUPPORTED,
        )
    return FORMAT_CSV


def _undecodable(head: bytes) -> bool:
    try:
        # Not final: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False


def _detect_delimiter(stream: IO[bytes]) -> str:
    """Comma, semicolon (Excel in an Indonesian locale) or tab: whichever the header line uses most."""
    stream.seek(0)
    head = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(stream.read(SAMPLE_BYTES))
    stream.seek(0)
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in head:
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            break
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        # Phone numbers typed into Excel come back as floats.
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _raw_rows(stream: IO[bytes], file_format: str, delimiter: str) -> Generator[list[str]]:
    """Every row of the file as text cells, streamed (never the whole file in memory)."""
    stream.seek(0)
    if file_format == FORMAT_XLSX:
        from openpyxl import load_workbook

        workbook = load_workbook(stream, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            # Some writers declare a wrong sheet size; openpyxl would cut the rows at it.
            sheet.reset_dimensions()
            for values in sheet.iter_rows(values_only=True):
                yield [_cell_text(value) for value in values]
        finally:
            workbook.close()
        return
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from csv.reader(text, delimiter=delimiter)
    finally:
        text.detach()


def _is_blank(row: list[str]) -> bool:
    return not any(row) or not "".join(row).strip()


@dataclass
class _Table:
    headers: list[str]
    rows: Iterator[list[str]]  # the non-blank rows after the header, numbered 1, 2, ... by position
    header_width: int  # cells in the header line, trailing empty ones included


@contextmanager
def _table(stream: IO[bytes], file_format: str, delimiter: str) -> Iterator[_Table]:
    """The header (first non-blank row) and an iterator over the non-blank rows after it."""
    source = _raw_rows(stream, file_format, delimiter)
    rows = (row for row in source if not _is_blank(row))
    try:
        header = next(rows, [])
        width = len(header)
        while header and not header[-1].strip():
            header.pop()
        yield _Table(headers=[cell.strip() for cell in header], rows=rows, header_width=width)
    finally:
        # Closing the reader detaches the text wrapper; left to the garbage collector, it would close the file.
        source.close()


@contextmanager
def _stored_table(customer_import: CustomerImport) -> Iterator[_Table]:
    with customer_import.file.open("rb") as handle:
        stream = _binary(handle)
        delimiter = _detect_delimiter(stream) if customer_import.file_format == FORMAT_CSV else ","
        with _table(stream, customer_import.file_format, delimiter) as table:
            yield table


def _fit(row: list[str], width: int) -> list[str]:
    if len(row) < width:
        return row + [""] * (width - len(row))
    return row[:width]


def _fit_keeping_extras(row: list[str], width: int, delimiter: str) -> list[str]:
    """Cells for the error file: a row wider than the header (an unquoted delimiter) keeps its extra cells,
    joined back into its last column, so nothing the user sent is lost and `error` stays in its column."""
    if len(row) <= width or width == 0:
        return _fit(row, width)
    return [*row[: width - 1], delimiter.join(row[width - 1 :])]


# --- Upload --------------------------------------------------------------------------------------------


def _file_size(file: Any) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    stream = _binary(file)
    stream.seek(0, io.SEEK_END)
    end = stream.tell()
    stream.seek(0)
    return end


def customer_import_upload(
    *, workspace: Workspace, actor: Actor | User | None, file: File | IO[bytes], original_name: str
) -> CustomerImport:
    """Check and store an import file; ready for column mapping. Refused before any work when over the limits."""
    max_bytes = settings.CUSTOMER_IMPORT_MAX_BYTES
    max_rows = settings.CUSTOMER_IMPORT_MAX_ROWS
    size = _file_size(file)
    if size > max_bytes:
        raise _refuse(
            _("The file is %(size)s; the limit is %(limit)s. Split it into smaller files.")
            % {"size": _size_text(size), "limit": _size_text(max_bytes)},
            TOO_LARGE,
        )
    if size == 0:
        raise _refuse(_("The file is empty."), EMPTY)
    stream = _binary(file)
    file_format = _detect_format(stream)
    delimiter = _detect_delimiter(stream) if file_format == FORMAT_CSV else ","
    headers, total = _count_rows(stream, file_format, delimiter, max_rows)
    if not any(headers):
        raise _refuse(_("The file has no header row."), EMPTY)
    if total == 0:
        raise _refuse(_("The file has a header row but no customers under it."), EMPTY)

    who = actor_of(actor)
    customer_import = CustomerImport(
        workspace=workspace,
        created_by=who.user,
        original_name=PurePath(original_name or "import").name[:255],
        file_format=file_format,
        headers=headers,
        total_rows=total,
        status=ImportStatus.UPLOADED,
    )
    stream.seek(0)
    customer_import.file.save(f"{uuid.uuid4().hex}.{file_format}", File(stream), save=False)
    try:
        with transaction.atomic():
            customer_import.save()
            audit_record(
                workspace=workspace,
                actor=who,
                action="customer_import.uploaded",
                target=customer_import,
                changes={"file": customer_import.original_name, "format": file_format, "rows": total},
            )
    except BaseException:
        customer_import.file.delete(save=False)
        raise
    return customer_import


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return _("%(count)d bytes") % {"count": size}


def _count_rows(stream: IO[bytes], file_format: str, delimiter: str, limit: int) -> tuple[list[str], int]:
    """Headers and the number of customer rows, stopping as soon as the limit is passed."""
    total = 0
    headers: list[str] = []
    try:
        with _table(stream, file_format, delimiter) as table:
            headers = table.headers
            for _row in table.rows:
                total += 1
                if total > limit:
                    raise _refuse(
                        _(
                            "The file has more than %(limit)s rows; the limit is %(limit)s. Split it into smaller files."
                        )
                        % {"limit": number_format(limit, force_grouping=True)},
                        TOO_MANY_ROWS,
                    )
    except ValidationError:
        raise
    except UnicodeDecodeError:
        raise _refuse(
            _(
                "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX."
            ),
            UNSUPPORTED,
        ) from None
    except csv.Error as error:
        raise _refuse(_("The CSV file cannot be read: %(error)s.") % {"error": error}, UNREADABLE) from None
    except Exception:
        if file_format != FORMAT_XLSX:
            raise
        # openpyxl reports a damaged workbook with many exception types (zip, XML, key errors...).
        raise _refuse(
            _("The XLSX file cannot be read. Open it in Excel and save it again."), UNREADABLE
        ) from None
    finally:
        stream.seek(0)
    return headers, total


# --- Mapping -------------------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def customer_import_targets(*, workspace: Workspace) -> list[tuple[str, str]]:
    """The fields a column can be imported into: (key, label), full name first, then the workspace's properties."""
    targets = [("full_name", _("Full name"))]
    for definition in _definitions(workspace):
        targets.append((definition.key, property_label(definition)))
    return targets


def _definitions(workspace: Workspace) -> QuerySet[PropertyDefinition]:
    return PropertyDefinition.objects.for_workspace(workspace).filter(archived_at__isnull=True)


def customer_import_suggest_mapping(*, workspace: Workspace, headers: list[str]) -> dict[str, str]:
    """Column index (as text) → target key for each header that names a known field; "" (ignore) otherwise."""
    lookup: dict[str, str] = {}
    for target, words in HEADER_SYNONYMS.items():
        for word in words:
            lookup.setdefault(word, target)
    lookup.setdefault("full name", "full_name")
    for definition in _definitions(workspace):
        # The key, the stored label and the label in the current language all name the field.
        for name in (definition.key, definition.label, property_label(definition)):
            lookup.setdefault(_header_key(name), definition.key)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        target = lookup.get(_header_key(header), "")
        if target in used:
            target = ""
        if target:
            used.add(target)
        mapping[str(index)] = target
    return mapping


def _new_property_key(label: str, taken: set[str]) -> str:
    base = slugify(label).replace("-", "_")[:50].strip("_")
    if not base or not base[0].isalpha():
        base = f"field_{base}".strip("_")
    key, suffix = base, 2
    while key in taken or key in RESERVED_KEYS or not KEY_PATTERN.match(key):
        key = f"{base}_{suffix}"
        suffix += 1
    taken.add(key)
    return key


def _may_add_properties(workspace: Workspace, actor: Actor | User | None) -> bool:
    """The Properties menu is for owners and admins; an import must not be a way around it.
    API keys and system jobs act for the workspace itself (keys are made by owners and admins)."""
    if not isinstance(actor, User):
        return True
    membership = Membership.objects.filter(workspace=workspace, user=actor).first()
    return membership is not None and membership.can_manage


def _check_mapping(
    *, workspace: Workspace, headers: list[str], mapping: Any
) -> tuple[dict[str, str], dict[str, str]]:
    """(index → existing target, index → label of a new property); ValidationError naming each bad column."""
    errors: dict[str, list[str]] = {}
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": [_("The mapping must be an object of column → field.")]})
    labels = dict(customer_import_targets(workspace=workspace))
    chosen: dict[str, str] = {}
    new: dict[str, str] = {}
    used: dict[str, str] = {}
    for raw_index, raw_target in mapping.items():
        index = str(raw_index)
        target = str(raw_target or "").strip()
        if not index.isdigit() or int(index) >= len(headers):
            errors.setdefault("mapping", []).append(
                _("There is no column %(index)s in the file.") % {"index": index}
            )
            continue
        if not target:
            continue
        if target.startswith(NEW_PROPERTY_PREFIX):
            label = target.removeprefix(NEW_PROPERTY_PREFIX).strip()[:100]
            if not label:
                errors[f"mapping.{index}"] = [_("Give the new property a name.")]
            else:
                new[index] = label
            continue
        if target not in labels:
            errors[f"mapping.{index}"] = [
                _("“%(target)s” is not a field you can import into.") % {"target": target}
            ]
            continue
        if target in used:
            errors[f"mapping.{index}"] = [
                _("%(field)s is already imported from the column “%(header)s”.")
                % {"field": labels[target], "header": headers[int(used[target])]}
            ]
            continue
        used[target] = index
        chosen[index] = target
    if "full_name" not in used and not errors:
        errors["mapping"] = [_("Choose the column that holds the customer's full name.")]
    if errors:
        raise ValidationError(errors)
    return chosen, new


def customer_import_start(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    import_id: int,
    mapping: dict[str, str],
    duplicate_mode: str,
    enqueue: bool = True,
) -> CustomerImport:
    """Fix the column mapping (creating the new properties it asks for) and queue the import job.

    With enqueue=False the caller runs `customer_import_run` itself (the command line does).
    """
    if duplicate_mode not in DuplicateMode.values:
        raise ValidationError({"duplicate_mode": [_("Choose whether duplicates are skipped or updated.")]})
    who = actor_of(actor)
    with transaction.atomic():
        customer_import = CustomerImport.objects.locked_or_404(workspace, import_id)
        if customer_import.status != ImportStatus.UPLOADED:
            raise ValidationError(_("This import has already been started."))
        chosen, new = _check_mapping(workspace=workspace, headers=customer_import.headers, mapping=mapping)
        if new and not _may_add_properties(workspace, actor):
            raise ValidationError(
                {
                    f"mapping.{index}": [
                        _(
                            "Only owners and admins can add properties: import this column into an "
                            "existing field, or ignore it."
                        )
                    ]
                    for index in new
                }
            )
        if new:
            taken = set(PropertyDefinition.objects.for_workspace(workspace).values_list("key", flat=True))
            for index, label in sorted(new.items(), key=lambda item: int(item[0])):
                definition = property_create(
                    workspace=workspace,
                    actor=who,
                    label=label,
                    key=_new_property_key(label, taken),
                    kind=PropertyKind.TEXT,
                )
                chosen[index] = definition.key
        customer_import.mapping = dict(sorted(chosen.items(), key=lambda item: int(item[0])))
        customer_import.duplicate_mode = duplicate_mode
        customer_import.status = ImportStatus.QUEUED
        customer_import.progressed_at = timezone.now()
        customer_import.save(update_fields=["mapping", "duplicate_mode", "status", "progressed_at"])
        audit_record(
            workspace=workspace,
            actor=who,
            action="customer_import.started",
            target=customer_import,
            changes={"mapping": customer_import.mapping, "duplicate_mode": duplicate_mode},
        )
        if enqueue:
            from relasi.customers.tasks import customer_import_run_task

            import_pk = customer_import.pk
            transaction.on_commit(lambda: customer_import_run_task.delay(import_pk))
    return customer_import


def customer_import_is_stalled(customer_import: CustomerImport, *, now: datetime | None = None) -> bool:
    """Queued or running, yet without progress for CUSTOMER_IMPORT_STALLED_SECONDS: its worker is gone
    (killed, or a broker that lost the job), and nothing would pick it up again soon."""
    if customer_import.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return False
    last_sign = customer_import.progressed_at or customer_import.started_at or customer_import.created_at
    quiet_for = ((now or timezone.now()) - last_sign).total_seconds()
    return quiet_for >= settings.CUSTOMER_IMPORT_STALLED_SECONDS


def customer_import_can_resume(customer_import: CustomerImport) -> bool:
    return customer_import.status == ImportStatus.FAILED or customer_import_is_stalled(customer_import)


def customer_import_resume(
    *, workspace: Workspace, actor: Actor | User | None, import_id: int, enqueue: bool = True
) -> CustomerImport:
    """Queue a stopped import again (failed, or stalled without progress); it continues after its last
    committed batch. A worker that was only slow and wakes up finds its checkpoint moved and stops."""
    with transaction.atomic():
        customer_import = CustomerImport.objects.locked_or_404(workspace, import_id)
        if not customer_import_can_resume(customer_import):
            raise ValidationError(_("Only an import that stopped before the end can be continued."))
        previous = customer_import.status
        customer_import.status = ImportStatus.QUEUED
        customer_import.progressed_at = timezone.now()
        customer_import.save(update_fields=["status", "progressed_at"])
        audit_record(
            workspace=workspace,
            actor=actor_of(actor),
            action="customer_import.resumed",
            target=customer_import,
            changes={
                "status": [previous, ImportStatus.QUEUED],
                "processed_rows": customer_import.processed_rows,
                "failure_reason": customer_import.failure_reason,
            },
        )
        if enqueue:
            from relasi.customers.tasks import customer_import_run_task

            import_pk = customer_import.pk
            transaction.on_commit(lambda: customer_import_run_task.delay(import_pk))
    return customer_import


def customer_import_upload_and_start(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    file: File | IO[bytes],
    original_name: str,
    mapping: dict[str, str] | None,
    duplicate_mode: str,
    enqueue: bool = True,
) -> CustomerImport:
    """Upload and start in one step (API, command line): the suggested mapping when none is given.

    All or nothing: a refused mapping leaves no import and no stored file behind.
    """
    with transaction.atomic():
        customer_import = customer_import_upload(
            workspace=workspace, actor=actor, file=file, original_name=original_name
        )
        try:
            if mapping is None:
                mapping = customer_import_suggest_mapping(
                    workspace=workspace, headers=customer_import.headers
                )
            return customer_import_start(
                workspace=workspace,
                actor=actor,
                import_id=customer_import.pk,
                mapping=mapping,
                duplicate_mode=duplicate_mode,
                enqueue=enqueue,
            )
        except BaseException:
            customer_import.file.delete(save=False)
            raise


# --- Reads ---------------------------------------------------------------------------------------------


def customer_import_get(*, workspace: Workspace, import_id: int) -> CustomerImport:
    customer_import = CustomerImport.objects.for_workspace(workspace).filter(pk=import_id).first()
    if customer_import is None:
        raise Http404
    return customer_import


def customer_imports_recent(*, workspace: Workspace, limit: int = 10) -> QuerySet[CustomerImport]:
    return (
        CustomerImport.objects.for_workspace(workspace).select_related("created_by").order_by("-pk")[:limit]
    )


def customer_import_preview(*, customer_import: CustomerImport, rows: int = 5) -> list[list[str]]:
    """The first customer rows of the file, one cell per header."""
    width = len(customer_import.headers)
    preview: list[list[str]] = []
    if rows <= 0:
        return preview
    with _stored_table(customer_import) as table:
        for row in table.rows:
            preview.append(_fit(row, width))
            if len(preview) >= rows:
                break
    return preview


def customer_import_errors(*, customer_import: CustomerImport, limit: int = 20) -> list[CustomerImportError]:
    return list(customer_import.errors.order_by("row_number")[:limit])


def customer_import_progress_percent(customer_import: CustomerImport) -> int:
    if customer_import.status == ImportStatus.COMPLETED:
        return 100
    if not customer_import.total_rows:
        return 0
    return min(100, customer_import.processed_rows * 100 // customer_import.total_rows)


def customer_import_error_filename(customer_import: CustomerImport) -> str:
    return f"{PurePath(customer_import.original_name).stem or 'import'}-errors.csv"


# --- The job -------------------------------------------------------------------------------------------


class _Superseded(Exception):
    """Another run of the same import moved the checkpoint first; this one stops without writing."""


@dataclass
class _Row:
    number: int
    values: list[str]
    cleaned: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass
class _Job:
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


def _import_actor(customer_import: CustomerImport) -> Actor:
    """Who the import acts for: the uploading user, else the API key or system named on the upload audit row."""
    if customer_import.created_by is not None:
        return Actor(user=customer_import.created_by)
    entry = (
        AuditLog.objects.filter(
            action="customer_import.uploaded",
            target_type=CustomerImport._meta.label_lower,
            target_id=str(customer_import.pk),
        )
        .order_by("pk")
        .first()
    )
    label = entry.actor_label if entry else ""
    if label.startswith("api-key:"):
        prefix = label.removeprefix("api-key:").split(" ", 1)[0]
        api_key = ApiKey.objects.for_workspace(customer_import.workspace).filter(prefix=prefix).first()
        if api_key is not None:
            return Actor(api_key=api_key)
    if label.startswith("system:"):
        return Actor(system=label.removeprefix("system:"))
    return Actor(system="import")


def _job(customer_import: CustomerImport) -> _Job:
    workspace = customer_import.workspace
    cleaner = CustomerCleaner(workspace=workspace)
    actor = _import_actor(customer_import)
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
    channels: dict[str, str] = dict(CHANNEL_ALIASES)
    for choice in Channel:
        channels[choice.value] = choice.value
        channels[str(choice.label).lower()] = choice.value
    options: dict[str, dict[str, str]] = {}
    status = cleaner.builtin.get("status")
    if status is not None:
        options["status"] = {str(option).lower(): str(option) for option in status.options}
    for key, definition in cleaner.custom.items():
        if definition.kind == PropertyKind.SELECT:
            options[key] = {str(option).lower(): str(option) for option in definition.options}
    return _Job(
        customer_import=customer_import,
        workspace=workspace,
        actor=actor,
        added_by_label=_added_by_label(actor),
        cleaner=cleaner,
        name_index=name_index,
        columns=sorted(columns),
        width=len(customer_import.headers),
        update=customer_import.duplicate_mode == DuplicateMode.UPDATE,
        check_width=customer_import.file_format == FORMAT_CSV,
        required=[
            (key, definition.label) for key, definition in cleaner.custom.items() if definition.is_required
        ],
        channels=channels,
        options=options,
    )


def customer_import_run(
    *, import_id: int, on_progress: Callable[[CustomerImport], None] | None = None
) -> CustomerImport:
    """Run (or resume) an import job. Safe to call again after a crash: it continues from its checkpoint."""
    with transaction.atomic():
        customer_import = (
            CustomerImport.unscoped.select_for_update(of=("self",))
            .select_related("workspace", "created_by")
            .get(pk=import_id)
        )
        if customer_import.status == ImportStatus.COMPLETED:
            return customer_import
        if customer_import.status == ImportStatus.UPLOADED:
            raise ValidationError(_("Map the columns and start the import first."))
        customer_import.status = ImportStatus.RUNNING
        customer_import.started_at = customer_import.started_at or timezone.now()
        customer_import.progressed_at = timezone.now()
        customer_import.finished_at = None
        customer_import.failure_reason = ""
        customer_import.save(
            update_fields=["status", "started_at", "progressed_at", "finished_at", "failure_reason"]
        )
    try:
        job = _job(customer_import)
        _run_rows(job, on_progress)
        return _finish(job)
    except _Superseded:
        return CustomerImport.unscoped.get(pk=import_id)
    except Exception as error:
        try:
            _mark_failed(customer_import, error)
        except Exception:
            logger.exception("Could not mark customer import %s as failed", import_id)
        raise


def _run_rows(job: _Job, on_progress: Callable[[CustomerImport], None] | None) -> None:
    customer_import = job.customer_import
    with _stored_table(customer_import) as table:
        # A CSV row longer than its header line means a value with an unquoted delimiter.
        job.width_limit = table.header_width if job.check_width else 0
        batches = _prepared_batches(
            job,
            table.rows,
            done=customer_import.processed_rows,
            size=max(1, int(settings.CUSTOMER_IMPORT_BATCH_SIZE)),
        )
        next_analyze = ANALYZE_FIRST
        for batch in batches:
            _write_batch(job, batch)
            if customer_import.created_count >= next_analyze:
                _analyze()
                next_analyze = customer_import.created_count * 8
            if on_progress is not None:
                on_progress(customer_import)


def _analyze() -> None:
    """Refresh PostgreSQL's statistics of the tables an import grows.

    The duplicate lookups filter by workspace; while the statistics still say the workspace has a handful
    of customers, the planner scans all of them for every batch instead of using the phone and email
    indexes, and each batch gets slower than the last. Refreshing at 2,000 created customers, then each
    time the count grows eightfold, keeps the plans right for three or four ANALYZE runs per import.
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Only the looked-up columns: a full ANALYZE also samples the trigram index expressions, far slower.
        cursor.execute(
            f"ANALYZE {quote(Customer._meta.db_table)} (workspace_id, phone, email, deleted_at), "
            f"{quote(ChannelIdentity._meta.db_table)} (workspace_id, channel, external_id)"
        )


def _prepared_batches(job: _Job, rows: Iterator[list[str]], *, done: int, size: int) -> Iterator[list[_Row]]:
    """The rows after the checkpoint, validated, in batches."""
    batch: list[_Row] = []
    for number, values in enumerate(rows, start=1):
        if number <= done:
            continue
        batch.append(_prepare_row(job, number, values))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


FIELD_ORDER = ["full_name", "source", "channel_username", "phone", "email", "status", *TEXT_COLUMNS]


def _field_rank(item: tuple[str, Any]) -> int:
    return FIELD_ORDER.index(item[0]) if item[0] in FIELD_ORDER else len(FIELD_ORDER)


def _error_text(error: ValidationError) -> str:
    """“phone: “12ab” is not a phone number.”: each problem prefixed by the field it is about."""
    if not hasattr(error, "error_dict"):
        return " ".join(str(message) for message in error.messages)
    parts: list[str] = []
    for name, items in error.error_dict.items():
        label = name.removeprefix("properties.")
        for item in items:
            for message in item.messages:
                parts.append(str(message) if label == "__all__" else f"{label}: {message}")
    return " ".join(parts)


def _prepare_row(job: _Job, number: int, values: list[str]) -> _Row:
    """Validate one row (no database access): the cleaned values, or the reason it fails."""
    row = _Row(number=number, values=values)
    width = job.width
    if len(values) < width:
        values = values + [""] * (width - len(values))
    elif (
        job.width_limit
        and len(values) > job.width_limit
        and any(cell.strip() for cell in values[job.width_limit :])
    ):
        row.error = _(
            "The row has %(count)d values but the header has %(width)d columns; a value that holds the "
            "delimiter must be in double quotes."
        ) % {"count": len(values), "width": job.width_limit}
        return row
    data: dict[str, Any] = {"full_name": values[job.name_index]}
    properties: dict[str, str] = {}
    phone = source = ""
    for index, target, is_custom in job.columns:
        value = values[index].strip()
        if not value:
            continue
        if target in job.options:
            value = job.options[target].get(value.lower(), value)
        if is_custom:
            properties[target] = value
        elif target == "phone":
            phone = value
        elif target == "source":
            source = job.channels.get(value.lower(), "")
            if not source:
                data["source"] = value  # the cleaner words the refusal
        else:
            data[target] = value
    if properties:
        data["properties"] = properties
    if source:
        # A known channel needs no check (the cleaner's costs more than the rest of the row); it still
        # tells the cleaner the channel so a username is accepted.
        data["_existing_source"] = source
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    try:
        cleaned = job.cleaner.clean(data, partial=True)
    except ValidationError as error:
        problems = error.message_dict
    if source:
        cleaned["source"] = source
    if phone:
        # Same rule as CustomerCleaner (it calls normalize_phone); plain Indonesian numbers take a faster path.
        try:
            normalized = fast_normalize_phone(phone)
        except ValidationError as error:
            problems = {"phone": error.messages, **problems}
        else:
            if normalized:
                cleaned["phone"] = normalized
                cleaned["phone_raw"] = phone[:50]
    if problems:
        row.error = _error_text(ValidationError(dict(sorted(problems.items(), key=_field_rank))))
        return row
    # Only values the row really has: an update never blanks a field the file leaves empty.
    row.cleaned = {key: value for key, value in cleaned.items() if value not in ("", None, [], {})}
    return row


def fast_normalize_phone(raw: str) -> str:
    """normalize_phone's answer, without phonenumbers' slow parser for plain Indonesian numbers.

    A plain number (0812…, 62812…, +62812…, with spaces, dots, dashes or brackets) is checked with
    phonenumbers' own validity rules; anything else, and any number those rules refuse, goes through
    normalize_phone itself, so errors and results are the same.
    """
    match = _PLAIN_ID_PHONE.match(_PHONE_SEPARATORS.sub("", raw))
    if match is not None:
        national = match.group(1)
        number = phonenumbers.PhoneNumber(country_code=62, national_number=int(national))
        if phonenumbers.is_valid_number_for_region(number, DEFAULT_REGION):
            return f"+62{national}"
    return normalize_phone(raw)


@dataclass(eq=False)
class _Pending:
    """A customer this batch creates: its column values, and its id once inserted."""

    attrs: dict[str, Any]
    pk: int | None = None

    @property
    def full_name(self) -> str:
        return str(self.attrs["full_name"])


Ref = int | _Pending  # an existing customer (its id) or one this batch creates


def _identity_of(cleaned: dict[str, Any]) -> tuple[str, str] | None:
    if cleaned.get("channel_username") and cleaned.get("source"):
        return (cleaned["source"], cleaned["channel_username"])
    return None


def _matching(queryset: QuerySet[Any], column: str, values: set[str]) -> QuerySet[Any]:
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands: binding long IN lists costs more than the query.
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        condition = RawSQL(
            f"{table}.{connection.ops.quote_name(column)} = ANY(%s)",
            (list(values),),
            output_field=BooleanField(),
        )
        return queryset.filter(condition)
    return queryset.filter(**{f"{column}__in": values})


class _Index:
    """Who a row is a duplicate of: channel identity, then phone, then email, in this workspace.

    Built once per batch with a few IN queries; then kept up to date as the batch creates and updates
    customers, so a row also matches the rows before it in the same batch (earlier batches are in the
    database already).
    """

    def __init__(self, job: _Job, rows: list[_Row]) -> None:
        workspace = job.workspace
        pairs: set[tuple[str, str]] = set()
        phones: set[str] = set()
        emails: set[str] = set()
        for row in rows:
            identity = _identity_of(row.cleaned)
            if identity is not None:
                pairs.add(identity)
            if row.cleaned.get("phone"):
                phones.add(row.cleaned["phone"])
            if row.cleaned.get("email"):
                emails.add(row.cleaned["email"])
        self.by_identity: dict[tuple[str, str], Ref] = {}
        self.by_phone: dict[str, Ref] = {}
        self.by_email: dict[str, Ref] = {}
        self.deleted: set[int] = set()
        if pairs:
            # The channel too, so the (workspace, channel, external_id) index is used in full.
            identities = ChannelIdentity.objects.for_workspace(workspace).filter(
                channel__in={channel for channel, _username in pairs}
            )
            for channel, external_id, customer_id in _matching(
                identities, "external_id", {username for _channel, username in pairs}
            ).values_list("channel", "external_id", "customer_id"):
                if (channel, external_id) in pairs:
                    self.by_identity[(channel, external_id)] = customer_id
        owners = {ref for ref in self.by_identity.values() if isinstance(ref, int)}
        customers = Customer.objects.for_workspace(workspace)
        if owners:
            self.deleted = set(
                customers.filter(pk__in=owners, deleted_at__isnull=False).values_list("pk", flat=True)
            )
        live = customers.filter(deleted_at__isnull=True).order_by("pk")
        if phones:
            for pk, phone in _matching(live, "phone", phones).values_list("pk", "phone"):
                self.by_phone.setdefault(phone, pk)
        if emails:
            for pk, email in _matching(live, "email", emails).values_list("pk", "email"):
                self.by_email.setdefault(email, pk)
        self.customers: dict[int, Customer] = {}
        if job.update:
            found: set[int] = set()
            for refs in (self.by_identity, self.by_phone, self.by_email):
                found.update(ref for ref in refs.values() if isinstance(ref, int))
            self.customers = {customer.pk: customer for customer in customers.filter(pk__in=found)}

    def match(self, cleaned: dict[str, Any]) -> Ref | None:
        identity = _identity_of(cleaned)
        if identity is not None and identity in self.by_identity:
            return self.by_identity[identity]
        phone = cleaned.get("phone")
        if phone and phone in self.by_phone:
            return self.by_phone[phone]
        email = cleaned.get("email")
        if email and email in self.by_email:
            return self.by_email[email]
        return None

    def register(self, ref: Ref, before: tuple[str, str], after: tuple[str, str]) -> None:
        """Make later rows of the batch see the customer as it is now (its phone or email may have changed)."""
        for index, old, new in ((self.by_phone, before[0], after[0]), (self.by_email, before[1], after[1])):
            if old and old != new and index.get(old) is ref:
                del index[old]
            if new:
                index.setdefault(new, ref)


def _ref_pk(ref: Ref) -> int:
    if isinstance(ref, _Pending):
        assert ref.pk is not None, "inserted before its identities"
        return ref.pk
    return ref


def _merge(attrs: dict[str, Any], cleaned: dict[str, Any]) -> None:
    for key, value in cleaned.items():
        if key == "properties":
            attrs["properties"] = {**attrs.get("properties", {}), **value}
        elif key != "channel_username":
            attrs[key] = value


def _write_batch(job: _Job, rows: list[_Row]) -> None:
    """Write one batch and move the checkpoint past it, all in one transaction."""
    customer_import = job.customer_import
    counts = _Counts()
    errors: list[CustomerImportError] = []
    with transaction.atomic():
        locked = (
            CustomerImport.unscoped.select_for_update()
            .only("pk", "processed_rows")
            .get(pk=customer_import.pk)
        )
        if locked.processed_rows != rows[0].number - 1:
            raise _Superseded
        if connection.vendor == "postgresql":
            # Safe without waiting for the disk: a batch lost in a server crash loses its checkpoint with it,
            # and the next run writes it again.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF; SET CONSTRAINTS ALL IMMEDIATE")
        now = timezone.now()
        base = {
            "workspace_id": job.workspace.pk,
            "added_by_id": job.actor.user.pk if job.actor.user is not None else None,
            "added_by_label": job.added_by_label,
            "created_at": now,
            "updated_at": now,
            "source_import_id": customer_import.pk,
        }
        index = _Index(job, [row for row in rows if not row.error])
        created: list[_Pending] = []
        updated: dict[int, Customer] = {}
        updated_fields: set[str] = set()
        identities: list[tuple[Ref, str, str]] = []
        for row in rows:
            if row.error:
                errors.append(_import_error(customer_import, row))
                continue
            cleaned = row.cleaned
            identity = _identity_of(cleaned)
            ref = index.match(cleaned)
            if ref is None:
                given = cleaned.get("properties", {})
                missing = [(key, label) for key, label in job.required if key not in given]
                if missing:
                    row.error = " ".join(
                        f"{key}: " + _("%(label)s is required.") % {"label": label} for key, label in missing
                    )
                    errors.append(_import_error(customer_import, row))
                    continue
                pending = _Pending(attrs={**base, "source_row": row.number})
                _merge(pending.attrs, cleaned)
                created.append(pending)
                index.register(pending, ("", ""), (cleaned.get("phone", ""), cleaned.get("email", "")))
                if identity is not None:
                    identities.append((pending, *identity))
                    index.by_identity[identity] = pending
                counts.created += 1
                continue
            if not job.update:
                counts.skipped += 1
                continue
            if isinstance(ref, _Pending):
                before = (ref.attrs.get("phone", ""), ref.attrs.get("email", ""))
                _merge(ref.attrs, cleaned)
                after = (ref.attrs.get("phone", ""), ref.attrs.get("email", ""))
                changed = True
            else:
                if ref in index.deleted:
                    row.error = "channel_username: " + _(
                        "“%(username)s” belongs to a deleted customer; restore that customer to update it."
                    ) % {"username": cleaned.get("channel_username", "")}
                    errors.append(_import_error(customer_import, row))
                    continue
                customer = index.customers[ref]
                before = (customer.phone, customer.email)
                changes = _apply(customer, cleaned)
                after = (customer.phone, customer.email)
                changed = bool(changes)
                if changes:
                    customer.updated_at = now
                    updated[customer.pk] = customer
                    updated_fields.update(changes)
                    if "phone" in changes:
                        updated_fields.add("phone_raw")
            index.register(ref, before, after)
            if identity is not None and identity not in index.by_identity:
                identities.append((ref, *identity))
                index.by_identity[identity] = ref
                changed = True
            # A duplicate that the file would leave exactly as it is was not updated: say skipped.
            if changed:
                counts.updated += 1
            else:
                counts.skipped += 1
        _insert_customers(created)
        if updated:
            Customer.unscoped.bulk_update(
                list(updated.values()), sorted(updated_fields | {"updated_at"}), batch_size=500
            )
        _insert_identities(
            job, [(_ref_pk(ref), channel, username) for ref, channel, username in identities], now
        )
        label = Customer._meta.label_lower
        note = {"via": "import", "import_id": customer_import.pk}
        _audit_many(
            job,
            action="customer.created",
            targets=[(label, str(pending.pk), pending.full_name) for pending in created],
            changes=note,
            now=now,
        )
        _audit_many(
            job,
            action="customer.updated",
            targets=[(label, str(customer.pk), customer.full_name) for customer in updated.values()],
            changes=note,
            now=now,
        )
        CustomerImportError.objects.bulk_create(errors, batch_size=1000)
        counts.failed = len(errors)
        CustomerImport.unscoped.filter(pk=customer_import.pk).update(
            progressed_at=now,
            processed_rows=F("processed_rows") + len(rows),
            created_count=F("created_count") + counts.created,
            updated_count=F("updated_count") + counts.updated,
            skipped_count=F("skipped_count") + counts.skipped,
            failed_count=F("failed_count") + counts.failed,
        )
    customer_import.processed_rows += len(rows)
    customer_import.created_count += counts.created
    customer_import.updated_count += counts.updated
    customer_import.skipped_count += counts.skipped
    customer_import.failed_count += counts.failed


def _insert_customers(created: list[_Pending]) -> None:
    if not created:
        return
    if connection.vendor == "postgresql":
        _copy_insert(Customer, [pending.attrs for pending in created])
        # Each row's id, found by the (import, row) pair that is unique to it.
        by_row = {pending.attrs["source_row"]: pending for pending in created}
        for pk, source_row in Customer.unscoped.filter(
            source_import_id=created[0].attrs["source_import_id"],
            source_row__gte=min(by_row),
            source_row__lte=max(by_row),
        ).values_list("pk", "source_row"):
            if source_row in by_row:
                by_row[source_row].pk = pk
        return
    customers = [Customer(**pending.attrs) for pending in created]
    Customer.unscoped.bulk_create(customers, batch_size=1000)
    for pending, customer in zip(created, customers, strict=True):
        pending.pk = customer.pk


def _insert_identities(job: _Job, identities: list[tuple[int, str, str]], now: datetime) -> None:
    """Link usernames to customers; a username someone else claimed since the lookup stays theirs."""
    if not identities:
        return
    if connection.vendor != "postgresql":
        ChannelIdentity.unscoped.bulk_create(
            [
                ChannelIdentity(
                    workspace_id=job.workspace.pk, customer_id=pk, channel=channel, external_id=username
                )
                for pk, channel, username in identities
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        return
    customer_ids, channels, usernames = (list(column) for column in zip(*identities, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(ChannelIdentity._meta.db_table)} "
            "(workspace_id, customer_id, channel, external_id, created_at) "
            "SELECT %s, new.customer_id, new.channel, new.external_id, %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS new(customer_id, channel, external_id) "
            "ON CONFLICT DO NOTHING",
            [job.workspace.pk, now, customer_ids, channels, usernames],
        )


def _audit_many(
    job: _Job, *, action: str, targets: list[tuple[str, str, str]], changes: dict[str, Any], now: datetime
) -> None:
    """audit_record_many, with PostgreSQL's COPY for the one-row-per-customer volume of an import."""
    if not targets:
        return
    if connection.vendor != "postgresql":
        audit_record_many(
            workspace=job.workspace, actor=job.actor, action=action, targets=targets, changes=changes
        )
        return
    base = {
        "workspace_id": job.workspace.pk,
        "actor_id": job.actor.user.pk if job.actor.user is not None else None,
        "actor_label": job.actor.label,
        "action": action,
        "changes": changes,
        "created_at": now,
    }
    _copy_insert(
        AuditLog,
        [
            {**base, "target_type": target_type, "target_id": target_id, "target_label": label[:300]}
            for target_type, target_id, label in targets
        ],
    )


def _copy_insert(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows (attname → value, without the id) with PostgreSQL's COPY.

    Django's bulk_create prepares every value of every row in Python, which costs more than the insert
    itself at an import's volume. Missing values get the field's default; JSON fields are serialised here.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    json_fields = [field.attname for field in fields if isinstance(field, JSONField)]
    attnames = [field.attname for field in fields]
    columns = ", ".join(quote(str(field.column)) for field in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = {**defaults, **row}
            for attname in json_fields:
                values[attname] = json.dumps(values[attname])
            copy.write_row([values[attname] for attname in attnames])


def _import_error(customer_import: CustomerImport, row: _Row) -> CustomerImportError:
    return CustomerImportError(
        customer_import=customer_import, row_number=row.number, values=row.values, message=row.error
    )


def _finish(job: _Job) -> CustomerImport:
    customer_import = CustomerImport.unscoped.select_related("workspace").get(pk=job.customer_import.pk)
    if customer_import.failed_count:
        _write_error_file(customer_import)
    with transaction.atomic():
        CustomerImport.unscoped.filter(pk=customer_import.pk).update(
            status=ImportStatus.COMPLETED,
            finished_at=timezone.now(),
            error_file=customer_import.error_file.name,
        )
        customer_import.refresh_from_db()
        audit_record(
            workspace=customer_import.workspace,
            actor=job.actor,
            action="customer_import.completed",
            target=customer_import,
            changes={
                "rows": customer_import.processed_rows,
                "created": customer_import.created_count,
                "updated": customer_import.updated_count,
                "skipped": customer_import.skipped_count,
                "failed": customer_import.failed_count,
            },
        )
    return customer_import


def _write_error_file(customer_import: CustomerImport) -> None:
    """The failed rows as the user sent them, plus an `error` column, in the file's own delimiter."""
    if customer_import.file_format == FORMAT_CSV:
        with customer_import.file.open("rb") as handle:
            delimiter = _detect_delimiter(_binary(handle))
    else:
        delimiter = ","
    width = len(customer_import.headers)
    with tempfile.TemporaryFile() as buffer:
        # utf-8-sig: Excel needs the BOM to read the file as UTF-8.
        text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, delimiter=delimiter)
        writer.writerow([*customer_import.headers, "error"])
        for values, message in (
            customer_import.errors.order_by("row_number")
            .values_list("values", "message")
            .iterator(chunk_size=2000)
        ):
            writer.writerow(
                [*_fit_keeping_extras([str(value) for value in values], width, delimiter), message]
            )
        text.flush()
        text.detach()
        buffer.seek(0)
        if customer_import.error_file:
            customer_import.error_file.delete(save=False)
        customer_import.error_file.save(f"import-{customer_import.pk}-errors.csv", File(buffer), save=False)


def _mark_failed(customer_import: CustomerImport, error: Exception) -> None:
    if isinstance(error, ValidationError):
        reason = " ".join(str(message) for message in error.messages)
    else:
        reason = f"{type(error).__name__}: {error}"
    with transaction.atomic():
        CustomerImport.unscoped.filter(pk=customer_import.pk).update(
            status=ImportStatus.FAILED, failure_reason=reason[:2000], finished_at=timezone.now()
        )
        customer_import.refresh_from_db()
        audit_record(
            workspace=customer_import.workspace,
            actor=Actor(system="import"),
            action="customer_import.failed",
            target=customer_import,
            changes={"reason": reason[:500], "processed_rows": customer_import.processed_rows},
        )
