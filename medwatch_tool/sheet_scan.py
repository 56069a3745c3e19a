"""What a sheet's XML says that its cells' values do not: formulas without a saved value,
and merged cells. Both would be read wrongly without a word, so the sheet is looked
through for them before any row is drafted.

Nearly every sheet has neither: its bytes are scanned for the look of them (a fiftieth of
the cost of parsing it), and only a sheet that shows one is parsed.
"""
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import List, Optional, Set, Tuple

from lxml import etree
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

from .sheet_rows import MAIN as _MAIN
from .errors import InputDamaged
from .sheet_rows import PARSER, declared_encoding, drop, row_number


MERGES_LOOKED_AT = 100_000  # merged ranges over rows: a sheet of rows has a few, if any


@dataclass
class Merge:
    """A merged range whose first cell holds a value: Excel shows that value across the
    range, but the workbook holds it in the first cell only."""

    ref: str  # as the sheet names it, "E2:E4"
    first_column: int
    last_column: int
    first_row: int
    last_row: int


@dataclass
class SheetScan:
    uncomputed: str = ""  # the first cell whose formula has no value saved with it
    merges: List[Merge] = field(default_factory=list)  # those over several rows below row 1, in sheet order


def scan_sheet(handle, path: str) -> SheetScan:
    """The sheet at `path` in the workbook's zip: its first uncomputed formula and its merges
    of a value over cells below row 1 (row 1 alone is a header's or a title's business).

    A workbook keeps each formula's last computed value, which is what is read (data_only).
    Programs that write workbooks without a spreadsheet engine (openpyxl, xlsxwriter) save
    formulas with no value, or with 0, and mark the workbook to be recomputed when opened
    (fullCalcOnLoad): such a cell would read as empty or as 0, a wrong dose
    without a word. Excel and LibreOffice always save the values."""
    with zipfile.ZipFile(handle) as archive:
        formulas, merges = _looks(archive, path)
        if not (formulas or merges):
            return SheetScan()  # (nearly every sheet)
        scan = _parse(archive, path, formulas and _recomputed_on_opening(archive))
        if scan.merges:  # only those whose first cell holds a value: an empty one hides nothing
            valued = _holding_values(archive, path, {(m.first_row, m.first_column) for m in scan.merges},
                                     max(m.first_row for m in scan.merges))
            scan.merges = [m for m in scan.merges if (m.first_row, m.first_column) in valued]
        return scan


_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _recomputed_on_opening(archive: zipfile.ZipFile) -> bool:
    """Whether the workbook part asks for its formulas to be computed when opened, as the
    programs that cannot compute them do (openpyxl's reading of it says yes when it is unsaid)."""
    parser = etree.XMLParser(**PARSER)
    try:
        package = etree.fromstring(archive.read("_rels/.rels"), parser)
        book = next((r.get("Target") for r in package.iter(_RELATIONSHIP)
                     if (r.get("Type") or "").endswith("/officeDocument")), "xl/workbook.xml")
        workbook = etree.fromstring(archive.read(_part(book)), parser)
    except KeyError:  # parts where this does not look for them: openpyxl found its way
        return False
    calculation = workbook.find(f"{_MAIN}calcPr")
    return calculation is not None and calculation.get("fullCalcOnLoad") in ("1", "true")


def _part(target: str) -> str:
    """A package part's name from a relationship's target in the package's own relationships."""
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(target)


def _parse(archive: zipfile.ZipFile, path: str, recompute: bool) -> SheetScan:
    """The first uncomputed formula (then the rest is not looked at) and the merged ranges
    of more than one cell that reach below row 1."""
    merges = []
    with archive.open(path) as part:
        xml, encoding = declared_encoding(part)  # read as the rows are ('latin-1' too)
        for _, element in etree.iterparse(xml, tag=(f"{_MAIN}f", f"{_MAIN}row", f"{_MAIN}mergeCell"),
                                          encoding=encoding, **PARSER):
            if element.tag == f"{_MAIN}row":  # done with: dropped, so memory stays flat
                drop(element)
            elif element.tag == f"{_MAIN}mergeCell":
                merge = _merge(element.get("ref") or "")
                drop(element)
                if merge is not None and merge.last_row > max(1, merge.first_row):  # over rows, below row 1
                    merges.append(merge)  # (one row's merge hides no other row's value: a footer, a heading)
                    if len(merges) > MERGES_LOOKED_AT:
                        break  # (the first ones are looked at: a sheet of rows has not so many)
            else:
                cell = element.getparent()
                value = cell.find(f"{_MAIN}v")
                if recompute or value is None or not (value.text or cell.get("t") == "str"):
                    return SheetScan(uncomputed=cell.get("r") or "?")
    return SheetScan(merges=merges)


def _merge(ref: str) -> Optional[Merge]:
    """A merged range of more than one cell, or None (a single cell, or no range of cells)."""
    try:
        first_column, first_row, last_column, last_row = range_boundaries(ref)
    except (ValueError, TypeError):
        return None
    if None in (first_column, first_row, last_column, last_row):
        return None
    if (first_column, first_row) == (last_column, last_row):
        return None
    return Merge(ref, first_column, last_column, first_row, last_row)


def _holding_values(archive: zipfile.ZipFile, path: str, firsts: Set[Tuple[int, int]],
                    last_row: int) -> Set[Tuple[int, int]]:
    """Which of the (row, column) cells `firsts` hold a value; the sheet is read to `last_row`.
    A row or cell without its reference (r= may be left out) is the one after the last, as
    the rows' reader places it (coordinate_to_tuple("") raised UnboundLocalError)."""
    found = set()
    row, column = 0, 0
    with archive.open(path) as part:
        xml, encoding = declared_encoding(part)
        for event, element in etree.iterparse(xml, events=("start", "end"), tag=(f"{_MAIN}c", f"{_MAIN}row"),
                                              encoding=encoding, **PARSER):
            if element.tag == f"{_MAIN}row":
                if event == "start":
                    try:
                        row = row_number(element.get("r"), row)
                    except InputDamaged:  # (the rows' reader says so, at that row)
                        row += 1
                    column = 0
                    continue
                drop(element)
                if row >= last_row:
                    break
                continue
            if event == "start":
                continue
            try:
                where = coordinate_to_tuple(element.get("r")) if element.get("r") else (row, column + 1)
            except (ValueError, TypeError):
                continue
            column = where[1]
            if where in firsts and "".join(element.itertext()).strip():  # a <v>, or an inline <is><t>
                found.add(where)
    return found


# <f>, <f t="shared" ...>, <x:f> (a text may say it too: the parse that follows decides)
_FORMULA_TAGS = (b"<f>", b"<f ", b":f>", b":f ")
_MERGE_TAGS = (b"<mergeCell ", b":mergeCell ")


def _looks(archive: zipfile.ZipFile, path: str) -> Tuple[bool, bool]:
    """Whether the sheet's bytes hold a formula element, and a merged range (or the look of
    them). A formula ends the scan: the parse that follows finds the merges too."""
    merges = False
    with archive.open(path) as xml:
        tail = b""
        while True:
            block = xml.read(1 << 20)
            if not block:
                return False, merges
            joined = tail + block[:16]
            if any(tag in joined or tag in block for tag in _FORMULA_TAGS):
                return True, merges
            merges = merges or any(tag in joined or tag in block for tag in _MERGE_TAGS)
            tail = block[-16:]
