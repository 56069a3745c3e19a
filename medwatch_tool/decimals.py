"""Numbers as written in a cell, read into the schema's plain decimals.

A comma is a thousands separator in one place and the decimal mark in another; reading it
the wrong way changes a dose or weight a thousandfold, so only what reads one way is read.
"""
import re
from decimal import Decimal, InvalidOperation

from .catalog import Field, load_catalog
from .errors import ValueProblem

# a number followed by words: '70 kg', '1.500mg', '52 years old' (not 1e400: no unit e400)
# (nor 36:00, a time span: no unit ":00"; nor 1_0: no unit "_0")
NUMBER_THEN_WORDS = re.compile(r"([-+]?[\d.,]+(?:[eE][-+]?\d+)?) ?(?![eE][-+]?\d+$)([^\d\s.,:_].*)")
_TIME_SPAN = re.compile(r"(\d+):([0-5]\d)(?::([0-5]\d))?")  # 36:00, 1:30:00: as Excel's [h]:mm shows a span


# (a group never begins with 0: 0,125.5 is no number)
_GROUPED = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+\.\d+|-?[1-9]\d{0,2}(?:,\d{3}){2,}|-?[1-9]\d?(?:,\d{2})+,\d{3}")
_GROUPED_WITH_DECIMAL_COMMA = re.compile(r"-?[1-9]\d{0,2}(?:\.\d{3})+,\d+")
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
# a bound, as lab results and estimates are written: <10, > 5, <=2, ≥ 1, less than 10, up to 3
_BOUND = re.compile(r"(?:<=?|>=?|[≤≥]|less than|more than|fewer than|under|over|below|above|at least|at most|"
                    r"up to)\s*(?=[\d.,])", re.IGNORECASE)
_BOUND_WORDS = {"<": "less than", ">": "more than", "<=": "at most", "≤": "at most", ">=": "at least", "≥": "at least"}


def _counts_hours(field: Field) -> bool:
    """Whether a number box's unit box takes hours (D3 duration): where a time span (36:00)
    can be written as a number of hours."""
    unit = load_catalog().unit_of(field.path)
    return unit is not None and any(choice.value == "hour" for choice in unit.choices)


def decimal_text(field: Field, raw: str) -> str:
    """`raw` as the number box `field` stores it (a ValueProblem when it is not one)."""
    text = raw.strip()
    if "," in text:
        text = _without_commas(text)
    try:
        if "_" in text:  # Python's digit grouping (1_000), no clinical system's: a typo, or two values run together
            raise InvalidOperation
        number = Decimal(text)
    except InvalidOperation:
        rough = _ROUGHLY.match(text)
        if rough and rough.end() < len(text):  # "about 70": the box holds a number, nothing more
            raise ValueProblem(f"'{raw.strip()}' is not a number: write it without '{rough.group().strip()}' "
                               f"({text[rough.end():]}); the box has no place for it (say in the description that "
                               "it is an estimate, if that matters)") from None
        bound = _BOUND.match(text)
        if bound:  # "<10": the box holds one number, not a bound
            said = _BOUND_WORDS.get(bound.group().strip(), bound.group().strip().lower())
            raise ValueProblem(f"'{raw.strip()}' is a bound, not a number: write the number alone "
                               f"({text[bound.end():]}), and say in the description that it was {said} that, "
                               "if that matters") from None
        span = _TIME_SPAN.fullmatch(text)
        if span and _counts_hours(field):
            hours = Decimal(span.group(1)) + Decimal(span.group(2)) / 60 + Decimal(span.group(3) or 0) / 3600
            raise ValueProblem(f"'{raw.strip()}' is a time span (hours:minutes), not a number: write the number of "
                               f"hours ({format(round(hours, 2).normalize(), 'f')}), or of days, with its unit in "
                               "the unit's box") from None
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
