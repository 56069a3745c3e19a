"""The header row of a CSV file or workbook: its column names must be field paths, each once.

Checked before any row is read, so a misspelt column stops the run instead of silently
dropping a field from every report.
"""
import csv
import itertools
from functools import lru_cache
from typing import Callable, Iterable, List, Optional

from .catalog import load_catalog
from .errors import InputDamaged, InputError
from .input_streams import LineTooLong
from .paths import join_path, split_path

_SHOWN = 10  # header problems spelt out; a sheet of thousands of wrong columns gets a count of the rest


def check_header(header: List[str], source: str, lettered: bool = False) -> List[str]:
    """Column names must be field paths, each once: a wrong one stops the run. Nameless
    columns after the last named one are left out (a spreadsheet's formatted blank columns,
    saved by Excel as ",,," on every line); a value under one is its row's problem.
    `lettered`: columns are named as a workbook's are (column C), else by number."""
    header = list(header)
    while header and not (header[-1] or "").strip():
        header.pop()
    if not header:
        raise InputError("row 1 (header) names no columns: the first line must list the field paths "
                         "(`medwatch fields --csv-template` writes a correct header)", source)
    catalog = load_catalog()
    called = column_letters if lettered else str
    problems: List[Callable[[], str]] = []  # spelt out (with the nearest path) only if shown
    seen, paths = {}, []
    for column, name in enumerate(header, 1):
        name = (name or "").strip()  # as the user wrote it, for messages
        canonical = field_name(name)
        paths.append(canonical)
        if not name:
            problems.append(lambda column=column: f"column {called(column)} has no name")
            continue
        if canonical in seen:
            problems.append(lambda column=column, name=name, first=seen[canonical]:
                            f"column {called(column)} '{_shown(name)}' repeats column {called(first)}")
        seen[canonical] = column
        if catalog.field(canonical) is None:
            problems.append(lambda column=column, name=name: _not_a_field(catalog, called(column), name,
                                                                          {p: called(c) for p, c in seen.items()}))
    if problems:
        told = [problem() for problem in problems[:_SHOWN]]
        more = len(problems) - _SHOWN
        own = any(text.endswith("is not a field") for text in told)  # ('Notes': a column of the clinic's own)
        raise InputError(f"row 1 (header): {'; '.join(told)}" + (f"; and {more:,} more" if more > 0 else "")
                         + (" (delete a column of your own, or head it with the field path it holds; "
                            if own else " (") + "`medwatch fields --csv-template` writes a correct header)", source)
    return paths


def column_letters(column: int) -> str:
    """A column's name as a spreadsheet shows it: 1 -> A, 28 -> AB (openpyxl is not loaded
    for a CSV file's header)."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@lru_cache(maxsize=8192)
def field_name(name: str) -> str:
    """A column name or JSON key as the one spelling of its field path that rows are keyed
    by: the catalog's path, lower case, indexed on repeating groups ('Suspect_Product/Dose ',
    'suspect_product/dose' -> 'suspect_product[1]/dose'; 'patient[1]/age' -> 'patient/age').
    Coercion, draft names, duplicate checks and problems then see one key per box, however
    the input spelt it. A name that is no field is kept as written (stripped), to be quoted
    back. Cached: a reader asks once per column, or per JSON key spelling."""
    name = name.strip()
    catalog = load_catalog()
    if catalog.field(name) is None:
        if catalog.field(name.lower()) is None:
            return name
        name = name.lower()
    return join_path(split_path(name), catalog.repeating, stray=True)


def header_paths(header: List[str], below: Iterable[List[str]], source: str, lettered: bool = False) -> List[str]:
    """`check_header`, and when row 1 is not a header, whether a row `below` it is (a report
    title above the column names, as EHR exports write one): then the error says so."""
    try:
        return check_header(header, source, lettered)
    except InputError as wrong:
        try:
            title = _header_below(below, source)
        except (csv.Error, LineTooLong, OSError, InputDamaged):
            title = None  # the rows below are no header either: the header's own error stands
        raise (title or wrong) from None


class HeaderFurtherDown(InputError):
    """Row 1 is not the header, and a row below it is (a report title above it)."""


def names_a_field(cells: Iterable[str]) -> bool:
    """Whether any cell names a field: row 1 is then a header, if a wrong one (not a sheet
    of something else, such as instructions or a log whose columns are 'Patient', 'Event')."""
    catalog = load_catalog()
    return any(catalog.field(field_name(c)) is not None for c in cells if c and c.strip())


def _header_below(rows: Iterable[List[str]], source: str, looked: int = 10) -> Optional[InputError]:
    """The error naming the row that holds the header, when one of the next rows names only
    fields, or mostly (three or more, and a column of the clinic's own such as 'Notes': it
    was told as row 1's title being no field), and how many rows to delete above it; None
    when none does."""
    catalog = load_catalog()
    for number, names in enumerate(itertools.islice(rows, looked - 1), 2):
        named = [n.strip() for n in names if n and n.strip()]
        other = [n for n in named if catalog.node(n) is None and catalog.node(n.lower()) is None]
        if named and (not other or (len(named) - len(other) >= 3 and len(other) * 2 < len(named))):
            above = number - 1
            also = "" if not other else (f"; then delete its columns that are no fields, or head them with the field "
                                         f"path each holds: {', '.join(repr(_shown(n)) for n in other[:3])}"
                                         + (f" and {len(other) - 3:,} more" if len(other) > 3 else ""))
            return HeaderFurtherDown(f"row 1 is not the header: the field paths are on row {number}; delete the "
                                     f"{above} row{'s' * (above > 1)} above it (a report title, say){also}", source)
    return None


def _not_a_field(catalog, column: str, name: str, named: dict) -> str:
    """Why a column is no field, with the nearest field; `named` are the header's fields and
    their columns: the nearest one named already is said so ('patient/agee' beside patient/age
    was told "did you mean 'patient/age'?", and following it, "repeats column 3")."""
    group = catalog.group(name) or catalog.group(name.lower())
    if group is not None:  # 'suspect_product': its fields are the columns
        return f"column {column} '{_shown(name)}' is a group of fields, not a field: its fields are columns " \
               f"such as '{catalog.entry_example(group)}'"
    hint = catalog.suggest(name) if len(name) <= _NAME_SHOWN else None  # a page of text is no misspelt path
    if hint and field_name(hint) in named:
        return (f"column {column} '{_shown(name)}' is not a field, and the nearest, '{hint}', is column "
                f"{named[field_name(hint)]} already: a column left over?")
    return f"column {column} '{_shown(name)}' is not a field" + (f"; did you mean '{hint}'?" if hint else "")


_NAME_SHOWN = 60  # characters of a column name a message quotes: a web page read as CSV has a 169 KB one


def _shown(name: str) -> str:
    return name if len(name) <= _NAME_SHOWN else name[:_NAME_SHOWN] + "…"
