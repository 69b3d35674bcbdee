"""Opening an uploaded XLSX file without trusting it: an XLSX is a zip of XML parts, and a zip can claim
anything.

Before openpyxl parses a byte, `archive_open` reads the zip's central directory (its size first, then every
entry) and `Archive.check` refuses what no spreadsheet looks like: too many parts, names outside the
archive, encryption, compression other than deflate, more unpacked bytes than `Limits.unpacked` or a part
compressed more than RATIO_MAX to 1. Then, because the sizes in the directory are only claims, every part
is read through a counter that stops at the size it declared and at the archive's budget, so a lying
header gets no further than its own claim (CPython's zipfile stops there too; this does not rely on it),
and that refuses a DTD, whose entities could expand far beyond the bytes read.

`workbook_open` hands openpyxl (read-only) that archive with three changes: the shared strings are read
only when a cell needs them, into one compact buffer bounded by `Limits.strings` (openpyxl holds them as a
list of Python strings: 169 MB for 36 MB of XML, against 24 MB here); only the first worksheet is opened,
and its size is read from the head of its XML (openpyxl parses a whole sheet that declares no <dimension>,
and every sheet of the workbook); external links are not read. Everything openpyxl parses whole (workbook,
styles, relationships) is bounded by `Limits.part`.

Refusals are `Refused` exceptions carrying a reason and figures; reading.py words them for the user.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any, cast
from xml.parsers import expat

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedNameList
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

# Excel writes a few dozen parts; one per sheet, drawing, comment or image more. Each part costs the zip's
# central directory 46 bytes plus its name and extra fields (under 100 bytes in Excel's files).
PARTS_MAX = 10_000
DIRECTORY_BYTES_MAX = PARTS_MAX * 512
# Deflate reaches ~1,030:1 on a run of one byte, which is what bombs are made of. Spreadsheet XML measures
# 7-18:1 (openpyxl's and Excel's files, identical rows included); a part of a few MB above 100:1 is no sheet.
RATIO_MAX = 100
RATIO_FLOOR = 4 * 1024 * 1024
# The <dimension> element comes second in a sheet, after the small <sheetPr>: well within the first 64 KB.
HEAD_BYTES = 64 * 1024
# A DTD can expand entities far beyond the bytes read; no XLSX has one (OPC forbids them).
DOCTYPES = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
DOCTYPE_OVERLAP = max(len(marker) for marker in DOCTYPES) - 1
# Excel's longest cell text is 32,767 characters; a shared string 32 times longer is no spreadsheet's.
STRING_CHARS_MAX = 32 * 32_767

# Why a file is refused; reading.py words each one.
PARTS = "parts"
NAMES = "names"
ENCRYPTED = "encrypted"
# A compression Excel never writes, a part that outgrows its declared size, a DTD, a shared string longer
# than any cell (and, in reading.py, a blank row past the last row a sheet can have).
DAMAGED = "damaged"
UNPACKED = "unpacked"
PART = "part"
RATIO = "ratio"

_STRING_NAME = f"{SHEET_MAIN_NS}}}si"  # as expat names it with "}" between namespace and name
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*([\"'])(.*?)\1", re.DOTALL)
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData\b")
_END_OF_DIRECTORY = b"PK\x05\x06"
_END_OF_DIRECTORY_64 = b"PK\x06\x06"
_LOCATOR_64_BYTES = 20
_END_OF_DIRECTORY_64_BYTES = 56


class Refused(Exception):
    def __init__(self, reason: str, **figures: int) -> None:
        super().__init__(reason, figures)
        self.reason = reason
        self.figures = figures


@dataclass(frozen=True)
class Limits:
    unpacked: int  # all parts together, as declared; also what may be inflated from one archive
    strings: int  # the shared strings, unpacked and as held in memory
    part: int  # any part openpyxl parses whole: workbook, styles, relationships, properties


# --- The zip ------------------------------------------------------------------------------------------


def _directory_size(stream: IO[bytes]) -> int | None:
    """The size of the central directory, read from the end record (zip64 too), before zipfile loads it:
    zipfile builds an object of a few hundred bytes per entry, and a 100 MB directory holds two million."""
    stream.seek(0, io.SEEK_END)
    end = stream.tell()
    start = max(0, end - (22 + 65_535))  # the end record, then a comment of at most 64 KB
    stream.seek(start)
    tail = stream.read()
    stream.seek(0)
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) - at < 22:
        return None  # not a zip: zipfile says so
    entries, size = struct.unpack_from("<HL", tail, at + 10)
    if entries != 0xFFFF and size != 0xFFFFFFFF:
        return int(size)
    # zip64: its end record sits just before its locator, just before the end record (zipfile reads it there).
    record = start + at - _LOCATOR_64_BYTES - _END_OF_DIRECTORY_64_BYTES
    if record < 0:
        return size
    stream.seek(record)
    zip64 = stream.read(_END_OF_DIRECTORY_64_BYTES)
    stream.seek(0)
    if not zip64.startswith(_END_OF_DIRECTORY_64):
        return size
    return int(struct.unpack_from("<Q", zip64, 40)[0])


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not (
        not name
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or ".." in path.parts
        or (path.parts and ":" in path.parts[0])
    )


class Member(io.RawIOBase):
    """One part being read: refuses a byte past the size the part declared, past the archive's budget, and
    a DTD."""

    def __init__(self, archive: Archive, inner: IO[bytes], declared: int) -> None:
        super().__init__()
        self._archive = archive
        self._inner = inner
        self._declared = declared
        self._read = 0
        self._tail = b""

    def readable(self) -> bool:
        return True

    def _counted(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._declared:
            raise Refused(DAMAGED)
        self._archive.inflated(len(data))
        window = self._tail + data  # a marker may straddle two reads
        if any(marker in window for marker in DOCTYPES):
            raise Refused(DAMAGED)
        self._tail = window[-DOCTYPE_OVERLAP:]
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        return self._counted(self._inner.read(size))

    def readall(self) -> bytes:
        chunks = []
        while chunk := self.read(io.DEFAULT_BUFFER_SIZE * 8):
            chunks.append(chunk)
        return b"".join(chunks)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


class Archive(zipfile.ZipFile):
    """A zip read for openpyxl: each part through a `Member`, with the limit its use calls for."""

    def __init__(self, stream: IO[bytes], limits: Limits) -> None:
        super().__init__(stream)
        self.limits = limits
        self._budget = limits.unpacked + HEAD_BYTES  # every part once, and the head of the sheet once more
        self._bounds: dict[str, int] = {}

    def bound(self, name: str, limit: int) -> None:
        """The limit of a part read as a stream (the sheet) or into a bounded table (the shared strings)
        rather than parsed whole."""
        self._bounds[name] = limit

    def inflated(self, count: int) -> None:
        self._budget -= count
        if self._budget < 0:  # the declared sizes passed `check`: only a part read again and again gets here
            raise Refused(DAMAGED)

    def check(self) -> None:
        """Refuse, from the directory alone, what no spreadsheet looks like."""
        entries = self.infolist()
        if len(entries) > PARTS_MAX:
            raise Refused(PARTS, limit=PARTS_MAX)
        names = [entry.filename for entry in entries]
        if len(set(names)) != len(names) or not all(_safe_name(name) for name in names):
            raise Refused(NAMES)
        if any(entry.flag_bits & 0x1 for entry in entries):
            raise Refused(ENCRYPTED)
        if any(entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for entry in entries):
            raise Refused(DAMAGED)
        unpacked = sum(entry.file_size for entry in entries)
        if unpacked > self.limits.unpacked:
            raise Refused(UNPACKED, size=unpacked, limit=self.limits.unpacked)
        for entry in entries:
            if entry.filename == "xl/sharedStrings.xml" and entry.file_size > self.limits.strings:
                raise Refused(PART, size=entry.file_size, limit=self.limits.strings)
            if entry.file_size > RATIO_FLOOR and entry.file_size > RATIO_MAX * max(entry.compress_size, 1):
                raise Refused(RATIO, ratio=entry.file_size // max(entry.compress_size, 1), limit=RATIO_MAX)

    def open(
        self, name: str | zipfile.ZipInfo, mode: str = "r", pwd: bytes | None = None, **kwargs: Any
    ) -> IO[bytes]:
        if mode != "r":
            raise ValueError("An uploaded workbook is only read.")
        entry = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        limit = self._bounds.get(entry.filename, self.limits.part)
        if entry.file_size > limit:
            raise Refused(PART, size=entry.file_size, limit=limit)
        inner = super().open(entry, "r", pwd)
        return cast(IO[bytes], Member(self, inner, entry.file_size))


def archive_open(stream: IO[bytes], limits: Limits) -> Archive:
    """The zip, its directory loaded once its size is known to be sane (zipfile.BadZipFile if no zip)."""
    size = _directory_size(stream)
    if size is not None and size > DIRECTORY_BYTES_MAX:
        raise Refused(PARTS, limit=PARTS_MAX)
    try:
        return Archive(stream, limits)
    finally:
        stream.seek(0)


# --- The shared strings -------------------------------------------------------------------------------


class SharedStrings:
    """The workbook's shared strings, read when a cell first needs one, into one UTF-8 buffer and the offsets
    of its ends: never more than the limit, and no string longer than STRING_CHARS_MAX held while reading.

    Each string is what openpyxl makes of it: the text of its <t> (the last one if several), then the text of
    each rich-text run's <t>, phonetic runs left out, "x005F_" removed."""

    def __init__(self, archive: Archive, name: str, limit: int) -> None:
        self._archive = archive
        self._name = name
        self._limit = limit
        self._text = bytearray()
        self._ends = array("I" if limit < 2**32 else "Q")
        self._loaded = False

    def _load(self) -> None:
        self._loaded = True
        reader = _StringsReader(self._text, self._ends, self._limit)
        with self._archive.open(self._name) as source:
            reader.read(source)

    def __len__(self) -> int:
        if not self._loaded:
            self._load()
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("shared string index out of range")
        start = self._ends[index - 1] if index else 0
        return self._text[start : self._ends[index]].decode("utf-8", "surrogatepass")


class _StringsReader:
    """Expat handlers filling a `SharedStrings` buffer as the XML streams by (nothing held but one string)."""

    def __init__(self, text: bytearray, ends: array[int], limit: int) -> None:
        self._text = text
        self._ends = ends
        self._limit = limit
        self._depth = 0
        self._string_depth = 0  # the depth of the open <si>, 0 outside one
        self._path: list[str] = []  # the local names of the elements open inside it
        self._plain: list[str] | None = None  # the text of its <t>
        self._runs: list[list[str] | None] = []  # the text of each rich-text run's <t>
        self._collecting: list[str] | None = None  # the <t> being read, until it ends or a child starts
        self._collecting_depth = 0
        self._chars = 0

    def read(self, source: IO[bytes]) -> None:
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = self._doctype
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        parser.ParseFile(source)

    def _doctype(self, *_args: object) -> None:
        raise Refused(DAMAGED)

    def _start(self, name: str, _attributes: object) -> None:
        self._depth += 1
        self._collecting = None  # openpyxl reads a <t>'s text up to its first child
        if name == _STRING_NAME:
            if self._string_depth:
                raise Refused(DAMAGED)
            self._string_depth, self._path = self._depth, []
            self._plain, self._runs, self._chars = None, [], 0
            return
        if not self._string_depth:
            return
        self._path.append(name.rpartition("}")[2])
        if self._path == ["r"]:
            self._runs.append(None)
        elif self._path == ["t"]:
            self._plain = self._collecting = []
        elif self._path == ["r", "t"]:
            self._runs[-1] = self._collecting = []
        if self._collecting is not None:
            self._collecting_depth = self._depth

    def _characters(self, data: str) -> None:
        if self._collecting is not None and self._depth == self._collecting_depth:
            self._chars += len(data)
            if self._chars > STRING_CHARS_MAX:
                raise Refused(DAMAGED)
            self._collecting.append(data)

    def _end(self, _name: str) -> None:
        if self._depth == self._collecting_depth:
            self._collecting, self._collecting_depth = None, 0
        if self._string_depth and self._depth == self._string_depth:
            self._string_done()
        elif self._string_depth:
            self._path.pop()
        self._depth -= 1

    def _string_done(self) -> None:
        self._string_depth = 0
        pieces = [*(self._plain or ()), *(piece for run in self._runs for piece in run or ())]
        self._text += "".join(pieces).replace("x005F_", "").encode("utf-8", "surrogatepass")
        self._ends.append(len(self._text))
        size = len(self._text) + self._ends.itemsize * len(self._ends)
        if size > self._limit:
            raise Refused(PART, size=size, limit=self._limit)


# --- The workbook -------------------------------------------------------------------------------------


def dimension_of(head: bytes) -> tuple[int | None, int | None, int | None, int | None] | None:
    """The <dimension ref="A1:E1100000"/> of a sheet, as (min column, min row, max column, max row)."""
    data = _SHEET_DATA.search(head)
    found = _DIMENSION.search(head, 0, data.start() if data else len(head))
    if found is None:
        return None
    try:
        return range_boundaries(found.group(2).decode("ascii"))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None  # a damaged dimension: the rows are counted anyway


class FirstSheet(ReadOnlyWorksheet):
    """A read-only sheet sized from the head of its XML only."""

    def _get_size(self) -> None:
        with self._get_source() as source:  # type: ignore[attr-defined]
            bounds = dimension_of(source.read(HEAD_BYTES))
        if bounds is not None:
            self._min_column, self._min_row, self._max_column, self._max_row = bounds

    def row_values(self) -> Iterator[tuple[Any, ...]]:
        """Every row's values, blank rows included, ignoring the declared size (some writers get it wrong, and
        openpyxl would cut the rows at it)."""
        self.reset_dimensions()
        rows: Iterator[tuple[Any, ...]] = cast(Any, self).iter_rows(values_only=True)
        return rows

    def declared_rows(self) -> int | None:
        """How many rows the dimension says the sheet has after its first one, or None if it does not say."""
        first, last = self._min_row, self._max_row
        if not isinstance(first, int) or not isinstance(last, int):
            return None
        return max(last - first, 0)


class _Reader(ExcelReader):
    def __init__(self, stream: IO[bytes], archive: Archive) -> None:
        super().__init__(stream, read_only=True, data_only=True, keep_links=False)
        self.archive.close()  # openpyxl's own ZipFile over the same stream (the stream stays open)
        self.archive = archive
        self.valid_files = archive.namelist()

    def read_strings(self) -> None:
        found = self.package.find(SHARED_STRINGS)
        if found is not None:
            name = found.PartName[1:]
            archive = cast(Archive, self.archive)
            archive.bound(name, archive.limits.strings)
            self.shared_strings = cast(Any, SharedStrings(archive, name, archive.limits.strings))

    def read_workbook(self) -> None:
        super().read_workbook()
        # Names and print settings point at sheets; only the first is opened, and values need none of them.
        self.parser.defined_names = DefinedNameList()  # type: ignore[attr-defined]

    def read_worksheets(self) -> None:
        archive = cast(Archive, self.archive)
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            archive.bound(rel.target, archive.limits.unpacked)
            worksheet = FirstSheet(self.wb, sheet.name, rel.target, cast(Any, self.shared_strings))
            worksheet.sheet_state = sheet.state or "visible"
            self.wb._sheets.append(worksheet)  # type: ignore[attr-defined]
            return  # the import reads the first worksheet; the others are never opened


@contextmanager
def workbook_open(stream: IO[bytes], limits: Limits) -> Iterator[tuple[Workbook, FirstSheet]]:
    """The workbook (read-only, values) and its first worksheet, through a checked archive."""
    stream.seek(0)
    archive = archive_open(stream, limits)
    try:
        archive.check()
        reader = _Reader(stream, archive)
        reader.read()
        workbook = reader.wb
        sheets = workbook.worksheets
        if not sheets:
            raise Refused(DAMAGED)
        yield workbook, cast(FirstSheet, sheets[0])
    finally:
        archive.close()
