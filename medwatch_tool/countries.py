"""Read a country as people write it ("Russia", "Côte d'Ivoire", "England", "UK") as its
ISO 3166-1 two-letter code, the form a draft stores (G1 reporter's country).

The table is ISO 3166-1 as pycountry has it: every name, official name, common name and
code of a country, case and accents ignored ("Cote d'Ivoire"), a leading "The" dropped.
Inverted names are also read the right way round ("Korea, Republic of" as "Republic of
Korea") and a name's first part alone when only one country has it ("Palestine"). A short
list of our own adds the English names ISO does not give (Russia, Turkey, Burma, the
nations of the United Kingdom, "Bosnia", "Eire"); a name two countries could have ("Korea",
"Congo", "Virgin Islands") is refused with both offered, though ISO gives one of them the
name alone: the Republic of the Congo is "Congo" to ISO, and "Congo" to many the other one.
"""
import difflib
import re
import unicodedata
from functools import lru_cache
from typing import Dict, List, Optional

# English names ISO 3166-1 does not give; each names one country (the UK's nations: GB)
_ALSO = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "us of a": "US", "america": "US", "uk": "GB", "u.k.": "GB",
    "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "russia": "RU", "turkey": "TR", "holland": "NL", "burma": "MM",
    "ivory coast": "CI", "cape verde": "CV", "swaziland": "SZ", "vatican": "VA", "vatican city": "VA",
    "brunei": "BN", "macau": "MO", "uae": "AE", "drc": "CD", "dr congo": "CD",
    "democratic republic of congo": "CD", "czech republic": "CZ", "east timor": "TL",
    "macedonia": "MK", "bosnia": "BA", "eire": "IE", "saint kitts": "KN", "saint vincent": "VC",
    "republic of congo": "CG", "congo-brazzaville": "CG", "congo brazzaville": "CG",
    "congo-kinshasa": "CD", "congo kinshasa": "CD",
}
# names two countries go by, whatever ISO gives the name alone to: refused, both offered
SHARED_NAMES = {
    "congo": (("CG", "Republic of the Congo"), ("CD", "DR Congo")),
    "virgin islands": (("VI", "US Virgin Islands"), ("VG", "British Virgin Islands")),
}
_FIELDS = ("alpha_2", "alpha_3", "flag", "name", "numeric", "official_name", "common_name")


class CountryProblem(ValueError):
    """A text that names no country (or more than one); the message is for the user."""


_SAINT = re.compile(r"\bst ")
_QUOTES = "\"'\u2018\u2019\u201c\u201d\u00ab\u00bb "  # around a name, as a word processor or export writes it


def _key(text: str) -> str:
    """A name as compared: accents, case, spacing, quotes around it, dots ("U.S.A"), a leading
    'the' and 'St' told apart from nothing."""
    text = text.strip(_QUOTES)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = " ".join(text.casefold().replace(".", "").split())
    if text.startswith("the "):
        text = text[4:]
    return _SAINT.sub("saint ", text) if "st" in text else text


def _from_file() -> Optional[List[dict]]:
    """pycountry's ISO 3166-1 entries, read from its data file (importing pycountry costs
    80 ms: it imports importlib.metadata); None when the file is not where pycountry keeps it."""
    import importlib.util
    import json
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("pycountry")
        data = Path(spec.origin).parent / "databases" / "iso3166-1.json"
        entries = json.loads(data.read_text(encoding="utf-8"))["3166-1"]
        return entries if entries and all("alpha_2" in e for e in entries) else None
    except (AttributeError, ImportError, OSError, KeyError, TypeError, ValueError):
        return None


def _from_api() -> List[dict]:
    import pycountry

    return [{k: getattr(c, k) for k in _FIELDS if getattr(c, k, None)} for c in pycountry.countries]


def _entries() -> List[dict]:
    return _from_file() or _from_api()


@lru_cache(maxsize=1)
def _table() -> Dict[str, str]:
    return table_of(_entries())


def table_of(entries: List[dict]) -> Dict[str, str]:
    """name key -> alpha-2. ISO's own names first, then the names derived from them, then ours."""
    table: Dict[str, str] = {}
    for entry in entries:
        for field in _FIELDS:
            if isinstance(entry.get(field), str):
                table.setdefault(_key(entry[field]), entry["alpha_2"])
    heads: Dict[str, set] = {}
    for entry in entries:
        for field in ("name", "official_name"):
            name = entry.get(field, "")
            head, comma, tail = name.partition(", ")
            if comma:  # "Korea, Republic of" -> "Republic of Korea"; "Palestine, State of" -> "Palestine"
                table.setdefault(_key(f"{tail} {head}"), entry["alpha_2"])
                heads.setdefault(_key(head), set()).add(entry["alpha_2"])
            for part in re.findall(r"\(([^)]*)\)", name):  # "Holy See (Vatican City State)"
                table.setdefault(_key(part), entry["alpha_2"])
                table.setdefault(_key(name.split(" (")[0]), entry["alpha_2"])
    for head, codes in heads.items():
        if len(codes) == 1:
            table.setdefault(head, codes.pop())
    for name, code in _ALSO.items():
        table.setdefault(_key(name), code)
    for name in SHARED_NAMES:
        table.pop(_key(name), None)
    return table


def country_code(text: str) -> str:
    """The two-letter code of the country `text` names; CountryProblem when it names none."""
    text = text.strip()
    key = _key(text)
    code = _table().get(key)
    if code is not None:
        return code
    raise CountryProblem(f"'{text}' is not a country name or two-letter country code{_offer(key)}")


@lru_cache(maxsize=1)
def _shown() -> Dict[str, str]:
    """alpha-2 -> the name a person knows it by (pycountry's common name, else its name)."""
    return {e["alpha_2"]: e.get("common_name") or e["name"] for e in _entries()}


def _offer(key: str) -> str:
    """'; did you mean South Korea (KR) or North Korea (KP)?' for a near or shared name, or ''."""
    if key in SHARED_NAMES:
        return "; did you mean " + " or ".join(f"{name} ({code})" for code, name in SHARED_NAMES[key]) + "?"
    table = _table()
    near = difflib.get_close_matches(key, list(table), n=6, cutoff=0.8)
    codes = list(dict.fromkeys(table[name] for name in near))
    if not codes:  # the first part of names several countries have ("Korea, Republic of")
        codes = sorted({code for name, code in table.items() if name.startswith(key + ",")})
    if not codes:
        return ""
    return "; did you mean " + " or ".join(f"{_shown()[c]} ({c})" for c in codes[:3]) + "?"
