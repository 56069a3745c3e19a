"""The header row of a CSV file or workbook: its column names must be field paths, each once.

Checked before any row is read, so a misspelt column stops the run instead of silently
dropping a field from every report.
"""
import csv
import itertools
from typing import Callable, Iterable, List, Optional, Tuple

from .catalog import load_catalog
from .errors import InputDamaged, InputError
from .input_streams import LineTooLong
from .paths import PathSyntaxError, split_path

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
        name, canonical = field_name((name or "").strip())
        paths.append(name)
        if not name:
            problems.append(lambda column=column: f"column {column} has no name")
            continue
        if canonical in seen:
            problems.append(lambda column=column, name=name, first=seen[canonical]:
                            f"column {column} '{_shown(name)}' repeats column {first}")
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


def field_name(name: str) -> Tuple[str, str]:
    """A column name or JSON key as a field path, and the form that tells two names of one
    field apart ('suspect_product/name' is 'suspect_product[1]/name'). 'Patient/Age', as a
    spreadsheet capitalises it, is 'patient/age': paths are lower case."""
    catalog = load_catalog()
    if catalog.node(name) is None and catalog.node(name.lower()) is not None:
        name = name.lower()
    try:
        return name, "/".join(f"{s}[{i}]" for s, i in split_path(name))
    except PathSyntaxError:
        return name, name


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
    hint = catalog.suggest(name) if len(name) <= _NAME_SHOWN else None  # a page of text is no misspelt path
    return f"column {column} '{_shown(name)}' is not a field" + (f"; did you mean '{hint}'?" if hint else "")


_NAME_SHOWN = 60  # characters of a column name a message quotes: a web page read as CSV has a 169 KB one


def _shown(name: str) -> str:
    return name if len(name) <= _NAME_SHOWN else name[:_NAME_SHOWN] + "…"
