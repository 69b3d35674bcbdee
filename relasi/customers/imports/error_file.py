"""The error file of an import: the failed rows as the user sent them (a cell a spreadsheet would run as a
formula gets a leading ', as in exports), plus an `error` column."""

from __future__ import annotations

import csv
import io
import tempfile

from django.core.files import File

from relasi.core.csv_cells import csv_cell
from relasi.customers.imports.reading import FORMAT_CSV, binary_stream, delimiter_detect, fit_keeping_extras
from relasi.customers.models import CustomerImport, CustomerImportError


def import_error_file_write(customer_import: CustomerImport) -> None:
    """Write (or rewrite, after a resume) the error file, in the file's own delimiter."""
    if customer_import.file_format == FORMAT_CSV:
        with customer_import.file.open("rb") as handle:
            delimiter = delimiter_detect(binary_stream(handle))
    else:
        delimiter = ","
    width = len(customer_import.headers)
    with tempfile.TemporaryFile() as buffer:
        # utf-8-sig: Excel needs the BOM to read the file as UTF-8.
        text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, delimiter=delimiter)
        writer.writerow([csv_cell(header) for header in [*customer_import.headers, "error"]])
        failed = CustomerImportError.objects.for_workspace(customer_import.workspace).filter(
            customer_import=customer_import
        )
        for values, message in (
            failed.order_by("row_number").values_list("values", "message").iterator(chunk_size=2000)
        ):
            cells = [*fit_keeping_extras([str(value) for value in values], width, delimiter), message]
            writer.writerow([csv_cell(cell) for cell in cells])
        text.flush()
        text.detach()
        buffer.seek(0)
        if customer_import.error_file:
            customer_import.error_file.delete(save=False)
        customer_import.error_file.save(f"import-{customer_import.pk}-errors.csv", File(buffer), save=False)
