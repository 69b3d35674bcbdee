"""How fast Relasi refuses hostile input (issue 8): the security sweep's cases, timed.

`DATABASE_URL=... python -m bench.hostile [--iterations N]` from the repository root (or `make bench-hostile`)
creates a scratch workspace "bench-hostile" with its owner, an API key and a number and a date property, then:
1. uploads hostile XLSX files through `customer_import_upload`, the service behind the page, the API and
   the command line: a 1 GiB shared-strings bomb, 1.1 M rows under a correct <dimension>, a row numbered
   2,000,000,000; the process's peak RSS is read before and after them;
2. posts huge numbers, an impossible date and a NUL to `POST /api/v1/customers`, 11 MB JSON bodies, and a
   multipart body without a boundary to `/api/v1/customer-imports` (the real request path: Django's test
   client, the API key, the rate limit, django-ninja).
Every case runs N times; the median and max milliseconds and the answer (HTTP status, or the refusal code of
the upload) are printed as one JSON document on stdout, progress on stderr. The workspace, its owner and the
key are deleted at the end. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django

if __name__ == "__main__":
    # Run as a script: Django must be ready before the imports below load any model.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from openpyxl import Workbook

from bench.common import BENCH_ACTOR, Log, bench_user
from bench.dataset import machine_info
from relasi.accounts.models import User
from relasi.core.inputs import number_checked
from relasi.core.models import AuditLog
from relasi.customers import imports
from relasi.customers.models import Customer, CustomerImport
from relasi.customers.property_services import property_create
from relasi.tenancy.models import Workspace
from relasi.tenancy.services import api_key_create, workspace_create

SLUG = "bench-hostile"
OWNER_EMAIL = "bench-hostile@relasi.test"
CUSTOMERS = "/api/v1/customers"
IMPORTS = "/api/v1/customer-imports"
MIB = 1024 * 1024
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRINGS = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"
Answer = int | str


@dataclass(frozen=True)
class Case:
    """One hostile input: `send` submits it once and returns the answer (HTTP status or refusal code)."""

    name: str
    send: Callable[[], Answer]
    expected: Answer
    size_bytes: int


# --- Timing ----------------------------------------------------------------------------------------------


def measure(case: Case, *, iterations: int, warmups: int) -> dict[str, Any]:
    for _ in range(warmups):
        case.send()
    samples: list[float] = []
    answers: set[Answer] = set()
    for _ in range(iterations):
        started = time.perf_counter()
        answers.add(case.send())
        samples.append((time.perf_counter() - started) * 1000)
    # Every run's answer is kept: a refusal that only sometimes holds must show.
    status: Answer | list[Answer] = answers.pop() if len(answers) == 1 else sorted(answers, key=str)
    return {
        "name": case.name,
        "status": status,
        "expected": case.expected,
        "as_expected": status == case.expected,
        "median_ms": round(statistics.median(samples), 3),
        "max_ms": round(max(samples), 3),
        "n": iterations,
        "size_bytes": case.size_bytes,
    }


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux: the process's high-water mark, never lower than an earlier reading.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- The API cases ---------------------------------------------------------------------------------------


def _post(client: Client, url: str, body: bytes, content_type: str) -> Callable[[], Answer]:
    def send() -> Answer:
        return client.post(url, body, content_type=content_type).status_code

    return send


def _case(client: Client, name: str, url: str, body: bytes, expected: Answer, content_type: str) -> Case:
    return Case(name, _post(client, url, body, content_type), expected, len(body))


def api_cases(client: Client) -> list[Case]:
    def customer(name: str, properties: dict[str, Any], *, full_name: str = "Hostile") -> Case:
        body = json.dumps({"full_name": full_name, "properties": properties}).encode()
        return _case(client, name, CUSTOMERS, body, 422, "application/json")

    def raw(name: str, number: bytes, expected: Answer) -> Case:
        body = b'{"full_name": "Hostile", "properties": {"p_number": ' + number + b"}}"
        return _case(client, name, CUSTOMERS, body, expected, "application/json")

    # One MB over DATA_UPLOAD_MAX_MEMORY_SIZE (10 MB by default).
    big = json.dumps({"full_name": "x" * 11_000_000}).encode()
    return [
        # As text, as the tests of issue 8 send them: the number property parses the text itself.
        customer("number_1e400000", {"p_number": "1e400000"}),
        customer("number_1e1000000", {"p_number": "1e1000000"}),
        customer("number_5000_nines", {"p_number": "9" * 5000}),
        # As JSON numbers: the JSON parser meets them first. Python reads 1e400000 as infinity, and refuses
        # an integer of more than 4,300 digits (sys.int_info.str_digits_check_threshold) as not JSON: a 400.
        raw("number_1e400000_as_json_number", b"1e400000", 422),
        raw("number_5000_nines_as_json_number", b"9" * 5000, 422),
        customer("date_2026_02_30", {"p_date": "2026-02-30"}),
        customer("nul_in_full_name", {}, full_name="Bu\u0000di"),
        _case(client, "json_body_11mb_customers", CUSTOMERS, big, 413, "application/json"),
        # The import endpoint takes a multipart form: it never reads a JSON body, so the size limit is not
        # what answers; the missing `file` is (a 422), without the body being parsed.
        _case(client, "json_body_11mb_customer_imports", IMPORTS, big, 422, "application/json"),
        _case(client, "multipart_without_boundary", IMPORTS, b"--x\r\n", 400, "multipart/form-data"),
    ]


def _number_check(text: str) -> Callable[[], Answer]:
    def send() -> Answer:
        try:
            number_checked(text)
        except ValidationError as error:
            return str(error.code)
        return "accepted"

    return send


def check_cases() -> list[Case]:
    """The number check alone, without the request around it: what the fix made fast."""
    values = {"1e400000": "1e400000", "1e1000000": "1e1000000", "5000_nines": "9" * 5000}
    return [
        Case(f"number_checked_{name}_alone", _number_check(text), "number_range", len(text))
        for name, text in values.items()
    ]


# --- Hostile XLSX files, built small on disk (as in tests/customers/test_import_files.py) ------------------


@dataclass
class Entry:
    """A zip entry as its headers state it: `data` is stored as is (deflated already)."""

    name: str
    data: bytes
    size: int
    crc: int


def deflated(content: bytes | Iterable[bytes], name: str, level: int = 6) -> Entry:
    """An entry of `content`, which may come in pieces (a sheet of a million rows need not be held whole)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    out: list[bytes] = []
    size = crc = 0
    for piece in [content] if isinstance(content, bytes) else content:
        out.append(compressor.compress(piece))
        size, crc = size + len(piece), zlib.crc32(piece, crc)
    out.append(compressor.flush())
    return Entry(name, b"".join(out), size, crc)


def run_of(name: str, prefix: bytes, byte: bytes, mebibytes: int, suffix: bytes) -> Entry:
    """prefix + `mebibytes` MiB of one byte + suffix, deflated without deflating it all: one MiB compressed
    once, flushed so it stands alone, and repeated (~1 KB a MiB on disk)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = byte * MIB
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(suffix) + compressor.flush()
    crc = zlib.crc32(prefix)
    for _ in range(mebibytes):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    return Entry(name, head + block * mebibytes + tail, len(prefix) + mebibytes * MIB + len(suffix), crc)


def zipped(entries: list[Entry]) -> bytes:
    """A zip whose local and central headers say exactly what the entries claim (deflated, no flags)."""
    out, directory = io.BytesIO(), io.BytesIO()
    for entry in entries:
        name = entry.name.encode()
        offset = out.tell()
        sizes = (entry.crc, len(entry.data), entry.size, len(name), 0)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, *sizes))
        out.write(name + entry.data)
        central = (b"PK\x01\x02", 20, 20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, *sizes[:4], 0, 0, 0, 0, 0, offset)
        directory.write(struct.pack("<4s6H3L5H2L", *central) + name)
    start, count = out.tell(), len(entries)
    out.write(directory.getvalue())
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory.getvalue()), start, 0))
    return out.getvalue()


def sheet_xml(rows: Iterable[bytes], dimension: str | None) -> Iterator[bytes]:
    """A worksheet part, in pieces."""
    declared = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN_NS}">'.encode() + declared
    yield b"<sheetData>"
    yield from rows
    yield b"</sheetData></worksheet>"


def numbered_rows(count: int, chunk: int = 10_000) -> Iterator[bytes]:
    """A header ("Nama", the first shared string) and `count` rows of numbers, numbered as Excel does, in
    pieces of `chunk` rows."""
    yield b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    for first in range(2, count + 2, chunk):
        last = min(first + chunk, count + 2)
        yield b"".join(
            b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (row, row, row) for row in range(first, last)
        )


def strings_prefix() -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN_NS}"><si><t>'.encode()


def excel_parts() -> dict[str, bytes]:
    """The parts of a one-cell workbook as openpyxl writes it, plus a shared strings part (Excel keeps a
    sheet's text there; openpyxl writes inline strings)."""
    workbook = Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    strings_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/{STRINGS}" ContentType="{strings_type}"/></Types>'.encode()
    )
    relationship = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdStrings" Type="{relationship}" Target="sharedStrings.xml"/>'.encode()
        + b"</Relationships>",
    )
    return parts


def workbook_with(replaced: dict[str, Entry]) -> bytes:
    """A small workbook as Excel writes it (Nama / Ani, Budi, in shared strings), some parts replaced."""
    parts = excel_parts()
    rows = [f'<row r="{row}"><c r="A{row}" t="s"><v>{row - 1}</v></c></row>'.encode() for row in (1, 2, 3)]
    parts[SHEET] = b"".join(sheet_xml(rows, "A1:A3"))
    names = "".join(f"<si><t>{name}</t></si>" for name in ("Nama", "Ani", "Budi"))
    parts[STRINGS] = f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN_NS}">{names}</sst>'.encode()
    return zipped([replaced.get(name) or deflated(data, name) for name, data in parts.items()])


def gigabyte_bomb() -> bytes:
    """A 1 MB workbook whose shared strings inflate to 1 GiB (the issue's file was accepted after 27 s)."""
    return workbook_with({STRINGS: run_of(STRINGS, strings_prefix(), b"a", 1024, b"</t></si></sst>")})


def million_rows() -> bytes:
    """The issue's file: 1.1 M rows under a header (~8 MB), its <dimension> saying so (~20 s before)."""
    return workbook_with(
        {SHEET: deflated(sheet_xml(numbered_rows(1_100_000), "A1:A1100001"), SHEET, level=1)}
    )


def far_row() -> bytes:
    """A row numbered 2,000,000,000: openpyxl would yield every blank row before it."""
    rows = [*numbered_rows(1), b'<row r="2000000000"><c r="A2000000000"><v>1</v></c></row>']
    return workbook_with({SHEET: deflated(sheet_xml(rows, None), SHEET)})


def xlsx_upload(workspace: Workspace, owner: User, content: bytes) -> Callable[[], Answer]:
    def send() -> Answer:
        name = "pelanggan.xlsx"
        try:
            imports.customer_import_upload(
                workspace=workspace, actor=owner, file=SimpleUploadedFile(name, content), original_name=name
            )
        except ValidationError as error:
            return imports.refusal_code(error) or "invalid"
        return "accepted"

    return send


def xlsx_cases(workspace: Workspace, owner: User, *, include_million_rows: bool, log: Log) -> list[Case]:
    builders: dict[str, tuple[Callable[[], bytes], str]] = {
        "xlsx_1gib_shared_strings_bomb": (gigabyte_bomb, imports.TOO_LARGE),
        "xlsx_1_1m_rows_with_dimension": (million_rows, imports.TOO_MANY_ROWS),
        "xlsx_row_2000000000": (far_row, imports.UNREADABLE),
    }
    if not include_million_rows:
        del builders["xlsx_1_1m_rows_with_dimension"]
    cases = []
    for name, (build, expected) in builders.items():
        started = time.perf_counter()
        content = build()
        log(f"  built {name}: {len(content) / MIB:.1f} MB in {time.perf_counter() - started:.1f} s")
        cases.append(Case(name, xlsx_upload(workspace, owner, content), expected, len(content)))
    return cases


# --- Scratch workspace -----------------------------------------------------------------------------------


def _delete_workspace(workspace: Workspace) -> None:
    for record in CustomerImport.objects.for_workspace(workspace):
        if record.file:
            record.file.delete(save=False)
    # Its audit rows would outlive it (SET_NULL) as orphans of a benchmark; they record nothing real.
    AuditLog.objects.filter(workspace=workspace).delete()
    workspace.delete()


@contextmanager
def scratch_workspace(log: Log) -> Iterator[tuple[Workspace, User, str]]:
    """The workspace, its owner and an API token; all deleted afterwards, whatever happens."""
    leftover = Workspace.objects.filter(slug=SLUG).first()
    if leftover is not None:
        log(f"Deleting workspace '{SLUG}' left by an interrupted run...")
        _delete_workspace(leftover)
    owner = bench_user(OWNER_EMAIL, "Bench Hostile Owner")
    workspace = workspace_create(name="Benchmark hostile input", slug=SLUG, owner=owner, actor=None)
    try:
        for kind in ("number", "date"):
            property_create(
                workspace=workspace, actor=BENCH_ACTOR, label=kind.title(), key=f"p_{kind}", kind=kind
            )
        token = api_key_create(workspace=workspace, actor=BENCH_ACTOR, name="hostile benchmark").token
        yield workspace, owner, token
    finally:
        _delete_workspace(workspace)
        owner.delete()


def nothing_stored(workspace: Workspace) -> bool:
    return not (
        Customer.objects.for_workspace(workspace).exists()
        or CustomerImport.objects.for_workspace(workspace).exists()
    )


# --- The run ---------------------------------------------------------------------------------------------


def _timed_all(cases: list[Case], *, iterations: int, warmups: int, log: Log) -> list[dict[str, Any]]:
    results = []
    for case in cases:
        log(f"Timing {case.name} ({iterations} runs)...")
        results.append(measure(case, iterations=iterations, warmups=warmups))
    return results


def _load_average() -> list[float]:
    # The machine may be shared (a test suite running beside the benchmark): the figures say so.
    return [round(value, 2) for value in os.getloadavg()]


def hostile_bench(
    *, iterations: int, log: Log, warmups: int = 1, include_million_rows: bool = True
) -> dict[str, Any]:
    """The JSON-ready result. `include_million_rows=False` leaves out the slowest file to build (tests)."""
    load_before, started = _load_average(), timezone.now()
    # As production: DEBUG off; the API's rate limit stays on but high enough for the timed runs.
    with (
        override_settings(DEBUG=False, API_RATE_LIMIT_PER_KEY="1000000/min"),
        scratch_workspace(log) as scratch,
    ):
        workspace, owner, token = scratch
        rss: dict[str, float] = {"at_start": peak_rss_mb()}
        log("Building the hostile XLSX files...")
        files = xlsx_cases(workspace, owner, include_million_rows=include_million_rows, log=log)
        # The files first, while the high-water mark is still low: the API cases' 11 MB bodies would hide
        # anything under it. Read after the files are built, so it is the refusals' memory, not the builders'.
        rss["before_xlsx"] = peak_rss_mb()
        results = _timed_all(files, iterations=iterations, warmups=warmups, log=log)
        rss["after_xlsx"] = peak_rss_mb()
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        results += _timed_all(
            api_cases(client) + check_cases(), iterations=iterations, warmups=warmups, log=log
        )
        rss["at_end"] = peak_rss_mb()
        stored_nothing = nothing_stored(workspace)
    return {
        "machine": machine_info(),
        "date": started.isoformat(timespec="seconds"),
        "command": f"python -m bench.hostile --iterations {iterations} --warmups {warmups}",
        "load_average": {"before": load_before, "after": _load_average()},
        "iterations": iterations,
        "warmups": warmups,
        "cases": results,
        "peak_rss_mb": rss,
        "nothing_stored": stored_nothing,
        "all_as_expected": stored_nothing and all(result["as_expected"] for result in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=20, help="Timed runs per case.")
    parser.add_argument("--warmups", type=int, default=1, help="Untimed runs before each case.")
    parser.add_argument("--json-out", type=Path, help="Also write the JSON to this file.")
    arguments = parser.parse_args()
    if arguments.iterations < 1:
        parser.error("--iterations must be at least 1")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = hostile_bench(iterations=arguments.iterations, warmups=arguments.warmups, log=log)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if arguments.json_out:
        arguments.json_out.write_text(text + "\n")
        log(f"Wrote {arguments.json_out}")


if __name__ == "__main__":
    main()
