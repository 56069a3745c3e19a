"""Rows of field values from a spreadsheet export: CSV/TSV, JSON Lines or Excel .xlsx.

Clinics export whatever their system produces: a UTF-8 BOM, Windows-1252 accents, short
rows, quoted newlines, huge files. Everything is streamed (memory stays flat however big
the file) and every problem is tied to the row number a person sees in a spreadsheet
(the header is row 1). Column names are field paths and are checked against the catalog
before any row is read, so a misspelt column stops the run instead of silently dropping
a field from every report.
"""
import csv
import functools
import io
import itertools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Tuple

from .catalog import NS, load_catalog
from .coerce import coerce_values
from .errors import InputDamaged, InputError
from .header import header_paths
from .input_streams import MAX_FIELD, MAX_MB, DecodedLines, LineTooLong, Prefixed, Recoded, seekable_copy, text_shape
from .json_lines import JsonLines
from .local_conventions import LOOKED_AT, day_first_sign, from_day_first, from_decimal_comma, utc_moment_note

__all__ = ["FORMATS", "InputDamaged", "Row", "Source", "detect_format", "open_source"]

FORMATS = ("csv", "tsv", "jsonl", "xlsx")
FORMAT_NAMES = {"csv": "CSV", "tsv": "tab-separated text", "jsonl": "JSON Lines", "xlsx": "an Excel workbook"}


@dataclass
class Row:
    """One input row: its spreadsheet row (or JSONL line) number and path -> raw value."""

    number: int
    values: Dict[str, object] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)  # what made the row unreadable
    last: int = 0  # the last line of a JSON Lines record written over many lines (0: one line)

    def __reduce__(self):
        """Pickled as its three fields: batch sends every row to a worker, and the default
        (a class lookup and a __dict__ restored) doubled the pickling cost."""
        return Row, (self.number, self.values, self.problems)


class Source:
    """An opened input: iterate for Rows; `size` and `position` drive a progress bar."""

    def __init__(self, name: str, handle: BinaryIO, fmt: str, size: Optional[int], sheet: Optional[str] = None):
        self.name, self.handle, self.format, self.size = name, handle, fmt, size
        self.sheet = sheet  # a workbook's sheet to read, by its name (None: the first visible one)
        # the sheet read, once the header is (its title, and whether it is the one read without --sheet)
        self.sheet_read: Optional[str] = None
        self.sheet_default = True
        self.notes: List[str] = []  # what the user should know about how it was read
        # for a workbook, where the sheet read lies in the file (its first and last byte):
        # its rows are those bytes only, not the other sheets' or the table of texts after them
        self.span: Optional[Tuple[int, int]] = None
        # whether a row is done (batch --resume): a line journaled as a row of its own is not
        # read again as the first line of a record over many lines, which would take the rest
        self.done: Callable[[int], bool] = lambda number: False

    @property
    def unit(self) -> str:
        """How the input names its rows in messages: a JSON Lines file has lines, not rows."""
        return "line" if self.format == "jsonl" else "row"

    @property
    def position(self) -> int:
        """How far the rows are read, out of `size` (a progress bar's place)."""
        try:
            at = self.handle.tell()
        except (OSError, ValueError):
            return 0
        if self.span and self.size:  # the sheet's bytes, stretched over the bar
            first, last = self.span
            return self.size * min(max(at - first, 0), last - first) // max(last - first, 1)
        return at

    def __iter__(self) -> Iterator[Row]:
        if self.format == "xlsx":
            from .workbook import xlsx_rows  # openpyxl is imported only for workbooks

            return _noting_none(self, xlsx_rows(self))
        return {"csv": _csv_rows, "tsv": _csv_rows, "jsonl": _jsonl_rows}[self.format](self)

    def close(self):
        if self.handle is not getattr(sys.stdin, "buffer", None):  # (None: started with it closed)
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
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        return "jsonl"
    first = head.split(b"\n", 1)[0]
    return "tsv" if first.count(b"\t") > first.count(b",") else "csv"


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # how .xls files, and .xlsx files with a password, begin
_ODF = b"application/vnd.oasis.opendocument"  # an OpenDocument zip's first entry: its media type, stored


def open_source(name: str, fmt: Optional[str] = None, sheet: Optional[str] = None) -> Source:
    """Open INPUT ('-' = stdin) for reading rows (of the workbook's sheet named `sheet`);
    InputError for what cannot be read."""
    if name == "-":
        raw = sys.stdin.buffer
        if raw.isatty():  # rows typed or pasted: read whole at once, as a terminal's end of input
            data = raw.read()  # (Ctrl-D) ends one read only, and a second read would wait for another
            handle = io.BytesIO(data)
        else:
            data = raw.read(65536)
            handle = io.BufferedReader(Prefixed(data, raw), 1 << 20)
        size = None
    else:
        path = Path(name)
        try:
            handle = path.open("rb")
            data = handle.read(65536)
            if handle.seekable():
                handle.seek(0)
                size = os.fstat(handle.fileno()).st_size
            else:  # a pipe (process substitution, a FIFO): read once through, as standard input
                handle, size = io.BufferedReader(Prefixed(data, handle), 1 << 20), None
        except FileNotFoundError:
            raise InputError("no such file", name) from None
        except IsADirectoryError:
            raise InputError("is a directory, not a file", name) from None
        except OSError as exc:  # (also a folder on its path that may not be searched: Permission denied)
            raise InputError(f"cannot be read ({exc.strerror or exc})", name) from None
    if fmt != "xlsx" and not data.startswith((b"PK\x03\x04", _OLE)):
        handle, data = _as_text(handle, data)
    if not data.strip(_BLANK) and size is not None and size > len(data):
        data = _text_after_blank_lines(name) or data
    if not data.strip(_BLANK):
        raise InputError("standard input is empty" if name == "-" else "the file is empty", name)
    fmt = fmt or detect_format(name, data)
    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r} (use one of {', '.join(FORMATS)})", name)
    _refuse_what_it_is_not(name, data, fmt)
    if fmt == "xlsx" and size is None:  # from a pipe
        handle = seekable_copy(handle, name)
    return Source(name, handle, fmt, size, sheet)


_BLANK = b"\xef\xbb\xbf \t\r\n"


def _text_after_blank_lines(name: str) -> Optional[bytes]:
    """A block from the first text of file `name` on, when its first block held only blank
    lines (what tells the format is there; a file of 70,000 line breaks, then a report, is not
    empty). None when there is none."""
    handle = _scannable_copy(name)
    if handle is None:
        return None
    try:
        for block in iter(lambda: handle.read(65536), b""):
            if block.strip(_BLANK):
                return block.lstrip(_BLANK) + handle.read(65536)
    except OSError:
        pass
    finally:
        handle.close()
    return None


_WHAT = {"csv": "CSV text", "tsv": "tab-separated text", "jsonl": "JSON Lines text", "xlsx": "an .xlsx workbook"}
_SPREADSHEET_ML = b"urn:schemas-microsoft-com:office:spreadsheet"  # Excel 2003's XML workbook
_HTML = (b"<html", b"<!doctype html", b"<table", b"<body", b"<meta", b"<head", b"<style")


def _as_what_it_is(name: str, real: str) -> str:
    """What to do with a file whose name says another format: standard input has no name."""
    return f"give --input-format {real}" if name == "-" else f"rename it to .{real}, or give --input-format {real}"


def _document(data: bytes) -> Optional[str]:
    """What kind of document, not a spreadsheet, a file is: a PDF, a Word or PowerPoint file."""
    if data.startswith(b"%PDF"):
        return "a PDF document"
    if data.startswith(b"PK\x03\x04") and b"xl/" not in data[:4096]:
        if b"word/" in data[:4096]:
            return "a Word document (.docx)"
        if b"ppt/" in data[:4096]:
            return "a PowerPoint presentation (.pptx)"
    return None


def _refuse_what_it_is_not(name: str, data: bytes, fmt: str):
    """InputError for a file that is not what its name (or --input-format) says, naming what
    it is and what to do: read as CSV, a web page's first line would be one 169 KB column
    name, a workbook "binary data", and a CSV file named .xlsx "File is not a zip file"."""
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    document = _document(data)
    if document:  # (a table in one: "binary data", or openpyxl's "File contains no valid workbook part")
        raise InputError(f"is {document}, not {_WHAT[fmt]}: save or export its table from the program that made "
                         "it as an Excel workbook (.xlsx) or as CSV", name)
    if data.startswith(b"PK\x03\x04") and _ODF in data[:256]:
        raise InputError("is an OpenDocument spreadsheet (.ods): save it as an .xlsx workbook, or as CSV", name)
    if data.startswith(_OLE):
        raise InputError("is an Excel 97-2003 (.xls) workbook or a password-protected one: save it as an "
                         ".xlsx workbook without a password, or as CSV", name)
    if text.startswith(b"<"):  # no field path, nor JSON, begins with "<"
        head = text[:4096].lower()
        if _SPREADSHEET_ML in head:
            what = "an Excel 2003 XML spreadsheet (SpreadsheetML)"
        elif head.startswith(_HTML) or any(tag in head for tag in _HTML[:3]):
            what = 'a web page (HTML; some systems write their "Excel export" as one)'
        elif NS.encode() in head:
            raise InputError(f"is a MedWatch draft (XML), not {_WHAT[fmt]} of reports to draft: `medwatch "
                             "validate` checks a draft", name)
        else:
            what = "XML"
        raise InputError(f"is {what}, not {_WHAT[fmt]}: open it in Excel and save it as an Excel workbook "
                         "(.xlsx) or as CSV", name)
    if fmt == "xlsx":
        if not data.startswith(b"PK\x03\x04") and b"\x00" not in data[:4096]:
            real = detect_format("", data)
            raise InputError(f"is {_WHAT[real]}, not {_WHAT[fmt]}: {_as_what_it_is(name, real)}", name)
        return
    if data.startswith(b"PK\x03\x04"):
        what = "an Excel .xlsx workbook" if b"xl/" in data else "a zip archive"
        raise InputError(f"is {what}, not {_WHAT[fmt]}: " + (_as_what_it_is(name, "xlsx")
                         if what.endswith("workbook") else "unzip it, or save it as CSV"), name)
    if b"\x00" in data[:4096] and not _stray_zeros(data[:4096]):
        raise InputError(f"this is binary data, not {_WHAT[fmt]}", name)
    if fmt in ("csv", "tsv") and text.startswith(b"{"):  # no column name begins with "{"
        raise InputError(f"is JSON Lines text, not {_WHAT[fmt]}: {_as_what_it_is(name, 'jsonl')}", name)
    if fmt == "jsonl" and text.startswith(b"["):
        raise InputError("is a JSON array, not JSON Lines (one object per line): write one report per line, "
                         "e.g. with `jq -c '.[]' in.json > out.jsonl`", name)
    if fmt == "jsonl" and not text.startswith(b"{") and _a_header_of_fields(text.split(b"\n", 1)[0]):
        real = "tsv" if b"\t" in text.split(b"\n", 1)[0] else "csv"
        raise InputError(f"is {_WHAT[real]} (its first line names fields, as a header does), not {_WHAT[fmt]}: "
                         f"{_as_what_it_is(name, real)}", name)
    if fmt == "jsonl" and text.split(b"\n", 1)[0].strip() == b"{":
        raise InputError("is one JSON object written over many lines, not JSON Lines (one object per line): "
                         "write one report per line, e.g. with `jq -c . in.json > out.jsonl`", name)


def _stray_zeros(head: bytes) -> bool:
    """Whether the NUL bytes at a file's start are a stray one or two in text (a system's bug,
    a cell pasted from a binary field): its row is refused at its box, the others drafted (the
    whole file was "binary data"), not binary data proper."""
    if head.count(b"\x00") > 4 or re.search(rb"[\x01-\x08\x0e-\x1f]", head):  # (other controls: binary)
        return False
    lines = head.split(b"\n")
    if b"\x00" in lines[0] or any(b"\x00" in line and not line.replace(b"\x00", b"").strip() for line in lines):
        return False  # in the header, or a line of nothing else (a file's end padded with zeros): no cell's
    try:
        head.replace(b"\x00", b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 4  # (a character cut by the end of the block is no matter)
    return True


def _a_header_of_fields(line: bytes) -> bool:
    """Whether a first line is a spreadsheet's header: cells, most of them field paths."""
    cells = [c.strip().strip('"') for c in re.split(r"[,;\t]", line.decode("utf-8", "replace").strip())]
    known = sum(load_catalog().node(c) is not None for c in cells if c)
    return len(cells) > 1 and known * 2 > len(cells)


_SEP_LINE = re.compile(r"sep=([,;\t|])", re.IGNORECASE)


def _delimiter(header_line: str, fmt: str) -> str:
    """Tab for TSV; for CSV a comma, or a semicolon (as Excel saves "CSV" wherever the
    decimal mark is a comma) or a tab (a tab-separated file named .csv) when the header is
    separated by those. Field paths hold none of them, so the header line tells which (also
    for a .tsv whose header holds no tab: a comma-separated file named so)."""
    if fmt == "tsv" and "\t" in header_line:
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


def _day_first_dates(src: Source, paths: List[str], delimiter: str) -> List[tuple]:
    """(column, reading) for the date boxes of a comma- or tab-separated file whose first
    rows write a date day first (16/10/2026): its dates that read both ways are then refused
    with both readings, not read US-style. The file is opened again and its first rows read
    before any row is drafted (a pipe, read once through, cannot be: there 16/10/2026 is
    still refused, saying how to write dates)."""
    columns = [path for path in paths if getattr(load_catalog().field(path), "kind", None) == "date"]
    at = [(column, path) for column, path in enumerate(paths) if path in columns]

    def dates(lines: Iterator[str]) -> Iterator[tuple]:
        if _SEP_LINE.fullmatch(next(lines, "").rstrip("\r\n")):
            next(lines, None)  # Excel's "sep=," line, then the header
        records = itertools.islice(csv.reader(lines, delimiter=delimiter), LOOKED_AT)
        return ((number, _as_excel_shows({path: cells[column] for column, path in at if column < len(cells)}))
                for number, cells in enumerate(records, 2))

    return day_first_readings(src, _day_first_sign_of(src, dates) if columns else None, columns)


def _day_first_sign_of(src: Source, dates: Callable[[Iterator[str]], Iterator[tuple]],
                       lone_cr_ends_line: bool = True) -> Optional[tuple]:
    """local_conventions.day_first_sign of the (number, date box -> text) that `dates` makes
    of the file's lines, read again from its start; None for a pipe (read once through), or a
    file that cannot be read so (its rows' own reading says what is wrong with them)."""
    handle = _scannable_copy(src.name)
    if handle is None:
        return None
    try:
        return day_first_sign(dates(_too_long_as_blank(DecodedLines(handle, lone_cr_ends_line))))
    except (csv.Error, OSError):
        return None
    finally:
        handle.close()


def day_first_readings(src: Source, sign: Optional[tuple], columns: List[str]) -> List[tuple]:
    """(column, reading) for the date `columns` of a file whose first rows showed `sign`
    (local_conventions.day_first_sign; none when None), and the note that says so."""
    reading = _day_first_reading(src, sign)
    return [(path, reading) for path in columns] if reading else []


def _day_first_reading(src: Source, sign: Optional[tuple]) -> Optional[Callable[[str], object]]:
    """How to read the dates of a file whose first rows showed `sign` (None: as any file's),
    and the note that says so."""
    if sign is None:
        return None
    box, label = load_catalog().describe(sign[2])
    why = f"this file writes {sign[0]} in {box} {label.lower()} on {src.unit} {sign[1]}, the day first"
    if sign[3]:  # a file of both: which one a date that reads both ways is, no one can tell
        text, number, path = sign[3]
        box, label = load_catalog().describe(path)
        why += f", and {text} in {box} {label.lower()} on {src.unit} {number}, the month first"
    src.notes.append(f"{why}: its dates that read both ways (03/11/2025) are refused with both readings; "
                     "write them as 2025-11-03")
    return functools.partial(from_day_first, why=why)


_EXCEL_TEXT = re.compile(r'="((?:[^"]|"")*)"')  # ="00123": how exports keep a code's zeros when Excel opens them


def _as_excel_shows(values: Dict[str, str]) -> Dict[str, str]:
    """Cells written ="00123" read as Excel shows them, 00123: a formula giving the text,
    which exports write so that Excel keeps a code's leading zeros (they were drafted as
    written, quotes and all, in a lot or ZIP code box, and refused in a number box). The
    same `values`, changed in place."""
    for path, cell in values.items():
        if '="' in cell:
            found = _EXCEL_TEXT.fullmatch(cell.strip())
            if found:
                values[path] = found.group(1).replace('""', '"')
    return values


def _date_columns(paths) -> List[str]:
    """The paths (of a header, or a record's keys) that name a date box."""
    catalog = load_catalog()
    return [path for path in paths if getattr(catalog.field(path), "kind", None) == "date"]


def _note_utc_moments(src: Source, number: int, values: dict, dates: List[str]) -> bool:
    """Note the first of the row's date boxes `dates` that holds a moment in UTC
    (utc_moment_note); whether one did (a file is noted once)."""
    for path in dates:
        note = utc_moment_note(src.unit, number, path, values.get(path))
        if note:
            src.notes.append(note)
            return True
    return False


def _scannable_copy(name: str) -> Optional[BinaryIO]:
    """The file `name` opened again, recoded as its rows are (UTF-16, lone CRs), to look
    ahead at its rows without taking them from the reader. None for a pipe."""
    if name == "-" or not os.path.isfile(name):
        return None
    try:
        raw = open(name, "rb")
    except OSError:
        return None
    head = raw.read(65536)
    raw.seek(0)
    return _as_text(raw, head)[0]


def _as_text(handle: BinaryIO, head: bytes) -> Tuple[BinaryIO, bytes]:
    """A text input, and its first block `head`, as the line reader takes them: recoded
    from UTF-16 and with lines ended by LF when they are not so (see input_streams.text_shape)."""
    encoding, lone_cr = text_shape(head)
    if not (encoding or lone_cr):
        return handle, head
    return io.BufferedReader(Recoded(handle, encoding, lone_cr), 1 << 20), Recoded.head(head, encoding, lone_cr)


def _noting_none(src: Source, rows: Iterator[Row]) -> Iterator[Row]:
    """The rows below the header, and a note when there are none: "0 drafted" alone does not
    say why. (A JSON Lines file without rows is empty, and refused as such.)"""
    none = True
    for row in rows:
        none = False
        yield row
    if none:
        src.notes.append("the file holds no rows below its header (row 1): nothing was drafted")


def _csv_rows(src: Source) -> Iterator[Row]:
    return _noting_none(src, _csv_records(src))


def _csv_records(src: Source) -> Iterator[Row]:
    csv.field_size_limit(MAX_FIELD)
    lines = DecodedLines(src.handle)
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
    lines.shape = (delimiter, len(header))
    local = _local_conventions(paths) if delimiter == ";" else _day_first_dates(src, paths, delimiter)
    dates = _date_columns(paths)  # looked at in the first rows for a moment in UTC (utc_moment_note)
    number = 1  # spreadsheet row numbers: the header is row 1
    while True:
        lines.new_record()
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
            elif "new-line character seen in unquoted field" in str(exc):
                yield Row(number, problems=["has a line break inside a cell that is not in double quotes (a CR "
                                            "alone): put that cell in double quotes, or remove the line break"])
            else:
                yield Row(number, problems=[f"cannot be read as CSV: {exc}"])
            continue
        number += 1
        # blank cells are left out (`not cell.isspace()` is `cell.strip()` without a copy)
        values = {path: cell for path, cell in zip(paths, cells) if cell and not cell.isspace()}
        if '="' in lines.record[-1] or len(lines.record) > 1:  # (one search a row: nearly none has one)
            _as_excel_shows(values)
        if len(lines.record) > 1:  # a quoted cell over many lines: did it swallow rows?
            swallowed = _swallowed_rows(src, lines, delimiter, paths, number)
            if swallowed:  # its values name it in problems.csv (report id), no more
                yield Row(number, values, [swallowed])
                continue
        extra = len(cells) > len(paths) and any(c and not c.isspace() for c in cells[len(paths):])
        if not values and not extra:
            continue  # blank line between rows: nothing to draft, nothing lost
        problems = [f"has {len(cells)} cells but the header has {len(paths)} columns: "
                    + _RAGGED.get(delimiter, f"a value holding '{delimiter}' needs double quotes around it")
                    ] if extra else []
        for path, reading in local:
            if path in values:
                values[path] = reading(values[path])
        if dates and number <= LOOKED_AT + 1 and _note_utc_moments(src, number, values, dates):  # (row 1: header)
            dates = []
        yield Row(number, values, problems)


# what to do about a row of more cells than the header (a value with the separator in it)
_RAGGED = {",": 'a value holding a comma ("5,000 mg", "Smith, Jane") needs double quotes around it',
           ";": 'a value holding a semicolon needs double quotes around it',
           "\t": "a value holding a tab has one too many: remove it"}

_ROW_LIKE = 5  # fewer columns than this, and a line of prose in a cell could pass for a row


def _swallowed_rows(src: Source, lines: DecodedLines, delimiter: str, paths: List[str], number: int) -> str:
    """Why row `number`, a record read over many lines, is not one row (or "" when it is).

    A quote opening a cell and never closed (or closed only by the quote of a cell rows
    below) reads the rows after it into that cell, and they would be lost unsaid. A quote
    still open at the end of the file swallowed whatever follows it; one closed rows below
    is closed by a quote inside a text (felt "fine"), which a well-quoted cell never is, and
    a line in the cell is then a row of its own (`_is_a_row`): every line after the row's
    first is put back to be read again as a row (one before it may be a row whose values are
    refused: a row with mistakes is still a row to tell). A well-quoted record is a cell of
    many lines, as descriptions often are, whatever its lines hold (a list of symptoms with
    commas, a row pasted from elsewhere) and however many cells the row has; so is one with
    a stray quote but no row in it (Nurse noted "pale" skin, an inch mark 12")."""
    record = lines.record
    first, last = lines.line - len(record) + 1, lines.line  # the record's lines in the file
    try:
        for _ in csv.reader(record, delimiter=delimiter, strict=True):
            pass
        open_at_end, well_quoted = False, True
    except csv.Error as exc:
        open_at_end, well_quoted = "unexpected end of data" in str(exc), False
    if well_quoted:
        return ""  # a cell of many lines, as descriptions often are
    row_like = None
    if len(paths) >= _ROW_LIKE:
        row_like = next((at for at, line in enumerate(record[1:], 1)
                         if _is_a_row(next(csv.reader([line], delimiter=delimiter), []), paths)), None)
    if not row_like and not open_at_end:
        return ""  # a stray quote in a cell of many lines: its text, as Excel reads it
    column = len(next(csv.reader(record[:1], delimiter=delimiter)))
    where = f"column {column}"
    if column <= len(paths):
        node = load_catalog().node(paths[column - 1])
        where += f" '{paths[column - 1]}'" + (f" ({node.title()})" if node is not None else "")
    read_in = f"line {last}" if last == first + 1 else f"lines {first + 1}-{last}"
    closed = "is never closed" if open_at_end else f"is closed only on line {last}"
    if row_like:
        lines.put_back(record[1:])
        which = "which look like rows of their own" if row_like == 1 else "rows of their own among them"
        swallowed = f"{read_in} of the file, {which}, were read into that cell (they are read again as rows)"
    else:  # (never closed, and nothing in it looks like a row: a narrow file's lines of prose)
        swallowed = f"{read_in} of the file, to its end, were read into that cell"
    src.notes.append(f"row {number} opens a quote that {closed}: {read_in} were read into one of its cells "
                     "(see problems.csv)")
    return (f"opens a quote in {where} that {closed}, so {swallowed}: close the quote where the cell's "
            "text ends, or double it (\"\") if it is part of the text; this row was not drafted")


def _is_a_row(cells: List[str], paths: List[str]) -> bool:
    """Whether a line read into a cell is a row of the file: a cell for every column, and its
    dates, numbers and codes read as such (a line of prose split at its commas has the cells
    but not the values: 'nausea, vomiting, dizziness' holds no date or code)."""
    if len(cells) != len(paths):
        return False
    catalog = load_catalog()
    typed = {path: cell for path, cell in zip(paths, cells)
             if cell.strip() and getattr(catalog.field(path), "kind", "text") != "text"}
    if len(typed) < 2:
        return False
    refused = {path for path, _ in coerce_values(typed)[1]}
    return len(typed) - len(refused) >= max(2, (2 * len(typed) + 2) // 3)


def _cell_too_long(number: int, lines: DecodedLines) -> Row:
    """Row `number` has a quoted cell over many lines too long to read (in all, or one of its
    lines): the CSV reader would start afresh inside it, so the rest of the cell is read past
    first (its lines are this row's, not rows of their own)."""
    message = f"has a cell longer than {MAX_MB} MB (no box holds that much); it was not read"
    if not lines.skip_open_cell():
        message += "; its quote is never closed, so the rest of the file was read as part of that cell"
    return Row(number, problems=[message])


def _jsonl_rows(src: Source) -> Iterator[Row]:
    """A row per line (its number is the line's: batch names it "line N", not "row N").
    Only LF ends a line: a CR inside one is part of it, so line numbers match `sed -n`."""
    lines, number, reading = DecodedLines(src.handle, lone_cr_ends_line=False), 0, JsonLines()
    empty, first_empty = 0, 0  # records without a value: blank rows, as a CSV's are (counted, not kept)
    budget = _SEARCH_BUDGET  # lines the searches for reports over many lines may still read
    utc_unseen = True  # no date box has held a moment in UTC yet (utc_moment_note)
    day_first = _jsonl_day_first(src)
    while True:
        number += 1
        lines.new_record()  # one line, one record: its lines are not kept
        try:
            raw = next(lines)
        except StopIteration:
            break
        except LineTooLong as exc:
            yield Row(number, problems=[str(exc)])
            continue
        budget += _SEARCH_PER_LINE
        if not raw.strip():
            continue
        values, problem = reading.values(number, raw)
        first, last = number, 0
        if problem and budget > 0 and _opens_a_record(raw) and not src.done(number) \
                and reading.object_end(raw)[0] == "unfinished":
            over, read = _record_over_lines(lines, raw, reading)
            budget -= read
            if over is not None:  # one problem with the report's id, not one per line
                last = number = number + len(over) - 1
                text = "".join(over)
                values, inner = reading.values(first, text)
                wrong_on, wrong = reading.mistake(text)
                if reading.object_end(text)[0] != "end" and reading.object_end(text, raw_controls=True)[0] == "end":
                    # JSON but for the line breaks written raw in its texts
                    problem = (f"has a line break written raw inside a text (JSON writes it as \\n), so the report "
                               f"goes on to line {number}: write its line breaks as \\n, each report on one line; "
                               "it was not drafted")
                else:
                    problem = (f"opens a JSON object that ends on line {number} (one report written over {len(over)} "
                               "lines; JSON Lines takes each report on one line)"
                               + (f", and line {first + wrong_on} {wrong}" if wrong else "")
                               + ": write it on one line, e.g. with `jq -c . in.json > out.jsonl`; it was not drafted"
                               + (f"; it also {inner}" if inner and not wrong else ""))
        if reading.nan_line == first:
            src.notes.append(f"line {first} (and maybe others) holds NaN, which is not JSON (pandas and Python "
                             "write it for a missing number): read as no value, as null is")
        if not problem and not any(_given(value) for value in values.values()):
            empty, first_empty = empty + 1, first_empty or first  # ({} or the --jsonl-template record)
            continue
        if utc_unseen and first <= LOOKED_AT and _note_utc_moments(src, first, values, _date_columns(values)):
            utc_unseen = False
        if day_first:
            for path in _date_columns(values):
                if values[path].__class__ is str:
                    values[path] = day_first(values[path])
        yield Row(first, values, [problem] if problem else [], last)
    if empty:
        which = f"line {first_empty}" if empty == 1 else f"{empty:,} lines (the first: {first_empty})"
        src.notes.append(f"{which} gave no value in any field (as `medwatch fields --jsonl-template` writes "
                         "its record): nothing to draft there")


def _jsonl_day_first(src: Source) -> Optional[Callable[[str], object]]:
    """How to read a date of a JSON Lines file whose first lines write one day first
    (16/10/2026), as for a CSV file (`_day_first_dates`): its dates that read both ways are
    refused with both readings (read US-style, 03/11/2025 was 11 March without a word);
    None for the others, and for a pipe."""
    reading = JsonLines()

    def dates(lines: Iterator[str]) -> Iterator[tuple]:
        for number, raw in enumerate(itertools.islice(lines, LOOKED_AT), 1):
            values = reading.values(number, raw)[0] if raw.strip() else {}
            yield number, {path: values[path] for path in _date_columns(values) if values[path].__class__ is str}

    return _day_first_reading(src, _day_first_sign_of(src, dates, lone_cr_ends_line=False))


def _too_long_as_blank(lines: DecodedLines) -> Iterator[str]:
    """The lines, one too long to read given as a blank line, as the rows' reader takes it: a
    look at the first rows goes on past it, and counts it (it gave up there, and a day-first
    file read 03/11 as 11 March). Inside a quoted cell, with a quote when it held an odd count
    of them (the cell is closed there); otherwise the rows' reader starts afresh after it,
    whatever quotes it held."""
    while True:
        quotes = lines.quotes
        try:
            yield next(lines)
        except LineTooLong as exc:
            yield '"\n' if exc.in_open_cell and (lines.quotes - quotes) % 2 else "\n"
        except StopIteration:
            return


_OBJECT_LINES, _OBJECT_CHARS = 1000, 1 << 20  # far more than one report takes, pretty-printed
# a search may read 4 lines for each line of the file (and 10,000 more): however the lines
# are made, reading a file takes time in proportion to its lines
_SEARCH_BUDGET, _SEARCH_PER_LINE = 10_000, 4


def _opens_a_record(line: str) -> bool:
    """Whether a line may begin a report written over many lines: an object opened at the
    margin (a pretty-printer indents the objects inside one)."""
    return line.startswith("{") or line.startswith("\ufeff{")


def _record_over_lines(lines: DecodedLines, first: str, reading: JsonLines) -> Tuple[Optional[List[str]], int]:
    """(the lines of one report written over many, from its unfinished first line `first` on,
    or None; how many lines were read).

    A JSON object (pretty-printed, as `jq .` and `json.dumps(..., indent=2)` write it), or
    one begun by a line `{` alone that goes wrong before a line `}` closes it at the margin
    (a slip in a pretty-printed report: one problem, not one per line). The lines read past
    it are put back, to be read as lines of their own; so are all of them when no report is
    found within a report's size (a record cut short, followed by records of their own).
    The text is decoded each time its lines double: about twice its text in all."""
    taken, size, too_long, check = [first], len(first), None, 2

    def read_one() -> bool:
        """The next line onto `taken`, within a report's size; False at the end of the file
        or at a line too long to read (raised again in its place, after the lines put back)."""
        nonlocal size, too_long
        if too_long is not None or len(taken) >= _OBJECT_LINES or size >= _OBJECT_CHARS:
            return False
        try:
            taken.append(next(lines))
        except StopIteration:
            return False
        except LineTooLong as exc:
            too_long = exc
            return False
        size += len(taken[-1])
        return True

    while True:
        more = read_one()
        if more and len(taken) < check:
            continue
        check *= 2
        text = "".join(taken)
        state, at = reading.object_end(text)
        if state == "unfinished" and more:
            continue
        if state == "end":
            line_end = text.find("\n", at)
            if not text[at:line_end if line_end >= 0 else len(text)].strip():  # (not a second object on its line)
                return _taken(lines, taken, text.count("\n", 0, at), too_long)
        break
    state, at = reading.object_end(text, raw_controls=True)  # line breaks written raw inside its texts
    while state == "unfinished":  # (more lines read as they are above: their number doubled each time)
        wanted, more = 2 * len(taken), True
        while more and len(taken) < wanted:
            more = read_one()
        text = "".join(taken)
        state, at = reading.object_end(text, raw_controls=True)
        if not more:
            break
    if state == "end" and not text[at:].split("\n", 1)[0].strip():
        return _taken(lines, taken, text.count("\n", 0, at), too_long)
    if first.lstrip("\ufeff").rstrip() == "{":  # a pretty-printed report that goes wrong: up to its `}`
        closing = next((i for i, line in enumerate(taken[1:], 1) if line.startswith("}")), None)
        while closing is None and read_one():
            closing = len(taken) - 1 if taken[-1].startswith("}") else None
        if closing is not None:
            return _taken(lines, taken, closing, too_long)
    lines.put_back(taken[1:], too_long)
    return None, len(taken)


def _taken(lines: DecodedLines, taken: List[str], last: int, too_long: Optional[LineTooLong]):
    """The lines up to `last` (an index of `taken`) as one record; the rest put back."""
    lines.put_back(taken[last + 1:], too_long)
    return taken[:last + 1], len(taken)


def _given(value) -> bool:
    """Whether a JSON value gives something: not null, not blank text, not a list of those."""
    if value is None:
        return False
    if isinstance(value, str):
        return not (value == "" or value.isspace())
    if isinstance(value, list):
        return any(_given(item) for item in value)
    return True
