"""One line of a JSON Lines file as a row's field values, or why it cannot be one.

Values keep the text the file writes: a number is its JSON text (a report id `1e3` names
`1e3.xml`, not `1000.0.xml`; number boxes read the text), `true` is `true`. What Python's
json module reads but JSON is not (NaN, Infinity) and what no text holds (a lone UTF-16
surrogate) are told at the box or the line, in the file's own spelling, never in Python's.
"""
import json
import re
from typing import Dict, List, Optional, Tuple

from .catalog import load_catalog
from .draft import flatten
from .errors import InputError
from .header import field_name
from .local_conventions import Refused

_MAX_DIGITS = 4300  # as Python's own limit on reading an integer's digits


class _RepeatedKey(ValueError):
    """A JSON object naming one key twice: json.loads would keep the last value unsaid."""


class _TooManyDigits(ValueError):
    """A number of more digits than any box holds: quoted in a message it would be a page."""


def _object(pairs: list) -> dict:
    """A JSON object as a dict, refusing a repeated key (as a CSV header's repeated column)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        raise _RepeatedKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return obj


def _number(text: str) -> str:
    """A JSON number as the file writes it: float() would make `1e3` '1000.0' and `1e22`
    '1e+22' in a text box (a lot, a report id and its file name); number boxes read the text."""
    if len(text) > _MAX_DIGITS:
        raise _TooManyDigits(text)
    return text


_INFINITY = ("is not a number a box can hold (JSON has no {0}; a program writes it for a number too big "
             "or divided by zero): write the number, or null for no value")


class JsonLines:
    """Reads lines of one JSON Lines input. `nan_line` is the first line that held NaN, which
    is read as no value (see `_constant`), for the run's note; 0 while none did."""

    def __init__(self):
        self.nan_line = 0
        self._line = 0
        self._names: Dict[str, tuple] = {}  # each key's reading: keys repeat on every line
        self._decoder = json.JSONDecoder(object_pairs_hook=_object, parse_int=_number, parse_float=_number,
                                         parse_constant=self._constant)

    def _constant(self, name: str):
        """NaN is no value, as null is: pandas and Python's json write a missing number (an
        empty cell) as NaN, so a clinician's blank cell must stay a blank box, not become the
        word "nan" in a lot number, nor refuse a whole export. Infinity is a value gone wrong
        (an overflow): refused at its box."""
        if name == "NaN":
            self.nan_line = self.nan_line or self._line
            return None
        return Refused(name, f"'{name}' " + _INFINITY.format(name.lstrip("-")))

    def values(self, number: int, raw: str) -> Tuple[dict, Optional[str]]:
        """Line `number`'s field values, or ({}, why it cannot be read): ({its report id},
        why) when its JSON was read but its record is refused whole, so that problems.csv
        says which report that line is."""
        self._line = number
        decoded = None
        try:
            decoded = self._decode(raw)
            wrapper = _wrapper_of_reports(decoded)
            if wrapper:
                return {}, wrapper
            flat = flatten(decoded)
            problem = _refuse_surrogates(flat) if "\\u" in raw and _ESCAPED_SURROGATE.search(raw) else None
            return ({}, problem) if problem else (_json_fields(flat, self._names), None)
        except json.JSONDecodeError:
            return self._report_id_despite_controls(raw), self._syntax_problem(raw)
        except _RepeatedKey as exc:
            return self._report_id_in(raw), f"names '{_shown(exc.args[0])}' twice in one object: which value is meant?"
        except _TooManyDigits:
            return self._report_id_in(raw), f"has a number of over {_MAX_DIGITS:,} digits"
        except RecursionError:
            return {}, "is not a report: its JSON is nested hundreds of levels deep"
        except InputError as exc:
            return _report_id_of(decoded), _shown(exc.reason)

    def _decode(self, text: str):
        try:
            return self._decoder.decode(text)
        except json.JSONDecodeError:
            if not text.startswith("\ufeff"):
                raise
        # a byte order mark at the start of a line (files joined with `cat`): no character of the record
        return self._decoder.decode(text[1:])

    @staticmethod
    def _report_id_despite_controls(text: str) -> dict:
        """The report id of a record that is JSON but for a control character written raw in
        a text (its problem names the character), so that problems.csv says which report it
        is; {} for other broken JSON."""
        try:
            return _report_id_of(_RAW_CONTROLS.decode(text.lstrip("\ufeff")))
        except (ValueError, RecursionError):
            return {}

    def _report_id_in(self, text: str) -> dict:
        """The report id of a record refused for a repeated key or a long number, as
        _report_id_of gives it; {} when the record gives two (the key repeated is its id,
        or a section holding it): which is meant is the question the refusal asks."""
        text = text.lstrip("\ufeff")
        try:
            last_wins = _report_id_of(_LAST_WINS.decode(text))
            first_wins = _report_id_of(_FIRST_WINS.decode(text))
        except (ValueError, RecursionError):
            return {}
        return last_wins if last_wins == first_wins else {}

    def object_end(self, text: str, raw_controls: bool = False) -> Tuple[str, int]:
        """How the JSON object that `text` (one line, or lines joined) begins with ends:
        ("end", its index in `text`); ("unfinished", len(text)) when the text ends first, so
        that lines after it could finish it (the decoder runs out of text, not into a
        mistake); ("mistake", where) when the reading goes wrong before; ("", 0) when `text`
        begins no object. What is wrong inside an object that ends (a repeated key) is said
        when it is read."""
        start = len(text) - len(text.lstrip("\ufeff \t\r\n"))
        if not text.startswith("{", start):
            return "", 0
        try:
            return "end", (_RAW_CONTROLS if raw_controls else _LAST_WINS).raw_decode(text, start)[1]
        except json.JSONDecodeError as exc:
            if exc.pos >= len(text.rstrip()) or (raw_controls and exc.msg.startswith("Unterminated string")):
                return "unfinished", len(text)  # (a text whose line breaks are raw goes on past the end)
            return "mistake", exc.pos
        except RecursionError:
            return "mistake", len(text)

    @staticmethod
    def mistake(text: str) -> Tuple[int, str]:
        """(the line of `text` (lines joined), from 0, where its JSON goes wrong; what is
        wrong there, as a line's problem is said, its column counted on that line); (-1, "")
        when nothing is."""
        text = text.lstrip("\ufeff")
        try:
            _LAST_WINS.decode(text)
        except json.JSONDecodeError as exc:
            return exc.lineno - 1, _described(exc, text, one_line=False)  # (colno counts from its line's start)
        except RecursionError:
            return 0, "is not a report: its JSON is nested hundreds of levels deep"
        return -1, ""

    def _syntax_problem(self, raw: str) -> str:
        """What is wrong with a line that is not JSON, in words, with the column counted on
        the line itself (with its line break, an unfinished record was "at column 1" of the next)."""
        text = raw.rstrip("\r\n").lstrip("\ufeff")
        try:
            self._decoder.decode(text)
        except json.JSONDecodeError as exc:
            return _described(exc, text)
        except (ValueError, RecursionError):  # (not reached: the JSON error comes first, as it did)
            pass
        return "is not valid JSON"


def _wrapper_of_reports(decoded) -> str:
    """Why a line is refused that holds a list of reports under one key (an API's export:
    {"reports": [{...}, {...}]}), or "" when it does not: each report's boxes were told as
    "not a field" one by one."""
    if not isinstance(decoded, dict) or len(decoded) != 1:
        return ""
    (key, value), = decoded.items()
    sections = {group.name for group in load_catalog().sections}
    if load_catalog().group(key) is not None or not isinstance(value, list) or not value or not all(
            isinstance(item, dict) and sections & set(item) for item in value):
        return ""
    path = f".{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f".[{json.dumps(key, ensure_ascii=False)}]"
    return (f"holds {len(value)} report{'s' * (len(value) != 1)} in a list under '{_shown(key)}', not one report: "
            f"write one report per line, e.g. with `jq -c '{_shown(path)}[]' in.json > out.jsonl`")


_REPORT_ID = "admin/report_id"
# where an object ends and what it names, whatever is wrong inside (a repeated key, a long
# number: said when the record is read), a repeated key's last or first value kept
_LENIENT = dict(parse_int=str, parse_float=str, parse_constant=str)
_LAST_WINS = json.JSONDecoder(**_LENIENT)
_FIRST_WINS = json.JSONDecoder(object_pairs_hook=lambda pairs: dict(reversed(pairs)), **_LENIENT)
# and a control character written raw in a text (a line break, a CR, a tab: JSON writes them
# \n, \r, \t), as an exporter that builds its JSON by joining strings writes them
_RAW_CONTROLS = json.JSONDecoder(strict=False, **_LENIENT)


def _report_id_of(record) -> dict:
    """{"admin/report_id": id} of a record refused whole, when it gives one as text (nested
    or as a path, in any letter case), else {}."""
    for key, value in record.items() if isinstance(record, dict) else ():
        inner = value.items() if isinstance(value, dict) else ()
        for path, given in [(key, value), *((f"{key}/{k}", v) for k, v in inner)]:
            if given.__class__ is str and field_name(path) == _REPORT_ID:
                return {_REPORT_ID: given}
    return {}


def _described(exc: json.JSONDecodeError, text: str, one_line: bool = True) -> str:
    """A JSONDecodeError in words: Python's message ends in "at" (its position follows), and
    its advice for a byte order mark or two objects on a line is not the user's to act on.
    `one_line` False: `text` is a record over many lines, whose problem gives the advice."""
    column = exc.colno
    if exc.msg == "Extra data":
        if one_line and text[exc.pos:].lstrip().startswith("{"):
            return (f"holds two JSON objects, the second from column {column}: put each report on a line of its "
                    "own (neither was drafted)")
        return f"is not valid JSON (more text after the object ends, at column {column})"
    if exc.msg.startswith("Invalid control character"):
        return (f"is not valid JSON (a control character, U+{ord(text[exc.pos]):04X}, inside a text at column "
                f"{column}: write a tab as \\t and a line break as \\n)")
    what = exc.msg[:-3] if exc.msg.endswith(" at") else exc.msg  # "Unterminated string starting at"
    if exc.pos >= len(text.rstrip()):
        return f"is not valid JSON ({what} at column {column}, the end of the line: is the record cut short?)"
    return f"is not valid JSON ({what} at column {column})"


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # how JSON writes one (a line cannot hold one raw)


def _shown(text: str) -> str:
    """`text` with each lone surrogate written as its escape (\\ud800): it cannot be printed
    nor saved as UTF-8, and quoted raw in a message it stopped the run."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _SURROGATE.search(text) else text


def _refuse_surrogates(flat: dict) -> Optional[str]:
    """A lone UTF-16 surrogate ("\\ud800": half of an emoji, as a JavaScript exporter that cut
    a text writes it) is no character: a value holding one is refused at its box (Refused),
    a key holding one refuses the line (returned). Lines without a \\uD8xx-\\uDFxx escape hold none."""
    for path, value in flat.items():
        if _SURROGATE.search(path):
            half = _SURROGATE.search(path).group()
            return f"has a key '{_shown(path)}' holding {_shown(half)}, {_UNPAIRED}: correct the key"
        texts: List[str] = value if value.__class__ is list else [value] if isinstance(value, str) else []
        bad = next((t for t in texts if _SURROGATE.search(t)), None)
        if bad is not None:
            half = _SURROGATE.search(bad).group()
            flat[path] = Refused(_shown("; ".join(texts)), f"'{_shown(bad)}' contains {_shown(half)}, "
                                 f"{_UNPAIRED}, which no box holds: correct the text")
    return None


_UNPAIRED = "an unpaired UTF-16 surrogate (half of a character, as a program that cut a text inside an emoji writes)"


def _json_fields(flat: dict, names: Dict[str, tuple]) -> dict:
    """A JSON line's flat paths as fields, keyed as a CSV header's columns are (see
    header.field_name: 'Patient/age', 'patient[1]/age' and 'patient/age ' are 'patient/age'),
    a group given as null or [] (EHR JSON for "none") left out, and a field given twice
    ('suspect_product/name' beside 'suspect_product[1]/name', or in two letter cases)
    refused. `names` remembers each key's reading: keys repeat on every line."""
    out, given = {}, {}
    for path, value in flat.items():
        known = names.get(path)
        if known is None:
            if len(names) > 100_000:  # records of ever new keys: memory stays flat
                names.clear()
            name = field_name(path)
            known = names[path] = (name, load_catalog().group(name) is not None)
        name, group = known
        if group and (value == "" or value == []):
            continue
        if name in given:
            raise InputError(f"gives one field twice, as '{given[name]}' and '{path}': which value is meant?")
        given[name] = path
        out[name] = value
    return out
