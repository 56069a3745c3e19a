"""Turn what a person types or a spreadsheet holds into the schema's stored values.

Patients write "3 Nov 2026", "yes" or "United States"; clinicians' exports hold
"11/03/2026" or a route's label. The draft stores one canonical form per type (partial
ISO dates, true/false, code values, ISO country codes). The wizard and the batch reader
both convert through here, so the two never disagree.
"""
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

from .catalog import Field, load_catalog
from .code_lists import CodeProblem, code_value
from .countries import CountryProblem, country_code

Value = Union[str, List[str]]

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_TRUE = {"y", "yes", "true", "t", "1", "x", "on"}
_FALSE = {"n", "no", "false", "f", "0", "off"}


class ValueProblem(ValueError):
    """A value that cannot be stored in its field; the message is for the user."""


def _month(word: str) -> int:
    key = word.strip(".").lower()[:3]
    if key not in _MONTHS or not word.lower().startswith(key):
        raise ValueProblem(f"'{word}' is not a month name")
    return _MONTHS[key]


def _full(y: int, m: int, d: int, raw: str) -> str:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        raise ValueProblem(f"{raw} is not a date") from None


# a time of day after a full date, as exports and Excel's date-time cells write it:
# T14:30, 14:30:05.250, 2:30 PM, with a time zone or not
_TIME_OF_DAY = re.compile(r"(?:T| )(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?: ?[AP]\.?M\.?)?"
                          r"(?: ?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?", re.IGNORECASE)


# how people write a day in words: a weekday before the date, an ordinal day (3rd, 21st)
_WEEKDAY = re.compile(r"^(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.? ", re.IGNORECASE)
_ORDINAL = re.compile(r"\b([0-9]{1,2})(?:st|nd|rd|th)\b(?: of\b)?", re.IGNORECASE)

# a day, or day and month, not known, as case reports write it: UNK-Nov-2026, UN/NOV/2026, UNK-UNK-2026
_UNKNOWN = r"(?:UNK|UN|UK|XX|\?\?)[ /-]"
_UNKNOWN_PARTS = re.compile(f"{_UNKNOWN}({_UNKNOWN})?(.+)", re.IGNORECASE)


def parse_partial_date(raw: str) -> str:
    """'3 Nov 2026' -> '2026-11-03', 'Nov 2026' -> '2026-11', '2026' -> '2026'.

    Slashed dates are read US-style (month first), as on American forms; the FDA form's
    own dd-mmm-yyyy (03-Nov-2026) is accepted too, and the forms other systems export
    unambiguously: 2026/11/03, 20261103 (E2B, HL7), 03NOV2026 (SAS). A time of day after a
    full date (2026-11-03T14:30, 11/03/2026 2:30 PM) is left out: the form's date boxes
    hold days. An unknown day or month written as safety databases write it (UNK-Nov-2026,
    UNK-UNK-2026) leaves the date as precise as it is known (2026-11, 2026).
    """
    text = raw.strip()
    s = re.sub(r"\s+", " ", text.replace(",", " ")).strip()
    s = _ORDINAL.sub(r"\1", _WEEKDAY.sub("", s))  # "Tuesday November 3rd 2026" -> "November 3 2026"
    time_of_day = _TIME_OF_DAY.search(s) if ":" in s else None  # (most dates have no time)
    if time_of_day and time_of_day.end() == len(s) and time_of_day.start() >= 8:
        day = parse_partial_date(s[:time_of_day.start()])
        if len(day) == 10:
            return day
    unknown = _UNKNOWN_PARTS.fullmatch(s)
    if unknown:
        try:
            known = _known_date(unknown.group(2), text)
        except ValueProblem:
            known = ""  # refused below, in the words of the whole text
        if len(known) in ((4,) if unknown.group(1) else (4, 7)):  # UNK-03-Nov-2026: the day known and not
            return known
    return _known_date(s, text)


def _known_date(s: str, text: str) -> str:
    """`parse_partial_date` of `s` (spaces tidied, no unknown parts); `text` as written."""
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)  # no 8 digits read month or day first make a month
    if m:
        return _full(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    m = re.fullmatch(r"(\d{4})(?:([-/])(\d{1,2})(?:\2(\d{1,2}))?)?", s)
    if m:
        y, mo, d = m.group(1), m.group(3), m.group(4)
        if d:
            return _full(int(y), int(mo), int(d), text)
        if mo:
            if not 1 <= int(mo) <= 12:
                raise ValueProblem(f"{text} is not a date (month {mo})")
            return f"{y}-{int(mo):02d}"
        return y
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", s)
    if m:
        first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if first > 12 >= second >= 1:  # 16/10/2026: written day first, where every date of the file is in doubt
            raise ValueProblem(f"{text} is not a date read month first, as on American forms: if the day comes "
                               f"first here, write dates as {year}-{second:02d}-{first:02d} (08/10 would be read "
                               f"as 10 August)")
        return _full(year, first, second, text)
    m = re.fullmatch(r"(\d{1,2})/(\d{4})", s)
    if m:
        if not 1 <= int(m.group(1)) <= 12:
            raise ValueProblem(f"{text} is not a date (month {m.group(1)})")
        return f"{m.group(2)}-{int(m.group(1)):02d}"
    m = re.fullmatch(r"(\d{1,2})[ /-]?([A-Za-z]+\.?)[ /-]?(\d{4})", s)  # 03-Nov-2026, SAS's 03NOV2026
    if m:
        return _full(int(m.group(3)), _month(m.group(2)), int(m.group(1)), text)
    m = re.fullmatch(r"([A-Za-z]+\.?) (\d{1,2}) (\d{4})", s)
    if m:
        return _full(int(m.group(3)), _month(m.group(1)), int(m.group(2)), text)
    m = re.fullmatch(r"([A-Za-z]+\.?)[ /-](\d{4})", s)
    if m:
        return f"{m.group(2)}-{_month(m.group(1)):02d}"
    m = re.fullmatch(r"\d{1,2}([/.-])\d{1,2}\1(\d{2})|\d{1,2} ?[A-Za-z]+\.?[ /-]?(\d{2})", s)
    if m:  # 11/3/26: 2026, or a birth in 1926? Not guessed
        yy = m.group(2) or m.group(3)
        raise ValueProblem(f"'{text}' has a two-digit year: write the year in full (20{yy} or 19{yy}?)")
    raise ValueProblem(
        f"'{text}' is not a date; write e.g. 2026-11-03, 11/03/2026, 3 Nov 2026, Nov 2026 or 2026")


def _code(field: Field, text: str) -> str:
    try:
        return code_value(field, text)
    except CodeProblem as exc:
        raise ValueProblem(str(exc)) from None


def _country(text: str) -> str:
    try:
        return country_code(text)
    except CountryProblem as exc:
        raise ValueProblem(str(exc)) from None


_DECIMAL_COMMA_STYLE = re.compile(r"-?\d{1,3}(?:\.\d{3})+(?:,\d+)?|-?\d+,\d+")


# a number followed by words: '70 kg', '1.500mg', '52 years old'
_NUMBER_THEN_WORDS = re.compile(r"([-+]?[\d.,]+(?:[eE][-+]?\d+)?) ?([^\d\s.,].*)")


def from_decimal_comma(text: str) -> str:
    """A number as written where the comma is the decimal mark and the point groups
    thousands (1.500,5; 1.500; 72,5), in the schema's form (1500.5, 1500, 72.5): how a
    semicolon-separated file writes numbers. Anything else is left as it is, for the box's
    own conversion to accept or refuse. A unit after the number ('1.500 mg') is kept."""
    m = _NUMBER_THEN_WORDS.fullmatch(" ".join(text.split()))
    number, unit = (m.group(1), f" {m.group(2)}") if m else (text.strip(), "")
    if _DECIMAL_COMMA_STYLE.fullmatch(number):
        return number.replace(".", "").replace(",", ".") + unit
    return text


class Refused(str):
    """A cell its reader already knows cannot be read one way only (an ambiguous date in a
    day-first file): coerce_values refuses it at its box with `why`."""

    def __new__(cls, text: str, why: str):
        cell = str.__new__(cls, text)
        cell.why = why
        return cell

    def __reduce__(self):  # rows cross to the workers pickled
        return Refused, (str(self), self.why)


_DAY_FIRST_STYLE = re.compile(r"\s*(\d{1,2})([/.])(\d{1,2})\2(\d{4})((?:T| ).*)?\s*")
_MONTH_NAMES = [month.capitalize() for month in _MONTHS]  # Jan ... Dec


def from_day_first(text: str) -> str:
    """A date as written where the day comes first (03.11.2026, 26/11/2026): as ISO. A
    semicolon-separated file comes from such a place, where 03/11/2026 is 3 November; read
    US-style it would be 11 March, silently. So a slashed date whose first two numbers
    could both be the month is Refused with both readings; one that can be read one way
    only is read that way; dots are day-first wherever they are used."""
    m = _DAY_FIRST_STYLE.fullmatch(text)
    if not m:
        return text
    first, mark, second, year, rest = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4), m.group(5) or ""
    if mark == "/" and first != second and first <= 12 and second <= 12:
        return Refused(text, f"'{text.strip()}' could be {first} {_MONTH_NAMES[second - 1]} or {second} "
                             f"{_MONTH_NAMES[first - 1]} {year} (this file, separated by semicolons, may write "
                             f"the day first): write {year}-{second:02d}-{first:02d} or {year}-{first:02d}-{second:02d}")
    day, month = (second, first) if mark == "/" and second > 12 else (first, second)
    try:
        return f"{date(int(year), month, day).isoformat()}{rest}"
    except ValueError:
        return text  # not a date either way: the box's own reading says so


_GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+\.\d+|-?\d{1,3}(?:,\d{3}){2,}|-?\d{1,2}(?:,\d{2})+,\d{3}")
_GROUPED_WITH_DECIMAL_COMMA = re.compile(r"-?\d{1,3}(?:\.\d{3})+,\d+")
_ONE_COMMA = re.compile(r"(-?\d+),(\d+)")


def _without_commas(text: str) -> str:
    """A number written with commas, as a plain decimal; a ValueProblem when it is ambiguous.

    A comma is a thousands separator in one place and the decimal mark in another, and
    reading it the wrong way changes a dose or weight a thousandfold (0,125 mg is not
    125 mg). So only what can be read one way is read: groups with a decimal point
    (1,500.5), several groups (1,000,000; 1,00,000), European grouping with a decimal comma
    (1.500,5), and one comma not followed by exactly three digits, or after a lone 0, which
    can only be a decimal comma (72,5 kg; 0,125 mg). One comma before three digits (1,500:
    fifteen hundred, or one and a half?) is refused with both readings spelt out.
    """
    if _GROUPED.fullmatch(text):
        return text.replace(",", "")
    if _GROUPED_WITH_DECIMAL_COMMA.fullmatch(text):
        return text.replace(".", "").replace(",", ".")
    one = _ONE_COMMA.fullmatch(text)
    if one is None:
        raise ValueProblem(f"'{text}' is not a number")
    whole, part = one.groups()
    if len(part) != 3 or whole.lstrip("-") == "0":
        return f"{whole}.{part}"
    decimal = f"{whole}.{part}".rstrip("0").rstrip(".")
    raise ValueProblem(f"'{text}' is ambiguous: write {whole}{part} (without a thousands separator) "
                       f"or {decimal} (with a decimal point)")


_ROUGHLY = re.compile(r"(?:about|approx(?:\.|imately)?|around|roughly|circa|ca\.|~|\+/-)\s*", re.IGNORECASE)


def _decimal(field: Field, raw: str) -> str:
    text = raw.strip()
    if "," in text:
        text = _without_commas(text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        rough = _ROUGHLY.match(text)
        if rough and rough.end() < len(text):  # "about 70": the box holds a number, nothing more
            raise ValueProblem(f"'{raw.strip()}' is not a number: write it without '{rough.group().strip()}' "
                               f"({text[rough.end():]}); the box has no place for it (say in the description that "
                               "it is an estimate, if that matters)") from None
        raise ValueProblem(f"'{raw.strip()}' is not a number") from None
    if not number.is_finite():
        raise ValueProblem(f"'{raw.strip()}' is not a number")
    if number == 0:
        number = Decimal(0)  # 0E-999999 would be written out with a million zeros
    elif not -30 <= number.adjusted() <= 30:  # 1e999999: a million digits, or an overflow
        raise ValueProblem(f"'{raw.strip()}' is far outside any value this box can hold")
    if field.kind == "integer":
        if number != number.to_integral_value():
            raise ValueProblem(f"'{raw.strip()}' is not a whole number")
        return str(int(number))
    return format(number.normalize(), "f")  # no trailing zeros: "1.0 mg" is misread as 10 mg (ISMP)


def coerce_one(field: Field, raw: str) -> str:
    """Convert one answer for `field`; raise ValueProblem with a plain reason."""
    return _converter(field.path)(str(raw).strip())


def _convert(field: Field, text: str) -> str:
    if field.kind == "date":
        return parse_partial_date(text)
    if field.kind == "boolean":
        if text.lower() in _TRUE:
            return "true"
        if text.lower() in _FALSE:
            return "false"
        raise ValueProblem(f"'{text}' is not yes or no")
    if field.kind == "code":
        return _code(field, text)
    if field.kind in ("decimal", "integer"):
        return _decimal(field, text)
    if field.type_name == "Country":
        return _country(text)
    return _text_check(field)(text)


def coerce_value(field: Field, raw) -> Value:
    """Convert a raw answer (string, number, list or ';'-separated list) for `field`.

    Returns "" for an empty answer, a list for multi-valued fields.
    """
    if raw is None:
        return [] if field.multiple else ""
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    if field.multiple:
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(";")
        out = []
        for item in items:
            if str(item).strip():
                for value in _one_or_listed(field, str(item)):
                    if value not in out:
                        out.append(value)
        return out
    if isinstance(raw, (list, tuple)):
        raise ValueProblem("takes one value, not a list")
    text = str(raw).strip()
    return coerce_one(field, text) if text else ""


def _one_or_listed(field: Field, item: str) -> List[str]:
    """One answer of a several-answer box, or, for a code list, answers listed with commas
    ("death, hospitalization", as a spreadsheet cell lists them) when each part is a code.
    The whole is tried first: a choice's own words may hold a comma."""
    try:
        return [coerce_one(field, item)]
    except ValueProblem:
        if field.kind != "code" or "," not in item:
            raise
        return [coerce_one(field, part) for part in item.split(",") if part.strip()]  # names the part refused


_COLUMNS: Dict[str, Tuple[Optional[Field], Optional[Callable[[str], str]]]] = {}


def _column(path: str) -> Tuple[Optional[Field], Optional[Callable[[str], str]]]:
    """The field a path names and, for a one-value field, what converts its stripped text.
    Remembered per path in _COLUMNS (a batch converts the same few dozen columns row after
    row; coerce_values looks there first, a plain dict lookup); bounded for JSON keys."""
    field = load_catalog().field(path)
    column = (field, None) if field is None or field.multiple else (field, _converter(field.path))
    if len(_COLUMNS) >= 8192:
        _COLUMNS.clear()
    _COLUMNS[path] = column
    return column


@lru_cache(maxsize=1024)
def _converter(box: str) -> Callable[[str], str]:
    """How a box's stripped text is converted: text is checked against the box's limits;
    dates, codes, numbers and countries are converted once per distinct text (a batch
    converts the same few "intrathecal", "yes", "kg" or dates thousands of times)."""
    field = load_catalog().field(box)
    if field.kind == "text" and field.type_name != "Country":
        return _text_check(field)
    return _remembering(field)


def _remembering(field: Field) -> Callable[[str], str]:
    """`coerce_one` for one field with its own memory of converted texts (bounded): a
    column holds the same few codes, yes/no answers, units and dates row after row."""
    memory: Dict[str, Tuple[bool, str]] = {}

    def convert(text: str) -> str:
        known = memory.get(text)
        if known is None:
            try:
                known = (True, _convert(field, text))
            except ValueProblem as exc:
                known = (False, str(exc))
            if len(memory) >= 4096:
                memory.clear()  # memory stays flat on a long run
            memory[text] = known
        if known[0]:
            return known[1]
        raise ValueProblem(known[1])
    return convert


def _text_check(field: Field) -> Callable[[str], str]:
    """How a text box's answer is checked, its limits looked up once: too long or not in the
    box's pattern is a ValueProblem; anything else is kept as typed."""
    limit = field.max_length or 0
    pattern = re.compile(field.pattern) if field.pattern else None

    def check(text: str) -> str:
        if limit and len(text) > limit:
            raise ValueProblem(f"is {len(text)} characters long; at most {limit} fit in this box")
        if pattern is not None and pattern.fullmatch(text) is None:
            raise ValueProblem(f"'{text}' does not look like a valid {field.label.lower()}")
        return text
    return check


def coerce_values(values: Mapping[str, object]) -> Tuple[Dict[str, Value], List[Tuple[str, str]]]:
    """Convert a whole mapping of path -> raw answer.

    Returns the converted values (empty answers dropped) and a list of (path, message) for
    what could not be converted or is not a known field. A placeholder for "no value" ("N/A",
    "-", "unknown") that the box cannot take counts as an empty answer.
    """
    out: Dict[str, Value] = {}
    problems: List[Tuple[str, str]] = []
    columns = _COLUMNS
    unknown = 0
    for path, raw in values.items():
        field, convert = columns.get(path) or _column(path)
        if convert is not None and raw.__class__ is str:  # a spreadsheet cell: the common case
            text = raw.strip()
            if not text:
                continue
            try:
                out[path] = convert(text)
            except ValueProblem as exc:
                if text.casefold() in _NOT_GIVEN:
                    continue  # "N/A" in a date, number or code box: an empty cell, not a wrong one
                if not _number_with_its_unit(path, field, text, values, out, problems):
                    problems.append((path, str(exc)))
            continue
        if isinstance(raw, Refused) and field is not None:
            problems.append((path, raw.why))
            continue
        if field is not None and (raw == "" or raw is None):
            continue  # an empty cell of a known column
        if field is None:
            unknown += 1
            if unknown <= _UNKNOWN_SHOWN:
                hint = load_catalog().suggest(path)
                problems.append((path, f"'{path}' is not a field" + (f"; did you mean '{hint}'?" if hint else "")))
            continue
        try:
            value = coerce_value(field, raw)
        except ValueProblem as exc:
            if not (isinstance(raw, str) and raw.strip().casefold() in _NOT_GIVEN):
                problems.append((path, str(exc)))
            continue
        if value not in ("", []):
            out[path] = value
    if unknown > _UNKNOWN_SHOWN:
        problems.append(("", f"and {unknown - _UNKNOWN_SHOWN:,} more keys that are not fields"))
    return out, problems


# what spreadsheets hold for "no value" (a code list with its own "unknown" choice takes that
# first; text boxes keep what was written)
_NOT_GIVEN = frozenset({"n/a", "n.a.", "n.a", "na", "not applicable", "-", "--", "\u2013", "\u2014", "none",
                        "nil", "unknown", "unk", "not known", "?", "not available"})

_UNKNOWN_SHOWN = 10  # a record from another system may hold thousands of keys that are not fields


@lru_cache(maxsize=1)
def _units() -> Dict[str, Field]:
    """Number box -> the code box holding its unit, from the schema: the unit box is the one
    asked `when` that number is given (A2 age -> age unit, D2 dose -> dose unit)."""
    catalog = load_catalog()
    units = {}
    for f in catalog.fields:
        number = catalog.field(f.when) if f.kind == "code" and f.when and "=" not in f.when else None
        if number is not None and number.kind in ("decimal", "integer"):
            units[number.path] = f
    return units


class NumberWithUnit(NamedTuple):
    """'70 kg' in A4 weight: number '70', unit the A4 weight unit box, code 'kg'."""

    number: str
    unit: Field
    code: str

    def unit_path(self, number_path: str) -> str:
        """Where the unit goes beside the number ('suspect_product[2]/dose' -> '.../dose_unit')."""
        return f"{number_path.rpartition('/')[0]}/{self.unit.name}".lstrip("/")


def number_and_unit(field: Field, text: str) -> Optional[NumberWithUnit]:
    """A number written with its unit ('70 kg' in A4 weight, '450 mcg' in D2 dose), or None
    when `text` is not that."""
    unit = _units().get(field.path)
    m = _NUMBER_THEN_WORDS.fullmatch(" ".join(text.split())) if unit is not None else None
    if m is None:
        return None
    try:
        return NumberWithUnit(m.group(1), unit, coerce_one(unit, m.group(2)))
    except ValueProblem:
        return None


def _number_with_its_unit(path: str, field: Field, text: str, values: Mapping[str, object],
                          out: Dict[str, Value], problems: List[Tuple[str, str]]) -> bool:
    """A number cell that holds its unit too: the number goes to its box and the unit to the
    unit's box, unless that box says another unit (then which is right is the user's call).
    False when the cell is not a number with a unit."""
    split = number_and_unit(field, text)
    if split is None:
        return False
    number, unit, code = split
    try:
        out[path] = coerce_one(field, number)
    except ValueProblem as exc:
        problems.append((path, str(exc)))
        return True
    unit_path = split.unit_path(path)
    given = str(values.get(unit_path) or "").strip()
    try:
        stated = coerce_one(unit, given) if given and given.casefold() not in _NOT_GIVEN else None
    except ValueProblem:
        return True  # the unit box's own answer is refused at that box
    if stated is None:
        out[unit_path] = code
    elif stated != code:
        del out[path]
        problems.append((path, f"'{text}' gives the unit as {code}, but {unit.box} {unit.label.lower()} "
                               f"says {stated}: leave the unit to one of them"))
    return True
