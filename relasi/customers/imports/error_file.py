"""The error file of an import: the failed rows as the user sent them (a cell a spreadsheet would run as a
formula gets a leading ', as in exports), plus `row` (as the spreadsheet numbers it) and `error` (the reasons,
in the language of whoever asks for the file). Written when it is asked for, never stored: a stored file
would keep the language of the import."""

from __future__ import annotations

import csv
import io
import tempfile
from typing import IO, Any

from relasi.core.csv_cells import csv_cell
from relasi.customers.imports.reading import FORMAT_CSV, binary_stream, delimiter_detect, fit_keeping_extras
from relasi.customers.imports.reasons import reasons_text
from relasi.customers.models import CustomerImport, CustomerImportError, PropertyDefinition

# Rows of the error file written per query.
CHUNK = 2000


def failed_row_line(row_number: int, line: int | None) -> int:
    """A failed row's number as the spreadsheet shows it; a row failed before lines were kept is counted as
    if the file had no blank row (its header on line 1)."""
    return line if line is not None else row_number + 1


def failed_row_reason(
    reasons: list[dict[str, Any]], message: str, labels: dict[str, str] | None = None
) -> str:
    """The reason in the active language; a row failed before reasons were kept has its words as they were."""
    return reasons_text(reasons, labels) if reasons else message


def property_labels(customer_import: CustomerImport) -> dict[str, str]:
    definitions = PropertyDefinition.objects.for_workspace(customer_import.workspace).filter(is_builtin=False)
    return dict(definitions.values_list("key", "label"))


def _delimiter(customer_import: CustomerImport) -> str:
    if customer_import.file_format != FORMAT_CSV:
        return ","
    try:
        with customer_import.file.open("rb") as handle:
            return delimiter_detect(binary_stream(handle))
    except OSError:  # the uploaded file is gone: the rows are kept without it
        return ","


def import_error_file_build(customer_import: CustomerImport) -> IO[bytes]:
    """The error file, in the file's own delimiter, as an open binary file at its start."""
    delimiter = _delimiter(customer_import)
    width = len(customer_import.headers)
    labels = property_labels(customer_import)
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned open, closed by the response
    # utf-8-sig: Excel needs the BOM to read the file as UTF-8.
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow([csv_cell(header) for header in [*customer_import.headers, "row", "error"]])
    failed = CustomerImportError.objects.for_workspace(customer_import.workspace).filter(
        customer_import=customer_import
    )
    for row_number, line, values, reasons, message in (
        failed.order_by("row_number")
        .values_list("row_number", "line", "values", "reasons", "message")
        .iterator(chunk_size=CHUNK)
    ):
        cells = [
            *fit_keeping_extras([str(value) for value in values], width, delimiter),
            str(failed_row_line(row_number, line)),
            failed_row_reason(reasons, message, labels),
        ]
        writer.writerow([csv_cell(cell) for cell in cells])
    text.flush()
    text.detach()
    buffer.seek(0)
    return buffer
