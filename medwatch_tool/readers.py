"""Rows of field values from a spreadsheet export: CSV/TSV, JSON Lines or Excel .xlsx.

Clinics export whatever their system produces: a UTF-8 BOM, Windows-1252 accents, short
rows, quoted newlines, huge files. Everything is streamed (memory stays flat however big
the file) and every problem is tied to the row number a person sees in a spreadsheet
(the header is row 1). Column names are field paths and are checked against the catalog
before any row is read, so a misspelt column stops the run instead of silently dropping
a field from every report.
"""
import csv
import io
import itertools
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from .catalog import load_catalog
from .local_conventions import from_day_first, from_decimal_comma
from .draft import flatten
from .errors import InputError
from .paths import PathSyntaxError, split_path

FORMATS = ("csv", "tsv", "jsonl", "xlsx")
_MAX_FIELD = 16 * 1024 * 1024  # one cell or line; longer ones are reported, not kept in memory
_MAX_MB = _MAX_FIELD // (1024 * 1024)


@dataclass
class Row:
    """One input row: its spreadsheet row (or JSONL line) number and path -> raw value."""

    number: int
    values: Dict[str, object] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)  # what made the row unreadable

    def __reduce__(self):
        """Pickled as its three fields: batch sends every row to a worker, and the default
        (a class lookup and a __dict__ restored) doubled the pickling cost."""
        return Row, (self.number, self.values, self.problems)


class Source:
    """An opened input: iterate for Rows; `size` and `position` drive a progress bar."""

    def __init__(self, name: str, handle: BinaryIO, fmt: str, size: Optional[int]):
        self.name, self.handle, self.format, self.size = name, handle, fmt, size
        self.notes: List[str] = []  # what the user should know about how it was read

    @property
    def position(self) -> int:
        try:
            return self.handle.tell()
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[Row]:
        if self.format == "xlsx":
            from .workbook import xlsx_rows  # openpyxl is imported only for workbooks

            return xlsx_rows(self)
        return {"csv": _csv_rows, "tsv": _csv_rows, "jsonl": _jsonl_rows}[self.format](self)

    def close(self):
        if self.handle is not sys.stdin.buffer:
            self.handle.close()


def detect_format(name: str, head: bytes) -> str:
    """Format from the file name, else from the first bytes (for stdin)."""
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix == ".tsv":
        return "tsv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    first = head.split(b"\n", 1)[0]
    return "tsv" if first.count(b"\t") > first.count(b",") else "csv"


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # how .xls files, and .xlsx files with a password, begin
_ODF = b"application/vnd.oasis.opendocument"  # an OpenDocument zip's first entry: its media type, stored


def open_source(name: str, fmt: Optional[str] = None) -> Source:
    """Open INPUT ('-' = stdin) for reading rows; InputError for what cannot be read."""
    if name == "-":
        raw = sys.stdin.buffer
        data = raw.read(65536)
        handle = io.BufferedReader(_Prefixed(data, raw), 1 << 20)
        size = None
    else:
        path = Path(name)
        if path.is_dir():
            raise InputError("is a directory, not a file", name)
        try:
            handle = path.open("rb")
            data = handle.read(65536)
            if handle.seekable():
                handle.seek(0)
                size = os.fstat(handle.fileno()).st_size
            else:  # a pipe (process substitution, a FIFO): read once through, as standard input
                handle, size = io.BufferedReader(_Prefixed(data, handle), 1 << 20), None
        except FileNotFoundError:
            raise InputError("no such file", name) from None
        except OSError as exc:
            raise InputError(f"cannot be read ({exc.strerror or exc})", name) from None
    if fmt != "xlsx" and not data.startswith((b"PK\x03\x04", _OLE)):
        encoding, lone_cr = _text_shape(data)
        if encoding or lone_cr:
            handle = io.BufferedReader(_Recoded(handle, encoding, lone_cr), 1 << 20)
            data = _Recoded.head(data, encoding, lone_cr)
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise InputError("the file is empty", name)
    fmt = fmt or detect_format(name, data)
    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r} (use one of {', '.join(FORMATS)})", name)
    if fmt == "xlsx" and size is None:  # from a pipe
        handle = _seekable_copy(handle, name)
    if data.startswith(b"PK\x03\x04") and _ODF in data[:256]:
        raise InputError("is an OpenDocument spreadsheet (.ods): save it as an .xlsx workbook, or as CSV", name)
    if data.startswith(_OLE):
        raise InputError("is an Excel 97-2003 (.xls) workbook or a password-protected one: save it as an "
                         ".xlsx workbook without a password, or as CSV", name)
    if fmt != "xlsx" and b"\x00" in data[:4096]:
        raise InputError("this is binary data, not CSV or JSON Lines text", name)
    return Source(name, handle, fmt, size)


def _seekable_copy(stream: BinaryIO, name: str) -> BinaryIO:
    """A workbook read from a pipe, copied where it can be read at random (a .xlsx is a zip
    archive): in memory up to 64 MB, else an owner-only temporary file removed on close."""
    import shutil
    import tempfile

    copy = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
    try:
        shutil.copyfileobj(stream, copy, 1 << 20)
    except OSError as exc:  # the temporary folder is full or not writable
        copy.close()
        raise InputError(f"the workbook cannot be copied for reading ({exc.strerror or exc})", name) from None
    copy.seek(0)
    return copy


class _Wrapped(io.RawIOBase):
    """A raw stream read through another: closing it closes what it reads, unless that is
    standard input (not ours to close)."""

    def __init__(self, source: BinaryIO):
        self._source = source

    def readable(self):
        return True

    def close(self):
        if self._source is not sys.stdin.buffer:
            self._source.close()
        super().close()


class _Prefixed(_Wrapped):
    """stdin or another pipe, its first block already read (to tell the format) put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO):
        super().__init__(rest)
        self._head, self._pos = head, 0

    def readinto(self, buffer):
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
        else:
            chunk = self._source.read(len(buffer))
            n = len(chunk)
            buffer[:n] = chunk
        self._pos += n
        return n

    def tell(self):
        return self._pos


def _text_shape(head: bytes) -> Tuple[Optional[str], bool]:
    """Text that `_DecodedLines` cannot take as it is: UTF-16 (its byte order mark tells;
    Excel's 'Unicode Text' export) and lines ended by CR alone (old Mac files, Excel for
    Mac's 'CSV (Macintosh)'). Returns (the encoding to recode from, whether CR ends lines)."""
    encoding = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else None
    text = _Recoded.head(head, encoding, False)
    ends = [at for at in (text.find(b"\r"), text.find(b"\n")) if at >= 0]
    first = min(ends, default=-1)  # how the header line ends (a cell may hold a line break of its own)
    return encoding, first >= 0 and text[first:first + 1] == b"\r" and text[first + 1:first + 2] != b"\n"


class _Recoded(_Wrapped):
    """A text input as UTF-8 with lines ending in LF, recoded as it is read (streamed: memory
    stays flat). `tell` is the position in the input, for the progress bar."""

    def __init__(self, source: BinaryIO, encoding: Optional[str], lone_cr: bool):
        import codecs

        super().__init__(source)
        self._lone_cr, self._pending = lone_cr, b""
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace") if encoding else None

    @staticmethod
    def head(data: bytes, encoding: Optional[str], lone_cr: bool) -> bytes:
        """The first block as it reads once recoded (to tell the format and check it)."""
        if encoding:
            data = data.decode(encoding, errors="replace").encode("utf-8")
        return data.replace(b"\r", b"\n") if lone_cr else data

    def readinto(self, buffer):
        while not self._pending:
            raw = self._source.read(1 << 16)
            chunk = self._decoder.decode(raw, not raw).encode("utf-8") if self._decoder else raw
            self._pending = chunk.replace(b"\r", b"\n") if self._lone_cr else chunk
            if not raw:
                break
        n = min(len(buffer), len(self._pending))
        buffer[:n], self._pending = self._pending[:n], self._pending[n:]
        return n

    def tell(self):
        return self._source.tell()


class InputDamaged(Exception):
    """The input turned out to be damaged partway (a workbook whose compressed sheet fails
    its checksum): like a read error, the rows before it stand and the rest cannot be read."""


class LineTooLong(Exception):
    """A physical line longer than _MAX_FIELD: skipped without being held in memory.
    `in_open_cell`: it began inside a quoted cell left open by the lines before it."""

    def __init__(self, message: str, in_open_cell: bool = False):
        super().__init__(message)
        self.in_open_cell = in_open_cell


class _DecodedLines:
    """Lines as text: UTF-8 (BOM dropped) where it decodes, else Windows-1252 (a superset
    of Latin-1 for everything people type), decided line by line so a stray byte deep in
    a big export never garbles the rest.

    A line longer than _MAX_FIELD is read past in pieces and raises LineTooLong; the next
    call goes on with the following line (a multi-GB file with no line breaks must not be
    loaded whole). An iterator class, not a generator, so it can go on after raising.

    `quotes` counts the double quotes read since the caller last set it to 0 (at the start
    of a CSV record): while it is odd, a quoted cell is still open, so when a quoted cell
    spanning many lines is too long to read, `skip_open_cell` can read past the rest of it
    instead of taking its lines for rows of their own.
    """

    def __init__(self, handle: BinaryIO):
        self._handle, self._first = handle, True
        self.quotes = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        raw = self._handle.readline(_MAX_FIELD + 1)
        if not raw:
            raise StopIteration
        in_open_cell = self.quotes % 2 == 1
        self.quotes += raw.count(b'"')  # one byte in UTF-8 and Windows-1252 alike
        if len(raw) > _MAX_FIELD and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = self._handle.readline(1 << 20)
                self.quotes += raw.count(b'"')
            raise LineTooLong(f"is longer than {_MAX_MB} MB on one line; it was not read", in_open_cell)
        if self._first:
            raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
            self._first = False
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")

    def skip_open_cell(self) -> bool:
        """Read past the lines of a quoted cell left open (an odd count of quotes), in pieces,
        as the CSV reader would have read them into the cell; False when the file ends first."""
        while self.quotes % 2:
            raw = self._handle.readline(1 << 20)
            if not raw:
                return False
            self.quotes += raw.count(b'"')
        return True


_SHOWN = 10  # header problems spelt out; a sheet of thousands of wrong columns gets a count of the rest


def check_header(header: List[str], source: str) -> List[str]:
    """Column names must be field paths, each once: a wrong one stops the run. Nameless
    columns after the last named one are left out (a spreadsheet's formatted blank columns,
    saved by Excel as ",,," on every line); a value under one is its row's problem."""
    header = list(header)
    while header and not (header[-1] or "").strip():
        header.pop()
    if not header:
        raise InputError("row 1 (header) names no columns: the first line must list the field paths "
                         "(`medwatch fields --csv-template` writes a correct header)", source)
    catalog = load_catalog()
    problems: List[Callable[[], str]] = []  # spelt out (with the nearest path) only if shown
    seen, paths = {}, []
    for column, name in enumerate(header, 1):
        name = (name or "").strip()
        if catalog.node(name) is None and catalog.node(name.lower()) is not None:
            name = name.lower()  # 'Patient/Age' as a spreadsheet capitalises it: paths are lower case
        paths.append(name)
        if not name:
            problems.append(lambda column=column: f"column {column} has no name")
            continue
        try:
            canonical = "/".join(f"{s}[{i}]" for s, i in split_path(name))
        except PathSyntaxError:
            canonical = name
        if canonical in seen:
            problems.append(lambda column=column, name=name, first=seen[canonical]:
                            f"column {column} '{name}' repeats column {first}")
        seen[canonical] = column
        node = catalog.node(name)
        if node is None or not hasattr(node, "kind"):
            problems.append(lambda column=column, name=name: _not_a_field(catalog, column, name))
    if problems:
        shown = "; ".join(problem() for problem in problems[:_SHOWN])
        more = len(problems) - _SHOWN
        raise InputError(f"row 1 (header): {shown}" + (f"; and {more:,} more" if more > 0 else "")
                         + " (`medwatch fields --csv-template` writes a correct header)", source)
    return paths


def header_paths(header: List[str], below: Iterable[List[str]], source: str) -> List[str]:
    """`check_header`, and when row 1 is not a header, whether a row `below` it is (a report
    title above the column names, as EHR exports write one): then the error says so."""
    try:
        return check_header(header, source)
    except InputError as wrong:
        try:
            title = _header_below(below, source)
        except (csv.Error, LineTooLong, OSError, InputDamaged):
            title = None  # the rows below are no header either: the header's own error stands
        raise (title or wrong) from None


def _header_below(rows: Iterable[List[str]], source: str, looked: int = 10) -> Optional[InputError]:
    """The error naming the row that holds the header, when one of the next rows names only
    fields, and how many rows to delete above it; None when none does."""
    catalog = load_catalog()
    for number, names in enumerate(itertools.islice(rows, looked - 1), 2):
        named = [n.strip() for n in names if n and n.strip()]
        if named and all(catalog.node(n) is not None or catalog.node(n.lower()) is not None for n in named):
            above = number - 1
            return InputError(f"row 1 is not the header: the field paths are on row {number}; delete the "
                              f"{above} row{'s' * (above > 1)} above it (a report title, say)", source)
    return None


def _not_a_field(catalog, column: int, name: str) -> str:
    hint = catalog.suggest(name)
    return f"column {column} '{name}' is not a field" + (f"; did you mean '{hint}'?" if hint else "")


_SEP_LINE = re.compile(r"sep=([,;\t|])", re.IGNORECASE)


def _delimiter(header_line: str, fmt: str) -> str:
    """Tab for TSV; for CSV a comma, or a semicolon (as Excel saves "CSV" wherever the
    decimal mark is a comma) or a tab (a tab-separated file named .csv) when the header is
    separated by those. Field paths hold none of them, so the header line tells which."""
    if fmt == "tsv":
        return "\t"
    return max((",", ";", "\t"), key=header_line.count)  # the first of equals: the comma


def _local_conventions(paths: List[str]) -> List[tuple]:
    """(column, reading) for the number and date boxes of a semicolon-separated file: it
    comes from where the comma is the decimal mark (1.500 is fifteen hundred there, 1,5 one
    and a half) and the day is written first (03/11/2026 is 3 November)."""
    catalog = load_catalog()
    fields = [(path, catalog.field(path)) for path in paths]
    reading = {"decimal": from_decimal_comma, "integer": from_decimal_comma, "date": from_day_first}
    return [(path, reading[f.kind]) for path, f in fields if f is not None and f.kind in reading]


def _csv_rows(src: Source) -> Iterator[Row]:
    csv.field_size_limit(_MAX_FIELD)
    lines = _DecodedLines(src.handle)
    try:
        first = next(lines)
        hint = _SEP_LINE.fullmatch(first.rstrip("\r\n"))
        if hint:  # Excel's "sep=;" line: it names the separator and is not shown as a row
            first = next(lines)
        delimiter = hint.group(1) if hint else _delimiter(first, src.format)
        header = next(csv.reader([first], delimiter=delimiter))
    except StopIteration:
        raise InputError("the file is empty", src.name) from None
    except (csv.Error, LineTooLong) as exc:
        raise InputError(f"row 1 (header): {exc}", src.name) from None
    below = (next(csv.reader([line], delimiter=_delimiter(line, src.format)), []) for line in lines)
    paths = header_paths(header, below, src.name)
    reader = csv.reader(lines, delimiter=delimiter)
    local = _local_conventions(paths) if delimiter == ";" else []
    number = 1  # spreadsheet row numbers: the header is row 1
    while True:
        lines.quotes = 0  # a record starts here
        try:
            cells = next(reader)
        except StopIteration:
            return
        except LineTooLong as exc:  # the reader starts afresh on the next line
            number += 1
            if exc.in_open_cell:  # one line of a quoted cell spanning lines: the cell is too long
                yield _cell_too_long(number, lines)
            else:  # a line of its own (a broken export): the next line is a row
                yield Row(number, problems=[str(exc)])
            continue
        except csv.Error as exc:
            number += 1
            if "field limit" in str(exc):  # the csv module tells its errors apart by text only
                yield _cell_too_long(number, lines)
            else:
                yield Row(number, problems=[f"cannot be read as CSV: {exc}"])
            continue
        number += 1
        # blank cells are left out (`not cell.isspace()` is `cell.strip()` without a copy)
        values = {path: cell for path, cell in zip(paths, cells) if cell and not cell.isspace()}
        extra = len(cells) > len(paths) and any(c and not c.isspace() for c in cells[len(paths):])
        if not values and not extra:
            continue  # blank line between rows: nothing to draft, nothing lost
        problems = [f"has {len(cells)} cells but the header has {len(paths)} columns"] if extra else []
        for path, reading in local:
            if path in values:
                values[path] = reading(values[path])
        yield Row(number, values, problems)


def _cell_too_long(number: int, lines: _DecodedLines) -> Row:
    """Row `number` has a quoted cell over many lines too long to read (in all, or one of its
    lines): the CSV reader would start afresh inside it, so the rest of the cell is read past
    first (its lines are this row's, not rows of their own)."""
    message = f"has a cell longer than {_MAX_MB} MB (no box holds that much); it was not read"
    if not lines.skip_open_cell():
        message += "; its quote is never closed, so the rest of the file was read as part of that cell"
    return Row(number, problems=[message])


class _RepeatedKey(ValueError):
    """A JSON object naming one key twice: json.loads would keep the last value unsaid."""


def _object(pairs: list) -> dict:
    """A JSON object as a dict, refusing a repeated key (as a CSV header's repeated column)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        raise _RepeatedKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return obj


def _jsonl_rows(src: Source) -> Iterator[Row]:
    lines, number = _DecodedLines(src.handle), 0
    while True:
        number += 1
        try:
            raw = next(lines)
        except StopIteration:
            return
        except LineTooLong as exc:
            yield Row(number, problems=[str(exc)])
            continue
        if not raw.strip():
            continue
        try:
            values = flatten(json.loads(raw, object_pairs_hook=_object))
        except json.JSONDecodeError as exc:
            yield Row(number, problems=[f"is not valid JSON ({exc.msg} at column {exc.colno})"])
        except _RepeatedKey as exc:
            yield Row(number, problems=[f"names {exc.args[0]!r} twice in one object: which value is meant?"])
        except ValueError as exc:  # Python refuses to read an integer of over 4,300 digits
            too_long = "integer string conversion" in str(exc)
            yield Row(number, problems=["has a number of over 4,300 digits" if too_long else f"is not valid JSON ({exc})"])
        except RecursionError:
            yield Row(number, problems=["is not a report: its JSON is nested hundreds of levels deep"])
        except InputError as exc:
            yield Row(number, problems=[exc.reason])
        else:
            yield Row(number, values)
