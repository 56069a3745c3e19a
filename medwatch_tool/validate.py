"""Validation in two layers: the XSD (structure, types, code lists), then the Schematron
business rules (minimum criteria, date order, seriousness).

Each finding becomes a `Problem` that knows its field path, the form box and label of that
field (from the catalog), its line in the file and its severity, so every front end (CLI,
wizard, batch) reports the same thing in the same words.
"""
import difflib
import re
from copy import deepcopy
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

from lxml import etree

from .catalog import NS, XS, load_catalog
from .coerce import not_of_its_form, too_long
from .draft import parse_draft
from .errors import InputError
from .paths import without_indexes
from .resources import schema_path
from .rule_screen import certainly_passing
from .rules import SCH, SVRL, compiled_rules, placeholders, rule_reads, rule_report, today
from .safe_io import parse_xml_bytes, read_bytes

_REPORT = "{%s}report" % NS


@dataclass
class Problem:
    """One thing wrong (error) or worth a second look (warning) in a draft."""

    severity: str
    message: str
    path: Optional[str] = None
    box: str = ""
    label: str = ""
    line: Optional[int] = None
    file: Optional[str] = None
    rule: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def where(self) -> str:
        """'B3 Date of event [event/event_date]' or '' when the problem is not about a field."""
        if not self.path:
            return ""
        box = self.box if self.box and self.box not in ("—", "-") else ""
        title = " ".join(x for x in (box, self.label) if x)
        return f"{title} [{self.path}]" if title else f"[{self.path}]"

    def format(self) -> str:
        """One line: `file:line: severity: B3 Date of event [event/event_date]: message (RULE)`."""
        location = ":".join(str(x) for x in (self.file, self.line) if x not in (None, ""))
        parts = [location] if location else []
        parts.append(self.severity)
        where = self.where()
        if where:
            parts.append(where)
        text = ": ".join(parts) + ": " + self.message
        return f"{text} ({self.rule})" if self.rule else text

    def as_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def _schema_document() -> etree._Element:
    """report.xsd, read once for the schema and for the group schema made from it."""
    return parse_xml_bytes(schema_path("report.xsd").read_bytes(), "report.xsd")


@lru_cache(maxsize=1)
def _xsd() -> etree.XMLSchema:
    return etree.XMLSchema(_schema_document().getroottree())


_GROUP = "{%s}group" % NS  # a batch's chunk of drafts as the XSD sees it (see validate_many)


@lru_cache(maxsize=1)
def _group_xsd() -> etree.XMLSchema:
    """report.xsd and one more root element, a group of drafts: one validation of a batch's
    chunk does about 5% less work than one per draft (each has a fixed cost). Built in
    memory from report.xsd, which stays the drafts' one schema (a draft alone is no group)."""
    doc = deepcopy(_schema_document())
    group = etree.SubElement(doc, f"{{{XS}}}element", name="group")
    sequence = etree.SubElement(etree.SubElement(group, f"{{{XS}}}complexType"), f"{{{XS}}}sequence")
    etree.SubElement(sequence, f"{{{XS}}}element", ref="mw:report", minOccurs="0", maxOccurs="unbounded")
    return etree.XMLSchema(doc.getroottree())


def element_path(el: etree._Element) -> str:
    """The indexed field path of a draft element ('suspect_product[2]/dose')."""
    repeating = load_catalog().repeating
    steps, template = [], []
    chain = []
    node = el
    while node is not None and node.tag != _REPORT and node.getparent() is not None:
        chain.append(node)  # up to the draft's <report> (which may sit in a group, see validate_many)
        node = node.getparent()
    for node in reversed(chain):
        name = etree.QName(node).localname
        template.append(name)
        if "/".join(template) in repeating:
            index = 1 + sum(1 for s in node.itersiblings(preceding=True) if s.tag == node.tag)
            steps.append(f"{name}[{index}]")
        else:
            steps.append(name)
    return "/".join(steps)


def _problem(severity, message, path, line, source, rule="") -> Problem:
    box, label = load_catalog().describe(path)
    if path and not label:
        label = path.rsplit("/", 1)[-1].split("[")[0].replace("_", " ")
    return Problem(severity, message, path or None, box, label, line, source, rule)


_ELEMENT = re.compile(r"^Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '([^']+)')?: ")


def _clean(names: str) -> str:
    return ", ".join(n.strip().split("}")[-1] for n in names.replace("(", "").replace(")", "").split(","))


def _explain_xsd(message: str, value_el) -> (str, Optional[str]):
    """Rewrite a libxml2 schema message for a reader of the form; returns (message, child)."""
    body = _ELEMENT.sub("", message).strip().rstrip(".")
    value = (value_el.text or "").strip() if value_el is not None else ""
    m = re.search(r"Missing child element\(s\)\. Expected is (?:one of )?\( ?(.+?) ?\)", body)
    if m:
        first = _clean(m.group(1)).split(", ")[0]
        return "is required but missing", first
    m = re.search(r"This element is not expected\. Expected is (?:one of )?\( ?(.+?) ?\)", body)
    if m:
        expected = _clean(m.group(1))
        if "," not in expected and value_el is not None:
            return "", expected  # a required element is missing before this one
        return f"is not expected here (expected {expected})", None
    if "This element is not expected" in body:
        return "is not expected here", None
    m = re.search(r"The value '(.*)' is not an element of the set \{(.*)\}", body, re.S)
    if m:
        allowed = [v.strip().strip("'") for v in m.group(2).split(",")]
        if len(allowed) <= 12:
            return f"'{m.group(1)}' is not an allowed value (allowed: {', '.join(allowed)})", None
        near = difflib.get_close_matches(m.group(1).lower(), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {' or '.join(near)}? " if near else ""
        return f"'{m.group(1)}' is not an allowed value ({hint}`medwatch fields` lists all {len(allowed)})", None
    m = re.search(r"this exceeds the allowed maximum length of '(\d+)'", body)
    if m:
        return too_long(value, m.group(1)), None
    if "facet 'minLength'" in body:
        return "is empty; leave the element out instead", None
    m = re.search(r"The value '(.*)' is not accepted by the pattern", body, re.S)
    if m:
        return f"'{m.group(1)}' is not in the expected format", None
    if "union type" in body and "PartialDate" in body:
        return f"{value} is not a date (write YYYY-MM-DD, YYYY-MM or YYYY)", None
    m = re.search(r"'(.*)' is not a valid value of the (?:atomic|local atomic) type '(?:\{[^}]*\})?(?:xs:)?([^']+)'", body, re.S)
    if m:
        kind = {"boolean": "yes/no value (true or false)", "decimal": "number", "Age": "number",
                "Weight": "number", "Amount": "number", "FollowUpNumber": "whole number (0 or more)",
                "nonNegativeInteger": "whole number (0 or more)"}.get(m.group(2), m.group(2))
        return f"'{m.group(1)}' is not a valid {kind}", None
    m = re.search(r"The value '(.*)' (is less|is greater|must be greater|must be less) than (?:the \w+ value "
                  r"allowed \()?'(.*?)'", body, re.S)
    if m:  # (quoted: problems.csv would put an apostrophe before a message starting with '-')
        value, how, limit = m.groups()
        size, takes = {"is less": ("small", f"{limit} or more"), "is greater": ("large", f"at most {limit}"),
                       "must be greater": ("small", f"only numbers above {limit}"),
                       "must be less": ("large", f"only numbers below {limit}")}[how]
        return f"'{value}' is too {size}: this box takes {takes}", None
    m = re.search(r"The value '(.*)' has more fractional digits than are allowed \('(\d+)'\)", body)
    if m:
        places = m.group(2)
        return (f"'{m.group(1)}' has more decimal places than fit in this box (at most {places}): "
                f"round it to {places} place{'s' * (places != '1')}"), None
    m = re.search(r"The value '(.*)' has more digits than are allowed \('(\d+)'\)", body)
    if m:
        said = f"'{m.group(1)}' has more digits than fit in this box (at most {m.group(2)} in all)"
        if "." in m.group(1):  # 0.333333333333333: a formula's result, which a sheet shows rounded
            said += (": round it (a spreadsheet holds a formula's result with all its digits, and may show it "
                     "rounded; =ROUND(..., 2) rounds it in the sheet)")
        return said, None
    if "Character content other than whitespace is not allowed" in body:
        return "holds text but should only hold other fields", None
    if "is not allowed" in body and "attribute" in body:
        return body.replace("The attribute", "attribute"), None
    return body.replace("{%s}" % NS, ""), None


def _xsd_problems(root: etree._Element, source: Optional[str], refused: Optional[set] = None) -> List[Problem]:
    """The XSD's problems of a draft; `refused` gets the paths of the values it refused (not
    a box out of place or missing: the value there is fine)."""
    schema = _xsd()
    if schema.validate(root):
        return []
    problems, seen = [], set()
    tree = root.getroottree()
    for entry in schema.error_log:
        el = None
        if entry.path:
            found = tree.xpath(entry.path)
            el = found[0] if found and isinstance(found, list) else None
        message, child = _explain_xsd(entry.message, el)
        path = element_path(el) if el is not None else None
        if child and not message:  # "X not expected, expected (name)": name is missing before X
            parent = el.getparent()
            path = element_path(parent) if parent is not None else None
            node = load_catalog().node(f"{path}/{child}" if path else child)
            message = "is required but missing" if node is not None and node.required else \
                f"<{etree.QName(el).localname}> is out of place (expected <{child}> here)"
            if node is None or not node.required:
                path = element_path(el)
            else:
                path = f"{path}/{child}" if path else child
        elif child:
            path = f"{path}/{child}" if path else child
        field = load_catalog().field(path) if path and message.endswith("is not in the expected format") else None
        if field is not None and getattr(field, "type_name", "") == "Country":  # (its help is for what is typed)
            message = (f"'{(el.text or '').strip()}' is not a country code: a draft holds the two-letter ISO code, "
                       "in capitals (US); `medwatch batch` and `medwatch new` also take a country's name")
        elif field is not None and field.help:  # what the box takes, from its help ('8 digits, e.g. 10033295')
            message = not_of_its_form(field, (el.text or "").strip())
        if refused is not None and path and "_VALID" in entry.type_name:  # (a type or facet, not structure)
            refused.add(path)
        if (path, entry.line) in seen:  # one message per mistake, not one per facet
            continue
        seen.add((path, entry.line))
        problems.append(_problem("error", message, path, entry.line, source))
    return problems


def rules_failing(root: etree._Element) -> set:
    """The ids of the business rules a draft fails (the XSD not asked: a draft built for a
    what-if, such as drafting.py's with a refused value put back as written)."""
    return {problem.rule for problem in _rule_problems(root, None)}


def _rule_problems(root: etree._Element, source: Optional[str]) -> List[Problem]:
    return [problem for _, problem in _rule_findings(root.getroottree(), rule_report(root), source)]


def _rule_findings(tree: etree._ElementTree, report: etree._ElementTree,
                   source: Optional[str]) -> Iterator[Tuple[etree._Element, Problem]]:
    """(draft root, problem) for each failed rule in an SVRL report on `tree`."""
    fields = compiled_rules()[1]
    for failed in report.getroot().iter(f"{SVRL}failed-assert", f"{SVRL}successful-report"):
        found = tree.xpath(failed.get("location", "/*"))
        el = found[0] if isinstance(found, list) and found else tree.getroot()
        draft = el
        while draft.tag != _REPORT and draft.getparent() is not None:
            draft = draft.getparent()
        base = element_path(el) if el is not draft else ""
        rel = fields.get(failed.get("id"), "")
        path = base if rel in ("", ".") else (f"{base}/{rel}" if base else rel)
        target = el
        if rel not in ("", "."):
            hit = el.find("/".join(f"{{{NS}}}{step}" for step in rel.split("/")))
            target = hit if hit is not None else el
        form = _form(draft)
        text = _in_words_of(form, _message_for(form, failed))
        severity = "warning" if failed.get("role") == "warning" else "error"
        line = target.sourceline
        if line is not None and draft.sourceline is not None and draft.getparent() is not None:
            line = line - draft.sourceline + 2  # the line in the draft's own file (after the XML declaration)
        yield draft, _problem(severity, text, path, line, source, failed.get("id", ""))


_SPAN = f"{SCH}span"
_FIELD = "{%s}field" % NS


def _message_for(form: str, failed: etree._Element) -> etree._Element:
    """A failed rule's message for the form a draft is for: a consumer's (3500B) draft gets
    the wording rules.sch writes for that form (the diagnostic `<id>-3500B`), where it has one;
    Form 3500's says "no identifiable patient" and "suspect product" to a patient."""
    if form == "3500B":
        own = f"{failed.get('id')}-3500B"
        for wording in failed.iterfind(f"{SVRL}diagnostic-reference"):
            if wording.get("diagnostic") == own:
                return wording
    return failed.find(f"{SVRL}text")


def _in_words_of(form: str, text: etree._Element) -> str:
    """A failed rule's message, naming each box it points to (rules.sch's `<span
    class="box" mw:field="patient/identifier">A1 patient identifier</span>`) as `form` does:
    a consumer told to fill in "A1 patient identifier" would fill in 3500B's A1, the kind of
    problem. Any other Schematron processor shows the words inside the span, Form 3500's."""
    parts = [text.text or ""]
    for child in text:
        node = load_catalog().node(child.get(_FIELD, "")) if child.tag == _SPAN else None
        parts.append(node.mention(form) if node is not None else "".join(child.itertext()))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _form(draft: etree._Element) -> str:
    """The form a draft is for, as its messages name boxes ("3500B" or "3500")."""
    form = (draft.findtext(f"{{{NS}}}admin/{{{NS}}}form") or "").strip().upper()
    return "3500B" if form == "3500B" else "3500"


def validate_tree(root: etree._Element, source: Optional[str] = None) -> List[Problem]:
    """All problems of a parsed draft: XSD first, then the business rules.

    Rule findings on a field the XSD already rejected are dropped, and so are those of a
    rule that reads a box of the field's entry whose value it refused (one message per
    mistake: not "age 52 moons is outside the human range" beside "'moons' is not an age
    unit"); a box only out of place holds a value the rules judge as it is.
    """
    refused: set = set()
    problems = _xsd_problems(root, source, refused)
    bad_paths = {p.path for p in problems}
    for p in _rule_problems(root, source):
        if p.path not in bad_paths and not (p.rule and "/" in (p.path or "") and reads_refused(p.rule, p.path, refused)):
            problems.append(p)
    return _in_boxes_of_its_form(root, problems)


def reads_refused(rule: str, path: str, refused: set) -> bool:
    """Whether the rule `rule`, found failing at `path`, reads a box whose value was refused
    (by a batch row's reading, or by the XSD): it judged a value not there, or not one, and
    the refusal says what is wrong already. A rule about a field reads the boxes of that
    field's entry (suspect_product[3], not [2]); one about a whole group (FDA's minimum
    criteria: `patient`) the boxes of the groups it names."""
    names = rule_reads().get(rule)
    if not names:
        return False
    entry = path.rpartition("/")[0]
    for box in refused:
        where, _, leaf = box.rpartition("/")
        if leaf not in names:
            continue
        if (where == entry) if entry else (without_indexes(where.split("/")[0]) in names):
            return True
    return False


def _in_boxes_of_its_form(root: etree._Element, problems: List[Problem]) -> List[Problem]:
    return in_boxes_of(_form(root), problems)


def in_boxes_of(form: str, problems: List[Problem]) -> List[Problem]:
    """A consumer's draft (3500B) has its problems in the boxes of the form they fill in, in
    its words: E3 age, not Form 3500's A2; E1 Person's initials (validate and the E2B export)."""
    if form == "3500B":
        for p in problems:
            if p.path:
                box, label = load_catalog().describe(p.path, "3500B")
                p.box, p.label = box or p.box, label or p.label
    return problems


_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"
_GROUP_START = b'<group xmlns:group="%s">' % NS.encode()  # (the prefix _GROUP's namespace comes under)


def validate_many(documents: List[bytes], sources: List[str],
                  leaves: Optional[List[tuple]] = None) -> List[Tuple[etree._Element, List[Problem]]]:
    """(root, problems) for each of many drafts, with what `validate_tree` finds on each.

    For batches: the drafts (as `draft.draft_document` writes them) are parsed as one group
    document and the rules run once over the group, since one run of the rules' XSLT has a
    fixed cost of about twice its work on a draft. Each draft is checked against the XSD on
    its own; one that fails is checked again alone for messages with its own line numbers.
    With the drafts' `leaves` (draft_document's), a draft that rule_screen finds certainly
    passing every rule is not given to the XSLT.
    """
    if not documents:
        return []
    if not all(d.startswith(_DECLARATION) for d in documents):
        return [_validated_alone(d, s) for d, s in zip(documents, sources)]
    group = parse_xml_bytes(_GROUP_START + b"".join(d[len(_DECLARATION):] for d in documents) + b"</group>",
                            "<group>")
    drafts = list(group)
    if len(drafts) != len(documents) or any(d.tag != _REPORT for d in drafts):
        return [_validated_alone(d, s) for d, s in zip(documents, sources)]
    group.tag = _GROUP  # (in the namespace its start declares: nothing is added to the tree)
    every_draft_valid = _group_xsd().validate(group)  # nearly always: one validation for the chunk
    group.tag = "group"  # (as the rules' XSLT has always seen it)
    schema = _xsd()
    results = []
    where = {}
    valid = []  # (draft, its leaves) of the drafts the XSD accepts: the rules look at those
    for i, (draft, data, source) in enumerate(zip(drafts, documents, sources)):
        if every_draft_valid or schema.validate(draft):  # (an element: validated as a document's root)
            where[draft] = len(results)
            results.append((draft, []))
            valid.append((draft, leaves[i] if leaves is not None else None))
        else:
            results.append(_validated_alone(data, source))
    day = today()
    passing = (certainly_passing([found for _, found in valid], day, placeholders()) if leaves is not None
               else [False] * len(valid))
    to_check = [draft for (draft, _), passes in zip(valid, passing) if not passes]  # for the rules' XSLT
    if to_check:
        checked = group
        if len(to_check) < len(group):  # (moving a few drafts costs less than removing many)
            checked = etree.Element("group")
            checked.extend(to_check)
        tree = checked.getroottree()
        report = rule_report(checked, schema_valid=True, day=day)  # every draft here passed the XSD
        for draft, problem in _rule_findings(tree, report, "<group>"):
            root, problems = results[where[draft]]
            problem.file = sources[where[draft]]
            problems.append(problem)
    for root, problems in results:
        if problems:
            _in_boxes_of_its_form(root, problems)
    return results


def _validated_alone(data: bytes, source: str) -> Tuple[etree._Element, List[Problem]]:
    root = parse_draft(data, source)
    return root, validate_tree(root, source)


def validate_bytes(data: bytes, source: str = "<input>") -> List[Problem]:
    try:
        root = parse_draft(data, source)
    except InputError as exc:
        return [Problem("error", exc.reason, line=exc.line, file=exc.source)]
    return validate_tree(root, source)


def validate_file(file: Union[str, Path]) -> List[Problem]:
    """Problems of a draft file; unreadable or malformed files give one problem each."""
    try:
        data = read_bytes(file)
    except InputError as exc:
        return [Problem("error", exc.reason, line=exc.line, file=exc.source)]
    return validate_bytes(data, str(file))


def summary(problems: List[Problem]) -> Dict[str, int]:
    return {"errors": sum(p.is_error for p in problems), "warnings": sum(not p.is_error for p in problems)}
