"""Reading import files: telling CSV from XLSX, the CSV delimiter, the header and the rows, streamed.

Nothing here holds a whole file in memory. Refusals carry a code (TOO_LARGE, UNSUPPORTED...) so the API can
answer 413 / 415 / 422 without parsing messages. An XLSX file is opened through `xlsx`, which refuses a zip
that unpacks beyond `xlsx_limits()` before openpyxl parses it, and caps what is inflated while reading.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from relasi.customers.models import CustomerImport

if TYPE_CHECKING:
    from relasi.customers.imports.xlsx import Limits, Refused

FORMAT_CSV = "csv"
FORMAT_XLSX = "xlsx"
# Enough of the file to tell its kind and its delimiter.
SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")

TOO_LARGE = "too_large"
TOO_MANY_ROWS = "too_many_rows"
UNSUPPORTED = "unsupported_type"
UNREADABLE = "unreadable"
EMPTY = "empty"

# What an XLSX file may unpack to, as multiples of CUSTOMER_IMPORT_MAX_BYTES (100 MB: 1,000 MB and 200 MB).
# All parts together: sheet XML runs 7-18 times its packed size, and openpyxl writes ~480 bytes of it per row
# of 8 text columns, so a sheet at the row limit is ~500 MB; twice that is room for wider sheets.
XLSX_UNPACKED_TIMES = 10
# The shared strings, which are held in memory for the whole read: at most this, as unpacked XML and as the
# compact table they are read into (a million rows of name, phone and email, all distinct: ~100 MB of XML).
XLSX_STRINGS_TIMES = 2
# Any part openpyxl parses whole into objects (workbook, styles, relationships). Excel's largest styles
# (64,000 cell formats, its maximum) are ~5 MB and take openpyxl 45 MB; 16 MB of them take 170 MB and 4.5 s.
XLSX_PART_BYTES = 16 * 1024 * 1024
# The last row of a worksheet (Excel's and openpyxl's). A blank row past it is a damaged file: one
# <row r="2000000000"> would make openpyxl yield every blank row up to it, minutes of work for a few bytes.
XLSX_SHEET_ROWS = 1_048_576


def refusal(message: str, code: str) -> ValidationError:
    return ValidationError({"file": [ValidationError(message, code=code)]})


def refusal_code(error: ValidationError) -> str:
    """The refusal code of an upload error (TOO_LARGE, UNSUPPORTED...), or "" for other validation errors."""
    if hasattr(error, "error_dict"):
        for item in error.error_dict.get("file", []):
            return str(item.code or "")
    return ""


# --- Reading files ------------------------------------------------------------------------------------


def binary_stream(file: Any) -> IO[bytes]:
    """The Python file object under Django's File/UploadedFile wrappers (csv and zipfile want a real one)."""
    inner = file
    while not isinstance(inner, io.IOBase) and getattr(inner, "file", None) is not None:
        inner = inner.file
    return inner


def xlsx_limits() -> Limits:
    """What an XLSX upload may unpack to, from CUSTOMER_IMPORT_MAX_BYTES (see XLSX_UNPACKED_TIMES...)."""
    from relasi.customers.imports.xlsx import Limits

    max_bytes = settings.CUSTOMER_IMPORT_MAX_BYTES
    return Limits(
        unpacked=XLSX_UNPACKED_TIMES * max_bytes, strings=XLSX_STRINGS_TIMES * max_bytes, part=XLSX_PART_BYTES
    )


def _xlsx_refusal(error: Refused) -> ValidationError:
    from relasi.customers.imports import xlsx

    figures = error.figures
    if error.reason == xlsx.PARTS:
        message = _("The XLSX file holds more than %(limit)s parts. Open it in Excel and save it again.") % {
            "limit": number_format(figures["limit"], force_grouping=True)
        }
        return refusal(message, TOO_LARGE)
    if error.reason in (xlsx.UNPACKED, xlsx.PART):
        sizes = {"size": size_text(figures["size"]), "limit": size_text(figures["limit"])}
        if error.reason == xlsx.UNPACKED:
            message = _(
                "The XLSX file unpacks to %(size)s; the limit is %(limit)s. Split it into smaller files."
            )
        else:
            message = _(
                "A part of the XLSX file unpacks to %(size)s; the limit is %(limit)s. Split it into smaller files."
            )
        return refusal(message % sizes, TOO_LARGE)
    if error.reason == xlsx.RATIO:
        message = _(
            "A part of the XLSX file is compressed %(ratio)s to 1; the limit is %(limit)s to 1. "
            "Open it in Excel and save it again."
        ) % {
            "ratio": number_format(figures["ratio"], force_grouping=True),
            "limit": number_format(figures["limit"], force_grouping=True),
        }
        return refusal(message, TOO_LARGE)
    if error.reason == xlsx.NAMES:
        return refusal(
            _(
                "The XLSX file cannot be read: a part of it has an unsafe or repeated name. "
                "Open it in Excel and save it again."
            ),
            UNREADABLE,
        )
    if error.reason == xlsx.ENCRYPTED:
        return refusal(
            _(
                "Encrypted XLSX files are not supported. Save the sheet without a password as XLSX or CSV (UTF-8)."
            ),
            UNSUPPORTED,
        )
    return refusal(_("The XLSX file cannot be read. Open it in Excel and save it again."), UNREADABLE)


def format_detect(stream: IO[bytes]) -> str:
    stream.seek(0)
    head = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _zip_format_detect(stream)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise refusal(
            _("Old Excel files (.xls) are not supported. Save the sheet as XLSX or CSV (UTF-8)."), UNSUPPORTED
        )
    if _binary(head) or _undecodable(head):
        raise refusal(
            _(
                "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX."
            ),
            UNSUPPORTED,
        )
    return FORMAT_CSV


def _zip_format_detect(stream: IO[bytes]) -> str:
    """XLSX if the zip holds a workbook; refused before any parsing if it unpacks beyond the limits."""
    from relasi.customers.imports import xlsx

    try:
        try:
            archive = xlsx.archive_open(stream, xlsx_limits())
        except zipfile.BadZipFile:
            raise refusal(
                _("This is not a CSV or XLSX file. Save it as CSV (UTF-8) or XLSX."), UNSUPPORTED
            ) from None
        with archive:
            if not any(name.startswith("xl/") for name in archive.namelist()):
                raise refusal(
                    _("This is not a CSV or XLSX file. Save it as CSV (UTF-8) or XLSX."), UNSUPPORTED
                )
            archive.check()
    except xlsx.Refused as error:
        raise _xlsx_refusal(error) from None
    finally:
        stream.seek(0)
    return FORMAT_XLSX


def _binary(head: bytes) -> bool:
    """Many NUL bytes: a binary file or UTF-16 text. A few are a damaged row or two of a CSV, which fail on their
    own (relasi.core.inputs) while the rest of the file is imported."""
    return head.count(b"\x00") > max(1, len(head) // 100)


def _undecodable(head: bytes) -> bool:
    try:
        # Not final: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False


def delimiter_detect(stream: IO[bytes]) -> str:
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


def _too_many_rows(limit: int) -> ValidationError:
    return refusal(
        _("The file has more than %(limit)s rows; the limit is %(limit)s. Split it into smaller files.")
        % {"limit": number_format(limit, force_grouping=True)},
        TOO_MANY_ROWS,
    )


def _xlsx_rows(stream: IO[bytes], row_limit: int | None) -> Generator[list[str]]:
    """The first worksheet's rows; refused at once if its declared size is over `row_limit`."""
    from relasi.customers.imports import xlsx

    try:
        with xlsx.workbook_open(stream, xlsx_limits()) as (_workbook, sheet):
            declared = sheet.declared_rows()
            if row_limit is not None and declared is not None and declared > row_limit:
                raise _too_many_rows(row_limit)
            for position, values in enumerate(sheet.row_values(), start=1):
                row = [_cell_text(value) for value in values]
                if position > XLSX_SHEET_ROWS and _is_blank(row):
                    raise xlsx.Refused(xlsx.DAMAGED)  # rows that cost nothing; rows of values are counted
                yield row
    except xlsx.Refused as error:
        raise _xlsx_refusal(error) from None


def _raw_rows(
    stream: IO[bytes], file_format: str, delimiter: str, row_limit: int | None = None
) -> Generator[list[str]]:
    """Every row of the file as text cells, streamed (never the whole file in memory)."""
    stream.seek(0)
    if file_format == FORMAT_XLSX:
        yield from _xlsx_rows(stream, row_limit)
        return
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from csv.reader(text, delimiter=delimiter)
    finally:
        text.detach()


def _is_blank(row: list[str]) -> bool:
    return not any(row) or not "".join(row).strip()


class Table:
    """The header and the non-blank rows after it (numbered 1, 2, ... by position), streamed; `line` is the
    spreadsheet's number of the row last given (the header's line is `header_line`, usually 1)."""

    def __init__(self, source: Iterator[list[str]]) -> None:
        self._numbered = ((line, row) for line, row in enumerate(source, start=1) if not _is_blank(row))
        self.header_line, header = next(self._numbered, (0, []))
        self.header_width = len(header)  # cells in the header line, trailing empty ones included
        while header and not header[-1].strip():
            header.pop()
        self.headers = [cell.strip() for cell in header]
        self.line = self.header_line
        self.rows: Iterator[list[str]] = self._rows()

    def _rows(self) -> Iterator[list[str]]:
        for line, row in self._numbered:
            self.line = line
            yield row


@contextmanager
def table_open(
    stream: IO[bytes], file_format: str, delimiter: str, *, row_limit: int | None = None
) -> Iterator[Table]:
    """The header (first non-blank row) and an iterator over the non-blank rows after it. With `row_limit`,
    an XLSX sheet whose declared size is over it is refused before its first row is read."""
    source = _raw_rows(stream, file_format, delimiter, row_limit)
    try:
        yield Table(source)
    finally:
        # Closing the reader detaches the text wrapper; left to the garbage collector, it would close the file.
        source.close()


@contextmanager
def stored_table_open(customer_import: CustomerImport) -> Iterator[Table]:
    with customer_import.file.open("rb") as handle:
        stream = binary_stream(handle)
        delimiter = delimiter_detect(stream) if customer_import.file_format == FORMAT_CSV else ","
        with table_open(stream, customer_import.file_format, delimiter) as table:
            yield table


def fit(row: list[str], width: int) -> list[str]:
    if len(row) < width:
        return row + [""] * (width - len(row))
    return row[:width]


def fit_keeping_extras(row: list[str], width: int, delimiter: str) -> list[str]:
    """Cells for the error file: a row wider than the header (an unquoted delimiter) keeps its extra cells,
    joined back into its last column, so nothing the user sent is lost and `error` stays in its column."""
    if len(row) <= width or width == 0:
        return fit(row, width)
    return [*row[: width - 1], delimiter.join(row[width - 1 :])]


def file_size(file: Any) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    stream = binary_stream(file)
    stream.seek(0, io.SEEK_END)
    end = stream.tell()
    stream.seek(0)
    return end


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return _("%(count)d bytes") % {"count": size}


def rows_count(stream: IO[bytes], file_format: str, delimiter: str, limit: int) -> tuple[list[str], int]:
    """Headers and the number of customer rows, stopping as soon as the limit is passed. An XLSX sheet whose
    <dimension> declares more rows is refused without reading them; otherwise the count decides (a dimension
    can be wrong or missing)."""
    total = 0
    headers: list[str] = []
    try:
        with table_open(stream, file_format, delimiter, row_limit=limit) as table:
            headers = table.headers
            for _row in table.rows:
                total += 1
                if total > limit:
                    raise _too_many_rows(limit)
    except ValidationError:
        raise
    except UnicodeDecodeError:
        raise refusal(
            _(
                "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX."
            ),
            UNSUPPORTED,
        ) from None
    except csv.Error as error:
        raise refusal(_("The CSV file cannot be read: %(error)s.") % {"error": error}, UNREADABLE) from None
    except Exception:
        if file_format != FORMAT_XLSX:
            raise
        # openpyxl reports a damaged workbook with many exception types (zip, XML, key errors...).
        raise refusal(
            _("The XLSX file cannot be read. Open it in Excel and save it again."), UNREADABLE
        ) from None
    finally:
        stream.seek(0)
    return headers, total
