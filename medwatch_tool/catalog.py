"""The field catalog, read once from `schemas/report.xsd`.

The XSD is the only list of fields. This module walks it and hands out, for each leaf,
its path, form boxes, labels, plain-language question, help text, value kind and code
list; the interview, CSV headers, templates and error messages are all built from it.
"""
import difflib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional, Tuple


from .paths import PathSyntaxError, join_path, split_path, template_of
from .resources import schema_path
from .safe_io import parse_xml_bytes

XS = "http://www.w3.org/2001/XMLSchema"
NS = "urn:x-medwatch-tool:report:1"
_XS = "{%s}" % XS
_MW = "{%s}" % NS

_KINDS = {
    "string": "text", "token": "text", "normalizedString": "text",
    "date": "date", "gYear": "date", "gYearMonth": "date",
    "decimal": "decimal", "integer": "integer", "nonNegativeInteger": "integer",
    "positiveInteger": "integer", "boolean": "boolean",
}


@dataclass(frozen=True)
class Choice:
    """One allowed value of a code list: stored `value`, form `label`, patient `plain`, and
    `also`: other ways people write it ("mcg" for UGM, "PO" for oral), taken as the value."""

    value: str
    label: str
    plain: str
    also: Tuple[str, ...] = ()

    def text(self, form: str = "3500") -> str:
        return self.plain if form.upper() == "3500B" and self.plain else self.label


@dataclass
class Node:
    """What fields and groups share: where they sit and how the forms name them."""

    path: str
    name: str
    box: str = ""
    box_3500b: str = ""
    label: str = ""
    label_3500b: str = ""
    question: str = ""
    help: str = ""
    when: str = ""
    required: bool = False
    parent: Optional["Group"] = field(default=None, repr=False, compare=False)

    def box_for(self, form: str = "3500") -> str:
        return self.box_3500b if form.upper() == "3500B" and self.box_3500b else self.box

    def label_for(self, form: str = "3500") -> str:
        """How the form's page names the box: the consumer form (3500B) in its own plain
        words ("Person's initials", not "Patient identifier")."""
        return self.label_3500b if form.upper() == "3500B" and self.label_3500b else self.label

    def on_form(self, form: str = "3500") -> bool:
        """Whether the form has this box (3500B has no health-professional nor device
        reprocessing boxes: their box there is "—")."""
        return not (form.upper() == "3500B" and self.box_3500b == "—" and self.box not in ("—", ""))

    def title(self, form: str = "3500") -> str:
        """'B3 Date of event': how messages and the form name this field (on the consumer
        form in its words: 'A3 Date the problem happened')."""
        box, label = self.box_for(form), self.label_for(form)
        return f"{box} {label}" if box and box not in ("—", "-") else label

    def mention(self, form: str = "3500") -> str:
        """How a sentence names this box on the form the report is for: "A4 weight unit" on
        Form 3500; on the consumer form its box and its own words, quoted, as they are a
        question's words there ("E5 'Weight in (lb or kg)'", "C9 'Amount in'"). A box the
        form lacks (3500B has no occupation) is named by its label alone."""
        box = self.box_for(form)
        if form.upper() == "3500B" and (self.label_3500b or self.label_for(form) != self.label):
            words = f"'{self.label_for(form)}'"
        else:
            words = lowered(self.label)
        return f"{box} {words}" if box and box not in ("—", "-") else words


def _nearest_in(group: "Group", name: str) -> List[str]:
    """The field of `group` a misspelt `name` means, by its name, its label in either form
    ('date_of_event', 'initials'), a start of it ('desc', 'freq'), or one keyboard slip
    ('sxe'); [] when none is clearly meant. (The whole path was matched before: the common
    'patient/' made 'patient/dob' the nearest of patient/sex, 'event/onset' of outcome.)"""
    names, words = _names_of(group)
    best = list({names[n] for n in names if one_slip(name, n)})  # 'sxe', 'agw', 'dex': too short for a ratio
    if not best:
        near = [n for n in names if n[:1] == name[:1]]  # (a ratio finds a word that only ends alike)
        best = [names[n] for n in difflib.get_close_matches(name, near, n=1, cutoff=0.75)]
    # a box's name with a word more or less ('phone_number', 'postal', 'id'), or begun ('desc', 'las')
    best = best or list(_with_a_word_more_or_less(names, name))
    best = best or list(words.get(name, ()))  # a word of one box's label: 'initials' ("Person's initials")
    best = best or _by_initials(group, name)
    return best if len(best) == 1 else []


def _names_of(group: "Group") -> Tuple[Dict[str, str], Dict[str, set]]:
    """A group's fields by their names and their labels in either form ('date_of_event'),
    and by each word of four letters or more of their labels ('initials')."""
    names, words = {}, {}
    for f in group.fields:
        names.setdefault(f.name, f.path)
        for label in filter(None, (f.label, f.label_3500b)):
            names.setdefault("_".join(label.lower().replace("#", "").split()), f.path)
            names.setdefault("_".join(re.findall(r"[a-z0-9]+", label.lower())), f.path)  # (its punctuation left out)
            for word in re.findall(r"[a-z]{4,}", label.lower()):
                words.setdefault(word, set()).add(f.path)
    return names, words


def _with_a_word_more_or_less(names: Dict[str, str], name: str) -> set:
    """A box's name with a word more or less ('phone_number', 'postal', 'id'), or begun ('desc', 'las')."""
    return {path for n, path in names.items()
            if name.startswith(n + "_") or n.startswith(name + "_") or f"_{name}" in f"_{n}_"
            or (len(name) >= 3 and n.startswith(name))}


def _by_initials(group: "Group", name: str) -> List[str]:
    """The field a name of three words or more has as its initials: 'dob'."""
    return [f.path for f in group.fields
            if len(name) >= 3 and "_".join(name) == "_".join(w[:1] for w in f.name.split("_"))]


def _alike(typed: str, name: str) -> bool:
    """Whether two field names are alike enough for one to be offered for the other: more
    than half their letters in common, and not only a first letter apart (height, weight)."""
    return difflib.SequenceMatcher(None, typed, name).ratio() > 0.5 and not (
        len(typed) == len(name) and typed[1:] == name[1:])


def one_slip(typed: str, name: str) -> bool:
    """Whether `typed` is `name` with one slip of the keyboard: a letter wrong, missing or
    extra, or two letters swapped."""
    if typed == name or abs(len(typed) - len(name)) > 1:
        return False
    start = len(os.path.commonprefix([typed, name]))
    a, b = typed[start:], name[start:]
    if len(a) == len(b):
        return a[1:] == b[1:] or (len(a) >= 2 and a[0] == b[1] and a[1] == b[0] and a[2:] == b[2:])
    return a[1:] == b if len(a) > len(b) else a == b[1:]


def lowered(text: str) -> str:
    """A label or help text's first letter in lower case, inside a sentence; not an
    abbreviation's (FDA's, UDI, ID, MedDRA)."""
    word = text.split()[0] if text.split() else ""
    if (text[:2].isalpha() and text[:2].isupper()) or any(ch.isupper() for ch in word[1:]):
        return text
    return text[:1].lower() + text[1:]


@dataclass
class Field(Node):
    """A leaf: one answer (or a list of answers when `multiple`)."""

    kind: str = "text"
    type_name: str = ""
    choices: List[Choice] = field(default_factory=list, repr=False)
    multiple: bool = False
    max_occurs: Optional[int] = 1
    max_length: Optional[int] = None
    pattern: Optional[str] = None
    minimum: Optional[str] = None
    default_3500b: str = ""

    @property
    def group(self) -> Optional["Group"]:
        return self.parent

    def choice(self, value: str) -> Optional[Choice]:
        for c in self.choices:
            if c.value == value:
                return c
        return None


@dataclass
class Group(Node):
    """A section (patient, event...) or a repeating block (suspect_product, event/test)."""

    title_3500b: str = ""
    another_3500b: str = ""
    repeat: bool = False
    children: List[Node] = field(default_factory=list, repr=False)

    @property
    def fields(self) -> List[Field]:
        return [c for c in self.children if isinstance(c, Field)]

    @property
    def subgroups(self) -> List["Group"]:
        return [c for c in self.children if isinstance(c, Group)]

    def section_title(self, form: str = "3500") -> str:
        if form.upper() == "3500B" and self.title_3500b:
            return self.title_3500b
        return self.label

    def label_for(self, form: str = "3500") -> str:
        """A section the consumer form heads in its own words is named by that heading there
        ("E About the person who had the problem"): "Patient information" is Form 3500's."""
        if form.upper() == "3500B" and not self.label_3500b and self.title_3500b:
            return self.title_3500b
        return super().label_for(form)


class Catalog:
    """All groups and fields of the schema, in schema order."""

    def __init__(self, root: Group, fields: List[Field], groups: List[Group]):
        self.root = root
        self.fields = fields
        self.groups = groups
        self._by_path: Dict[str, Node] = {n.path: n for n in [*groups, *fields]}
        self.repeating = frozenset(g.path for g in groups if g.repeat)
        self._units: Optional[Dict[str, Field]] = None  # (unit_of: worked out when first asked)

    @property
    def sections(self) -> List[Group]:
        return self.root.subgroups

    def unit_of(self, path: str) -> Optional[Field]:
        """The code box holding the unit of the number box at a field's `path` (A2 age -> age
        unit, D2 dose -> dose unit): the one asked `when` that number is given; None for a box
        without one."""
        if self._units is None:
            numbers = {f.when: f for f in self.fields if f.kind == "code" and f.when and "=" not in f.when}
            self._units = {path: unit for path, unit in numbers.items()
                           if getattr(self.field(path), "kind", None) in ("decimal", "integer")}
        return self._units.get(path)

    def sections_of(self, form: str = "3500") -> List[Group]:
        """The sections as the form orders them: 3500B by its own section letters (A about the
        problem, B the product, ... E about the person, F the reporter); the report's own
        identification (admin) first on either."""
        if form != "3500B":
            return list(self.sections)
        admin = [g for g in self.sections if g.name == "admin"]
        lettered = [g for g in self.sections if g.name != "admin"]
        return admin + sorted(lettered, key=lambda g: (g.box_3500b[:1], len(g.box_3500b), g.box_3500b))

    def node(self, path: str) -> Optional[Node]:
        try:
            return self._by_path.get(template_of(path))
        except PathSyntaxError:
            return None

    def field(self, path: str) -> Optional[Field]:
        node = self.node(path)
        return node if isinstance(node, Field) else None

    def group(self, path: str) -> Optional[Group]:
        node = self.node(path)
        return node if isinstance(node, Group) else None

    def suggest(self, path: str) -> Optional[str]:
        """The known field path nearest to a misspelt one, for error messages, with the
        indexes the misspelt one gave: a typo in the second product's box suggests
        `suspect_product[2]/name`, not the first product's."""
        key = path.strip()
        try:
            given = split_path(key)
            key = template_of(key)
        except PathSyntaxError:
            given = ()
        key = key.lower()  # ('Device/Lot', as a header may write it)
        where, _, name = key.rpartition("/")
        group = self.group(where)
        candidates = [f.path for f in self.fields]
        if not where:  # a box's name or label alone, as a clinic's own header writes it ('Dose', 'Event Date')
            best = self._named_anywhere(path.strip())
        elif group is not None:
            # a field's own name in another group first ('event/date_of_birth': not event/death_date),
            # where one group has it and either is no product's (concomitant/dose is no suspect product's)
            best = [p for p in candidates if p.rsplit("/", 1)[-1] == name]
            if len(best) != 1 or (group.repeat and self.group(best[0].rsplit("/", 1)[0]).repeat):
                best = _nearest_in(group, name[len(group.name) + 1:] if name.startswith(group.name + "_") else name)
        else:  # the group misspelt too ('patinet/age')
            best = difflib.get_close_matches(key, candidates, n=1, cutoff=0.8)
        if not best and where:  # the whole path, as before, where the names themselves are alike ('drug_name': name)
            best = [p for p in difflib.get_close_matches(key, candidates, n=1, cutoff=0.5)
                    if _alike(name, p.rsplit("/", 1)[-1])]
        return self._indexed(best[0], given) if best else None

    def _named_anywhere(self, key: str) -> List[str]:
        """The one field of any group a name alone means, as a clinic's own header names a
        column ('Sex', 'Date of birth', 'DateOfBirth', 'Event Date', 'A1 Patient identifier',
        'Dose Units', 'DOB', 'weigth'): by its name or label whole first, then by one slip after
        the same first letter, with a word more or less, a word of its label, its initials;
        each way across all groups, and [] where one names several ('Lot', 'Stop date': a
        product's or a device's). A lab test's box by a label of two words or more whole
        ('Result unit') or with 'test' before its name ('Date' is no test date); a group's
        name alone ('Test') by nothing but a field's name; a slip only in five letters or more
        ('Rate' is no race). (The whole path's nearest was a lab test's date for 'Event Date'; a
        guess by likeness offered rechallenge for 'dechallenge', report_date for 'Report Type'.)"""
        spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", key).lower()  # ('DateOfBirth'; not 'E7A Reprocessed')
        name = "_".join(re.findall(r"[a-z0-9]+", spaced))
        name = re.sub(r"^[a-h]\d{1,2}[a-z]?_(?=[a-z])", "", name)  # a box before a label: 'a1_patient_identifier'
        tried = []
        for group in self.groups:
            names, words = _names_of(group)
            prefixed = name[len(group.name) + 1:] if name.startswith(group.name + "_") else ""
            nested = group.parent is not None and group.parent.parent is not None
            own = [n for n in ([prefixed] if nested else [name, prefixed]) if n]
            tried.append((group, names, words, own + ([name] if nested and "_" in name else []), own))
        ways = (lambda group, names, words, n: [names[n]] if n in names else [],
                lambda group, names, words, n: [path for m, path in names.items()  # ('Rate' is no slip of race)
                                                if m[:1] == n[:1] and len(n) >= 5 and one_slip(n, m)],
                lambda group, names, words, n: _with_a_word_more_or_less(names, n),
                lambda group, names, words, n: words.get(n, ()),
                lambda group, names, words, n: _by_initials(group, n))
        for number, way in enumerate(ways):  # (a lab test's label whole, 'Result unit'; else 'test' in the name)
            found = {path for group, names, words, whole, own in tried
                     for n in (whole if number == 0 else own) for path in way(group, names, words, n)}
            if found:
                return list(found) if len(found) == 1 else []
            if any(name in (group.name, group.name + "s") for group in self.groups):
                return []  # a group's name alone names none of its fields ('Test' was offered the tests' comments)
        return []

    def _indexed(self, template: str, given) -> str:
        """`template` in the column spelling, taking the index of the given path's step at
        the same depth (1 where it gave none)."""
        indexes = [index for _, index in given]
        return join_path(((name, indexes[depth] if depth < len(indexes) else 1)
                         for depth, name in enumerate(template.split("/"))), self.repeating)

    def entry_example(self, group: Group) -> str:
        """A field of `group` in the column spelling (its first required one, else its first),
        to show what a group given as a value should have been."""
        fields = group.fields
        first = next((f for f in fields if f.required), fields[0] if fields else group)
        return self._indexed(first.path, ())

    def describe(self, path: Optional[str], form: str = "3500") -> Tuple[str, str]:
        """(box, label) of the field or group a (possibly indexed) path points at, as on
        `form` (the consumer form 3500B numbers its boxes its own way, in its own words)."""
        node = self.node(path) if path else None
        if node is None:
            return "", ""
        return node.box_for(form), node.label_for(form)

    def column_names(self) -> List[str]:
        """CSV header: every leaf path, with `[1]` on repeating groups."""
        return [join_path([(s, 1) for s in f.path.split("/")], self.repeating) for f in self.fields]


def _appinfo(el) -> dict:
    info = el.find(f"{_XS}annotation/{_XS}appinfo/{_MW}field")
    return dict(info.attrib) if info is not None else {}


def _max_occurs(el) -> Optional[int]:
    raw = el.get("maxOccurs", "1")
    return None if raw == "unbounded" else int(raw)


class _SchemaReader:
    """Walks the subset of XSD that report.xsd uses (named types, sequences, unions)."""

    def __init__(self, doc):
        self.simple = {t.get("name"): t for t in doc.iterfind(f"{_XS}simpleType")}
        self.complex = {t.get("name"): t for t in doc.iterfind(f"{_XS}complexType")}
        self.fields: List[Field] = []
        self.groups: List[Group] = []

    @staticmethod
    def _local(qname: str) -> str:
        return qname.split(":", 1)[-1]

    def _simple_facts(self, type_qname: str) -> dict:
        prefix, _, name = type_qname.rpartition(":")
        if prefix == "xs":
            return {"kind": _KINDS.get(name, "text"), "type_name": name}
        st = self.simple[name]
        facts = {"kind": "text", "type_name": name}
        tinfo = st.find(f"{_XS}annotation/{_XS}appinfo/{_MW}type")
        restriction = st.find(f"{_XS}restriction")
        if restriction is not None:
            base = self._local(restriction.get("base"))
            facts["kind"] = _KINDS.get(base, "text")
            enums = restriction.findall(f"{_XS}enumeration")
            if enums:
                facts["kind"] = "code"
                facts["choices"] = [self._choice(e) for e in enums]
            for facet in ("maxLength", "pattern", "minInclusive", "minExclusive"):
                f = restriction.find(f"{_XS}{facet}")
                if f is not None:
                    key = {"maxLength": "max_length", "pattern": "pattern"}.get(facet, "minimum")
                    facts[key] = int(f.get("value")) if facet == "maxLength" else f.get("value")
        if tinfo is not None and tinfo.get("kind"):
            facts["kind"] = tinfo.get("kind")
        return facts

    @staticmethod
    def _choice(enum) -> Choice:
        info = enum.find(f"{_XS}annotation/{_XS}appinfo/{_MW}choice")
        value = enum.get("value")
        label = info.get("label", value) if info is not None else value
        plain = info.get("plain", "") if info is not None else ""
        also = tuple(a.strip() for a in info.get("also", "").split("|") if a.strip()) if info is not None else ()
        return Choice(value, label, plain or label, also)

    def element(self, el, parent: Optional[Group], prefix: str):
        name = el.get("name")
        path = f"{prefix}/{name}" if prefix else name
        info = _appinfo(el)
        common = dict(
            path=path, name=name, box=info.get("box", ""), box_3500b=info.get("box-3500B", ""),
            label=info.get("label", name.replace("_", " ")), label_3500b=info.get("label-3500B", ""),
            question=info.get("question", ""),
            help=info.get("help", ""), when=info.get("when", ""),
            required=int(el.get("minOccurs", "1")) > 0, parent=parent,
        )
        type_name = self._local(el.get("type"))
        if type_name in self.complex:
            group = Group(title_3500b=info.get("title-3500B", ""), another_3500b=info.get("another-3500B", ""),
                          repeat=_max_occurs(el) != 1, **common)
            self.groups.append(group)
            for child in self.complex[type_name].iterfind(f"{_XS}sequence/{_XS}element"):
                group.children.append(self.element(child, group, "" if parent is None else path))
            return group
        max_occurs = _max_occurs(el)
        leaf = Field(multiple=max_occurs != 1, max_occurs=max_occurs,
                     default_3500b=info.get("default-3500B", ""),
                     **common, **self._simple_facts(el.get("type")))
        self.fields.append(leaf)
        return leaf


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Read the catalog from the shipped report.xsd (once per process)."""
    doc = parse_xml_bytes(schema_path("report.xsd").read_bytes(), "report.xsd")
    reader = _SchemaReader(doc)
    root_el = doc.find(f"{_XS}element[@name='report']")
    root = reader.element(root_el, None, "")
    # the root is not part of any path: its children are the sections
    reader.groups.remove(root)
    return Catalog(root, reader.fields, reader.groups)
