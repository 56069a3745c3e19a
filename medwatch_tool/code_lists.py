"""Read an answer to a code-list box ("mcg", "Intrathecal", "twice daily") as its code.

A code list's names come from the schema: each choice's value, form label, plain label and
`also` (the other ways clinicians write it: "mcg" and "µg" for UGM, "PO" for oral). Any of
them, in any letter case and with or without the dots of an abbreviation ("p.o.", "lb."), is
taken as the value, except a unit code in the letter case of another unit: "mIU" (milli-) is
not MIU (million). Failing that, an unambiguous start of a value or label of at least three
letters is ("hosp" for hospitalization), but never a shorter one ("NA" is R's missing value,
not nasal; "IO" is intraosseous, not iontophoresis), nor one that stops where the label goes
on with "/" ("micrograms" is not MICROGRAMS/HOUR, a dose per hour), nor "other" where the
label says which other ("other serious"), nor words that another choice's label holds too
("native", "American").
"""
import difflib
import os
import re
import unicodedata
from functools import lru_cache
from typing import Dict, List, Tuple

from .catalog import Choice, Field, one_slip

_SHOWN = 12  # a code list this long or shorter is spelt out in a refusal
_SHORTEST_START = 3  # letters: "Q" is not QID, "gr" (grain) not GM, "OT" (otic) not other


class CodeProblem(ValueError):
    """An answer that names no choice of the list; the message is for the user."""


def _key(text: str) -> str:
    """Compare names as a person reads them: case, spacing, the two micro signs and the dots
    of abbreviations ("p.o.", "q.h.s.", "yrs.") ignored."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().replace(".", "").replace("\u2019", "'").split())


@lru_cache(maxsize=64)
def _names(choices: Tuple[Choice, ...]) -> Tuple[Dict[str, str], List[Tuple[str, str]]]:
    """name -> value for every exact name of the field's choices, and (value, label) pairs
    for the start-of-name matching. First the names proper, then the code after " - " in a
    label ("MG" in "MILLIGRAM(S) - MG") and the value with spaces for "_"."""
    names: Dict[str, str] = {}
    for c in choices:
        for name in (c.value, c.label, c.plain, *c.also):
            names.setdefault(_key(name), c.value)
    for c in choices:
        for name in (c.label.split(" - ")[-1], c.value.replace("_", " ")):
            names.setdefault(_key(name), c.value)
    starts = [(c.value, _key(name)) for c in choices for name in (c.value, c.label)]
    return names, starts


def code_value(field: Field, text: str) -> str:
    """The code `text` names in `field`'s list; CodeProblem when it names none or several."""
    names, starts = _names(tuple(field.choices))
    key = _key(text)
    if key in names:
        value = names[key]
        if text.lstrip().startswith("m"):
            _refuse_milli_as_large(field.choice(value), text.strip(), key)
        return value
    begun = {value for value, name in starts
             if len(key) >= _SHORTEST_START and name.startswith(key) and not _goes_on(key, name[len(key):])}
    if len(begun) == 1 and not _also_a_word_of_another(key, begun, starts):
        return begun.pop()
    unsafe = _DO_NOT_USE.get(key)
    if unsafe and unsafe[0] in names.values():  # 'qd' in a frequency list: not guessed, and said why
        raise CodeProblem(f"'{text.strip()}' is on the do-not-use lists of abbreviations (it is misread as "
                          f"{unsafe[1]}): write {unsafe[2]}")
    spoon = _SPOONS.get(key)
    if spoon and "ML" in names.values():  # ('1 teaspoon' was "not one of the allowed values" alone)
        raise CodeProblem(f"'{text.strip()}' is a kitchen measure, which the list of units does not have: a "
                          f"{spoon[0]} is {spoon[1]} mL, so give the amount in mL ({spoon[1]} mL for one {spoon[0]})")
    beside = _answer_of_a_box_beside(field, key)
    if beside is not None:  # 'Hispanic' in race: an answer of ethnicity
        raise CodeProblem(f"'{text.strip()}' is not one of the allowed values: it is an answer of "
                          f"{beside.label.lower()} ({beside.path}), a box of its own: put it there")
    raise CodeProblem(f"'{text.strip()}' is not one of the allowed values ({_offer(field, key, names)})"
                      f"{_write_other(field) or _none_applies(field)}")


# abbreviations on the Joint Commission's and ISMP's do-not-use lists, per list they would be
# written in (a value of that list): what each is misread as, what to write instead
_DO_NOT_USE = {
    "qd": ("daily", "QID, four times a day", "daily"),
    "qod": ("daily", "QD or QID", "every other day (choose other, and write it in the other frequency's box)"),
    "u": ("MG", "0 or 4, or as cc", "units (IU)"),
}

# household spoons, as a patient reads a dose off a syrup's label: the medicine measures
_SPOONS = {name: ("teaspoon", 5) for name in ("teaspoon", "teaspoons", "teaspoonful", "teaspoonfuls", "tsp", "tsps")}
_SPOONS.update({name: ("tablespoon", 15) for name in ("tablespoon", "tablespoons", "tablespoonful", "tablespoonfuls",
                                                       "tbsp", "tbsps", "tbs")})

_ANY_LIST = frozenset({"unknown", "UNK", "other", "yes", "no"})  # answers of many lists: they say no box
_YES_NO = frozenset({"yes", "no", "y", "n", "true", "false", "1", "0"})  # (ethnicity reads 'no' as not Hispanic)


def _answer_of_a_box_beside(field: Field, key: str):
    """The other list of the same form box whose answers name `key` exactly ('Hispanic' in
    race is an answer of ethnicity, both A5; it got only race's list), or None. Only in the
    same box: across a group, 'W' in sex was sent to the age unit (weeks), 'day' in the
    frequency to the duration unit, and a route 'patch' to the strength unit."""
    if key in _YES_NO:
        return None
    for other in (field.group.fields if field.group is not None else ()):
        if other is not field and other.choices and other.box == field.box and other.choice("MG") is None:
            value = _names(tuple(other.choices))[0].get(key)
            if value is not None and value not in _ANY_LIST:
                return other
    return None


# a unit a million times its base, as the schema's labels say: "MEGABECQUEREL(S)", "IU(1,000,000S)"
_LARGE = re.compile(r"\bmega|\bmillion|1,000,000", re.IGNORECASE)


def _refuse_milli_as_large(choice: Choice, text: str, key: str) -> None:
    """In a unit a small m is milli- and a capital M mega- (SI): "mIU" is a thousandth of an
    IU, MIU a million IU. Matched in any case, "mIU" would be stored as MIU, a 10^9 error;
    so a code that is a mega- or million- unit is not what the same letters begun with a
    small m name. (A capital M for a milli- code, "Mg", is left as read: no dose is megagrams.)"""
    if key == _key(choice.value) and _LARGE.search(f"{choice.label} {choice.plain}"):
        meaning = re.sub(r" \([^)]*\)$", "", choice.plain if choice.plain != choice.label else choice.label)
        raise CodeProblem(f"'{text}' is not on this list: {choice.value} means {meaning.lower()}, and a small m "
                          f"means milli-: write the amount in a unit the list has")


def _write_other(field: Field) -> str:
    """Where a value the list lacks goes, when the form has a box beside the list for it
    (D2 "Other route"): the box whose question is asked when the list's answer is `other`."""
    if field.choice("other") is None or field.group is None:
        return ""
    beside = [f for f in field.group.fields if f.when == f"{field.path}=other"]
    # (by its label, not its box: D2 on the 3500 is C11 on the consumer form 3500B)
    return f"; if none of them fits, choose other and write it in '{beside[0].label}'" if beside else ""


def none_may_apply(field: Field) -> bool:
    """Whether a list may fit no answer, the box then left empty: a question about who the
    person is (A3 sex, A5 ethnicity and race: optional, and the form's lists may not fit
    everyone). Not a unit's list, nor one FDA needs an answer of (B1 type of report)."""
    return field.group is not None and field.group.name == "patient" and not field.name.endswith("_unit")


def _none_applies(field: Field) -> str:
    """'X' or 'non-binary' in sex, where the form lists male and female only, was told the
    list alone."""
    if not none_may_apply(field):
        return ""
    return f"; if {'neither' if len(field.choices) == 2 else 'none of them'} applies, leave the box empty"


def _goes_on(key: str, rest: str) -> bool:
    """Whether the name a start `key` begins means more than it: where the label goes on
    with "/" ("micrograms" is not MICROGRAMS/HOUR, a dose per hour), and where the start is
    the word "other" and the label says which other ("Other" is not the occupation "other
    health professional", nor the outcome "other serious", a serious event by a guess).
    A first word is otherwise taken ("Congenital", "Generic", "American Indian")."""
    return rest.startswith("/") or ("other".startswith(key) and rest[len("other") - len(key):][:1] in (" ", "_", "-"))


def _also_a_word_of_another(key: str, begun: set, starts: List[Tuple[str, str]]) -> bool:
    """Whether the words `key` begins one label with stand elsewhere in another: "native"
    begins Native Hawaiian but ends American Indian or Alaska Native, so it names neither."""
    whole = re.compile(r"(?<!\w)" + re.escape(key) + r"(?!\w)")
    return any(value not in begun and whole.search(name) for value, name in starts)


def _another_word(key: str, name: str) -> bool:
    """Whether `name` is another word than `key`, alike only at its ends: "intravitreal" (the
    eye) is no slip for intrathecal (the spine) nor intratracheal; "intravenus" is one for
    intravenous, "mgs" for mg."""
    key, name = re.sub(r"[\W_]", "", key), re.sub(r"[\W_]", "", name)  # ("(mcg)" is a slip for mcg)
    start = len(os.path.commonprefix([key, name]))
    end = len(os.path.commonprefix([key[start:][::-1], name[start:][::-1]]))
    return min(len(key), len(name)) - start - end >= 3  # three letters or more unalike between alike ends


_TIMES = frozenset({"d", "day", "days", "24h", "24 h", "h", "hr", "hrs", "hour", "hours", "wk", "week", "weeks",
                    "mo", "month", "months", "min", "mins", "minute", "minutes", "dose"})


def _offer(field: Field, key: str, names: Dict[str, str]) -> str:
    """The whole list when short; else the nearest value(s) and where the list is."""
    values = [c.value for c in field.choices]
    if len(values) <= _SHOWN:
        return ", ".join(values)
    if "/" in key and "MG" in values:  # a unit of parts (mcg/kg, mg/mL): each part read for itself
        return _offer_unit(key, names, values)
    near = [n for n in difflib.get_close_matches(key, list(names), n=3, cutoff=0.75) if not _another_word(key, n)]
    hint = list(dict.fromkeys(names[n] for n in near))
    if "MG" in values and len(set(hint) | _slips_to(key, names)) > 1:
        hint = []  # 'mgc': mg or mcg? A unit is not guessed between two sizes
    return (f"did you mean {' or '.join(hint)}? " if hint else "") + f"`medwatch fields` lists all {len(values)}"


def _slips_to(key: str, names: Dict[str, str]) -> set:
    """The codes of the names one keyboard slip away from `key` (a letter wrong, missing, extra,
    or two swapped)."""
    return {code for name, code in names.items() if one_slip(key, name)}


def _offer_unit(key: str, names: Dict[str, str], values: List[str]) -> str:
    """The unit a unit of parts names, each part read for itself ('units/kg': IU/KG, 'mcg/hour':
    UGM/HR, 'mg/m^2': MG/SQ M), a last part per time the list lacks left to the frequency
    ('mcg/day': UGM, 'mcg/kg/min': UGM/KG); else none. Matched whole, 'mcg/mL' was offered MG/ML,
    a thousand times more, and 'ng/mL' MG/ML, and a part not read ('mgm/hr') let one of another
    size through (UGM/HR): the list has none of them, and a unit of another size or another kind
    is never offered."""
    parts = [part.strip() for part in key.split("/")]
    codes = [_part_code(part, names) for part in parts]
    tail = f"`medwatch fields` lists all {len(values)}"
    if all(codes) and "/".join(codes) in values:
        return f"did you mean {'/'.join(codes)}? {tail}"
    if len(parts) > 1 and parts[-1] in _TIMES:
        rest = "/".join(codes[:-1]) if all(codes[:-1]) else names.get("/".join(parts[:-1]))
        if rest in values:  # ('mg/kg/day': mg/kg is a unit of the list)
            said = f" (per {parts[-1]}: how often goes in the frequency box)" if parts[-1] != "dose" else ""
            return f"did you mean {rest}{said}? {tail}"
    if all(codes):
        return f"the list has no such unit, nor one of the same size: write the amount in a unit it has; {tail}"
    return f"no unit of the list is written so: write the amount in a unit it has; {tail}"


# the parts of the list's units that are no unit of their own (per hour, per square metre of body
# surface), and U, units (no unit of its own: on the do-not-use lists), in U/kg
_PARTS = {"u": "IU", "h": "HR", "hr": "HR", "hrs": "HR", "hour": "HR", "hours": "HR",
          "m2": "SQ M", "m^2": "SQ M", "m 2": "SQ M", "m*2": "SQ M", "sqm": "SQ M", "sq m": "SQ M"}


def _part_code(part: str, names: Dict[str, str]) -> str:
    """The code of one part of a unit ('mcg': UGM, 'hour': HR, 'm^2': SQ M, 'mcgs': UGM), or ''."""
    code = names.get(part, "")
    if code and "/" not in code:
        return code
    return _PARTS.get(part) or _one_slip_of(part, names)


def _one_slip_of(part: str, names: Dict[str, str]) -> str:
    """The one single unit a part misspells ('mcgs': UGM), or ''; none for a part with an
    amount ('5ml' of 'mg/5ml' is no slip of mL: MG/ML would be five times the dose)."""
    if part[:1].isdigit():
        return ""
    single = [name for name in names if "/" not in name]
    near = {names[n] for n in difflib.get_close_matches(part, single, n=3, cutoff=0.75) if not _another_word(part, n)}
    return near.pop() if len(near) == 1 else ""
