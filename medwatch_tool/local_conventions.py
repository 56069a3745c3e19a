"""How a semicolon-separated file writes numbers and dates: where it comes from, the comma
is the decimal mark and the day comes first. Its reader converts such cells to the
schema's forms before the boxes' own conversions, and marks what reads two ways (Refused).
"""
import re
from datetime import date
from typing import Dict, Iterable, Optional, Tuple

from .catalog import load_catalog
from .dates import MONTH_NAMES
from .decimals import NUMBER_THEN_WORDS


class Refused(str):
    """A cell its reader already knows cannot be read one way only (a date or number that
    reads two ways in a semicolon-separated file): coerce_values refuses it at its box with `why`."""

    def __new__(cls, text: str, why: str):
        cell = str.__new__(cls, text)
        cell.why = why
        return cell

    def __reduce__(self):  # rows cross to the workers pickled
        return Refused, (str(self), self.why)


# thousands grouped by points, a decimal comma after them or not (1.500,5; 1.500.000), and a
# plain decimal comma (72,5): a group never begins with 0, so 0.125 is a decimal point's
_GROUPED_BY_POINTS = re.compile(r"-?[1-9]\d{0,2}(?:\.\d{3}){2,}(?:,\d+)?|-?[1-9]\d{0,2}\.\d{3},\d+|-?\d+,\d+")
_ONE_GROUP = re.compile(r"(-?[1-9]\d{0,2})\.(\d{3})")  # 1.500: fifteen hundred, or one and a half?
_ONE_COMMA_GROUP = re.compile(r"(-?[1-9]\d{0,2}),(\d{3})")  # 1,500: one and a half, or fifteen hundred?


def from_decimal_comma(text: str) -> str:
    """A number as written where the comma is the decimal mark and the point groups
    thousands (1.500,5; 1.500.000; 72,5), in the schema's form (1500.5, 1500000, 72.5): how
    a semicolon-separated file writes numbers. One group after a point (1.500, 72.500) reads
    both ways, the point grouping there and a decimal point elsewhere (2.5 and 12.50 are
    plainly decimals), and so does one group after a comma (1,500: a decimal comma here, a
    thousands separator in a US export saved with semicolons): it is Refused with both
    readings, as a thousandfold dose error either way. Anything else is left as it is, for
    the box's own conversion to accept or refuse. A unit after the number ('1.500,5 mg') is kept."""
    m = NUMBER_THEN_WORDS.fullmatch(" ".join(text.split()))
    number, unit = (m.group(1), f" {m.group(2)}") if m else (text.strip(), "")
    comma = _ONE_COMMA_GROUP.fullmatch(number)
    if comma:  # 1,500: one and a half here, fifteen hundred wherever the point is the decimal mark
        whole, part = comma.groups()
        return Refused(text, f"'{text.strip()}' is ambiguous (a comma before three digits is a decimal comma in a "
                             f"file separated by semicolons, and groups thousands where the decimal mark is a "
                             f"point): write {whole}{part} (without a thousands separator) or "
                             f"{_decimal_comma(whole, part)} (with a decimal comma)")
    if _GROUPED_BY_POINTS.fullmatch(number):
        return number.replace(".", "").replace(",", ".") + unit
    one = _ONE_GROUP.fullmatch(number)
    if one:
        whole, part = one.groups()
        return Refused(text, f"'{text.strip()}' is ambiguous (this file, separated by semicolons, may group "
                             f"thousands with a point): write {whole}{part} (without a thousands separator) or "
                             f"{_decimal_comma(whole, part)} (with a decimal comma)")
    return text


def _decimal_comma(whole: str, part: str) -> str:
    return f"{whole},{part}".rstrip("0").rstrip(",")


_DAY_FIRST_STYLE = re.compile(r"\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4})((?:T| ).*)?\s*")


def from_day_first(text: str, why: str = "this file, separated by semicolons, may write the day first") -> str:
    """A date as written where the day comes first (03.11.2026, 26/11/2026): as ISO. A
    semicolon-separated file comes from such a place, where 03/11/2026 is 3 November; read
    US-style it would be 11 March, silently. So a date with slashes or dashes whose first
    two numbers could both be the month is Refused with both readings (`why` says why the
    day may come first); one that can be read one way only is read that way; dots are
    day-first wherever they are used."""
    m = _DAY_FIRST_STYLE.fullmatch(text)
    if not m:
        return text
    first, mark, second, year, rest = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4), m.group(5) or ""
    if mark in "/-" and first != second and first <= 12 and second <= 12:
        return Refused(text, f"'{text.strip()}' could be {first} {MONTH_NAMES[second - 1]} or {second} "
                             f"{MONTH_NAMES[first - 1]} {year} ({why}): write {year}-{second:02d}-{first:02d} "
                             f"or {year}-{first:02d}-{second:02d}")
    day, month = (second, first) if mark in "/-" and second > 12 else (first, second)
    try:
        return f"{date(int(year), month, day).isoformat()}{rest}"
    except ValueError:
        return text  # not a date either way: the box's own reading says so


# a date that can only have been written day first: 16/10/2026, 31-01-2025 (day 13-31, month 1-12),
# and one that can only have been written month first: 10/16/2026
_ONLY_DAY_FIRST = re.compile(r"\s*(((?:1[3-9]|2\d|3[01]))([/-])(0?[1-9]|1[0-2])\3(\d{4}))(?:[T ].*)?\s*")
_ONLY_MONTH_FIRST = re.compile(r"\s*(((?:0?[1-9]|1[0-2]))([/-])(1[3-9]|2\d|3[01])\3(\d{4}))(?:[T ].*)?\s*")

LOOKED_AT = 1000  # rows: a file written day first shows it in its first rows (most days are after the 12th)


def day_first_sign(rows: Iterable[Tuple[int, Dict[str, str]]]) -> Optional[tuple]:
    """The first date cell that can only have been written day first, its row and its
    column ('16/10/2026', 7, 'event/event_date'), among `rows` ((row number, date column ->
    cell) of the file's first LOOKED_AT rows), and the first that can only have been written
    month first (the same three, or None); None when there is no day-first one.

    A comma-separated file written where the day comes first (a British or Australian
    clinic's export) reads 03/11/2025 as 11 March, US-style, without a word: only its dates
    after the 12th were refused. One such date in a date column shows the file's slashed
    dates are in doubt (a lot number 13-11-2024, or a letter from abroad quoted in a
    description, says nothing of how the file writes dates). A day that no month has
    (31/4/2026, 30/02/2026: a slip, "not a date either way") shows nothing: it made a US
    file refuse its 3/4/2026 as "3 Apr or 4 Mar"."""
    day_first = month_first = None
    for number, cells in rows:
        for path, cell in cells.items():
            if not cell or cell[0] not in " 0123456789":
                continue
            if day_first is None:
                found = _ONLY_DAY_FIRST.fullmatch(cell) if cell[0] in " 123" else None
                if found and _is_day(found.group(5), found.group(4), found.group(2)):
                    day_first = (found.group(1), number, path)
            if month_first is None:
                found = _ONLY_MONTH_FIRST.fullmatch(cell)
                if found and _is_day(found.group(5), found.group(2), found.group(4)):
                    month_first = (found.group(1), number, path)
        if day_first and month_first:
            break
    return day_first + (month_first,) if day_first else None


def _is_day(year: str, month: str, day: str) -> bool:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


# a moment in UTC, as JavaScript's toISOString and many APIs write a date: 2026-02-28T23:00:00.000Z;
# Python's isoformat() and PostgreSQL write its zone +00:00 or +00, others UTC or GMT
_UTC_MOMENT = re.compile(r"\s*(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                         r" ?(?:Z|[+-]00(?::?00)?|UTC|GMT)\s*", re.IGNORECASE)


def utc_moment_note(unit: str, number: int, path: str, cell) -> Optional[str]:
    """A note when a date box holds a moment in UTC at another time than midnight: the date
    drafted is its date in UTC (the time is left out), which need not be the date where it
    happened (a date picked at midnight in Europe is written as the evening before in UTC);
    None for any other cell. Midnight UTC is how date-only values are written so: its date is
    the one meant."""
    found = _UTC_MOMENT.fullmatch(cell) if cell.__class__ is str and ":" in cell else None
    if found is None or (found.group(2), found.group(3), found.group(4) or "00") == ("00", "00", "00"):
        return None
    try:
        date.fromisoformat(found.group(1))
    except ValueError:
        return None  # no date: its box refuses it, and says why
    box, label = load_catalog().describe(path)
    return (f"{unit} {number} writes {box} {label.lower()} as a moment in UTC ({cell.strip()}): it is read as its "
            f"date in UTC, {found.group(1)}, which need not be the date where it happened (a date picked at "
            "midnight in Europe is written as the evening before in UTC): check such dates")
