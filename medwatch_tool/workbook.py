"""Rows from the first visible worksheet of an Excel .xlsx workbook.

openpyxl reads the workbook (its sheets, styles, date formats); its cells and shared
strings are read by sheet_rows.py, in C through lxml, at three times the speed. A workbook
comes from another program, so it is read guarded: openpyxl's XML through defusedxml and
ours with a DOCTYPE refused, and whatever trips the readers is told as one line naming the
file (and the cell), never a traceback. Cells come out as the text a person sees in Excel:
ISO dates, whole numbers without ".0", other numbers to Excel's 15 significant digits, a
zero-padded ZIP code with its zeros, a percent as one, a lot number 1.10 with its zero and
a month typed without a day as that month (cell_formats.py). What the cells' values do
not say (formulas without a value, merged cells) is looked for first (sheet_scan.py).
"""
import itertools
import unicodedata
import warnings
from collections import deque
import zipfile
import zlib
from datetime import date, datetime, timedelta
from typing import Iterator, List, Optional, Tuple
from xml.etree.ElementTree import ParseError

import openpyxl
from lxml import etree
from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

from .catalog import load_catalog
from .cell_formats import InScientific, Qualified, number_text, shown_values
from .coerce import LABEL_CODES
from .errors import InputDamaged, InputError, OutputError
from .header import HeaderFurtherDown, column_letters, header_paths, names_a_field
from .local_conventions import LOOKED_AT, Refused, day_first_sign
from .readers import Row, Source, day_first_readings
from .sheet_rows import ENTITIES_REFUSED, DamagedCell, damage_reason, declares_entities, shared_strings, sheet_cells
from .sheet_scan import Merge, scan_sheet
from .text_table import TextTable


def _cell_text(value) -> str:
    """A cell as text: a date as ISO, a whole number without '.0' (the form the schema takes),
    a time span as Excel's [h]:mm shows it (36:00, not Python's '1 day, 12:00:00')."""
    if value.__class__ is str:  # most cells: nothing to convert
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        shown = f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}"
        return shown + (f":{seconds % 60:02d}" if seconds % 60 else "")
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# openpyxl's warnings are printed with its own source line, and the cells they are about
# reach the rows' checks anyway ('#VALUE!' for a date out of range is refused at its box)
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")


def xlsx_rows(src: Source) -> Iterator[Row]:
    """The sheet's rows; a sheet found damaged while reading it is InputDamaged."""
    try:
        yield from _sheet_rows(src)
    except _defused_errors():
        raise InputDamaged(ENTITIES_REFUSED) from None
    except etree.XMLSyntaxError as exc:
        raise InputDamaged(damage_reason(exc)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ParseError) as exc:
        raise InputDamaged(f"the workbook is damaged: {exc}") from None


def _defused_errors():
    """What defusedxml raises on entities; nothing to catch when it is missing (then
    `_check_guarded` refuses to read the workbook at all)."""
    try:
        from defusedxml import DefusedXmlException
    except ImportError:
        return ()
    return DefusedXmlException


def _check_guarded(name: str):
    """openpyxl still parses the start of each sheet (its extent) with Python's own expat,
    which expands entities, unless defusedxml is installed (it is a dependency) and not
    switched off by OPENPYXL_DEFUSEDXML=False: then the workbook is not read at all."""
    if not openpyxl.DEFUSEDXML:
        raise InputError("not read: workbooks are read only with defusedxml guarding their XML "
                         "(install defusedxml; do not set OPENPYXL_DEFUSEDXML=False)", name)


# how many times over a part may expand: a spreadsheet's XML zips to a fifth or a twentieth
# (a sheet of one row repeated 200,000 times: 15 times); past 10 MB only
_EXPANDS, _EXPANDED = 100, 10 << 20


def _refuse_what_no_spreadsheet_writes(handle, name: str):
    """A workbook is refused before it is read when a part expands far more than any
    spreadsheet's does (a 2 MB file whose styles expand to 2 GB took 4 GB of memory to open,
    one whose table of texts does filled the temporary folder with 2 GB, one of 80 MB of empty
    cells took 3 GB), or declares entities: openpyxl expanded one declared in the workbook
    part into a sheet's name (a sheet's own are refused by its reader too). Only parts that
    begin as XML does are looked at, whatever their names (openpyxl reads a part by its
    relationships: a table of texts named .dat is read); a picture, a macro project or an
    embedded object is never read, and may zip as tight as it likes."""
    try:
        with zipfile.ZipFile(handle) as archive:
            for part in archive.infolist():
                if part.is_dir():
                    continue
                with archive.open(part) as data:
                    if not _begins_as_xml(data.read(64)):
                        continue
                if part.file_size > _EXPANDED and part.file_size > _EXPANDS * max(part.compress_size, 1):
                    raise InputError(f"not read: its part {part.filename} expands from {part.compress_size:,} bytes "
                                     f"to {part.file_size:,} ({part.file_size // max(part.compress_size, 1):,} times; "
                                     "a spreadsheet's parts expand 5 to 20 times), which no spreadsheet program "
                                     "writes and would take that much memory or disk to read", name)
                with archive.open(part) as xml:
                    if declares_entities(xml):
                        raise InputError(f"not a readable Excel .xlsx workbook ({ENTITIES_REFUSED})", name)
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error):
        return  # openpyxl's opening says what is wrong (RuntimeError: a part encrypted in the zip)


def _begins_as_xml(head: bytes) -> bool:
    """Whether a part's first bytes are XML's: a tag, after a byte order mark or spaces
    (UTF-16 too)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def _workbook_trouble(exc: Exception) -> str:
    """What keeps a workbook from opening, in one line. openpyxl wraps the parser's error
    in a three-line ValueError; the cause is what says what is wrong."""
    cause = exc.__cause__
    if isinstance(cause, _defused_errors()):
        return ENTITIES_REFUSED
    first = str(exc).splitlines()[0] if str(exc) else ""
    if not isinstance(exc, (ValueError, OSError, zipfile.BadZipFile, KeyError)):
        first = f"{type(exc).__name__}: {first}"  # an odd part: what tripped the reader is the clue
    return f"{first} {cause}" if cause else first


def _sheet_rows(src: Source) -> Iterator[Row]:
    _check_guarded(src.name)
    _refuse_what_no_spreadsheet_writes(src.handle, src.name)
    try:
        book = _load_workbook(src.handle)
    except InputDamaged as exc:  # its shared strings (sheet_rows.shared_strings)
        raise InputError(f"not a readable Excel .xlsx workbook ({exc})", src.name) from None
    except OutputError as exc:  # no room in the temporary folder for a long table of texts (text_table.py)
        raise OutputError(exc.reason, src.name) from None
    except Exception as exc:  # whatever openpyxl trips on in a workbook it cannot make sense of
        raise InputError(_another_kind(src.handle) or f"not a readable Excel .xlsx workbook "
                         f"({_workbook_trouble(exc)})", src.name) from None
    try:
        if not book.worksheets:
            other = _another_kind(src.handle)
            if other:
                raise InputError(other, src.name)
        sheet = _sheet_to_read(book, src)
        src.sheet_read, src.sheet_default = sheet.title, sheet is _first_visible(book)  # (for --resume)
        called = "the first sheet" if book.sheetnames[0] == sheet.title else f"the sheet '{sheet.title}'"

        def refused(reason: str) -> InputError:  # a sheet not the first is named: the user may not see it first
            return InputError(reason if called == "the first sheet" else f"{called}: {reason}", src.name)

        scan = scan_sheet(src.handle, sheet._worksheet_path)
        src.span = _bytes_of(src.handle, sheet._worksheet_path)
        if scan.uncomputed:
            raise InputError(f"cell {scan.uncomputed} of {called} holds a formula whose value the workbook does "
                             "not hold (it was saved by a program that does not compute formulas), so it would "
                             "read as empty or as a stale value: open the workbook in Excel or LibreOffice, save "
                             "it, and run again", src.name)
        hidden: deque = deque()  # rows hidden in Excel, as read: drafted like the others, and said so
        hidden_read, hidden_first = 0, []  # how many hidden rows were read, and the first five's numbers
        rows = _row_texts(book, sheet, hidden)
        header = next(rows, None)
        if header is None:
            raise InputError(_empty(book, sheet, called, src), src.name)
        try:
            paths = header_paths(header, rows, src.name, lettered=True)
        except InputError as wrong:
            other = src.sheet is None and not isinstance(wrong, HeaderFurtherDown) and not names_a_field(header)
            raise refused(wrong.reason + (_other_sheets(book, sheet) if other else "")) from None
        if scan.merges:
            raise refused(_merged(scan.merges, paths))
        fields = {path: load_catalog().field(path) for path in paths}
        kinds = {path: getattr(field, "kind", None) for path, field in fields.items()}
        text_boxes = {path for path in paths if kinds[path] == "text"}
        number_boxes = {path for path in paths if kinds[path] in ("decimal", "integer")}
        label_codes = {path for path, field in fields.items() if getattr(field, "type_name", "") in LABEL_CODES}
        numbered = enumerate(rows, 2)
        day_first, numbered = _day_first_dates(src, paths, kinds, numbered)
        try:
            for number, texts in numbered:
                hidden_row = False
                if hidden:  # (noted as the sheet's reader reads them, up to LOOKED_AT rows ahead)
                    while hidden and hidden[0] < number:
                        hidden.popleft()
                    hidden_row = bool(hidden) and hidden[0] == number
                if not "".join(texts).strip():  # (one pass in C: a cell of only spaces is empty too)
                    continue
                row = Row(number)
                if "".join(texts[len(paths):]).strip():
                    beyond = next(c for c, text in enumerate(texts[len(paths):], len(paths) + 1) if text.strip())
                    row.problems.append(f"has a value in column {column_letters(beyond)}, beyond the {len(paths)} "
                                        f"named columns (A to {column_letters(len(paths))})")
                for path, text in zip(paths, texts):
                    if text and not text.isspace():  # (text.strip() without a copy)
                        if text.__class__ is DateCell:
                            text = (_in_a_text_box(text) if path in text_boxes else
                                    _in_a_number_box(text) if path in number_boxes else str(text))
                        elif text.__class__ is InScientific:
                            text = _scientific_in_a_code_box(text) if path in label_codes else str(text)
                        elif text.__class__ is Qualified:
                            text = _qualified_in_a_number_box(text) if path in number_boxes else str(text)
                        row.values[path] = text
                for path, reading in day_first:
                    if path in row.values:
                        row.values[path] = reading(row.values[path])
                if hidden_row:
                    hidden_read += 1
                    hidden_first = (hidden_first + [number])[:5]
                yield row
            _note_hidden(src, hidden_read, hidden_first)
        except DamagedCell as damage:
            raise damage.in_field(_field(paths, damage.column)) from None
    finally:
        book.close()
        if isinstance(book.texts, TextTable):
            book.texts.close()


def _bytes_of(handle, part: str) -> Optional[Tuple[int, int]]:
    """Where a sheet's XML lies in the workbook's file, as stored (compressed): a progress bar
    by the whole file's bytes started part-way with a later sheet and ended short of a table
    of texts stored after the sheet."""
    try:
        with zipfile.ZipFile(handle) as archive:
            info = archive.getinfo(part)
        handle.seek(info.header_offset)
        header = handle.read(30)  # the part's own header: its name and extra field's lengths at 26
        names = int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    except (OSError, KeyError, zipfile.BadZipFile, EOFError, ValueError):
        return None  # (the bar then counts the file's bytes)
    first = info.header_offset + 30 + names
    return first, first + info.compress_size


def _note_hidden(src: Source, count: int, first: List[int]):
    """A note naming the rows the sheet hides (Excel's Hide, or a filter) that were read:
    a user may have hidden them to leave them out, and they were drafted like the rest (as
    Excel's own CSV export keeps them). `count` of them, `first` the first few's numbers."""
    if count:
        shown = ", ".join(map(str, first)) + (f" and {count - len(first):,} more" if count > len(first) else "")
        src.notes.append(f"row{'s' * (count > 1)} {shown} {'are' if count > 1 else 'is'} hidden in the sheet "
                         "(hidden, or filtered out) and read like the others: to leave a row out, delete it")


def _empty(book, sheet, called: str, src: Source) -> str:
    """Why a workbook whose sheet to read is empty is refused, naming the visible sheets that
    do hold rows, if any (behind the empty one, they are not read); the sheet named by
    --sheet is empty: the sheets that hold rows, hidden or not."""
    if src.sheet is not None:
        full = _sheets_of_rows(book, sheet)
        return f"{called} is empty" + (f"; the workbook's sheets that hold rows are {full}" if full else "")
    full = [f"'{other.title}'" for other in book.worksheets
            if other is not sheet and other.sheet_state == "visible" and _holds_rows(book, other)]
    if not full:
        return f"{called} is empty"
    subject = f"the first sheet, '{sheet.title}'," if called == "the first sheet" else called
    return (f"{subject} is empty, and only it is read, not the sheet{'s' * (len(full) > 1)} {', '.join(full)} that "
            f"hold{'s' * (len(full) == 1)} rows: name the sheet to read with --sheet NAME (or put it first), and run "
            "again")


def _other_sheets(book, sheet) -> str:
    """For a row 1 naming no field on the sheet read by default (instructions, a summary):
    the workbook's other sheets that hold rows, one of which may be the rows' sheet."""
    others = _sheets_of_rows(book, sheet)
    if not others:
        return ""
    return (f". It is the first visible sheet's, '{sheet.title}'; to read another of the workbook's sheets "
            f"that hold rows ({others}), give --sheet NAME")


def _sheets_of_rows(book, sheet) -> str:
    """The workbook's sheets other than `sheet` that hold rows, hidden ones said so."""
    return ", ".join(_shown(other) for other in book.worksheets if other is not sheet and _holds_rows(book, other))


def _shown(sheet) -> str:
    """A sheet as messages name it: 'Lookup' (hidden)."""
    return f"'{sheet.title}'" + ("" if sheet.sheet_state == "visible" else " (hidden)")


def _holds_rows(book, sheet) -> bool:
    try:
        return any("".join(texts).strip() for texts in itertools.islice(_row_texts(book, sheet), 100))
    except Exception:  # a damaged sheet: not one to point to
        return False


def _day_first_dates(src: Source, paths: List[str], kinds: dict, numbered: Iterator[tuple]):
    """(column, reading) for the date boxes of a sheet whose first rows hold a date typed
    as text day first (16/10/2026), as for a CSV file (readers._day_first_dates): its text
    dates that read both ways are then refused with both readings, not read US-style; and
    the rows, the first ones looked at put back."""
    at = [(column, path) for column, path in enumerate(paths) if kinds[path] == "date"]
    if not at:
        return [], numbered
    head: list = []
    rest = numbered
    try:
        head.extend(itertools.islice(numbered, LOOKED_AT))
    except Exception as exc:  # a damaged row: the rows before it are drafted first, as without the look
        rest = _raising(exc)
    sign = day_first_sign((number, {path: texts[column] for column, path in at if column < len(texts)})
                          for number, texts in head)
    return day_first_readings(src, sign, [path for _, path in at]), itertools.chain(head, rest)


def _raising(exc: Exception) -> Iterator[tuple]:
    raise exc
    yield  # (a generator: raises where the rows reach it)


class _Reader(ExcelReader):
    """openpyxl's reader of a workbook, but for its shared strings, read by lxml
    (sheet_rows.py): openpyxl's own parser took about 20 us a text, an Excel-saved
    workbook holds a few per row, and the table is read before the first row."""

    def read_strings(self):
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as xml:
                self.shared_strings = shared_strings(xml, part.PartName[1:])


def _load_workbook(handle):
    """openpyxl.load_workbook(handle, read_only=True, data_only=True), with `_Reader`."""
    reader = _Reader(handle, read_only=True, data_only=True)
    try:
        reader.read()
    except BaseException:  # a part after the texts is damaged: their file is not left to the collector
        if isinstance(reader.shared_strings, TextTable):
            reader.shared_strings.close()
        raise
    reader.wb.texts = reader.shared_strings  # (its sheets read them; closed with the workbook)
    return reader.wb


_STRICT = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def _another_kind(handle) -> Optional[str]:
    """What a zip that openpyxl finds no sheet of rows in is, when it is a workbook of a kind
    Excel also saves but openpyxl does not read (a Binary or a Strict Open XML workbook),
    and what to do; None when it is not one of them."""
    try:
        handle.seek(0)
        with zipfile.ZipFile(handle) as package:
            names = set(package.namelist())
            if "xl/workbook.bin" in names:
                what = "an Excel Binary Workbook (.xlsb)"
            elif "xl/workbook.xml" in names and _STRICT in _head(package, "xl/workbook.xml"):
                what = "saved as a Strict Open XML Spreadsheet"
            else:
                return None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, KeyError):
        return None
    return f"is {what}, which this tool cannot read: save it in Excel as an Excel Workbook (.xlsx), or as CSV"


def _head(package: zipfile.ZipFile, part: str) -> bytes:
    """The first 4 KB of a workbook's part (its namespaces), not the whole part."""
    with package.open(part) as member:
        return member.read(4096)


def _field(paths: List[str], column: int) -> str:
    """The field a column is for, as problems name it ('A2 Age [patient/age]'), "" beyond the
    named columns."""
    path = paths[column - 1] if 0 < column <= len(paths) else ""
    node = load_catalog().node(path) if path else None
    return f"{node.title()} [{path}]" if node is not None else (f"[{path}]" if path else "")


def _sheet_to_read(book, src: Source):
    """The sheet --sheet names, else the first visible worksheet: a hidden one before it is
    a lookup list or an old copy, not what the user looks at when the workbook opens. A
    note names the sheets not read."""
    sheets = book.worksheets  # chart sheets are not among them: they hold no rows
    if src.sheet is not None:
        return _named_sheet(book, src)
    if not sheets:
        raise InputError("the workbook holds no worksheet (only charts): save the rows on a worksheet, "
                         "and run again", src.name)
    sheet = _first_visible(book)
    others = [_shown(other) for other in sheets if other is not sheet]
    if others:  # their rows are not drafted: say so rather than leave them unsaid
        which = "the first sheet" if book.sheetnames[0] == sheet.title else "the first visible worksheet"
        src.notes.append(f"only {which}, '{sheet.title}', was read; not the workbook's other "
                         f"sheet{'s' if len(others) > 1 else ''} {', '.join(others)} (--sheet NAME reads another)")
    return sheet


def _first_visible(book):
    """The sheet read without --sheet: the first visible worksheet (the first, if all are hidden)."""
    sheets = book.worksheets
    return next((s for s in sheets if s.sheet_state == "visible"), sheets[0]) if sheets else None


def _named_sheet(book, src: Source):
    """The worksheet named `src.sheet`: as its tab shows it, else as `_loosely` reads both
    (when that names one only); hidden or not, the user chose it."""
    wanted, sheets = src.sheet, book.worksheets
    named = [s for s in sheets if s.title == wanted] or [s for s in sheets if _loosely(s.title) == _loosely(wanted)]
    if len(named) == 1:
        return named[0]
    if named:
        raise InputError(f"has {len(named)} sheets whose names differ from '{wanted}' only in letter case or spaces: "
                         f"give --sheet as its tab shows it ({', '.join(repr(s.title) for s in named)})", src.name)
    charts = [c.title for c in getattr(book, "chartsheets", []) if _loosely(c.title) == _loosely(wanted)]
    listed = ", ".join(_shown(s) for s in sheets)
    what = f"'{charts[0]}' is a chart, not a sheet of rows" if charts else f"has no sheet named '{wanted}'"
    raise InputError(f"{what}: its sheets of rows are {listed or 'none'}", src.name)


def _loosely(name: str) -> str:
    """A sheet's name as --sheet may spell it: any letter case, spaces around it or doubled
    within, accents composed or not (as a terminal or another program may give them)."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _row_texts(book, sheet, hidden: Optional[deque] = None) -> Iterator[List[str]]:
    """Every row of the sheet from row 1 on, as its cells' texts (an empty list for a row
    the sheet leaves out).

    The sheet's XML is read to its end (sheet_rows.py), whatever its <dimension> says:
    some programs save a stale one (A1 on a full sheet), and openpyxl's iter_rows trusts it,
    dropping the rows and columns beyond it without a word. A number or date whose format
    changes what it reads as (a zero-padded ZIP code, a percent, decimals shown, a month
    and year) is read as Excel shows it."""
    shown = shown_values(book)
    with sheet._get_source() as xml:
        expected = 1
        for number, cells in sheet_cells(xml, sheet._shared_strings, book._date_formats, book._timedelta_formats,
                                         book.epoch, hidden):
            if number < expected:  # never so from a spreadsheet program: its rows would be taken for others
                raise InputDamaged(f"the workbook is damaged: its row {number} comes after row {expected - 1}")
            while expected < number:
                yield []
                expected += 1
            expected += 1
            texts = [""] * cells[-1][0] if cells else []
            for column, value, style in cells:
                if value.__class__ is not str:
                    if value.__class__ is float and abs(value) >= 1e15 and value.is_integer() and _digits_lost(value):
                        held = _held(value)
                        value = Refused(held, _DIGITS_LOST.format(shown=held, digits=len(f"{abs(value):.0f}")))
                    else:
                        text = shown[style](value) if style in shown else None
                        text = _cell_text(value) if text is None else text
                        value = DateCell(text) if isinstance(value, date) else text
                try:
                    texts[column - 1] = value
                except IndexError:  # a cell after its row's last one: never so from Excel
                    texts.extend([""] * (column - len(texts)))
                    texts[column - 1] = value
            yield texts


class DateCell(str):
    """A cell Excel holds as a date, as text: in a box that takes text it is refused
    (`_in_a_text_box`), as Excel's reading of a lot number 3-5 as 5 March."""


def _in_a_text_box(text: DateCell) -> Refused:
    return Refused(text, f"'{text}' is a date, and this box takes text: Excel turns what is typed as 3-5 or 1/2 "
                         "into a date. If it is not meant as one, format the column as Text, type the value again, "
                         "and run again")


def _in_a_number_box(text: DateCell) -> Refused:
    return Refused(text, f"'{text}' is a date, and this box takes a number: Excel turns what is typed as 1/2 or 1-2 "
                         "into a date. Write a fraction as a decimal (0.5) and one number rather than a range, format "
                         "the column as Number, type the value again, and run again")


def _qualified_in_a_number_box(text: Qualified) -> Refused:
    return Refused(text, f"'{text}' is the number {text.held} shown with '{text.qualifier}' before it by the cell's "
                         f"format, and this box takes the number alone: give the number without '{text.qualifier}' "
                         "(the cells the format Number), say what it means in the description, and run again")


def _scientific_in_a_code_box(text: InScientific) -> Refused:
    """A number in scientific notation in a box of a code printed on a label: Excel makes one
    of a lot typed 12E4. (Elsewhere, a lab count say, it is read as the number held.)"""
    return Refused(text.shown, f"'{text.shown}' is the number {text} shown in scientific notation, and this box takes "
                               "a code: Excel turns a code typed as 12E4 into the number 120000. Format the column "
                               "as Text, type the code again, and run again")


def _digits_lost(number: float) -> bool:
    """Whether a whole number of 16 digits or more may not be the number typed: Excel keeps
    15 significant digits and turns the rest to zeros, and beyond 2**53 not even a double
    holds every whole number (1.23456789012345E+19 read whole gave 12345678901234499584)."""
    return abs(number) >= 2 ** 53 or f"{abs(number):.0f}"[15:].strip("0") == ""


_DIGITS_LOST = ("'{shown}' is a number of {digits} digits, more than the 15 Excel keeps (it turns the rest to zeros), "
                "so the number typed is lost: a serial number, UDI or other code this long must be kept as text. "
                "Format the column as Text, type it again, and run again")


def _held(number: float) -> str:
    """A number as a workbook holds it (Excel's 15 significant digits): 1.23456789012345E+19."""
    return format(number, ".15G")


def _merged(merges: List[Merge], paths: List[str]) -> str:
    """What merged cells hide and what to do, naming the first few ranges and their columns.

    The workbook is refused, rather than the rows below each range's first: a merge is how a
    sheet was laid out (the same reporter over several rows), so it recurs, and the fix is
    the same for every range; drafting the rest would leave a run half done to redo."""
    def named(merge: Merge) -> str:
        columns = [paths[c - 1] if c <= len(paths) and paths[c - 1] else f"column {column_letters(c)}"
                   for c in range(merge.first_column, merge.last_column + 1)]
        return f"{merge.ref} ({', '.join(columns[:3])}{', ...' if len(columns) > 3 else ''})"

    listed = ", ".join(named(m) for m in merges[:3]) + (f" and {len(merges) - 3:,} more" if len(merges) > 3 else "")
    first = f"{column_letters(merges[0].first_column)}{merges[0].first_row}"
    return (f"merged cells {listed}: Excel shows the value of a range's first cell across the range, but the "
            f"workbook holds it only in that cell ({first}), so the range's other cells would be read as empty: "
            "unmerge the cells, fill in each row's value, save the workbook, and run again")
