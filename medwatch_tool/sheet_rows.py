"""A worksheet's cell values and a workbook's shared strings, read from their XML by lxml.

openpyxl reads a sheet through Python's expat and defusedxml's tree builder, written in
Python: 440-740 us of CPU a row of about 30 cells (bench/readers.py), slower than the
workers draft a row, so a batch from a workbook went at the pace of its reader; this reads
it in 180-250. The values are what openpyxl's own row parser gives with data_only (the
saved value of a formula, a date format's number as a date, a shared string's text), kept
in step with it by tests/test_sheet_rows.py; openpyxl still reads the workbook around
them (sheets, styles, date formats). Entity declarations are refused, nothing is fetched from
the network, and each row is dropped once read: memory stays flat.
"""
import re
from typing import Iterator, List, Sequence, Tuple

from lxml import etree
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601

from .errors import InputDamaged

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE = f"{_MAIN}row", f"{_MAIN}c", f"{_MAIN}v", f"{_MAIN}is"
_TEXT, _RUN, _STRING = f"{_MAIN}t", f"{_MAIN}r", f"{_MAIN}si"
# how every part of a workbook is parsed here: no entity expanded, nothing fetched
PARSER = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
              remove_comments=True, remove_pis=True)

ENTITIES_REFUSED = ("its XML declares entities, which this tool refuses: spreadsheet programs do not "
                    "write them, and they can expand a small file without bound or read other files")

_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")  # a cell's r="B7" (openpyxl's pattern)

Cell = Tuple[int, object, int]  # column (1 = A), value, style id


class DamagedCell(InputDamaged):
    """A cell whose saved value its type cannot be (a hand-edited or broken export); the
    reader of the sheet adds the field its column is for."""

    def __init__(self, where: str, column: int, held: str, expected: str, field: str = ""):
        self.where, self.column, self.held, self.expected = where, column, held, expected
        super().__init__(f"the workbook is damaged: cell {where}{f' ({field})' if field else ''} holds "
                         f"'{held[:40]}' where {expected} is saved")

    def in_field(self, field: str) -> "DamagedCell":
        return DamagedCell(self.where, self.column, self.held, self.expected, field)


def shared_strings(xml) -> List[str]:
    """The shared string table's texts, formatting runs joined, as openpyxl reads them
    (read_string_table: without rich text, 'x005F_' dropped)."""
    strings = []
    for item in _elements(xml, _STRING):
        strings.append(_text(item).replace("x005F_", ""))
    return strings


def sheet_cells(xml, strings: Sequence[str], date_styles, timedelta_styles, epoch) -> Iterator[Tuple[int, List[Cell]]]:
    """(row number, its cells) for each <row> of the sheet, in the sheet's order."""
    number = 0
    for row in _elements(xml, _ROW):
        number = _row_number(row.get("r"), number)
        column, cells = 0, []
        for cell in row:
            if cell.tag != _CELL:
                continue  # an <extLst>: no cell
            reference, kind, style = cell.get("r"), cell.get("t"), cell.get("s")
            if reference:
                letters = reference.rstrip(_DIGITS)  # B7 -> B: a column seen before is looked up
                column = _COLUMNS.get(letters) if reference[len(letters):].isdigit() else None
                column = column or _column(reference)
            else:
                column += 1
            style = int(style) if style and style.isdigit() else 0
            try:
                value = _value(cell, kind or "n", strings, style, date_styles, timedelta_styles, epoch)
            except (ValueError, IndexError, OverflowError):
                raise DamagedCell(reference or f"{column} of row {number}", column, _raw(cell),
                                  _HOLDS.get(kind or "n", kind)) from None
            cells.append((column, value, style))
        yield number, cells


def _value(cell, kind: str, strings: Sequence[str], style: int, date_styles, timedelta_styles, epoch):
    """A cell's value as openpyxl's WorkSheetParser.parse_cell gives it (data_only). Its
    children are walked by hand: lxml's find() and iterchildren(tag) cost ten times more."""
    if kind == "inlineStr":  # (a <v> beside its <is> is not its value)
        for child in cell:
            if child.tag == _INLINE:
                return _text(child)
        return None
    value = None
    for child in cell:
        if child.tag == _VALUE:  # the saved value of a formula too
            value = child.text
            break
    if not value:
        return None
    if kind == "s":
        index = int(value)
        if index < 0:  # Python would count from the end
            raise IndexError(index)
        return strings[index]
    if kind == "n":
        number = float(value) if ("." in value or "e" in value or "E" in value) else int(value)
        if style in date_styles:
            try:
                return from_excel(number, epoch, timedelta=style in timedelta_styles)
            except (OverflowError, ValueError):
                return "#VALUE!"  # a date out of range: openpyxl's error value, refused at its box
        return number
    if kind == "b":
        return bool(int(value))
    if kind == "d":
        return from_ISO8601(value)
    return value  # "str" (a formula's text), "e" (an error such as #N/A)


_HOLDS = {"n": "a number", "s": "the number of a shared text", "b": "1 or 0 (true or false)", "d": "an ISO date"}


def _text(element) -> str:
    """The text of an <si> or <is>: its <t>, then each formatting run's <t> (not the phonetic ones)."""
    plain, runs = None, []
    for child in element:
        tag = child.tag
        if tag == _TEXT:
            if plain is None:
                plain = child.text or ""
        elif tag == _RUN:
            text = child.findtext(_TEXT)
            if text:
                runs.append(text)
    return (plain or "") + "".join(runs) if runs else (plain or "")


_COLUMNS: dict = {}  # "B" -> 2, as met
_DIGITS = "0123456789"


def _column(reference: str) -> int:
    """The column number of a cell reference (B7 -> 2); a reference that is none is damage."""
    match = _REFERENCE.fullmatch(reference)
    if match is None:
        raise InputDamaged(f"the workbook is damaged: a cell is placed at '{reference[:20]}', which is no cell")
    letters = match.group(1)
    if letters not in _COLUMNS:
        _COLUMNS[letters] = column_index_from_string(letters.upper())
    return _COLUMNS[letters]


def _row_number(text, previous: int) -> int:
    """A row's r="7" (a whole float too, as openpyxl takes it); without one, the next row."""
    if text is None:
        return previous + 1
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = 0.5
    if not number.is_integer():
        raise InputDamaged(f"the workbook is damaged: a row is numbered '{text[:20]}'")
    return int(number)


def _raw(cell) -> str:
    return "".join(cell.itertext())


def _elements(xml, tag: str) -> Iterator[etree._Element]:
    """Each `tag` element of the part, dropped (with what came before it) once the caller
    is done with it. Entity declarations are refused before any element is given out."""
    checked = False
    for _, element in etree.iterparse(xml, tag=tag, **PARSER):
        if not checked:
            _refuse_entities(element)
            checked = True
        yield element
        drop(element)


def drop(element: etree._Element):
    """Free an element read by iterparse, and what came before it: memory stays flat."""
    element.clear()
    while element.getprevious() is not None:
        del element.getparent()[0]


def _refuse_entities(element: etree._Element):
    dtd = element.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise InputDamaged(ENTITIES_REFUSED)
