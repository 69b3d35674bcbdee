"""Hostile XLSX files (issue 8, defect 2): decompression bombs, lying zip headers, unsafe names, encryption,
and sheets of too many rows, each refused fast through the upload, with nothing stored. The hostile files
are built here with zipfile or by hand, small on disk; a normal XLSX still imports as before."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from relasi.accounts.models import User
from relasi.customers import imports
from relasi.customers.imports import reading
from relasi.customers.models import Customer, CustomerImport
from relasi.tenancy.models import Workspace
from tests.customers.importing import started

MIB = 1024 * 1024
# A sanity bound, not a benchmark: the refusals below take milliseconds; without the guards they took
# 20 s to minutes and a gigabyte of memory.
FAST = 5.0
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRINGS = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"
DAMAGED = "The XLSX file cannot be read. Open it in Excel and save it again."


def upload(workspace: Workspace, actor: User, content: bytes, name: str = "pelanggan.xlsx") -> CustomerImport:
    return imports.customer_import_upload(
        workspace=workspace, actor=actor, file=SimpleUploadedFile(name, content), original_name=name
    )


def refused(workspace: Workspace, actor: User, content: bytes) -> tuple[str, list[str], float]:
    """The refusal code and messages of an upload, and how long it took."""
    began = time.perf_counter()
    with pytest.raises(ValidationError) as error:
        upload(workspace, actor, content)
    elapsed = time.perf_counter() - began
    return imports.refusal_code(error.value), error.value.message_dict["file"], elapsed


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def nothing_stored(workspace: Workspace, settings) -> bool:
    return CustomerImport.objects.for_workspace(workspace).count() == 0 and media_files(settings) == []


# --- Building zips by hand ----------------------------------------------------------------------------


@dataclass
class Entry:
    """A zip entry as its headers state it: `data` is what is stored (already deflated when `method` says
    so), and `size`, `crc` and `flags` are whatever the test wants the headers to claim."""

    name: str
    data: bytes
    size: int
    crc: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0


def deflated(content: bytes, name: str) -> Entry:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Entry(name, compressor.compress(content) + compressor.flush(), len(content), zlib.crc32(content))


def run_of(
    name: str, prefix: bytes, byte: bytes, mebibytes: int, suffix: bytes, *, checksum: bool = True
) -> Entry:
    """prefix + `mebibytes` MiB of one byte + suffix, deflated without deflating it all: one MiB is
    compressed once, flushed so it stands alone, and repeated (~1 KB a MiB on disk)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = byte * MIB
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(suffix) + compressor.flush()
    crc = zlib.crc32(prefix)
    for _ in range(mebibytes if checksum else 0):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + mebibytes * MIB + len(suffix)
    return Entry(name, head + block * mebibytes + tail, size, crc)


def zipped(entries: list[Entry]) -> bytes:
    """A zip whose local and central headers say exactly what the entries claim."""
    out = io.BytesIO()
    directory = io.BytesIO()
    for entry in entries:
        name = entry.name.encode()
        offset = out.tell()
        sizes = (entry.crc, len(entry.data), entry.size, len(name), 0)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, entry.flags, entry.method, 0, 0x21, *sizes))
        out.write(name + entry.data)
        directory.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                entry.flags,
                entry.method,
                0,
                0x21,
                *sizes[:4],
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    out.write(directory.getvalue())
    count = len(entries)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory.getvalue()), start, 0))
    return out.getvalue()


def workbook_bytes(rows: list[list[object]]) -> bytes:
    """An XLSX as openpyxl writes it (inline strings, styles, a <dimension>)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parts_of(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def shared_strings_xml(items: list[str]) -> bytes:
    """A shared strings part; each item is the XML inside one <si>."""
    body = "".join(f"<si>{item}</si>" for item in items)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN_NS}">{body}</sst>'.encode()


def excel_parts(sheet: bytes, strings: bytes) -> dict[str, bytes]:
    """The parts of an XLSX as Excel writes it: the sheet's text in a shared strings part."""
    parts = parts_of(workbook_bytes([["x"]]))
    parts[SHEET] = sheet
    parts[STRINGS] = strings
    strings_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/{STRINGS}" ContentType="{strings_type}"/></Types>'.encode()
    )
    relationship = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdStrings" Type="{relationship}" Target="sharedStrings.xml"/></Relationships>'.encode(),
    )
    return parts


def shared_rows(rows: list[list[int | None]]) -> bytes:
    """Sheet rows of shared-string cells (None: no cell), numbered as Excel numbers them."""
    out = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(
            f'<c r="{chr(65 + column)}{number}" t="s"><v>{index}</v></c>'
            for column, index in enumerate(row)
            if index is not None
        )
        out.append(f'<row r="{number}">{cells}</row>')
    return "".join(out).encode()


def workbook_with(replaced: dict[str, Entry] | None = None, *extra: Entry) -> bytes:
    """A small workbook as Excel writes it (Nama / Ani, Budi, in shared strings), with some parts replaced
    and others added."""
    strings = shared_strings_xml(["<t>Nama</t>", "<t>Ani</t>", "<t>Budi</t>"])
    parts = excel_parts(sheet_xml(shared_rows([[0], [1], [2]]), "A1:A3"), strings)
    replaced = replaced or {}
    entries = [replaced.get(name) or deflated(data, name) for name, data in parts.items()]
    return zipped(entries + list(extra))


def sheet_xml(rows: bytes, dimension: str | None) -> bytes:
    declared = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN_NS}">'.encode()
        + declared
        + b"<sheetData>"
        + rows
        + b"</sheetData></worksheet>"
    )


def numbered_rows(count: int) -> bytes:
    """A header ("Nama", the first shared string) and `count` rows of numbers, numbered as Excel does."""
    header = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    return header + b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (row, row, row) for row in range(2, count + 2)
    )


def strings_prefix() -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN_NS}"><si><t>'.encode()


STRINGS_SUFFIX = b"</t></si></sst>"


# --- Decompression bombs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A 1 MB workbook whose shared strings inflate to 1 GiB (the issue's 2.1 MB file: 202 after 27 s)."""
    return workbook_with({STRINGS: run_of(STRINGS, strings_prefix(), b"a", 1024, STRINGS_SUFFIX)})


def test_a_1_gb_shared_strings_bomb_is_refused_before_parsing(acme, alice, settings, bomb: bytes) -> None:
    # given the bomb
    assert len(bomb) < 2 * MIB
    # when it is uploaded
    code, messages, elapsed = refused(acme, alice, bomb)
    # then it is refused from the zip's directory, before a byte is inflated, and nothing is stored
    assert code == imports.TOO_LARGE
    assert messages == [
        "The XLSX file unpacks to 1024.0 MB; the limit is 1000.0 MB. Split it into smaller files."
    ]
    assert elapsed < FAST
    assert nothing_stored(acme, settings)


def test_shared_strings_under_the_total_are_bounded_by_their_own_size(acme, alice, settings) -> None:
    # given a workbook under the 1,000 MB total, but with 300 MB of shared strings (held in memory)
    bomb = workbook_with({STRINGS: run_of(STRINGS, strings_prefix(), b"a", 300, STRINGS_SUFFIX)})
    # when it is uploaded
    code, messages, elapsed = refused(acme, alice, bomb)
    # then
    assert code == imports.TOO_LARGE
    assert messages == [
        "A part of the XLSX file unpacks to 300.0 MB; the limit is 200.0 MB. Split it into smaller files."
    ]
    assert elapsed < FAST
    assert nothing_stored(acme, settings)


def test_a_part_under_every_size_bound_is_bounded_by_its_compression_ratio(acme, alice, settings) -> None:
    # given a workbook whose 150 MB of shared strings are packed about 1,000 to 1
    strings = run_of(STRINGS, strings_prefix(), b"a", 150, STRINGS_SUFFIX)
    ratio = strings.size // len(strings.data)
    assert 900 < ratio < 1100
    # when it is uploaded
    code, messages, elapsed = refused(acme, alice, workbook_with({STRINGS: strings}))
    # then
    assert code == imports.TOO_LARGE
    assert messages == [
        f"A part of the XLSX file is compressed {ratio:,} to 1; the limit is 100 to 1. "
        "Open it in Excel and save it again."
    ]
    assert elapsed < FAST
    assert nothing_stored(acme, settings)


def test_the_bounds_follow_the_upload_limit(acme, alice, settings) -> None:
    # given an upload limit of 1 MB, so 10 MB unpacked in all and 2 MB of shared strings
    settings.CUSTOMER_IMPORT_MAX_BYTES = MIB
    strings = strings_prefix() + b"b" * (3 * MIB) + STRINGS_SUFFIX
    sheet = sheet_xml(numbered_rows(2), "A1:A3") + b" " * (11 * MIB)
    # when a workbook of 3 MB of strings, then one of an 11 MB sheet, is uploaded
    too_many_strings = refused(acme, alice, workbook_with({STRINGS: deflated(strings, STRINGS)}))
    too_big_sheet = refused(acme, alice, workbook_with({SHEET: deflated(sheet, SHEET)}))
    # then each is refused on its bound
    assert too_many_strings[:2] == (
        imports.TOO_LARGE,
        ["A part of the XLSX file unpacks to 3.0 MB; the limit is 2.0 MB. Split it into smaller files."],
    )
    assert too_big_sheet[:2] == (
        imports.TOO_LARGE,
        ["The XLSX file unpacks to 11.0 MB; the limit is 10.0 MB. Split it into smaller files."],
    )
    assert nothing_stored(acme, settings)


def test_shared_strings_under_another_name_are_bounded_when_opened(acme, alice, settings) -> None:
    # given an upload limit of 1 MB (2 MB of shared strings) and 3 MB of shared strings named xl/words.xml
    settings.CUSTOMER_IMPORT_MAX_BYTES = MIB
    parts = excel_parts(sheet_xml(shared_rows([[0], [1]]), "A1:A2"), b"")
    del parts[STRINGS]
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"/xl/sharedStrings.xml", b"/xl/words.xml"
    )
    parts["xl/words.xml"] = shared_strings_xml(["<t>Nama</t>", "<t>" + "b" * 3 * MIB + "</t>"])
    content = zipped([deflated(data, name) for name, data in parts.items()])
    # when it is uploaded, then it is refused as the strings are opened, before they are read
    assert refused(acme, alice, content)[:2] == (
        imports.TOO_LARGE,
        ["A part of the XLSX file unpacks to 3.0 MB; the limit is 2.0 MB. Split it into smaller files."],
    )
    assert nothing_stored(acme, settings)


def test_a_shared_string_longer_than_any_cell_is_refused(acme, alice, settings) -> None:
    # given a shared string of 1.1 M characters (Excel's cells hold at most 32,767)
    strings = shared_strings_xml(["<t>Nama</t>", "<t>" + "c" * 1_100_000 + "</t>", "<t>Budi</t>"])
    # when it is uploaded, then
    code, messages, _elapsed = refused(acme, alice, workbook_with({STRINGS: deflated(strings, STRINGS)}))
    assert (code, messages) == (imports.UNREADABLE, [DAMAGED])
    assert nothing_stored(acme, settings)


def test_a_part_openpyxl_parses_whole_is_bounded(
    acme, alice, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a bound of 64 KB (16 MB in production) on the parts openpyxl parses into objects, and a
    # workbook whose styles are 100 KB
    monkeypatch.setattr(reading, "XLSX_PART_BYTES", 64 * 1024)
    parts = parts_of(workbook_with())
    styles = parts["xl/styles.xml"].replace(b"</styleSheet>", b" " * 100_000 + b"</styleSheet>")
    # when it is uploaded, then
    code, messages, _elapsed = refused(
        acme, alice, workbook_with({"xl/styles.xml": deflated(styles, "xl/styles.xml")})
    )
    assert code == imports.TOO_LARGE
    assert messages == [
        f"A part of the XLSX file unpacks to {len(styles) // 1024} KB; the limit is 64 KB. Split it into smaller files."
    ]
    assert nothing_stored(acme, settings)


# --- Headers that lie ---------------------------------------------------------------------------------


def test_shared_strings_that_inflate_past_their_declared_size_are_never_inflated(
    acme, alice, settings
) -> None:
    # given shared strings that inflate to 2 GiB but whose headers claim 4 KB (and the checksum of those 4 KB)
    real = run_of(STRINGS, strings_prefix(), b"a", 2048, STRINGS_SUFFIX, checksum=False)
    claimed = (strings_prefix() + b"a" * MIB)[:4096]
    liar = Entry(STRINGS, real.data, size=len(claimed), crc=zlib.crc32(claimed))
    # when it is uploaded
    code, messages, elapsed = refused(acme, alice, workbook_with({STRINGS: liar}))
    # then no more than the 4 KB claimed is read: the strings end there, so the workbook is damaged
    assert (code, messages) == (imports.UNREADABLE, [DAMAGED])
    assert elapsed < FAST
    assert nothing_stored(acme, settings)


def test_a_part_yielding_more_than_it_declared_is_cut_even_if_zipfile_let_it_through(
    acme, alice, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a zip library that trusts the data over the directory: the sheet yields 1 MB past its size
    content = workbook_bytes([["Nama"], ["Ani"]])
    real_open = zipfile.ZipFile.open

    def lenient_open(archive: zipfile.ZipFile, name: object, *args: object, **kwargs: object) -> io.BytesIO:
        data = real_open(archive, name, *args, **kwargs).read()  # type: ignore[arg-type]
        filename = name.filename if isinstance(name, zipfile.ZipInfo) else name
        return io.BytesIO(data + b" " * MIB if filename == SHEET else data)

    monkeypatch.setattr(zipfile.ZipFile, "open", lenient_open)
    # when it is uploaded
    code, messages, _elapsed = refused(acme, alice, content)
    # then the reader stops at the declared size
    assert (code, messages) == (imports.UNREADABLE, [DAMAGED])
    assert nothing_stored(acme, settings)


# --- Names, encryption, parts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../../tmp/evil.xml", "/etc/passwd", "xl\\..\\..\\evil.xml", "C:/evil.xml", "xl/workbook.xml"],
    ids=["dot-dot", "absolute", "backslashes", "drive", "repeated"],
)
def test_a_part_named_outside_the_archive_is_refused(acme, alice, settings, name: str) -> None:
    # given a workbook with one more part, named outside it (or named twice)
    content = workbook_with({}, deflated(b"<x/>", name))
    # when it is uploaded
    code, messages, _elapsed = refused(acme, alice, content)
    # then
    assert code == imports.UNREADABLE
    assert messages == [
        "The XLSX file cannot be read: a part of it has an unsafe or repeated name. "
        "Open it in Excel and save it again."
    ]
    assert nothing_stored(acme, settings)


def test_an_encrypted_part_is_refused(acme, alice, settings) -> None:
    # given a workbook whose sheet is flagged as encrypted
    parts = parts_of(workbook_bytes([["Nama"], ["Ani"]]))
    entries = [deflated(data, name) for name, data in parts.items()]
    for entry in entries:
        if entry.name == SHEET:
            entry.flags = 0x1
    # when it is uploaded
    code, messages, _elapsed = refused(acme, alice, zipped(entries))
    # then
    assert code == imports.UNSUPPORTED
    assert messages == [
        "Encrypted XLSX files are not supported. Save the sheet without a password as XLSX or CSV (UTF-8)."
    ]
    assert nothing_stored(acme, settings)


def test_a_compression_excel_never_writes_is_refused(acme, alice, settings) -> None:
    # given a workbook with a part compressed with bzip2 (4 KB of it can inflate to gigabytes at once)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts_of(workbook_bytes([["Nama"], ["Ani"]])).items():
            archive.writestr(
                name, data, compress_type=zipfile.ZIP_BZIP2 if name == SHEET else zipfile.ZIP_DEFLATED
            )
    # when it is uploaded, then
    code, messages, _elapsed = refused(acme, alice, buffer.getvalue())
    assert (code, messages) == (imports.UNREADABLE, [DAMAGED])
    assert nothing_stored(acme, settings)


def test_too_many_parts_are_refused(acme, alice, settings) -> None:
    # given a workbook of 10,001 parts, and one whose zip directory alone is over 5 MB (600 names of 10,000
    # characters: zipfile would build an object for each entry before anything could count them)
    many = workbook_with({}, *[deflated(b"", f"xl/media/p{index}.bin") for index in range(10_001)])
    long_names = workbook_with({}, *[deflated(b"", f"xl/{index:04d}" + "n" * 10_000) for index in range(600)])
    # when they are uploaded, then
    for content in (many, long_names):
        code, messages, elapsed = refused(acme, alice, content)
        assert code == imports.TOO_LARGE
        assert messages == ["The XLSX file holds more than 10,000 parts. Open it in Excel and save it again."]
        assert elapsed < FAST
    assert nothing_stored(acme, settings)


def test_a_document_type_definition_is_refused(acme, alice, settings) -> None:
    # given shared strings declaring entities that expand a thousand times ("billion laughs")
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        + f'<sst xmlns="{MAIN_NS}"><si><t>&c;</t></si><si><t>Ani</t></si><si><t>Budi</t></si></sst>'.encode()
    )
    # when it is uploaded, then
    code, messages, _elapsed = refused(acme, alice, workbook_with({STRINGS: deflated(laughs, STRINGS)}))
    assert (code, messages) == (imports.UNREADABLE, [DAMAGED])
    assert nothing_stored(acme, settings)


# --- Too many rows ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def million_rows() -> bytes:
    """The issue's file: 1.1 M rows under a header (a ~5 MB workbook), its <dimension> saying so."""
    sheet = sheet_xml(numbered_rows(1_100_000), "A1:A1100001")
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    entry = Entry(SHEET, compressor.compress(sheet) + compressor.flush(), len(sheet), zlib.crc32(sheet))
    return workbook_with({SHEET: entry})


def test_1_1_million_rows_are_refused_from_the_dimension(acme, alice, settings, million_rows: bytes) -> None:
    # given the 1.1 M-row workbook (~20 s to refuse before)
    assert len(million_rows) < 10 * MIB
    # when it is uploaded under the default limit (1,048,576 rows)
    code, messages, elapsed = refused(acme, alice, million_rows)
    # then the sheet's declared size refuses it before its rows are read
    assert code == imports.TOO_MANY_ROWS
    assert messages == [
        "The file has more than 1,048,576 rows; the limit is 1,048,576. Split it into smaller files."
    ]
    assert elapsed < FAST
    assert nothing_stored(acme, settings)


@pytest.mark.parametrize("dimension", ["A1:A3", None], ids=["wrong", "missing"])
def test_rows_over_the_limit_are_counted_when_the_dimension_is_wrong_or_missing(
    acme, alice, settings, dimension: str | None
) -> None:
    # given a limit of 10 rows and a sheet of 11 rows that declares 2 (or nothing)
    settings.CUSTOMER_IMPORT_MAX_ROWS = 10
    sheet = sheet_xml(numbered_rows(11), dimension)
    # when it is uploaded
    code, messages, _elapsed = refused(acme, alice, workbook_with({SHEET: deflated(sheet, SHEET)}))
    # then the streaming count refuses it
    assert code == imports.TOO_MANY_ROWS
    assert messages == ["The file has more than 10 rows; the limit is 10. Split it into smaller files."]
    assert nothing_stored(acme, settings)


def test_a_sheet_at_the_limit_is_counted_exactly(acme, alice, settings) -> None:
    # given a limit of 10 rows and a sheet of a header and 10 rows that says so
    settings.CUSTOMER_IMPORT_MAX_ROWS = 10
    exact = sheet_xml(numbered_rows(10), "A1:A11")
    # when it is uploaded
    accepted = upload(acme, alice, workbook_with({SHEET: deflated(exact, SHEET)}))
    # then it is accepted with its 10 rows
    assert (accepted.headers, accepted.total_rows) == (["Nama"], 10)


def test_a_dimension_over_the_limit_refuses_even_blank_rows(acme, alice, settings) -> None:
    # given a limit of 10 rows and a sheet of 3 rows whose declared size runs to row 12 (cells formatted
    # below the data count in a sheet's dimension: Excel's own maximum, 1,048,576 rows, is the default limit)
    settings.CUSTOMER_IMPORT_MAX_ROWS = 10
    sheet = sheet_xml(numbered_rows(3), "A1:A12")
    # when it is uploaded
    code, messages, _elapsed = refused(acme, alice, workbook_with({SHEET: deflated(sheet, SHEET)}))
    # then the declared size is trusted to refuse (the count would have found 3)
    assert code == imports.TOO_MANY_ROWS
    assert messages == ["The file has more than 10 rows; the limit is 10. Split it into smaller files."]


def test_a_row_numbered_past_the_last_row_of_a_sheet_is_refused_fast(acme, alice, settings) -> None:
    # given a sheet with a row numbered 2,000,000,000 (openpyxl would yield every blank row before it)
    rows = numbered_rows(1) + b'<row r="2000000000"><c r="A2000000000"><v>1</v></c></row>'
    sheet = sheet_xml(rows, None)
    # when it is uploaded
    code, messages, elapsed = refused(acme, alice, workbook_with({SHEET: deflated(sheet, SHEET)}))
    # then
    assert (code, messages) == (imports.UNREADABLE, [DAMAGED])
    assert elapsed < FAST
    assert nothing_stored(acme, settings)


# --- Normal files -------------------------------------------------------------------------------------


def test_a_normal_xlsx_imports_as_before(acme, alice) -> None:
    # given an XLSX as openpyxl writes it: shared strings (accents, emoji, rich text), numbers, an empty row,
    # and a second sheet that is not imported
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Nama Lengkap", "Nomor Telepon", "Kota"])
    sheet.append(["Dewi Lestari", 6281234567890, "Jakarta"])
    sheet.append([None, None, None])
    sheet.append(["José 😀 Ñoño", "081298765432", "Bandung"])
    sheet.append([CellRichText(TextBlock(InlineFont(b=True), "Eko"), " Prasetyo"), None, "Jakarta"])
    workbook.create_sheet("Lainnya").append(["Tidak", "diimpor", "Jakarta"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when it is uploaded and run with the suggested mapping
    customer_import = started(acme, alice, buffer.getvalue(), name="pelanggan.xlsx")
    result = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    # then
    assert (result.file_format, result.headers, result.total_rows, result.created_count) == (
        "xlsx",
        ["Nama Lengkap", "Nomor Telepon", "Kota"],
        3,
        3,
    )
    assert list(
        Customer.objects.for_workspace(acme).order_by("pk").values_list("full_name", "phone", "city")
    ) == [
        ("Dewi Lestari", "+6281234567890", "Jakarta"),
        ("José 😀 Ñoño", "+6281298765432", "Bandung"),
        ("Eko Prasetyo", "", "Jakarta"),
    ]


def test_the_rows_read_are_the_rows_openpyxl_reads() -> None:
    # given a workbook as Excel writes it, with every kind of shared string (rich text, phonetic runs, an
    # escape, entities, emoji, empty ones, spaces, a long one), numbers, an inline string, a gap, a 2nd sheet
    strings = shared_strings_xml(
        [
            "<t>Nama</t>",
            "<t>Catatan</t>",
            '<r><rPr><b/></rPr><t>Eko</t></r><r><t xml:space="preserve"> Prasetyo</t></r>',
            '<t>Dewi</t><rPh sb="0" eb="4"><t>デウィ</t></rPh>',
            "<t>_x005F_x0041_</t>",
            "<t>中文 😀 &amp;&lt;&gt;&#x1F600;</t>",
            "<t/>",
            "",
            '<t xml:space="preserve">  spasi  </t>',
            "<t>" + "x" * 5000 + "</t>",
            "<t>first</t><t>last wins</t>",
            "<r><t>run</t></r><t>plain first </t>",
            "<t>up to <b/>a child</t>",
        ]
    )
    rows = (
        shared_rows([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11, 12]])
        + b'<row r="7"><c r="A7"><v>12.5</v></c><c r="B7"><v>6281234567890</v></c></row>'
        + b'<row r="9"><c r="C9" t="inlineStr"><is><t>after a gap</t></is></c></row>'
    )
    parts = excel_parts(sheet_xml(rows, "A1:C9"), strings)
    content = zipped([deflated(data, name) for name, data in parts.items()])
    sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    sheet.reset_dimensions()
    expected = [
        [reading._cell_text(value) for value in values] for values in sheet.iter_rows(values_only=True)
    ]
    # when the import reads it
    with reading.table_open(io.BytesIO(content), reading.FORMAT_XLSX, ",") as table:
        read = [table.headers, *table.rows]
    # then it reads what openpyxl reads, blank rows left out
    assert read == [row for row in expected if not reading._is_blank(row)]
    assert read[:3] == [["Nama", "Catatan"], ["Eko Prasetyo", "Dewi"], ["_x0041_", "中文 😀 &<>😀"]]
    assert read[4] == ["last wins", "plain first run", "up to "]
    assert read[-1] == ["", "", "after a gap"]


# --- Through the API ----------------------------------------------------------------------------------


def test_the_api_answers_a_bomb_with_a_413_and_a_bad_name_with_a_422(
    acme, acme_key, settings, bomb: bytes
) -> None:
    slip = workbook_with({}, deflated(b"<x/>", "../../evil.xml"))

    def post(content: bytes):
        file = SimpleUploadedFile("pelanggan.xlsx", content)
        return Client().post("/api/v1/customer-imports", {"file": file}, **acme_key)

    too_large, unreadable = post(bomb), post(slip)

    assert too_large.status_code == 413
    assert too_large["Content-Type"] == "application/problem+json"
    detail = "The XLSX file unpacks to 1024.0 MB; the limit is 1000.0 MB. Split it into smaller files."
    assert too_large.json() == {
        "type": "https://relasi.dev/problems/import-too-large",
        "title": "The file is over the import limits.",
        "status": 413,
        "detail": detail,
        "errors": {"file": [detail]},
    }
    assert unreadable.status_code == 422
    assert unreadable["Content-Type"] == "application/problem+json"
    assert unreadable.json()["errors"] == {
        "file": [
            "The XLSX file cannot be read: a part of it has an unsafe or repeated name. "
            "Open it in Excel and save it again."
        ]
    }
    assert nothing_stored(acme, settings)
