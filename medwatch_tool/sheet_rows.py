"""A worksheet's cell values and a workbook's shared strings, read from their XML by lxml.

openpyxl reads a sheet through Python's expat and defusedxml's tree builder, written in
Python: 440-740 us of CPU a row of about 30 cells (bench/readers.py), slower than the
workers draft a row, so a batch from a workbook went at the pace of its reader; this reads
it in 140-200. The values are what openpyxl's own row parser gives with data_only (the
saved value of a formula, a date format's number as a date, a shared string's text), kept
in step with it by tests/test_sheet_rows.py; openpyxl still reads the workbook around
them (sheets, styles, date formats). A DOCTYPE, and with it any entity, is refused, nothing
is fetched from the network, and each row is dropped once read: memory stays flat (a
long shared string table, too: text_table.py).
"""
import codecs
import math
import re
from functools import lru_cache
from typing import Iterator, List, Optional, Sequence, Tuple

from lxml import etree
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import from_excel, from_ISO8601

from .errors import InputDamaged
from .text_table import TextTable

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE = f"{MAIN}row", f"{MAIN}c", f"{MAIN}v", f"{MAIN}is"
_TEXT, _RUN, _STRING = f"{MAIN}t", f"{MAIN}r", f"{MAIN}si"
_SHEET, _TABLE, _SHEET_DATA = f"{MAIN}worksheet", f"{MAIN}sst", f"{MAIN}sheetData"
EXCEL_COLUMNS = 16_384  # A to XFD: no spreadsheet program saves a row of more cells
# how every part of a workbook is parsed here: no entity expanded, nothing fetched
PARSER = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
              remove_comments=True, remove_pis=True)

ENTITIES_REFUSED = ("its XML declares entities, which this tool refuses: spreadsheet programs do not "
                    "write them, and they can expand a small file without bound or read other files")
# with a DOCTYPE naming an outside file, an entity declared nowhere is dropped by libxml2 with
# a warning only, taking the rest of its text with it (1&x;65 kg read as 1): none is read
DOCTYPE_REFUSED = ("its XML declares a document type (<!DOCTYPE>), which spreadsheet programs do not write "
                   "and this tool refuses: it can bring in entities from other files")
LAST_ROW = 1_048_576  # Excel's last row: a sheet numbering one beyond is damaged, not 10^14 rows long

_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")  # a cell's r="B7" (openpyxl's pattern)

Cell = Tuple[int, object, int]  # column (1 = A), value, style id


class DamagedCell(InputDamaged):
    """A cell whose saved value its type cannot be (a hand-edited or broken export, a
    number beyond what Excel holds); the reader of the sheet adds the field its column is for."""

    def __init__(self, where: str, column: int, held: str, expected: str, field: str = ""):
        self.where, self.column, self.held, self.expected = where, column, held, expected
        super().__init__(f"the workbook is damaged: cell {where}{f' ({field})' if field else ''} holds "
                         f"'{held[:40]}' where {expected} is saved")

    def in_field(self, field: str) -> "DamagedCell":
        return DamagedCell(self.where, self.column, self.held, self.expected, field)


def shared_strings(xml, part: str = "xl/sharedStrings.xml") -> Sequence[str]:
    """The shared string table's texts, formatting runs joined, as openpyxl reads them
    (read_string_table: without rich text), Excel's escapes decoded (`unescaped`); a long
    table mostly in a temporary file (text_table.py). `part` names it in messages."""
    table = TextTable()
    try:
        for item in _elements(xml, _TABLE, _STRING):
            table.add(_text(item))
    except etree.XMLSyntaxError as exc:
        table.close()
        raise InputDamaged(f"its shared texts ({part}) cannot be read: {_trouble(exc)[0]}") from None
    except BaseException:
        table.close()
        raise
    return table.done()


def sheet_cells(xml, strings: Sequence[str], date_styles, timedelta_styles, epoch,
                hidden=None) -> Iterator[Tuple[int, List[Cell]]]:
    """(row number, its cells) for each <row> of the sheet, in the sheet's order; the numbers
    of the rows hidden in Excel are added to `hidden` when given."""
    number = 0
    for row in _elements(xml, _SHEET, _ROW, until=_SHEET_DATA):
        number = row_number(row.get("r"), number)
        if len(row) > EXCEL_COLUMNS:
            raise InputDamaged(f"the workbook is damaged: its row {number} holds {len(row):,} cells, more than "
                               f"the {EXCEL_COLUMNS:,} columns of a sheet")
        if hidden is not None and row.get("hidden") in ("1", "true") and len(row):
            hidden.append(number)
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
            try:
                style = int(style) if style else 0  # (" 1" is 1, as openpyxl reads it)
            except ValueError:
                style = 0
            kind = "n" if kind is None else kind
            try:
                # the cells nearly every sheet holds, taken straight (lxml's child by index is cheap)
                only = cell[0] if len(cell) == 1 else None
                if kind == "s" and only is not None and only.tag == _VALUE and only.text:
                    value = strings[_index(only.text)]  # as Excel saves text
                elif kind == "inlineStr" and only is not None and only.tag == _INLINE:
                    value = _text(only)  # as openpyxl saves it
                else:
                    value = _value(cell, kind, strings, style, date_styles, timedelta_styles, epoch)
            except (ValueError, IndexError, OverflowError):
                raise DamagedCell(reference or _place(column, number), column, _held(cell),
                                  _HOLDS.get(kind, f"a value of type '{kind}'")) from None
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
        return strings[_index(value)]
    if kind == "n":
        number = float(value) if ("." in value or "e" in value or "E" in value) else int(value)
        if not math.isfinite(number):  # (a whole number past a double's range: OverflowError)
            raise ValueError(value)  # 1e999: no number Excel holds
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
    if kind == "str":  # a formula's text
        return unescaped(value)
    return value  # "e" (an error such as #N/A)


def _index(text: str) -> int:
    """A shared text's number in the table."""
    index = int(text)
    if index < 0:  # Python would count from the end
        raise IndexError(index)
    return index


_HOLDS = {"n": "a number", "s": "the number of a shared text", "b": "1 or 0 (true or false)", "d": "an ISO date"}


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescaped(text: str) -> str:
    """A text with Excel's escapes decoded: _x000D_ is a carriage return (Excel writes each
    line break of a text pasted from Windows so), _x0007_ a control character (refused at its
    box, as in a CSV file), _x005F_ the '_' that keeps a '_x000D_' typed as such from being
    read as one. Read as they stand, they went into a report's narrative as '_x000D_'."""
    if "_x" not in text:
        return text
    text = _ESCAPE.sub(_character, text)
    if _HALF.search(text):  # an emoji escaped as its two UTF-16 halves (_xD83D__xDE00_): joined
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return text


_HALF = re.compile("[\ud800-\udfff]")


def _character(escape: re.Match) -> str:
    return chr(int(escape.group(1), 16))


def _text(element) -> str:
    """The text of an <si> or <is>: its <t>, then each formatting run's <t> (not the phonetic
    ones); of two <t> where one belongs, the last, as openpyxl reads them; Excel's escapes
    decoded."""
    if len(element) == 1 and element[0].tag == _TEXT:  # (nearly every text: no formatting)
        return unescaped(element[0].text or "")
    plain, runs = "", []
    for child in element:
        tag = child.tag
        if tag == _TEXT:
            plain = child.text or ""
        elif tag == _RUN:
            text = ""
            for part in child:
                if part.tag == _TEXT:
                    text = part.text or ""
            if text:
                runs.append(text)
    return unescaped(plain + "".join(runs) if runs else plain)


_COLUMNS: dict = {}  # "B" -> 2, as met
_DIGITS = "0123456789"


def _column(reference: str) -> int:
    """The column number of a cell reference (B7 -> 2); a reference that is none is damage."""
    match = _REFERENCE.fullmatch(reference.strip())
    if match is None:
        raise InputDamaged(f"the workbook is damaged: a cell is placed at '{reference[:20]}', which is no cell")
    letters = match.group(1)
    if letters not in _COLUMNS:
        _COLUMNS[letters] = column_index_from_string(letters.upper())
    return _COLUMNS[letters]


def row_number(text, previous: int) -> int:
    """A row's r="7" (a whole float too, as openpyxl takes it); without one, the next row."""
    if text is None:
        number = previous + 1
    else:
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = 0.5
            if not number.is_integer():
                raise InputDamaged(f"the workbook is damaged: a row is numbered '{text[:20]}'") from None
            number = int(number)
    if number > LAST_ROW:
        raise InputDamaged(f"the workbook is damaged: a row is numbered {number:,}, past Excel's last row "
                           f"{LAST_ROW:,}")
    return number


def _place(column: int, row: int) -> str:
    """A cell's reference from its place (H3), or its column's number past Excel's last (XFD)."""
    return f"{get_column_letter(column)}{row}" if column <= _LAST_COLUMN else f"{column:,} of row {row}"


_LAST_COLUMN = 16_384  # XFD


def _held(cell) -> str:
    """What a damaged cell holds, as saved (its <v>, not its formula)."""
    for child in cell:
        if child.tag == _VALUE:
            return child.text or ""
    return "".join(cell.itertext())


def _elements(xml, root: str, tag: str, until: Optional[str] = None) -> Iterator[etree._Element]:
    """Each `tag` element of the part whose root is `root`, dropped (with what came before
    it) once the caller is done with it; none after the element `until` ends (a sheet's
    <sheetData>: what follows it, merged ranges and the like, is no row, and was kept in
    memory to the end of the part: two million merges took 1.5 GB). A DOCTYPE is refused when
    the root starts (or, under another root, before the first element is given out): libxml2
    has read the prolog and the first block by then, and an entity that explodes there is
    stopped by its own limit. A declared encoding libxml2 does not know by that name is given
    by one it knows."""
    xml, encoding = declared_encoding(xml)
    checked = False
    tags = (root, tag) if until is None else (root, tag, until)
    for event, element in etree.iterparse(xml, events=("start", "end"), tag=tags, encoding=encoding, **PARSER):
        if not checked:
            _refuse_doctype(element)
            checked = True
        if event == "end":
            if element.tag == tag:
                yield element
                drop(element)
            elif element.tag == until:
                return


def drop(element: etree._Element):
    """Free an element read by iterparse, and what came before it: memory stays flat."""
    element.clear()
    while element.getprevious() is not None:
        del element.getparent()[0]


def declares_entities(xml) -> bool:
    """Whether a part's XML declares entities in its prolog (however long its comments before
    it), parsed to its first element only; False for what does not parse (its reader says why)."""
    xml, encoding = declared_encoding(xml)
    try:
        for _, element in etree.iterparse(xml, events=("start",), encoding=encoding, **PARSER):
            return _entities_in(element.getroottree().docinfo.internalDTD)
    except etree.XMLSyntaxError:
        pass
    return False


def _entities_in(dtd) -> bool:
    return dtd is not None and any(True for _ in dtd.iterentities())


def _refuse_doctype(element: etree._Element):
    info = element.getroottree().docinfo
    dtd = info.internalDTD
    if _entities_in(dtd):
        raise InputDamaged(ENTITIES_REFUSED)
    if dtd is not None or info.doctype or info.system_url or info.public_id:
        raise InputDamaged(DOCTYPE_REFUSED)


_DECLARATION = re.compile(rb"\A<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
_HEAD = 1024  # bytes looked at for the declaration (which comes first, if at all)


def declared_encoding(xml):
    """The part's stream, whole, and the name of its declared encoding in a form libxml2 knows
    (None: as declared, or a byte order mark says), for a parse about to begin. Python's own
    XML writers declare 'latin-1' or 'utf_8', which openpyxl read and libxml2 refuses; their
    Python name is tried in libxml2's spellings."""
    head = b""
    while len(head) < _HEAD:
        block = xml.read(_HEAD - len(head))
        if not block:
            break
        head += block
    match = _DECLARATION.match(head)
    encoding = _libxml2_name(match.group(1).decode("ascii")) if match else None
    etree.clear_error_log()  # lxml's log is kept across parses: a failure of the parse to come names its own
    return _Rejoined(head, xml), encoding


@lru_cache(maxsize=32)
def _libxml2_name(declared: str) -> Optional[str]:
    if _libxml2_reads(declared):
        return None
    try:
        name = codecs.lookup(declared).name  # latin-1 -> iso8859-1, utf_8 -> utf-8
    except LookupError:
        return None  # unknown to Python too: libxml2 says so
    for spelling in (name, name.replace("_", "-"), name.replace("iso", "iso-", 1)):
        if _libxml2_reads(spelling):
            return spelling
    return None


def _libxml2_reads(encoding: str) -> bool:
    try:
        etree.fromstring(f'<?xml version="1.0" encoding="{encoding}"?><a/>'.encode("ascii"))
        return True
    except (etree.XMLSyntaxError, ValueError, LookupError):
        return False


class _Rejoined:
    """A stream whose first bytes, read to look at its declaration, are given back first."""

    def __init__(self, head: bytes, rest):
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            given, self.head = self.head + self.rest.read(), b""
            return given
        if self.head:
            given, self.head = self.head[:size], self.head[size:]
            return given
        return self.rest.read(size)


def damage_reason(exc: etree.XMLSyntaxError) -> str:
    """Why a workbook's XML cannot be read further, in one line a user can act on."""
    trouble, beyond_limits = _trouble(exc)
    return trouble if beyond_limits else f"the workbook is damaged: {trouble}"


def _trouble(exc: etree.XMLSyntaxError) -> Tuple[str, bool]:
    """What libxml2 found wrong, and whether it is one of its limits (a text of ten million
    characters, nesting 256 deep): no spreadsheet program comes near them, and the
    XML_PARSE_HUGE option libxml2 names is not the user's to set."""
    message, line, column = str(exc), None, None
    told = re.search(r", line (\d+), column (\d+)", message)  # libxml2's own numbering (lxml's offset is 0-based)
    if told:
        line, column = int(told.group(1)), int(told.group(2))
    last = getattr(exc.error_log, "last_error", None)
    if last is not None and not getattr(exc, "lineno", None):  # "no element found (line 0)" hides an
        message, line, column = last.message, last.line, last.column  # undefined entity (the log is this parse's)
    text = " ".join(message.replace("\n,", ",").split())
    text = re.sub(r" \(line 0\)$", "", text)  # (an empty part: nothing to point at)
    if "Text node too long" in text or "huge text node" in text.lower():
        return ("a cell holds more than 10,000,000 characters, which no spreadsheet program writes (Excel "
                "keeps at most 32,767 in a cell)"), True
    if "Excessive depth" in text:
        return "its XML is nested more than 256 elements deep, which no spreadsheet program writes", True
    text = re.sub(r",? line \d+, column \d+(?: \([^)]*\))?$", "", text)  # said once, below
    where = f" (line {line}, column {column})" if line and column is not None else (f" (line {line})" if line else "")
    return text + where, False
