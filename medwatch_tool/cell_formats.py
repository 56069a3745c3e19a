"""Cells whose format changes what Excel shows: read as shown, not as held.

A workbook holds a ZIP code 02134 as the number 2134 formatted "00000", 0.9% as 0.009
formatted "0.0%", a lot number 1.10 as 1.1 formatted "0.00", and a month typed as
"Nov 2026" as the date 2026-11-01 formatted "mmm-yy". Read as held, the ZIP code and the
lot number lose their zeros, the strength is a hundredth of what the user typed and sees,
and the date gains a day nobody gave. So these are read as Excel shows them:

- zero-padding and percent formats, as they show the number;
- fixed decimals ("0.00", "#,##0.000", "0.0#"): the number with the zeros shown after its
  point, when the format shows all its digits (1.10, and 5 as 5.00). A number box reads the
  same number either way (it drops trailing zeros); a text box (lot, model, a test result)
  gets the text the user sees. A number with more digits than shown (70.25 in "0.0") is
  only rounded on screen: what was typed is the number held, and it is read whole. Thousands
  separators and the decimal mark are how the computer's language shows a number (1.500,00
  in German): they are left out, the number written with a point. A unit shown after the
  number ('0.0 "mg"') is read with it, as with '0 "mg"' (it goes to its unit's box), and so
  is text written as text before it ('">"0.0' shows 3 as >3.0, a lab result's qualifier); a
  currency or an unquoted sign before it ('"$"0.00') keeps the number read as held;
- dates shown without a day ("mmm-yy", "mmmm yyyy", "yyyy-mm") or without a month ("yyyy"):
  as the partial date shown (2026-11, 2026), as the schema takes them. Excel fills the part
  not typed with 1 (Nov 2026 is held as 2026-11-01), so only a 1 is taken for a part not
  given: a date on another day (or month) was typed with it, or computed, and is read in
  full rather than a part of it dropped. A format with a time (h, s, AM/PM) is no partial date.

- a number shown in any other way ('#,##0', '0.##', '#', General) with text after it, a unit
  ('#,##0 "mcg"' shows 1000 as "1,000 mcg"; not a currency): the number as held and the text;

- scientific ("0.00E+00"): read as held, but marked (`InScientific`), as Excel gives a cell
  this format when what is typed reads as a number in E notation: a lot typed 12E4 is held
  as 120000 and shown as 1.20E+05, neither what was typed, so a box of a code printed on a
  label refuses it (workbook.py).

The other formats (thousands separators alone, fractions, currency) only round or decorate
a number, and the number itself is what the user typed.

Which cell styles carry such a format is worked out once per workbook, so a cell costs a
look-up of its style only when it holds a number or a date.
"""
import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Dict, List, Optional, Union

from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

Number = Union[int, float]
Shown = Callable[[Union[Number, date]], Optional[str]]  # a value as shown, or None to read it as held


def shown_values(book) -> Dict[int, Shown]:
    """The workbook's cell styles (by index, as a sheet's cells name them) whose number
    format shows a value otherwise than as held (see above), each with how it shows one."""
    shown: Dict[int, Shown] = {}
    for style, array in enumerate(book._cell_styles):  # openpyxl's own table, read from styles.xml
        number_format = array.numFmtId
        if not number_format:
            continue  # General: most styles
        if number_format < BUILTIN_FORMATS_MAX_SIZE:
            code = BUILTIN_FORMATS.get(number_format, "General")
        else:
            code = book._number_formats[number_format - BUILTIN_FORMATS_MAX_SIZE]
        reading = format_reading(code)
        if reading is not None:
            shown[style] = reading
    return shown


def format_reading(code: str) -> Optional[Shown]:
    """How a number format shows a value, when it changes what the value reads as."""
    sections = _sections(code)
    if not sections or any(_conditional(s) for s in sections):
        return None  # [<=9999999]###-####: which section applies depends on the value; left as is
    first = sections[0]
    bare = _bare(first)
    if "%" in bare:
        return _percent
    partial = _date_shown_without(bare)
    if partial is not None:
        return partial
    placed = _placeholders(first)
    if placed is not None and placed != [None]:
        unit = _text_after_number(first)  # '0 "mcg"': 2.5, shown rounded to 3 mcg, is 2.5 mcg
        if unit is None:
            return lambda value: _padded(placed, value)
        return lambda value: _padded(placed, value) or (number_text(value) + unit if _is_number(value) else None)
    scientific = _E_NOTATION.search(bare)
    if scientific:
        whole, places, exponent = (len(part or "") for part in scientific.groups())
        return lambda value: InScientific.of(value, whole, places, exponent)
    decimals = _fixed_decimals(first)
    if decimals is not None:
        at_least, at_most, whole_digits, after, before = decimals
        zero_shown_otherwise = len(sections) > 2  # "0.00;-0.00;\"-\"": zero has a section of its own
        if before and len(sections) > 1:  # '"+"0.0;"-"0.0': a negative number is shown by its own section,
            # whose text this reading does not take: read as held (-3, not "-+3.0")
            return lambda value: None if _is_number(value) and value < 0 else _decimals(
                value, at_least, at_most, whole_digits, zero_shown_otherwise, after, before)
        return lambda value: _decimals(value, at_least, at_most, whole_digits, zero_shown_otherwise, after, before)
    unit = _text_after_number(first)
    if unit is not None:
        return lambda value: number_text(value) + unit if _is_number(value) else None
    return None


# a number shown in any other way ('#,##0', '0.##', '#', General) with text written as text
# after it: a unit ('#,##0 "mcg"' shows 1000 as "1,000 mcg")
_NUMBER_THEN_TEXT = re.compile(r'(General|[#0?,]*[#0?](?:\.[#0?]*)?)((?:\s|"[^"]*"|\\.)*)', re.I)


def _text_after_number(section: str) -> Optional[str]:
    """The text a format shows after a number, with the spaces before it (' mcg' of
    '#,##0 "mcg"', of '[Blue]0.## "mcg"', of 'General" mcg"'), when that is all it adds; None
    for any other format, for a currency after it ('#,##0 "€"': a decoration), and for a
    number scaled by commas after its digits ('#,##0,"K"' shows 150000 as 150K). The number
    is read as held (one rounded on screen was typed in full), with this text: a dose whose
    unit only the format shows keeps it (read as held, 1000 mcg was drafted as 1000 in the
    dose unit column's mg)."""
    plain = _NUMBER_THEN_TEXT.fullmatch(_UNSEEN.sub("", section).strip())
    if plain is None:
        return None
    after = _QUOTED.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), plain.group(2))
    if not after.strip() or any(unicodedata.category(ch) == "Sc" for ch in after):
        return None
    return after


# 0.00E+00, ##0.0E+0 (engineering: the exponent a multiple of 3): the digits before and after
# the point, and the exponent's
_E_NOTATION = re.compile(r"([0#?]+)(?:\.([0#?]*))?[eE][+-](0*)")


class InScientific(str):
    """A number shown by a scientific format, as held ('120000'); `shown` is what Excel
    shows ('1.20E+05')."""

    shown = ""

    @classmethod
    def of(cls, value, whole: int, places: int, exponent: int) -> Optional["InScientific"]:
        """`value` with what a format of `whole` digits before the point, `places` after it
        and `exponent` digits in the exponent shows: 1.5E+3 in 0.0E+0, 120.0E+3 in ##0.0E+0."""
        if not _is_number(value):
            return None
        cell = cls(number_text(value))
        held, step = Decimal(format(value, ".15g")), max(whole, 1)  # (engineering: a power a multiple of 3)
        power = held.adjusted() - held.adjusted() % step if held else 0
        mantissa = _half_away(held.scaleb(-power), places)
        if abs(mantissa) >= 10 ** step:  # 9.96 rounds to 10.0: 1.0E+1
            power += step
            mantissa = _half_away(held.scaleb(-power), places)
        cell.shown = f"{mantissa}E{'-' if power < 0 else '+'}{abs(power):0{max(exponent, 1)}d}"
        return cell


def _half_away(number: Decimal, places: int) -> Decimal:
    """`number` to `places` decimals as Excel rounds, half away from zero (1.25 -> 1.3)."""
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def number_text(value: Number) -> str:
    """A number as a cell reads: a whole one without '.0' (the form the schema takes, and a
    long ID keeps its digits), others to the 15 significant digits Excel works with (0.1*3 is
    0.3, not 0.30000000000000004)."""
    if value.__class__ is float:
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    return str(value)


def _sections(code: str) -> List[str]:
    """A format's sections (positive;negative;zero;text), split outside quotes."""
    sections, current, quoted, escaped = [], [], False, False
    for ch in code:
        if escaped:
            escaped = False
        elif ch == "\\" and not quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            sections.append("".join(current))
            current = []
            continue
        current.append(ch)
    sections.append("".join(current))
    return sections


def _conditional(section: str) -> bool:
    bare = section.lstrip()
    return bare.startswith(("[<", "[>", "[="))


def _bare(section: str) -> str:
    """A section without what only decorates it: quoted and escaped text, [colours], [$-locales],
    and the characters after _ (a space as wide) and * (repeated to fill)."""
    out, i = [], 0
    while i < len(section):
        ch = section[i]
        if ch == '"':
            end = section.find('"', i + 1)
            i = len(section) if end < 0 else end + 1
        elif ch in "\\_*":
            i += 2
        elif ch == "[":
            end = section.find("]", i + 1)
            i = len(section) if end < 0 else end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_LITERALS = "-+() "  # shown as they are between digit placeholders ("00000-0000", "(000) 000-0000")


def _placeholders(section: str) -> Optional[List[Optional[str]]]:
    """A section made only of 0 placeholders (None) and literal text, as zero-padding
    formats are ("00000", "000-00-0000"); None for any other format."""
    tokens: List[Optional[str]] = []
    i = 0
    while i < len(section):
        ch = section[i]
        if ch == '"':
            end = section.find('"', i + 1)
            if end < 0:
                return None
            tokens.append(section[i + 1:end])
            i = end + 1
            continue
        if ch == "\\" and i + 1 < len(section):
            tokens.append(section[i + 1])
            i += 2
            continue
        if ch == "0":
            tokens.append(None)
        elif ch in _LITERALS:
            tokens.append(ch)
        else:
            return None  # '#', '.', ',', '%', 'E', '/', '?', '@', a bracket: not only padding
        i += 1
    return tokens if None in tokens else None


def _is_number(value) -> bool:
    return value.__class__ is int or value.__class__ is float


def _padded(placed: List[Optional[str]], value: Number) -> Optional[str]:
    """A whole number in its placeholders, zeros in front (2134 in "00000" is 02134); digits
    beyond the placeholders go in front of the first, as Excel puts them."""
    if not _is_number(value) or not float(value).is_integer():
        return None  # 2134.6 in "00000" shows 02135: a rounding, read as the number held
    digits = str(abs(int(value)))
    zeros = placed.count(None)
    digits = digits.zfill(zeros)
    extra = len(digits) - zeros
    out, at = [], 0
    for token in placed:
        if token is None:
            take = 1 + extra
            out.append(digits[at:at + take])
            at, extra = at + take, 0
        else:
            out.append(token)
    return ("-" if value < 0 else "") + "".join(out)


def _percent(value: Number) -> Optional[str]:
    """A number as a percent format shows it, a hundred times over with a %: 0.009 is 0.9%.
    All its digits, to Excel's 15 significant ones (0.0% shows 0.009 rounded; 0.9% is what
    was typed and is kept)."""
    if not _is_number(value):
        return None
    hundredfold = Decimal(format(value, ".15g")).scaleb(2).normalize()
    return f"{hundredfold:f}%"


_TIME = re.compile(r"[hs]|am/pm|a/p")


def _date_shown_without(bare: str) -> Optional[Shown]:
    """How a date format that shows no day (or no day and no month) shows a date; None for
    any other format. `bare` is the first section without its decoration: a year (y) and no
    day (d) nor time (h, s, AM/PM; an m beside them is minutes)."""
    letters = bare.lower()
    if "y" not in letters or "d" in letters or _TIME.search(letters):
        return None
    return _month_shown if "m" in letters else _year_shown


def _excel_filled(value) -> Optional[date]:
    """The date when its day is the one Excel fills in for a month typed alone (the 1st, at
    midnight); None for a date or time that was given with it."""
    if value.__class__ is datetime:
        if value.hour or value.minute or value.second or value.microsecond:
            return None  # a time of day: computed or typed, not a month typed alone
    elif value.__class__ is not date:
        return None  # a number in a date format openpyxl did not take for one
    return value if value.day == 1 else None


def _month_shown(value) -> Optional[str]:
    """A date shown as its month ("mmm-yy": Nov-26): 2026-11-01 is 2026-11."""
    held = _excel_filled(value)
    return None if held is None else f"{held.year:04d}-{held.month:02d}"


def _year_shown(value) -> Optional[str]:
    """A date shown as its year ("yyyy"): 1987-01-01 is 1987; 1987-04-01 keeps its month."""
    held = _excel_filled(value)
    if held is None:
        return None
    return f"{held.year:04d}" if held.month == 1 else f"{held.year:04d}-{held.month:02d}"


_UNSEEN = re.compile(r"\[[^\]]*\]|_.|\*.")  # [Red], [$-409]; _) a space as wide; * repeated to fill
# the number, and the text after it (a unit: "mg"); before it, only text written as text
# ('">"0.0' shows >3.0), not an unquoted sign (a currency: $0.00)
_FIXED = re.compile(r'((?:"[^"]*"|\\.)(?:\s|"[^"]*"|\\.)*)?([#0,]*)\.(0+)(#*)((?:\s|"[^"]*"|\\.)*)')
_QUOTED = re.compile(r'"([^"]*)"|\\(.)')


def _fixed_decimals(section: str):
    """(zeros after the point, digits after the point at most, zeros before it, the text
    shown after the number, the text shown before it) of a format that shows a plain number
    with fixed decimals ("0.00", "#,##0.000", "0.0#"), maybe followed by a unit ('0.0 "mg"',
    as the whole-number '0 "mg"' is read with it) or preceded by quoted text ('">"0.0'); None
    for any other, a currency or an unquoted sign before the number among them."""
    plain = _FIXED.fullmatch(_UNSEEN.sub("", section).strip())
    if plain is None:
        return None
    before, whole, zeros, more, after = plain.groups()
    before, after = (_QUOTED.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text or "")
                     for text in (before, after))
    if any(unicodedata.category(ch) == "Sc" for ch in before):
        return None  # '"$"#,##0.00', as Excel writes a currency: a decoration, the number read as held
    return len(zeros), len(zeros) + len(more), whole.count("0"), after, before


def _decimals(value: Number, at_least: int, at_most: int, whole_digits: int, zero_shown_otherwise: bool,
              after: str = "", before: str = "") -> Optional[str]:
    """A number as a fixed-decimals format shows it, when that shows all its digits: 1.1 in
    "0.00" is 1.10; 1.234 is only rounded to 1.23 on screen, and read as held (None), with
    the unit the format shows after it (0.5 in '0.0 "mg"' is "0.5 mg": the unit goes to its box)
    and the text before it (3 in '">"0.0' is ">3.0": a lab result's qualifier)."""
    if not _is_number(value) or (value == 0 and zero_shown_otherwise):
        return None
    # a float to Excel's 15 significant digits, as _cell_text reads it; a whole number as held
    held = Decimal(abs(value)) if value.__class__ is int else Decimal(format(abs(value), ".15g"))
    places = max(0, -held.as_tuple().exponent)
    sign = "-" if value < 0 else ""
    if places > at_most:
        shown = sign + before + format(abs(value), ".15g") + after if (before + after).strip() else None
    else:
        text = format(held, f".{max(places, at_least)}f")
        whole, point, fraction = text.partition(".")
        whole = whole.zfill(whole_digits) if whole != "0" or whole_digits else ""  # "#.00" shows 0.5 as .50
        shown = sign + before + whole + point + fraction + after
    return Qualified.of(shown, value, before.strip()) if shown is not None and before.strip() else shown


class Qualified(str):
    """A number shown with text before it by its format ('">"0.0': >3.0), as shown; `held`
    is the number, `qualifier` the text (a box of a number alone refuses it, workbook.py)."""

    held, qualifier = "", ""

    @classmethod
    def of(cls, shown: str, value: Number, qualifier: str) -> "Qualified":
        cell = cls(shown)
        cell.held, cell.qualifier = number_text(value), qualifier
        return cell
