"""Dates as people and other systems write them, read into the schema's partial ISO dates.

A partial date ('2026-11', '2026') is how the form holds a day or month not known. US
forms write month first; other systems' unambiguous forms are read too, and what could be
read two ways (a two-digit year, a day written first) is refused with how to write it.
"""
import re
from datetime import date

from .errors import ValueProblem

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
MONTH_NAMES = [month.capitalize() for month in _MONTHS]  # Jan ... Dec


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
