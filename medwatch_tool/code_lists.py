"""Read an answer to a code-list box ("mcg", "Intrathecal", "twice daily") as its code.

A code list's names come from the schema: each choice's value, form label, plain label and
`also` (the other ways clinicians write it: "mcg" and "µg" for UGM, "PO" for oral). Any of
them, in any letter case, is taken as the value. Failing that, an unambiguous start of a
value or label is ("hosp" for hospitalization, "F" for female), but never one that stops
where the label goes on with "/" ("micrograms" is not MICROGRAMS/HOUR, a dose per hour),
nor words that another choice's label holds too ("native", "American").
"""
import difflib
import re
import unicodedata
from functools import lru_cache
from typing import Dict, List, Tuple

from .catalog import Choice, Field

_SHOWN = 12  # a code list this long or shorter is spelt out in a refusal


class CodeProblem(ValueError):
    """An answer that names no choice of the list; the message is for the user."""


def _key(text: str) -> str:
    """Compare names as a person reads them: case, spacing and the two micro signs ignored."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


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
        return names[key]
    begun = {value for value, name in starts
             if key and name.startswith(key) and not name[len(key):].startswith("/")}
    if len(begun) == 1 and not _also_a_word_of_another(key, begun, starts):
        return begun.pop()
    raise CodeProblem(f"'{text.strip()}' is not one of the allowed values ({_offer(field, key, names)})")


def _also_a_word_of_another(key: str, begun: set, starts: List[Tuple[str, str]]) -> bool:
    """Whether the words `key` begins one label with stand elsewhere in another: "native"
    begins Native Hawaiian but ends American Indian or Alaska Native, so it names neither."""
    whole = re.compile(r"(?<!\w)" + re.escape(key) + r"(?!\w)")
    return any(value not in begun and whole.search(name) for value, name in starts)


def _offer(field: Field, key: str, names: Dict[str, str]) -> str:
    """The whole list when short; else the nearest value(s) and where the list is."""
    values = [c.value for c in field.choices]
    if len(values) <= _SHOWN:
        return ", ".join(values)
    near = difflib.get_close_matches(key, list(names), n=3, cutoff=0.75)
    per = key.split("/")[0].strip()
    if not near and per in names:  # "mcg/day": the unit of one dose is known, the "per" is not
        near = [per]
    hint = list(dict.fromkeys(names[n] for n in near))
    return (f"did you mean {' or '.join(hint)}? " if hint else "") + f"`medwatch fields` lists all {len(values)}"
