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
import warnings
import zipfile
import zlib
from datetime import date, datetime
from typing import Iterator, List
from xml.etree.ElementTree import ParseError

import openpyxl
from lxml import etree
from openpyxl.utils import get_column_letter
from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

from .catalog import load_catalog
from .cell_formats import shown_values
from .errors import InputDamaged, InputError
from .header import header_paths
from .readers import Row, Source
from .sheet_rows import ENTITIES_REFUSED, DamagedCell, damage_reason, shared_strings, sheet_cells
from .sheet_scan import Merge, scan_sheet


def _cell_text(value) -> str:
    """A cell as text: a date as ISO, a whole number without '.0' (the form the schema takes)."""
    if value.__class__ is str:  # most cells: nothing to convert
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):  # a whole number as held (52.0 is 52, a long ID keeps its digits);
        # others to the 15 significant digits Excel works with (0.1*3 is 0.3, not 0.30000000000000004)
        return str(int(value)) if value.is_integer() else format(value, ".15g")
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
    try:
        book = _load_workbook(src.handle)
    except InputDamaged as exc:  # its shared strings (sheet_rows.shared_strings)
        raise InputError(f"not a readable Excel .xlsx workbook ({exc})", src.name) from None
    except Exception as exc:  # whatever openpyxl trips on in a workbook it cannot make sense of
        raise InputError(f"not a readable Excel .xlsx workbook ({_workbook_trouble(exc)})", src.name) from None
    try:
        sheet = _sheet_to_read(book, src)
        called = "the first sheet" if book.sheetnames[0] == sheet.title else f"the sheet '{sheet.title}'"

        def refused(reason: str) -> InputError:  # a sheet not the first is named: the user may not see it first
            return InputError(reason if called == "the first sheet" else f"{called}: {reason}", src.name)

        scan = scan_sheet(src.handle, sheet._worksheet_path)
        if scan.uncomputed:
            raise InputError(f"cell {scan.uncomputed} of {called} holds a formula whose value the workbook does "
                             "not hold (it was saved by a program that does not compute formulas), so it would "
                             "read as empty or as a stale value: open the workbook in Excel or LibreOffice, save "
                             "it, and run again", src.name)
        rows = _row_texts(book, sheet)
        header = next(rows, None)
        if header is None:
            raise InputError(f"{called} is empty", src.name)
        try:
            paths = header_paths(header, rows, src.name)
        except InputError as wrong:
            raise refused(wrong.reason) from None
        if scan.merges:
            raise refused(_merged(scan.merges, paths))
        try:
            for number, texts in enumerate(rows, 2):
                if not "".join(texts).strip():  # (one pass in C: a cell of only spaces is empty too)
                    continue
                row = Row(number)
                if "".join(texts[len(paths):]).strip():
                    row.problems.append(f"has values beyond the {len(paths)} named columns")
                for path, text in zip(paths, texts):
                    if text and not text.isspace():  # (text.strip() without a copy)
                        row.values[path] = text
                yield row
        except DamagedCell as damage:
            raise damage.in_field(_field(paths, damage.column)) from None
    finally:
        book.close()


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
    reader.read()
    return reader.wb


def _field(paths: List[str], column: int) -> str:
    """The field a column is for, as problems name it ('A2 Age [patient/age]'), "" beyond the
    named columns."""
    path = paths[column - 1] if 0 < column <= len(paths) else ""
    node = load_catalog().node(path) if path else None
    return f"{node.title()} [{path}]" if node is not None else (f"[{path}]" if path else "")


def _sheet_to_read(book, src: Source):
    """The first visible worksheet: a hidden one before it is a lookup list or an old copy,
    not what the user looks at when the workbook opens. A note names the sheets not read."""
    sheets = book.worksheets  # chart sheets are not among them: they hold no rows
    if not sheets:
        raise InputError("the workbook holds no worksheet (only charts): save the rows on a worksheet, "
                         "and run again", src.name)
    sheet = next((s for s in sheets if s.sheet_state == "visible"), sheets[0])
    others = [f"'{other.title}'" + ("" if other.sheet_state == "visible" else " (hidden)")
              for other in sheets if other is not sheet]
    if others:  # their rows are not drafted: say so rather than leave them unsaid
        which = "the first sheet" if book.sheetnames[0] == sheet.title else "the first visible worksheet"
        src.notes.append(f"only {which}, '{sheet.title}', was read; not the workbook's other "
                         f"sheet{'s' if len(others) > 1 else ''} {', '.join(others)}")
    return sheet


def _row_texts(book, sheet) -> Iterator[List[str]]:
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
                                         book.epoch):
            if number < expected:  # never so from a spreadsheet program: its rows would be taken for others
                raise InputDamaged(f"the workbook is damaged: its row {number} comes after row {expected - 1}")
            while expected < number:
                yield []
                expected += 1
            expected += 1
            texts = [""] * cells[-1][0] if cells else []
            for column, value, style in cells:
                if value.__class__ is not str:
                    text = shown[style](value) if style in shown else None
                    value = _cell_text(value) if text is None else text
                try:
                    texts[column - 1] = value
                except IndexError:  # a cell after its row's last one: never so from Excel
                    texts.extend([""] * (column - len(texts)))
                    texts[column - 1] = value
            yield texts


def _merged(merges: List[Merge], paths: List[str]) -> str:
    """What merged cells hide and what to do, naming the first few ranges and their columns.

    The workbook is refused, rather than the rows below each range's first: a merge is how a
    sheet was laid out (the same reporter over several rows), so it recurs, and the fix is
    the same for every range; drafting the rest would leave a run half done to redo."""
    def named(merge: Merge) -> str:
        columns = [paths[c - 1] if c <= len(paths) and paths[c - 1] else f"column {c}"
                   for c in range(merge.first_column, merge.last_column + 1)]
        return f"{merge.ref} ({', '.join(columns[:3])}{', ...' if len(columns) > 3 else ''})"

    listed = ", ".join(named(m) for m in merges[:3]) + (f" and {len(merges) - 3:,} more" if len(merges) > 3 else "")
    first = f"{get_column_letter(merges[0].first_column)}{merges[0].first_row}"
    return (f"merged cells {listed}: Excel shows the value of a range's first cell across the range, but the "
            f"workbook holds it only in that cell ({first}), so the range's other cells would be read as empty: "
            "unmerge the cells, fill in each row's value, save the workbook, and run again")
