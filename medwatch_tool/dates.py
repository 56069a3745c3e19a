"""Dates as people and other systems write them, read into the schema's partial ISO dates.

A partial date ('2026-11', '2026') is how the form holds a day or month not known. US
forms write month first; other systems' unambiguous forms are read too, and what could be
read two ways (a two-digit year, a day written first) is refused with how to write it.
"""
import calendar
import difflib
import re
import unicodedata
from datetime import date, timedelta
from functools import lru_cache

from .errors import ValueProblem

# each month's name in English, then in the languages of exports from abroad (German,
# French, Spanish, Dutch, Italian, Portuguese), without accents (looked up without them too)
_MONTH_WORDS = [names.split() for names in (
    "january januar janvier enero januari gennaio janeiro",
    "february februar fevrier febrero februari febbraio fevereiro",
    "march marz maerz mars marzo maart marco",
    "april avril abril aprile",
    "may mai mayo mei maggio maio",
    "june juni juin junio giugno junho",
    "july juli juillet julio luglio julho",
    "august aout agosto augustus",
    "september septembre septiembre setiembre settembre setembro",
    "october oktober octobre octubre ottobre outubro",
    "november novembre noviembre novembro",
    "december dezember decembre diciembre dicembre dezembro")]
# their short forms there that are no start of the English name (CLDR's and Italian usage:
# janv., juil., Okt, febbr.; not 'ago', 'out' nor 'set', English words)
_ABROAD_SHORT = {short: number for number, shorts in enumerate(
    ("janv ene gen genn", "fevr fev febbr", "mrt", "avr abr", "mag magg", "giu", "juil lug", "", "sett", "okt ott",
     "", "dez dic"), 1)
    for short in shorts.split()}
MONTH_NAMES = [names[0][:3].capitalize() for names in _MONTH_WORDS]  # Jan ... Dec


def _month(word: str) -> int:
    """The month a name names: the start of its English name, of three letters or more
    ("Nov", "Sept.", "November"), a slip in a long English name that keeps its first three
    letters ("Febuary", "Novmber"; not "Marsh", "Maya", "Jungle"), or its name in the
    languages of exports from abroad, whole, most of it or its usual short form ("Juni",
    "mars", "Noviem", "janv."). Not a word that only begins like one: "Maybe 2025" (an
    uncertain year) was read as May 2025, "Junk" as June; a closer look at slips read
    "Deptember" as December and "Fever" (fevereiro) as February: no more than this."""
    key = "".join(ch for ch in unicodedata.normalize("NFKD", word.strip(".").lower()) if ch.isalpha() and ch.isascii())
    if key in _ABROAD_SHORT:
        return _ABROAD_SHORT[key]
    if len(key) >= 3:
        for number, (english, *abroad) in enumerate(_MONTH_WORDS, 1):
            if (english.startswith(key) or key in abroad
                    or (len(english) >= 7 and key[:3] == english[:3]  # a slip: 'Febuary'
                        and difflib.SequenceMatcher(None, key, english).ratio() >= 0.8)
                    or (len(key) >= 5 and any(name.startswith(key) and 3 * len(key) >= 2 * len(name)
                                              for name in abroad))):  # most of a name: 'Noviem', not 'Fever'
                return number
    raise ValueProblem(f"'{word}' is not a month name: give the month (Nov 2026, 2026-11), or the year alone "
                       "(2026) if the month is not known")


def _month_or_none(word: str):
    try:
        return _month(word)
    except ValueProblem:
        return None


def _full(y: int, m: int, d: int, raw: str) -> str:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        if not 1 <= y:
            raise _year_out_of_range(raw, f"{y:04d}") from None
        if not 1 <= m <= 12:
            why = f"there is no month {m}"
        elif d > 0:
            why = f"{calendar.month_name[m]} {y} has {calendar.monthrange(y, m)[1]} days"
        else:
            why = "there is no day 0"
        raise ValueProblem(f"{raw} is not a date: {why}") from None


def _no_such_day(y: int, m: int, d: int) -> str:
    """Why day `d` of month `m` is not a date, in words."""
    if d > 31:
        return f"there is no day {d}"
    return f"{calendar.month_name[m]} {y} has {calendar.monthrange(y, m)[1]} days"


# a time of day after a full date, as exports and Excel's date-time cells write it:
# T14:30, 14:30:05.250, 2:30 PM, SAS's 03NOV2026:14:30:00, with a time zone or not (UTC,
# +01:00, or a US zone as US systems write it: EST, PDT, ET, AKST)
_TIME_OF_DAY = re.compile(r"(?:T| |:)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?: ?[AP]\.?M\.?)?"
                          r"(?: ?(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?|[ECMP][SD]?T|AK[SD]T|H[SD]T))?", re.IGNORECASE)
# 8 digits, and a time after them as ISO's basic form (20261103T1430) or HL7 (202611031430) write it
_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T\d{2}(?:\d{2}){0,2}|\d{4}(?:\d{2})?)?(?:\.\d+)?(?:Z|[+-]\d{4})?",
                     re.IGNORECASE)


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
    UNK-UNK-2026) leaves the date as precise as it is known (2026-11, 2026). A year before
    the form's first (0026, a year typed short) is refused as out of range.
    """
    day = _parse(raw)
    if int(day[:4]) < earliest_year():
        raise _year_out_of_range(raw, day[:4])
    return day


def _year_out_of_range(raw: str, year: str) -> ValueProblem:
    short = "; write the year in full" if int(year) < 1000 else ""
    return ValueProblem(f"{raw.strip()} is not a date: the year {year} is out of range (the form's dates "
                        f"begin in {earliest_year()}{short})")


@lru_cache(maxsize=1)
def earliest_year() -> int:
    """The first year the form's date boxes take, from report.xsd's PartialDate (read once)."""
    from .resources import schema_path
    from .safe_io import parse_xml_bytes

    xs = "{http://www.w3.org/2001/XMLSchema}"
    doc = parse_xml_bytes(schema_path("report.xsd").read_bytes(), "report.xsd")
    return min(int(el.get("value")[:4])
               for el in doc.iterfind(f"{xs}simpleType[@name='PartialDate']//{xs}minInclusive"))


def _parse(raw: str) -> str:
    """`parse_partial_date` but for the year's range."""
    text = raw.strip()
    s = re.sub(r"\s+", " ", text.replace(",", " ")).strip()
    s = _ORDINAL.sub(r"\1", _WEEKDAY.sub("", s))  # "Tuesday November 3rd 2026" -> "November 3 2026"
    time_of_day = _TIME_OF_DAY.search(s) if ":" in s else None  # (most dates have no time)
    if time_of_day and time_of_day.end() == len(s) and time_of_day.start() >= 8:
        day = _parse(s[:time_of_day.start()])
        if len(day) == 10:
            return day
    unknown = _UNKNOWN_PARTS.fullmatch(s)
    numbered = unknown and not unknown.group(1) and re.fullmatch(r"(\d{1,2})[ /.-](\d{4})", unknown.group(2))
    if numbered:  # UNK-11-2026: the day not known, the month in digits (it was "'UNK' is not a month name")
        if not 1 <= int(numbered.group(1)) <= 12:
            raise ValueProblem(f"{text} is not a date (month {numbered.group(1)})")
        return f"{numbered.group(2)}-{int(numbered.group(1)):02d}"
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
    m = _DIGITS.fullmatch(s)  # no 8 digits read month or day first make a month
    if m:
        return _full(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    m = re.fullmatch(r"(\d{4})(?:([-/.])(\d{1,2})(?:\2(\d{1,2}))?)?", s)  # 2026-11-03, 2026/11/03, 2026.11.03
    if m and not (m.group(2) == "." and not m.group(4)):  # 2026.11 could be a number; 2026.11.03 is not
        y, mo, d = f"{int(m.group(1)):04d}", m.group(3), m.group(4)  # (\d takes any script's digits: ２０２６)
        if d:
            return _full(int(y), int(mo), int(d), text)
        if mo:
            if not 1 <= int(mo) <= 12:
                raise ValueProblem(f"{text} is not a date (month {mo})")
            return f"{y}-{int(mo):02d}"
        return y
    m = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})", s)  # 11/03/2026 as US forms write it; 11-03-2026
    if m:
        first, mark, second, year = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        if mark == ".":  # 04.03.2026: day first, as wherever dates are written with dots (not on US forms)
            if first != second and 1 <= first <= 12 and 1 <= second <= 12:
                raise ValueProblem(f"'{text}' has dots, as dates written day first do: if it is {first} "
                                   f"{calendar.month_name[second]} {year}, write {year}-{second:02d}-{first:02d}")
            return _full(year, first, second, text) if second > 12 else _full(year, second, first, text)
        if mark == "-":  # month first in the US, day first in India, the Netherlands...: no convention to go by
            if first != second and first <= 12 and second <= 12:
                raise ValueProblem(f"'{text}' could be {first} {MONTH_NAMES[second - 1]} or {second} "
                                   f"{MONTH_NAMES[first - 1]} {year} (dates with dashes are written month first "
                                   f"in some places, day first in others): write {year}-{second:02d}-{first:02d} "
                                   f"or {year}-{first:02d}-{second:02d}")
            return _full(year, second, first, text) if first > 12 else _full(year, first, second, text)
        if first > 12 >= second >= 1:  # 16/10/2026: written day first, where every date of the file is in doubt
            if year < 1:
                return _full(year, second, first, text)  # (out of range, said as such)
            if first > calendar.monthrange(year, second)[1]:  # 31/02/2026: not a date either way
                raise ValueProblem(f"{text} is not a date either way: there is no month {first}, and "
                                   f"{_no_such_day(year, second, first)}")
            raise ValueProblem(f"{text} is not a date read month first, as on American forms: if the day comes "
                               f"first here, write dates as {year}-{second:02d}-{first:02d} (08{mark}10 would be "
                               f"read as 10 August)")
        return _full(year, first, second, text)
    m = re.fullmatch(r"(\d{1,2})/(\d{4})", s)
    if m:
        if not 1 <= int(m.group(1)) <= 12:
            raise ValueProblem(f"{text} is not a date (month {m.group(1)})")
        return f"{m.group(2)}-{int(m.group(1)):02d}"
    m = re.fullmatch(r"(\d{1,2})\.?[ /-]?([^\W\d_]+\.?)[ /-]?(\d{4})", s)  # 03-Nov-2026, SAS's 03NOV2026, 3. März 2026
    if m:
        return _full(int(m.group(3)), _month(m.group(2)), int(m.group(1)), text)
    m = re.fullmatch(r"([^\W\d_]+\.?)[ /-](\d{1,2})[ /-](\d{4})", s)  # Nov 3 2026, Nov-3-2026
    if m:
        return _full(int(m.group(3)), _month(m.group(1)), int(m.group(2)), text)
    m = re.fullmatch(r"(\d{4})[ /-]([^\W\d_]+\.?)(?:[ /-](\d{1,2}))?", s)  # 2026 Nov, 2026-Nov-03
    if m:
        if m.group(3):
            return _full(int(m.group(1)), _month(m.group(2)), int(m.group(3)), text)
        return f"{m.group(1)}-{_month(m.group(2)):02d}"
    m = re.fullmatch(r"([^\W\d_]+\.?)[ /-](\d{4})", s)
    if m:
        return f"{m.group(2)}-{_month(m.group(1)):02d}"
    m = re.fullmatch(r"\d{1,2}([/.-])\d{1,2}\1(\d{2})|\d{1,2}[ /-]?[^\W\d_]+\.?[ /-]?(\d{2})", s)
    if m:  # 11/3/26, 4-Mar-26: 2026, or a birth in 1926? Not guessed
        yy = m.group(2) or m.group(3)
        raise ValueProblem(f"'{text}' has a two-digit year: write the year in full (20{yy} or 19{yy}?)")
    m = re.fullmatch(r"([^\W\d_]+)\.?[/-](\d{2})", s)
    month = _month_or_none(m.group(1)) if m else None
    if month:  # Mar-26, as Excel writes a date formatted mmm-yy into a CSV
        yy = m.group(2)
        named = MONTH_NAMES[month - 1]
        if 1 <= int(yy) <= calendar.monthrange(2000, month)[1]:  # (or the 26th of March, its year left out)
            raise ValueProblem(f"'{text}' could be {named} 20{yy} (a two-digit year) or {named} {int(yy)} without "
                               f"its year: write the date in full (20{yy}-{month:02d}, or the day with its year)")
        raise ValueProblem(f"'{text}' has a two-digit year: write the year in full (20{yy} or 19{yy}?)")
    if s.isdigit() and len(s) == 5 and _SERIAL_FROM <= int(s) <= _SERIAL_TO:
        day = (date(1899, 12, 30) + timedelta(days=int(s))).isoformat()
        raise ValueProblem(f"'{text}' is not a date but looks like a spreadsheet's number for one ({day}), its date "
                           f"format lost: format the column as dates, or write {day} if that is the date")
    raise ValueProblem(
        f"'{text}' is not a date; write e.g. 2026-11-03, 11/03/2026, 3 Nov 2026, Nov 2026 or 2026")


# a date as Excel and LibreOffice count them (days since 30 December 1899), 1950 to 2099:
# what a date cell shows once its date format is lost (a CSV export of a General column)
_SERIAL_FROM, _SERIAL_TO = 18264, 73050
