"""The business rules (schemas/rules.sch, ISO Schematron) compiled to the XSLT that runs them.

Compiled once per process (and the day's date fixed once per day). The compiled XSLT is
tuned without changing what it finds: see `_rules`.
"""
import itertools
import re
from copy import deepcopy
from datetime import date
from functools import lru_cache
from typing import Optional

from lxml import etree

from .catalog import NS, load_catalog
from .resources import schema_path
from .rule_contexts import narrowed_context
from .safe_io import parse_xml_bytes

SVRL = "{http://purl.oclc.org/dsdl/svrl}"
SCH = "{http://purl.oclc.org/dsdl/schematron}"
XSL = "{http://www.w3.org/1999/XSL/Transform}"
MWFIELD = "{%s}field" % NS
NARROW = "{%s}narrow-to-kind" % NS


@lru_cache(maxsize=1)
def compiled_rules():
    """rules.sch compiled once to its validating XSLT, and per assert id the field it is about
    and the names of the elements its test reads.

    The report lists only failed asserts (no svrl:fired-rule, no visit of attributes: no
    rule is about one). The skeleton's extra walk of the whole draft in the default mode
    (inside svrl:active-pattern) is dropped: no template of that mode outputs anything, and
    it cost about a tenth of the rules' time. Each assert becomes one xsl:if, and a rule's
    asserts are tried together first.
    """
    from lxml import isoschematron

    doc = rules_document()
    asserts = list(doc.iter(f"{SCH}assert"))
    fields = {a.get("id"): a.get(MWFIELD, "") for a in asserts}
    # (not `self::mw:event_date`: a test passing a box by its name does not read it)
    reads = {a.get("id"): frozenset(re.findall(r"(?<!self::)mw:(\w+)", a.get("test", ""))) for a in asserts}
    compiled = isoschematron.Schematron(
        deepcopy(doc).getroottree(), store_xslt=True,
        compile_params={"generate-fired-rule": "'false'", "optimize": "'visit-no-attributes'",
                        "allow-foreign": "true"})  # (a message's spans naming boxes reach the report)
    xslt = compiled.validator_xslt
    for walk in list(xslt.getroot().iter(f"{XSL}apply-templates")):
        if walk.getparent().tag == f"{SVRL}active-pattern" and walk.get("select") is None and walk.get("mode") is None:
            walk.getparent().remove(walk)
    for choose in list(xslt.getroot().iter(f"{XSL}choose")):
        _choose_to_if(choose)
    for template in xslt.getroot().iterfind(f"{XSL}template"):
        _guard_asserts(template)
    return xslt, fields, reads


@lru_cache(maxsize=1)
def rules_document() -> etree._Element:
    """rules.sch as the tool runs it: its wildcard contexts narrowed (rule_contexts.py).
    Shared by the XSLT and rule_screen.py; not to be changed by either."""
    doc = parse_xml_bytes(schema_path("rules.sch").read_bytes(), "rules.sch")
    for rule in doc.iter(f"{SCH}rule"):
        if rule.get(NARROW) and rule.get("context", "").startswith("mw:*"):
            rule.set("context", narrowed_context(rule.get("context"), rule.get(NARROW)))
    return doc


def rule_reads() -> dict:
    """Per assert id, the names of the elements its test reads (MW-MIN-1: patient,
    identifier, age, date_of_birth, sex): failing where a box it reads was given a value
    that was refused, it may have judged a draft without that value (see drafting.py)."""
    return compiled_rules()[2]


def _choose_to_if(choose: etree._Element):
    """`choose(when test=T (empty), otherwise X)` -> `if test=not(T) X`: how the skeleton
    writes each assert, in one instruction instead of three (libxslt runs it faster)."""
    parts = list(choose)
    if [p.tag for p in parts] != [f"{XSL}when", f"{XSL}otherwise"] or len(parts[0]) or (parts[0].text or "").strip():
        return
    when, otherwise = parts
    test = etree.Element(f"{XSL}if", test=f"not({when.get('test')})")
    test.text = otherwise.text
    test.extend(list(otherwise))
    test.tail = choose.tail
    test.set(_ASSERT, "")
    choose.getparent().replace(choose, test)


_ASSERT = "{%s}assert" % NS  # marks the xsl:if of an assert (removed by _guard_asserts)


def _guard_asserts(template: etree._Element):
    """A rule's asserts, `if not(T1) ... if not(Tn)`, inside one `if not(T1) or ... not(Tn)`:
    a draft that passes them all (nearly every one) costs one test instead of n."""
    asserts = [child for child in template if child.get(_ASSERT) is not None]
    between = itertools.takewhile(lambda node: node is not asserts[-1], asserts[0].itersiblings()) if asserts else ()
    apart = any(node.get(_ASSERT) is None and node.tag is not etree.Comment for node in between)
    for test in asserts:
        del test.attrib[_ASSERT]
    if len(asserts) < 2 or apart:  # (the skeleton puts only comments between them)
        return
    guard = etree.Element(f"{XSL}if", test=" or ".join(a.get("test") for a in asserts))
    guard.tail = asserts[-1].tail
    asserts[0].addprevious(guard)
    guard.extend(asserts)


@lru_cache(maxsize=4)
def _rules_on(day: str, schema_valid: bool) -> etree.XSLT:
    """The rules' XSLT with `today` fixed to `day` (YYYYMMDD), compiled once per day.

    The schema's own `today` asks the XSLT engine's clock (EXSLT date:date()), which costs
    more than all the rules together; its `placeholders` are coerce's. No file or network
    access from the XSLT. For drafts known to be schema-valid, the walk does not go into
    fields (`_fields_not_walked`).
    """
    xslt = deepcopy(compiled_rules()[0])
    for param in xslt.getroot().iterfind(f"{XSL}param"):
        if param.get("name") == "today":
            param.set("select", day)
        elif param.get("name") == "placeholders":
            param.set("select", _placeholders())
    if schema_valid:
        _fields_not_walked(xslt.getroot())
    return etree.XSLT(xslt, access_control=etree.XSLTAccessControl.DENY_ALL)


@lru_cache(maxsize=1)
def _placeholders() -> str:
    """The words that say "no value" (coerce's list) as the rules' `$placeholders` literal
    (rules.sch tries only texts shorter than 20 characters), but for those that are also
    initials or names (NA, N.A., Nil, Unk: the boxes it looks at hold initials and names)."""
    from .coerce import NOT_GIVEN

    words = [w for w in NOT_GIVEN if not (w.replace(".", "").isalpha() and len(w.replace(".", "")) <= 3)]
    assert not any("'" in word or "|" in word or len(word) >= 20 for word in words)
    return "'|" + "|".join(sorted(words)) + "|'"


def _fields_not_walked(stylesheet: etree._Element):
    """The walk stops at fields (elements the schema gives a value, not children) instead of
    looking for elements inside each: in a draft the XSD accepts they hold none. Four fifths
    of a batch draft's elements are fields; the rules on a chunk of 128 drafts took about a
    tenth less (medians of 41 alternated runs: 61 -> 55, 68 -> 61, 60 -> 54 microseconds a
    report). A template matching the fields by name, below every rule
    (priority -1.5; a rule's context still wins on a field, as on a date) and above the
    skeleton's catch-all (-2), which walks an element's children; names that are a field
    somewhere and a group elsewhere are left to the catch-all."""
    catalog = load_catalog()
    names = sorted({f.name for f in catalog.fields} - {g.name for g in catalog.groups})
    walk = next(t for t in stylesheet.iterfind(f"{XSL}template")
                if t.get("match") == "@*|node()" and t.get("priority") == "-2")
    fields = etree.Element(f"{XSL}template", match=" | ".join(f"mw:{name}" for name in names),
                           priority="-1.5", mode=walk.get("mode"), nsmap={"mw": NS})
    walk.addprevious(fields)


def today() -> str:
    """The rules' `today` (YYYYMMDD)."""
    return date.today().strftime("%Y%m%d")


def placeholders() -> str:
    """The rules' `placeholders` (the words that say "no value", each between bars)."""
    return _placeholders()[1:-1]


def rule_report(root: etree._Element, schema_valid: bool = False, day: Optional[str] = None) -> etree._ElementTree:
    """The SVRL report of the business rules on a draft (or a group of drafts), as of today
    (or `day`). `schema_valid`: the XSD accepts every draft in `root`, which lets the rules
    run faster."""
    return _rules_on(day or today(), schema_valid)(root)
