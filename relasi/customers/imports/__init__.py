"""Customer imports: upload a CSV or XLSX file, map its columns, run it as a resumable background job.

The modules name their jobs: `reading` (file kinds, delimiters, rows, refusals), `xlsx` (an XLSX checked and
read within bounds: no decompression or entity bomb), `mapping` (columns →
fields), `services` (upload, start, resume), `selectors` (reads), `job` (what a run knows), `rows` (one
row validated), `matching` (duplicates), `writer` (one batch, SQLite or PostgreSQL COPY), `runner` (the
batches and the checkpoint), `error_file` and `undo` (“Undo this import”). Pages, the API and the command
line use the names below.
"""

from relasi.customers.imports.mapping import (
    NEW_PROPERTY_PREFIX,
    customer_import_rest_targets,
    customer_import_suggest,
    customer_import_suggest_mapping,
    customer_import_targets,
)
from relasi.customers.imports.reading import (
    EMPTY,
    TOO_LARGE,
    TOO_MANY_ROWS,
    UNREADABLE,
    UNSUPPORTED,
    refusal_code,
)
from relasi.customers.imports.runner import customer_import_run
from relasi.customers.imports.selectors import (
    FINISHED,
    FailedRow,
    customer_import_duplicates,
    customer_import_error_file_open,
    customer_import_error_filename,
    customer_import_errors,
    customer_import_file_readable,
    customer_import_get,
    customer_import_has_failed_rows,
    customer_import_is_stalled,
    customer_import_number_format_suggest,
    customer_import_preview,
    customer_import_progress_percent,
    customer_import_samples,
    customer_imports_recent,
)
from relasi.customers.imports.services import (
    customer_import_resume,
    customer_import_start,
    customer_import_upload,
    customer_import_upload_and_start,
)
from relasi.customers.imports.undo import (
    UNDO_BUSY,
    UNDO_DAYS,
    customer_import_undo,
    customer_import_undo_percent,
    customer_import_undo_refusal,
    customer_import_undo_resume,
    customer_import_undo_run,
    customer_import_undo_until,
)

__all__ = [
    "EMPTY",
    "FINISHED",
    "NEW_PROPERTY_PREFIX",
    "TOO_LARGE",
    "TOO_MANY_ROWS",
    "UNDO_BUSY",
    "UNDO_DAYS",
    "UNREADABLE",
    "UNSUPPORTED",
    "FailedRow",
    "customer_import_duplicates",
    "customer_import_error_file_open",
    "customer_import_error_filename",
    "customer_import_errors",
    "customer_import_file_readable",
    "customer_import_get",
    "customer_import_has_failed_rows",
    "customer_import_is_stalled",
    "customer_import_number_format_suggest",
    "customer_import_preview",
    "customer_import_progress_percent",
    "customer_import_rest_targets",
    "customer_import_resume",
    "customer_import_run",
    "customer_import_samples",
    "customer_import_start",
    "customer_import_suggest",
    "customer_import_suggest_mapping",
    "customer_import_targets",
    "customer_import_undo",
    "customer_import_undo_percent",
    "customer_import_undo_refusal",
    "customer_import_undo_resume",
    "customer_import_undo_run",
    "customer_import_undo_until",
    "customer_import_upload",
    "customer_import_upload_and_start",
    "customer_imports_recent",
    "refusal_code",
]
