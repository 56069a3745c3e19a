"""Numbers whose cell format changes what Excel shows: read as shown, not as held.

A workbook holds a ZIP code 02134 as the number 2134 formatted "00000", and 0.9% as 0.009
formatted "0.0%". Read as held, the ZIP code loses its zero and the strength is a
hundredth of what the user typed and sees. Only these two kinds of format change what a
value means; the others (decimals shown, thousands separators, currency signs) only round
or decorate it, and the number itself is what the user typed. Dates are openpyxl's.

Which cell styles carry such a format is worked out once per workbook, so a cell costs a
look-up of its style only when it holds a number.
"""
from decimal import Decimal
from typing import Callable, Dict, List, Optional, Union

from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

Number = Union[int, float]
Shown = Callable[[Number], Optional[str]]  # a number as shown, or None to read it as any number


def shown_numbers(book) -> Dict[int, Shown]:
    """The workbook's cell styles (by index, as a sheet's cells name them) whose number
    format zero-pads or shows a percent, each with how it shows a number."""
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
    """How a number format shows a number, when it changes what the number reads as."""
    sections = _sections(code)
    if not sections or any(_conditional(s) for s in sections):
        return None  # [<=9999999]###-####: which section applies depends on the value; left as is
    first = sections[0]
    if "%" in _bare(first):
        return _percent
    placed = _placeholders(first)
    if placed is not None and placed != [None]:
        return lambda value: _padded(placed, value)
    return None


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
