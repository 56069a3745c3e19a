"""Narrow a Schematron rule context written for any element to the elements it can match.

rules.sch states the date rule for any element whose name looks like a date field
(`mw:*[contains(local-name(), 'date')]...[normalize-space(.)]`): readable, and right for any
processor. An XSLT engine tries such a wildcard on every element of every draft, and
checks each of its predicates again on every date element it visits. So the tool rewrites
the context once, when the rules are compiled: one name test per field of the kind the
rule names (an engine looks those up by name), and the predicates that depend on nothing
but the element's name are decided here, once per name, instead of on every element. In a
batch that took the rules from about 63 to 45 microseconds per report.

Only predicates made of the element's local name, string literals, numbers and XPath's string
and boolean functions count as "name only"; anything else (`.`, a path, an axis, a
variable) stays in the context and is still tested by the engine.
"""
import re
from typing import List

from lxml import etree

from .catalog import NS, load_catalog

_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
_LOCAL_NAME = re.compile(r"\blocal-name\(\s*\)")  # not name(): its prefix depends on the document
_PURE_WORDS = {"contains", "starts-with", "substring", "substring-before", "substring-after",
               "string-length", "concat", "translate", "not", "and", "or", "true", "false",
               "div", "mod"}
_TOKEN = re.compile(r"[A-Za-z_][\w.-]*(?=\s*\()|[A-Za-z_][\w-]*|\d+(?:\.\d+)?|\S")
_OPERATORS = set("()=!<>+-,")  # not `*`: in a predicate it may be "has a child element"


def predicates(tests: str) -> List[str]:
    """`[a][b[c]]` -> `['a', 'b[c]']`: the top-level predicates, quotes respected."""
    out, depth, start, quote = [], 0, 0, None
    for i, ch in enumerate(tests):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
            if depth == 1:
                start = i + 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                out.append(tests[start:i])
        elif depth == 0 and not ch.isspace():
            raise ValueError(f"not a list of predicates: {tests!r}")
    if depth or quote:
        raise ValueError(f"not a list of predicates: {tests!r}")
    return out


def about_the_name_only(predicate: str) -> bool:
    """Whether a predicate's value depends on nothing but the element's name."""
    rest = _LOCAL_NAME.sub(" ", _LITERAL.sub(" ", predicate))
    for token in _TOKEN.findall(rest):
        if token in _PURE_WORDS or token[0].isdigit() or token in _OPERATORS:
            continue
        return False  # `.`, `@`, `$`, `/`, a child name, an axis, another function
    return True


def narrowed_context(context: str, kind: str) -> str:
    """`mw:*[tests]` -> `mw:a[rest] | mw:b[rest] | ...`: the catalog's fields of `kind` whose
    names pass the name-only tests, each with the tests that are left.

    Selects the same elements when every element the tests accept is of that kind (a test
    checks this on a draft holding every field).
    """
    tests = predicates(context[len("mw:*"):])
    by_name = [t for t in tests if about_the_name_only(t)]
    rest = "".join(f"[{t}]" for t in tests if t not in by_name)
    checks = [etree.XPath(f"boolean({t})") for t in by_name]
    names = sorted({f.name for f in load_catalog().fields if f.kind == kind})
    kept = [n for n in names if all(check(etree.Element(f"{{{NS}}}{n}")) for check in checks)]
    if not kept:
        return context  # nothing to narrow to: the engine tries the wildcard as written
    return " | ".join(f"mw:{name}{rest}" for name in kept)
