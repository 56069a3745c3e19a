"""Rows from the first sheet of an Excel .xlsx workbook, read by openpyxl.

A workbook comes from another program, so it is read guarded: its XML through defusedxml
(entities refused), and whatever openpyxl trips over is told as one line naming the file,
never a traceback. Cells come out as the text a person sees in Excel: ISO dates, whole
numbers without ".0", other numbers to Excel's 15 significant digits.
"""
import posixpath
import warnings
import zipfile
import zlib
from datetime import date, datetime
from typing import Iterator
from xml.etree.ElementTree import ParseError

import openpyxl
from lxml import etree

from .errors import InputDamaged, InputError
from .header import header_paths
from .readers import Row, Source


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
    """The first sheet's rows; a sheet found damaged while reading it is InputDamaged."""
    try:
        yield from _sheet_rows(src)
    except _defused_errors():
        raise InputDamaged(_ENTITIES_REFUSED) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ParseError, etree.XMLSyntaxError) as exc:
        raise InputDamaged(f"the workbook is damaged: {exc}") from None


_ENTITIES_REFUSED = ("its XML declares entities, which this tool refuses: spreadsheet programs do not "
                     "write them, and they can expand a small file without bound or read other files")


def _defused_errors():
    """What defusedxml raises on entities; nothing to catch when it is missing (then
    `_check_guarded` refuses to read the workbook at all)."""
    try:
        from defusedxml import DefusedXmlException
    except ImportError:
        return ()
    return DefusedXmlException


def _check_guarded(name: str):
    """openpyxl parses sheets with Python's own expat, which expands a sheet's entities,
    unless defusedxml is installed (it is a dependency) and not switched off by
    OPENPYXL_DEFUSEDXML=False: then the workbook is not read at all."""
    if not openpyxl.DEFUSEDXML:
        raise InputError("not read: workbooks are read only with defusedxml guarding their XML "
                         "(install defusedxml; do not set OPENPYXL_DEFUSEDXML=False)", name)


def _workbook_trouble(exc: Exception) -> str:
    """What keeps a workbook from opening, in one line. openpyxl wraps the parser's error
    in a three-line ValueError; the cause is what says what is wrong."""
    cause = exc.__cause__
    if isinstance(cause, _defused_errors()):
        return _ENTITIES_REFUSED
    first = str(exc).splitlines()[0] if str(exc) else ""
    if not isinstance(exc, (ValueError, OSError, zipfile.BadZipFile, KeyError)):
        first = f"{type(exc).__name__}: {first}"  # an odd part: what tripped the reader is the clue
    return f"{first} {cause}" if cause else first


def _sheet_rows(src: Source) -> Iterator[Row]:
    _check_guarded(src.name)
    try:
        book = openpyxl.load_workbook(src.handle, read_only=True, data_only=True)
    except Exception as exc:  # whatever openpyxl trips on in a workbook it cannot make sense of
        raise InputError(f"not a readable Excel .xlsx workbook ({_workbook_trouble(exc)})", src.name) from None
    try:
        uncomputed = _uncomputed_formula(src.handle)
        if uncomputed:
            raise InputError(f"cell {uncomputed} of the first sheet holds a formula whose value the workbook does "
                             "not hold (it was saved by a program that does not compute formulas), so it would "
                             "read as empty or as a stale value: open the workbook in Excel or LibreOffice, save "
                             "it, and run again", src.name)
        sheet = book.worksheets[0]
        others = [f"'{other.title}'" for other in book.worksheets[1:]]
        if others:  # their rows are not drafted: say so rather than leave them unsaid
            src.notes.append(f"only the first sheet, '{sheet.title}', was read; not the workbook's other "
                             f"sheet{'s' if len(others) > 1 else ''} {', '.join(others)}")
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise InputError("the first sheet is empty", src.name)
        below = ([_cell_text(c) for c in cells] for cells in rows)
        paths = header_paths([_cell_text(h) for h in header], below, src.name)
        for number, cells in enumerate(rows, 2):
            texts = [_cell_text(c) for c in cells]
            if not any(t.strip() for t in texts):
                continue
            row = Row(number)
            if any(t.strip() for t in texts[len(paths):]):
                row.problems.append(f"has values beyond the {len(paths)} named columns")
            for path, text in zip(paths, texts):
                if text.strip():
                    row.values[path] = text
            yield row
    finally:
        book.close()


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _uncomputed_formula(handle) -> str:
    """The first cell of the first sheet whose formula has no value saved with it, or "".

    A workbook keeps each formula's last computed value, which is what is read (data_only).
    Programs that write workbooks without a spreadsheet engine (openpyxl, xlsxwriter) save
    formulas with no value, or with 0, and mark the workbook to be recomputed when opened
    (fullCalcOnLoad): such a cell would read as empty or as 0, a wrong dose without a word.
    Excel and LibreOffice always save the values."""
    try:
        return _first_uncomputed(handle)
    except KeyError:  # parts where this does not look for them: openpyxl found its way, nothing to check
        return ""


def _first_uncomputed(handle) -> str:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    with zipfile.ZipFile(handle) as archive:
        package = etree.fromstring(archive.read("_rels/.rels"), parser)
        book = next((r.get("Target") for r in package.iter(_RELS)
                     if (r.get("Type") or "").endswith("/officeDocument")), "xl/workbook.xml")
        book = _part("", book)
        workbook = etree.fromstring(archive.read(book), parser)
        calculation = workbook.find(f"{_MAIN}calcPr")
        recompute = calculation is not None and calculation.get("fullCalcOnLoad") in ("1", "true")
        first = workbook.find(f"{_MAIN}sheets/{_MAIN}sheet")
        folder, _, name = book.rpartition("/")
        rels = etree.fromstring(archive.read(_part(folder, f"_rels/{name}.rels")), parser)
        target = next((r.get("Target") for r in rels.iter(_RELS) if first is not None
                       and r.get("Id") == first.get(_RELATIONSHIP)), None)
        if target is None:
            return ""
        path = _part(folder, target)
        if not _holds_formulas(archive, path):
            return ""  # (nearly every sheet: a scan of its bytes, a fiftieth of parsing it)
        with archive.open(path) as xml:
            for _, element in etree.iterparse(xml, tag=(f"{_MAIN}f", f"{_MAIN}row"), resolve_entities=False,
                                              no_network=True, load_dtd=False, huge_tree=False):
                if element.tag == f"{_MAIN}row":  # done with: dropped, so memory stays flat
                    element.clear()
                    while element.getprevious() is not None:
                        del element.getparent()[0]
                    continue
                cell = element.getparent()
                value = cell.find(f"{_MAIN}v")
                if recompute or value is None or not (value.text or cell.get("t") == "str"):
                    return cell.get("r") or "?"
    return ""


def _part(folder: str, target: str) -> str:
    """A package part's name from a relationship's target: absolute, or relative to `folder`."""
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))


_FORMULA_TAGS = (b"<f>", b"<f ", b":f>", b":f ")  # <f>, <f t="shared" ...>, <x:f> (a text may say it too)


def _holds_formulas(archive: zipfile.ZipFile, path: str) -> bool:
    """Whether the sheet's bytes hold a formula element (or the look of one: the parse
    that follows decides)."""
    with archive.open(path) as xml:
        tail = b""
        while True:
            block = xml.read(1 << 20)
            if not block:
                return False
            if any(tag in tail + block[:8] or tag in block for tag in _FORMULA_TAGS):
                return True
            tail = block[-8:]
