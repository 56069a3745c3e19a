"""Turn what a person types or a spreadsheet holds into the schema's stored values.

Patients write "3 Nov 2026", "yes" or "United States"; clinicians' exports hold
"11/03/2026" or a route's label. The draft stores one canonical form per type (partial
ISO dates, true/false, code values, ISO country codes). The wizard and the batch reader
both convert through here, so the two never disagree.
"""
import json
import re
import unicodedata
from functools import lru_cache
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

from .catalog import Field, load_catalog, lowered
from .code_lists import CodeProblem, code_value
from .countries import CountryProblem, country_code
from .dates import parse_partial_date
from .decimals import NUMBER_THEN_WORDS, decimal_text
from .draft import unstorable
from .errors import ValueProblem
from .local_conventions import Refused

__all__ = ["ValueProblem", "parse_partial_date", "coerce_one", "coerce_value", "coerce_values", "number_and_unit",
           "not_of_its_form",
           "NumberWithUnit", "unit_refusal"]

Value = Union[str, List[str]]

_TRUE = {"y", "yes", "true", "t", "1", "x", "on"}
_FALSE = {"n", "no", "false", "f", "0", "off"}


def _code(field: Field, text: str) -> str:
    try:
        return code_value(field, text)
    except CodeProblem as exc:
        yes_no = _as_yes_no(field, text)
        if yes_no:
            return yes_no
        raise ValueProblem(str(exc)) from None


def _as_yes_no(field: Field, text: str) -> str:
    """A yes/no answer (`true`, `1`, `x`, JSON's true) in a code list that holds yes and no
    among other answers (C1 available: yes, no, returned; D7 dechallenge): the spellings a
    yes/no box takes, so that a boolean column of an export is read the same in both kinds."""
    answer = "yes" if text.lower() in _TRUE else "no" if text.lower() in _FALSE else ""
    return answer if answer and field.choice(answer) is not None else ""


def _country(text: str) -> str:
    try:
        return country_code(text)
    except CountryProblem as exc:
        raise ValueProblem(str(exc)) from None


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
        return decimal_text(field, text)
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
        if field.kind == "text" and not field.multiple:
            raise ValueProblem(f"is {raw}, a yes/no answer (JSON {raw}), but this box takes text: "
                               f'write the text in quotes ("{raw}") if that is what it says')
    if field.multiple:
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(";")
        out = []
        for item in items:
            text = "" if item is None else str(item).strip()
            if not text:
                continue
            try:
                values = _one_or_listed(field, text)
            except ValueProblem:
                if text.casefold() in NOT_GIVEN:
                    continue  # ["Declined"], as JSON lists a race not given: as "Declined" alone
                raise
            for value in values:
                if value not in out:
                    out.append(value)
        if field.max_occurs and len(out) > field.max_occurs:  # (the XSD's "is not expected here" said it darkly)
            raise ValueProblem(f"{len(out)} answers are given ({'; '.join(out)}), and this box takes at most "
                               f"{field.max_occurs}: keep those that matter most")
        return out
    if isinstance(raw, (list, tuple)):
        if not any(item is not None and str(item).strip() for item in raw):
            return ""  # [] or [null]: as null, no value
        raise ValueProblem("takes one value, not a list")
    text = str(raw).strip()
    return coerce_one(field, text) if text else ""


def _one_or_listed(field: Field, item: str) -> List[str]:
    """One answer of a several-answer box, or, for a code list or a box of fixed form,
    answers listed with commas ("death, hospitalization", "2889, 1234", as a spreadsheet
    cell lists them) when each part is one. The whole is tried first: a choice's own words
    may hold a comma."""
    try:
        return [coerce_one(field, item)]
    except ValueProblem:
        if (field.kind != "code" and not field.pattern) or "," not in item:
            raise  # (a pattern's box, such as E device problem codes, holds no comma in an answer)
        return [coerce_one(field, part) for part in item.split(",")  # names the part refused
                if part.strip() and part.strip().casefold() not in NOT_GIVEN]  # ("white, declined": white)


_COLUMNS: Dict[str, Tuple[Optional[Field], Optional[Callable[[str], str]]]] = {}
_LISTED: Dict[Tuple[str, str], List[str]] = {}


def _listed(field: Field, raw: str) -> List[str]:
    """coerce_value of a several-answer box's cell, remembered per box and cell: an export's
    "adverse_event; product_problem" comes row after row (a refused cell is not remembered;
    short cells only, and at most 4,096: memory stays flat). A copy: the caller's to change."""
    key = (field.path, raw)
    known = _LISTED.get(key)
    if known is None:
        known = coerce_value(field, raw)
        if len(raw) <= 200:
            if len(_LISTED) >= 4096:
                _LISTED.clear()
            _LISTED[key] = known
    return list(known)


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


def too_long(text: str, limit) -> str:
    """Why a text is refused as too long, with its start: "is 25 characters long" alone did
    not say which value of a row it was."""
    start = text if len(text) <= 40 else text[:30].rstrip() + "…"
    return f"'{start}' is {len(text):,} characters long; at most {limit} fit in this box"


# the schema's types of a number or code printed on a label (NDC, lot, model, serial, UDI), and
# with them a ZIP code: 'N/A', 'unknown' or '-' there is no code, and stored as one it stilled
# MW-DEV-1 ("no UDI, lot or serial number") and went to the manufacturer as a lot number
LABEL_CODES = frozenset({"Code50", "Udi"})
CODES = LABEL_CODES | {"PostalCode"}


def _text_check(field: Field) -> Callable[[str], str]:
    """How a text box's answer is checked, its limits looked up once: too long or not in the
    box's pattern is a ValueProblem; anything else is kept as typed."""
    limit = field.max_length or 0
    pattern = re.compile(field.pattern) if field.pattern else None
    code = field.type_name in CODES

    def check(text: str) -> str:
        if code and text.casefold() in NOT_GIVEN:  # (a batch reads it as an empty cell, as in a date's box)
            raise ValueProblem(f"'{text}' is no {lowered(field.label)}: leave the box empty when there is none")
        if limit and len(text) > limit:
            raise ValueProblem(too_long(text, limit))
        if pattern is not None and pattern.fullmatch(text) is None:
            raise ValueProblem(not_of_its_form(field, text))
        return text
    return check


# a help text's first sentence: up to a full stop ending the text or followed by a capital
# ("... ( ) and . are allowed." holds a dot that is no full stop)
_FIRST_SENTENCE = re.compile(r"(.*?)\.?(?:$|(?<!\be\.g)(?<!\bi\.e)\.\s+(?=[A-Z]))", re.S)


def not_of_its_form(field: Field, text: str) -> str:
    """Why a text is refused by its box's pattern, with what the box takes (the first
    sentence of its help: "letters, digits, '.', '_', '-'"), the box named as the form
    names it (FDA/IMDRF, ID stay in capitals)."""
    label, takes = lowered(field.label), _FIRST_SENTENCE.match(field.help).group(1) if field.help else ""
    return f"'{text}' does not look like a valid {label}" + (f": {lowered(takes)}" if takes else "")


def coerce_values(values: Mapping[str, object], notes: Optional[List[Tuple[str, str]]] = None
                  ) -> Tuple[Dict[str, Value], List[Tuple[str, str]]]:
    """Convert a whole mapping of path -> raw answer.

    Returns the converted values (empty answers dropped) and a list of (path, message) for
    what could not be converted or is not a known field. A placeholder for "no value" ("N/A",
    "-", "unknown") that the box cannot take counts as an empty answer; `notes`, if given,
    gets (path, message) for a question mark so read (a clinician's "check this" too).
    """
    out: Dict[str, Value] = {}
    problems: List[Tuple[str, str]] = []
    columns = _COLUMNS
    unknown = 0
    for path, raw in values.items():
        field, convert = columns.get(path) or _column(path)
        if convert is not None and raw.__class__ is str:  # a spreadsheet cell: the common case
            text = raw.strip()
            if not text or (text[0] >= "\xad" and only_unseen(text)):  # (a zero-width space alone: pasted, no answer)
                continue
            if text[0] in "#E" and _FORMULA_ERROR.fullmatch(text):
                problems.append((path, _formula_error(text)))
                continue
            try:
                out[path] = convert(text)
            except ValueProblem as exc:
                if text.casefold() in NOT_GIVEN:
                    if text == "?":
                        _question_mark(path, field, out, notes)
                    continue  # "N/A" in a date, number or code box: an empty cell, not a wrong one
                if _u_for_unknown(field, text):
                    continue  # ('unknown' is no answer there either: as health records write it, no warning)
                invisible = invisible_problem(field, text)
                if invisible:
                    problems.append((path, invisible))
                elif not _number_with_its_unit(path, field, text, values, out, problems, form_of(values)):
                    problems.append((path, str(exc)))
            continue
        if isinstance(raw, Refused) and field is not None:
            problems.append((path, raw.why))
            continue
        if field is not None and (raw == "" or raw is None):
            continue  # an empty cell of a known column
        if field is not None and isinstance(raw, str) and _FORMULA_ERROR.fullmatch(raw.strip()):
            problems.append((path, _formula_error(raw.strip())))
            continue
        if field is None:
            group = load_catalog().group(path)
            if group is not None:  # "suspect_product": "Baclofen"
                problems.append((path, _group_given_a_value(path, group, raw)))
                continue
            unknown += 1
            if unknown <= _UNKNOWN_SHOWN:
                hint = load_catalog().suggest(path)
                problems.append((path, f"'{path}' is not a field" + (f"; did you mean '{hint}'?" if hint else "")))
            continue
        try:
            value = _listed(field, raw) if field.multiple and raw.__class__ is str else coerce_value(field, raw)
        except ValueProblem as exc:
            if isinstance(raw, str) and _u_for_unknown(field, raw.strip()):
                pass
            elif not (isinstance(raw, str) and raw.strip().casefold() in NOT_GIVEN):
                problems.append((path, (isinstance(raw, str) and unstorable(raw)) or str(exc)))
            elif raw.strip() == "?":
                _question_mark(path, field, out, notes)
            continue
        if value not in ("", []):
            out[path] = value
        if notes is not None and field.multiple and "?" in str(raw) and _asks(raw):  # "white; ?": no answer
            notes.append((path, QUESTION_MARK))
    if unknown > _UNKNOWN_SHOWN:
        problems.append(("", f"and {unknown - _UNKNOWN_SHOWN:,} more keys that are not fields"))
    return out, problems


def only_unseen(text: str) -> bool:
    """Whether a cell shows nothing: only characters that show as nothing (zero-width spaces,
    direction marks) and spaces. It is no answer: a description of one zero-width space met
    FDA's criterion that the event is described."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def invisible_problem(field: Field, text: str) -> str:
    """Why an answer holding a character that shows as nothing cannot be taken ("" when it
    can): a control character in any box (no report holds one), an invisible one in a box of
    a code, date or number. Said as such: not "'1 500': the unit ... ' 500'", nor "'oral' is
    not one of the allowed values (did you mean oral?)". A batch and the wizard ask this."""
    return unstorable(text) or (field.kind != "text" and unseen(text))


def unseen(text: str) -> str:
    """Why a value refused holds a character that shows as nothing (a zero-width space, a
    word joiner, a byte order mark, a direction mark: text pasted from a web page or a record
    system carries them), naming it: the message would quote what looks like a right value."""
    for at, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            name = unicodedata.name(ch, "").lower() or "a format character"
            where = f"after '{text[:at]}'" if at else "at its start"
            shown = text if len(text) <= 60 else text[:40] + "…"
            return (f"'{shown}' holds an invisible character {where} (U+{ord(ch):04X}, {name}), which this box "
                    "cannot take: delete it (or type the value again)")
    return ""


def form_of(values: Mapping[str, object]) -> str:
    """The form a row or draft's values are for, as its messages name boxes: "3500B" for a
    consumer's (admin/form in any letter case), else "3500"."""
    form = values.get("admin/form")
    return "3500B" if form.__class__ is str and form.strip().upper() == "3500B" else "3500"


# what spreadsheets hold for "no value" (a code list with its own "unknown" choice takes that
# first; text boxes keep what was written, and the rules warn of it in the boxes of FDA's
# minimum criteria: rules.py passes them this list, less what may be initials or a name)
NOT_GIVEN = frozenset({"n/a", "n.a.", "n.a", "na", "not applicable", "-", "--", "\u2013", "\u2014", "none",
                       "nil", "unknown", "unk", "not known", "?", "not available", ".",  # (SAS writes ".")
                       # what health records write where a patient would not answer (race, ethnicity)
                       "declined", "declined to answer", "declined to state", "prefer not to say", "refused",
                       "not reported", "not stated", "not recorded", "unavailable"})

# said of a "?" read as no value: it may also mean "check this", and the box is left empty
QUESTION_MARK = "'?' is read as not known, and the box left empty: give the answer if it is known"


def _question_mark(path: str, field: Field, out: dict, notes: Optional[list]) -> None:
    """A cell of only '?': a list's own unknown where it has one (D2 route, dose unit UNK), as
    'unk' and 'unknown' are, unless the box has an answer already (the unit of '10 mg' in the
    dose: it was overwritten by UNK); else no answer, said in `notes`. (Not a word of those
    lists: '10?' in a dose was read as 10 UNK.)"""
    unknown = next((c.value for c in field.choices if c.value in ("unknown", "UNK")), None)
    if unknown is not None and not field.multiple:
        out.setdefault(path, unknown)  # (a unit read with its number, '10 mg', is the one given)
    elif notes is not None:
        notes.append((path, QUESTION_MARK))


def _u_for_unknown(field: Field, text: str) -> bool:
    """Whether `text` is 'U' in a code list that has no answer of its own for it: health
    records write it for "unknown" (HL7's administrative sex). It was refused, the row not
    drafted, while 'unknown' itself was no answer; then warned on every row of such a file."""
    return text in ("U", "u") and bool(field.choices) and not any(c.value in ("unknown", "UNK") for c in field.choices)


def _asks(raw) -> bool:
    """Whether an answer of several holds a '?' among them ("white; ?", ["?"])."""
    items = raw if isinstance(raw, (list, tuple)) else re.split(r"[;,]", str(raw))
    return any(item is not None and str(item).strip() == "?" for item in items)


# what a spreadsheet shows, and exports, for a formula that failed: #N/A (a lookup that found
# nothing), #REF!, #DIV/0!, #VALUE!... in Excel (#NV, #WERT!, #BEZUG! in German, #VALEUR! in
# French), Err:502 in LibreOffice. Not a value, and no "not given" either: the row is refused
_FORMULA_ERROR = re.compile(r"#(?:N/A|NV|[A-Z][A-Z0-9_/]*[!?])|Err:\d{3}")


def _formula_error(text: str) -> str:
    return (f"'{text}' is the error of a spreadsheet formula, not a value: correct the formula (or clear "
            "the cell) in the spreadsheet and export it again")


def _group_given_a_value(path: str, group, raw) -> str:
    """Why a group given a value ('"suspect_product": "Baclofen"', or a list of names) is
    refused, showing the form it takes with the user's own value: a suggested field path
    ("did you mean 'suspect_product/ndc'?") would put the value in a box it is not for."""
    values = raw if isinstance(raw, (list, tuple)) else [raw]
    shown = next((str(v).strip() for v in values if v is not None and str(v).strip()), "...")
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    name = load_catalog().entry_example(group).rsplit("/", 1)[-1]
    key, entry = json.dumps(path, ensure_ascii=False), json.dumps({name: shown}, ensure_ascii=False)
    if group.repeat and not path.endswith("]"):  # (an indexed one, 'suspect_product[2]', is one entry)
        return f"'{path}' is a group of fields, not a value: give a list of entries, e.g. {key}: [{entry}]"
    return f"'{path}' is a group of fields, not a value: give an object of its fields, e.g. {key}: {entry}"


_UNKNOWN_SHOWN = 10  # a record from another system may hold thousands of keys that are not fields


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
    unit = load_catalog().unit_of(field.path)
    m = NUMBER_THEN_WORDS.fullmatch(" ".join(text.split())) if unit is not None else None
    if m is None:
        return None
    try:
        return NumberWithUnit(m.group(1), unit, coerce_one(unit, m.group(2)))
    except ValueProblem:
        return None


def unit_refusal(field: Field, text: str, form: str = "3500") -> Optional[str]:
    """Why '5 mIU' in D2 dose cannot be read, when the number is fine and the unit box refuses
    the unit (milli-units, which the list does not have; MIU there is million units): more
    use than "'5 mIU' is not a number". None when `text` is not a number and a unit. The
    unit's box is named as `form` names it."""
    unit = load_catalog().unit_of(field.path)
    m = NUMBER_THEN_WORDS.fullmatch(" ".join(text.split())) if unit is not None else None
    if m is None:
        return None
    try:
        coerce_one(field, m.group(1))
    except ValueProblem:
        return None  # not a number either: the box's own message says so
    try:
        coerce_one(unit, m.group(2))
    except ValueProblem as exc:
        rest = m.group(2).replace(" ", "")
        if rest[:1] in "/-\u2013" and rest[1:2].isdigit():  # ('70 - 75 kg' too)
            return _not_one_number(text.strip(), field)
        return f"'{text}': the unit is not one that {unit.mention(form)} takes: {exc}"
    return None


def _not_one_number(text: str, field: Field) -> str:
    """Why a date, a fraction or a range in a box of a number is none: they read as a number
    followed by a unit '-05-02' or '/2', which sent the user to the unit's box."""
    try:
        day = parse_partial_date(text)
    except ValueProblem:
        day = ""
    if len(day) == 10:
        return f"'{text}' is a date, and this box takes a number"
    if "/" in text:  # 1/2 a fraction, 10/325 a combination's strengths: which, only the user knows
        return (f"'{text}' holds two numbers, and this box takes one: write a fraction as a decimal (1/2 is 0.5)"
                + ("; a combination's strengths (10/325 mg) go with the product's name"
                   if field.path.startswith("suspect_product/") else ""))
    return f"'{text}' is a range: give one number here (say the range in the description)"


def _unit_refused(path: str, field: Field, text: str, problems: List[Tuple[str, str]], form: str) -> bool:
    reason = unit_refusal(field, text, form)
    if reason:
        problems.append((path, reason))
    return reason is not None


def _number_with_its_unit(path: str, field: Field, text: str, values: Mapping[str, object],
                          out: Dict[str, Value], problems: List[Tuple[str, str]], form: str) -> bool:
    """A number cell that holds its unit too: the number goes to its box and the unit to the
    unit's box, unless that box says another unit (then which is right is the user's call).
    False when the cell is not a number with a unit. The unit box is found by its path
    beside the number's: `values` must be keyed one spelling per box, as the readers key
    them (header.field_name), or a unit box spelt otherwise would be missed."""
    split = number_and_unit(field, text)
    if split is None:
        return _unit_refused(path, field, text, problems, form)
    number, unit, code = split
    try:
        out[path] = coerce_one(field, number)
    except ValueProblem as exc:
        problems.append((path, str(exc)))
        return True
    unit_path = split.unit_path(path)
    given = str(values.get(unit_path) or "").strip()
    try:  # (the unit list's own "unknown" is an answer, as that box stores it: a conflict too)
        stated = coerce_one(unit, given) if given else None
    except ValueProblem:
        if given.casefold() not in NOT_GIVEN:
            return True  # the unit box's own answer is refused at that box
        stated = None
    if stated is None:
        out[unit_path] = code
    elif stated != code:
        del out[path]
        problems.append((path, f"'{text}' gives the unit as {code}, but {unit.mention(form)} "
                               f"says {stated}: leave the unit to one of them"))
    return True
