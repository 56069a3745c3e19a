"""ICH E2B(R3) export and import, driven by one mapping table (schemas/e2b-mapping.csv).

Each table row ties a draft field path to an E2B data element: its id, its XPath (relative
to the row's scope: the case, patient, reaction, a test, a drug, a device, the reporter)
and a converter. Export converts draft values through the table and hands them, by element
id, to the Jinja2 template that lays out the HL7 structure; import evaluates the same
XPaths and converts back. What cannot be mapped is reported as a warning, never dropped.
"""
import csv
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

from lxml import etree

from .catalog import load_catalog
from .coerce import ValueProblem, coerce_value, coerce_values, form_of
from .e2b_codes import (DEVICE_ROUTES, DEVICE_ROUTES_TOO, MAPS, NON_CLINICAL_OCCUPATIONS, SERIOUSNESS, reverse,
                        ucum_unit)
from .errors import InputError
from .resources import schema_path
from .validate import Problem, in_boxes_of, validate_tree

HL7 = "urn:hl7-org:v3"
NSMAP = {"hl7": HL7, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}

# Where each scope sits in a PORR_IN049016UV message (structure, not field mapping).
CASE = "hl7:controlActProcess/hl7:subject/hl7:investigationEvent"
PATIENT = CASE + "/hl7:component/hl7:adverseEventAssessment/hl7:subject1/hl7:primaryRole"
SCOPES = {
    "case": CASE,
    "patient": PATIENT,
    "reaction": PATIENT + "/hl7:subjectOf2/hl7:observation[hl7:code/@code='29']",
    "test": PATIENT + "/hl7:subjectOf2/hl7:organizer[hl7:code/@code='3']/hl7:component/hl7:observation",
    "drug": PATIENT + "/hl7:subjectOf2/hl7:organizer[hl7:code/@code='4']/hl7:component/hl7:substanceAdministration",
    "device": "hl7:consumable/hl7:instanceOfKind/hl7:kindOfProduct/hl7:part/hl7:partProduct",  # in a drug
    "reporter": CASE + "/hl7:outboundRelationship[hl7:relatedInvestigation/hl7:code/@code='2']"
                       "/hl7:relatedInvestigation/hl7:subjectOf2/hl7:controlActEvent/hl7:author/hl7:assignedEntity",
}
ROLE = "hl7:component/hl7:adverseEventAssessment/hl7:component/hl7:causalityAssessment[hl7:code/@code='20']"
# Draft fields used to compute derived E2B elements rather than copied into one element.
DERIVED = {"event/problem_type": "FDA.G.k.12.r.1 malfunction", "patient/weight_unit": "D.3 (converted to kg)",
           "reporter/health_professional": "C.2.r.4 qualification", "admin/report_id": "C.1.1 / C.1.8.1",
           "admin/form": "(form choice)", "admin/follow_up": "(no element: a warning says so)",
           "suspect_product/ongoing": "G.k.8 action taken", "suspect_product/dose_reduced_date": "G.k.8 action taken",
           "suspect_product/route_other": "G.k.4.r.10.1 route (free text)"}


@dataclass(frozen=True)
class Row:
    element: str
    label: str
    scope: str
    draft_path: str
    xpath: str
    convert: str


@lru_cache(maxsize=1)
def mapping() -> List[Row]:
    """The mapping table, read once."""
    with open(schema_path("e2b-mapping.csv"), newline="", encoding="utf-8") as handle:
        return [Row(**{k: (v or "").strip() for k, v in r.items()}) for r in csv.DictReader(handle)]


def mapping_markdown() -> str:
    """The mapping table as Markdown, for the README (generated, never hand-edited)."""
    catalog = load_catalog()
    lines = ["| E2B(R3) element | meaning | draft field | form box | conversion |", "|---|---|---|---|---|"]
    for row in mapping():
        path = row.draft_path if "/" in row.draft_path else f"suspect_product/{row.draft_path}"
        field_ = catalog.field(path)
        where = f"`{path}`" + (" / `concomitant/...`" if row.scope == "drug" and row.draft_path in
                               ("name", "start_date", "stop_date") else "")
        lines.append(f"| {row.element} | {row.label} | {where} | {field_.box} {field_.label} | {row.convert} |")
    return "\n".join(lines) + "\n"


# ---- converters: draft value <-> E2B value ----------------------------------------------
def to_ts(value: str) -> str:
    return value.replace("-", "")


def from_ts(value: str) -> str:
    digits = "".join(ch for ch in value.split("+")[0].split("-")[0] if ch.isdigit())[:8]
    return "-".join(x for x in (digits[:4], digits[4:6], digits[6:8]) if x)


def export_value(row: Row, values: dict, path: str):
    """The E2B value for `row` from the draft values (None when there is nothing to send)."""
    raw = values.get(path)
    kind, _, arg = row.convert.partition(":")
    if kind == "flag":
        return "true" if arg in (raw or []) else None
    if kind == "qualification":  # G2 says whether the reporter is a health professional; G3 which one
        health_professional = values.get(path.replace("occupation", "health_professional"))
        if health_professional == "false" or (raw in NON_CLINICAL_OCCUPATIONS and health_professional != "true"):
            return MAPS["qualification"]["non_health_professional"]  # a risk manager is no clinician
        if raw in MAPS["qualification"]:
            return MAPS["qualification"][raw]
        return "3" if raw else None  # other clinicians: other health professional
    if kind == "action_taken":
        return _action_taken(values, path[:path.rindex("/") + 1])[0]
    if kind == "dosage_text":
        return dosage_text(values, path[:path.rindex("/") + 1])
    if raw in (None, "", []):
        return None
    if kind == "ts":
        return to_ts(raw)
    if kind == "code":
        items = raw if isinstance(raw, list) else [raw]
        codes = [MAPS[arg].get(item) for item in items]
        codes = [c for c in codes if c]
        return (codes if isinstance(raw, list) else (codes[0] if codes else None)) or None
    if kind == "weight_kg":  # kg to its last digit given (a 0.85 kg neonate was sent as 0.8); lb to 0.01 kg below 10 kg
        if _number(raw) is None:
            return None  # (a draft's own error: not a number)
        weight = Decimal(raw.strip())
        if values.get(path + "_unit", "kg") == "lb":
            weight = weight * Decimal("0.45359237")
            weight = weight.quantize(Decimal("0.01") if weight < 10 else Decimal("0.1"), ROUND_HALF_UP)
        return format(weight.normalize(), "f")  # ('78.000' and '078' as 78)
    if kind == "prefix":
        if arg == "tel:":  # an extension as a tel: URI writes it (RFC 3966): tel:614-555-0142;ext=22
            raw = _EXTENSION.sub(r";ext=\1", raw)
        return raw if raw.startswith(arg) else arg + raw
    if kind == "label":  # a code list value sent as its form label (free text E2B elements)
        choice = load_catalog().field(path).choice(raw)
        return choice.label if choice else raw
    if kind == "number":
        return _number(raw)
    if kind == "ucum":  # the unit's UCUM code ('C' is Cel), or None: not known to be one (sent as text)
        return ucum_unit(raw)
    return raw


def dosage_text(values: dict, prefix: str) -> Optional[str]:
    """G.k.4.r.8 dosage text: the D2 dose, its unit and the frequency in words, when the
    frequency has no E2B interval (HS, PRN, other: D2 other frequency's own words). The
    overdose example's continuous infusion was sent as '450 ug' alone, its frequency dropped."""
    frequency, other = values.get(prefix + "frequency"), values.get(prefix + "frequency_other")
    if not other and (not frequency or frequency in MAPS["frequency"]):
        return None
    choice = load_catalog().field(prefix + "frequency").choice(frequency) if frequency else None
    listed = None  # the list's answer in words, unless it is "other" (said by the words) or an interval
    if choice is not None and frequency != "other" and frequency not in MAPS["frequency"]:
        listed = f"{choice.label} ({choice.plain})" if choice.plain else choice.label
    words = ", ".join(w for w in (listed, other) if w) or "other frequency (not described)"  # (PRN and its words)
    dose, unit = values.get(prefix + "dose"), values.get(prefix + "dose_unit")
    if unit:  # the UCUM unit E2B sends the dose in ('ug'), else the form's abbreviation ('DF', 'UNK')
        code = MAPS["dose_unit"].get(unit, "")
        unit = code if code and not code.startswith("{") else unit
    amount = " ".join(str(x) for x in (dose, unit) if x)
    return ", ".join(x for x in (amount, words) if x)


# a number as an HL7 PQ value (xs:decimal or xs:double) takes it: Python's Decimal also reads
# '1_000', 'Infinity' and 'NaN', which the ICH schema refuses
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(text) -> Optional[str]:
    """`text` as a number for a numeric E2B element, or None when it is not one."""
    text = str(text).strip()
    return text if _NUMBER.fullmatch(text) else None


_PARTIAL_DATE = re.compile(r"[0-9]{4}(?:-[0-9]{2}){0,2}")


def on_or_after(date: str, other: str) -> Optional[bool]:
    """Whether partial ISO date `date` is on or after `other`, compared at the precision both
    have (2026-10 is after 2026-09-14); None when unknown: a date missing, or equal at less
    than a day's precision (2026-09 and 2026-09-14)."""
    if not date or not other or not (_PARTIAL_DATE.fullmatch(date) and _PARTIAL_DATE.fullmatch(other)):
        return None  # (a date not written as the draft writes dates is the draft's own error)
    a, b = [int(x) for x in date.split("-")], [int(x) for x in other.split("-")]
    n = min(len(a), len(b))
    if a[:n] != b[:n]:
        return a[:n] > b[:n]
    return True if n == 3 else None


def _action_taken(values: dict, prefix: str) -> (Optional[str], Optional[str]):
    """G.k.8 (action taken with the drug, in response to the reaction) and, when a date the
    draft gives cannot tell, the field that could not: 1 withdrawn when stopped on or after
    the event date (B3), 2 dose reduced when reduced on or after it; else nothing, as the
    draft does not say (a drug stopped before the event was not withdrawn because of it;
    'ongoing' does not say the dose was not changed)."""
    event = values.get("event/event_date")
    dates = (event, values.get(prefix + "stop_date"), values.get(prefix + "dose_reduced_date"))
    if any(d and not _PARTIAL_DATE.fullmatch(d) for d in dates):
        return None, None  # a date the draft's schema refuses (10/08/2026): its own error stops the export
    unknown = None
    stop = values.get(prefix + "stop_date") if values.get(prefix + "ongoing") != "true" else None
    for path, code in ((prefix + "stop_date", "1"), (prefix + "dose_reduced_date", "2")):
        date = values.get(path) if code == "2" else stop
        after = on_or_after(date, event) if date else False
        if after:
            return code, None
        if after is None:
            unknown = unknown or path
    return None, unknown


# words whose period does not end a sentence ("Pt. developed...", "i.e.", "approx. 5 mg")
_ABBREVIATIONS = {"pt", "pts", "dr", "drs", "mr", "mrs", "ms", "prof", "st", "vs", "approx", "eg", "ie", "cf", "ca",
                  "incl", "resp", "wk", "wks", "yr", "yrs", "no", "fig"}
_PERIOD = re.compile(r"\.(?=\s|$)")


def _an_item(word: str, before: str, after: str) -> bool:
    """Whether the number `word` before a period marks an item of a numbered list ("Events:
    1. Rash 2. Fever"): a 1 that a 2 follows, or an n after n-1. Else it ends a sentence
    ("Hb dropped to 7. Patient was transfused", "rash on day 2. 1. Rash")."""
    if not word.isdigit() or len(word) > 2:
        return False
    n = int(word)
    return bool(re.search(r"(?<![\w.])2\.\s", after) if n == 1 else re.search(rf"(?<![\w.]){n - 1}\.\s", before))


def first_sentence(text: str, limit: int = 250) -> str:
    """The first sentence of `text` (E.i.1.1a, reaction as reported), at most `limit`
    characters cut at a word's end. A period after an abbreviation (Pt, Dr, vs, e.g., i.e.,
    approx), a single letter or an item's number ("1. Rash 2. Fever") does not end it, nor does one
    inside a number (2.5): "Pt. developed urticaria" was sent as "Pt"."""
    text = text.strip()
    end = len(text)
    for period in _PERIOD.finditer(text):
        before = text[:period.start()]
        word = before.split()[-1].lstrip("([\"'").lower() if before.split() else ""
        if (word in _ABBREVIATIONS or re.fullmatch(r"[^\W\d_](\.[^\W\d_])*", word)
                or _an_item(word, before, text[period.end():])
                or not re.search(r"[^\W\d_]", before)):  # "J. Smith", "e.g.", "b.i.d."
            continue
        end = period.start()
        break
    sentence = text[:end].strip()
    if len(sentence) > limit:  # at a word's end, unless that loses most of it (a URL, Japanese: no spaces)
        cut = sentence[:limit + 1].rsplit(None, 1)[0] if " " in sentence[:limit + 1] else sentence[:limit]
        sentence = (cut if len(cut) > limit // 2 else sentence[:limit]).rstrip(" ,;:-")
    return sentence


# a phone's extension as the draft takes it: x22, ext. 22 (schemas/report.xsd, type Phone)
_EXTENSION = re.compile(r" ?(?:[xX]|[eE][xX][tT]\.?) ?([0-9]{1,6})$")


def import_value(row: Row, found: List[str]):
    """The draft value for `row` from what its XPath found (None when it does not map)."""
    kind, _, arg = row.convert.partition(":")
    if not found:
        return None
    first = found[0]
    if kind == "flag":
        return arg if first == "true" else None
    if kind == "ts":
        return from_ts(first) or None
    if kind == "code":
        back = reverse(arg)
        if row.draft_path.endswith(("race", "problem_type", "outcome")):
            return [back[f] for f in found if f in back] or None
        return back.get(first)
    if kind == "qualification":
        return reverse("qualification").get(first)
    if kind in ("action_taken", "dosage_text"):  # derived on export (from dates, from D2): no draft field
        return None
    if kind == "prefix":
        return first.split(":", 1)[-1].replace(";ext=", " x")
    if kind == "label":
        try:
            return coerce_value(load_catalog().field(row.draft_path if "/" in row.draft_path else f"suspect_product/{row.draft_path}"), first)
        except ValueProblem:
            return None
    if kind == "number":
        return _number(first)
    if kind == "meddra_version":  # '15' (as ICH's example 1-1 writes it) is MedDRA 15.0, N.N as the draft takes
        return f"{first}.0" if re.fullmatch(r"[0-9]{1,2}", first) else first
    return first


# ---- export ------------------------------------------------------------------------------
@dataclass
class Block:
    """E2B values of one scope instance, looked up by element id in the template."""

    values: Dict[str, object] = field(default_factory=dict)

    def v(self, element: str):
        value = self.values.get(element)
        return value[0] if isinstance(value, list) else value

    def all(self, element: str) -> list:
        value = self.values.get(element)
        return value if isinstance(value, list) else ([value] if value else [])


@dataclass
class Case(Block):
    safety_report_id: str = ""
    worldwide_id: str = ""
    reaction_id: str = ""
    reaction_text: str = ""
    meddra: Optional[tuple] = None
    reaction_outcome: str = "0"
    country: str = ""
    seriousness: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    drugs: list = field(default_factory=list)
    malfunction: bool = False
    expedited: bool = False
    combination: bool = False
    local_report_type: str = "2"
    has_address: bool = False
    sender_type: str = ""
    first_sender: str = "2"
    occupation: str = ""


@dataclass
class Drug(Block):
    id: str = ""
    role: str = "1"
    devices: list = field(default_factory=list)
    timing: list = field(default_factory=list)
    route_text: str = ""
    dosage: bool = False


def _fill(block: Block, scope: str, values: dict, prefix: str, group: str, used: set):
    for row in mapping():
        if row.scope != scope:
            continue
        if scope == "drug":
            path = f"{prefix}{row.draft_path}"
            if group == "concomitant" and row.draft_path not in ("name", "start_date", "stop_date"):
                continue
        elif scope in ("test", "device"):
            path = prefix + row.draft_path.split("/")[-1]
        else:
            path = row.draft_path
        value = export_value(row, values, path)
        if value is not None and (row.element not in block.values or row.convert.startswith("flag")):
            block.values[row.element] = value
        used.add(path)


def _instances(values: dict, group: str) -> List[str]:
    found = sorted({int(p[len(group) + 1:].split("]")[0]) for p in values if p.startswith(group + "[")})
    return [f"{group}[{i}]/" for i in found]


def case_from_draft(values: dict, settings: dict, problems: List[Problem], source: str) -> Case:
    """Everything the template needs for one draft; unmapped fields become warnings."""
    used: set = set()
    c = Case()
    for scope in ("case", "patient", "reaction", "reporter"):
        _fill(c, scope, values, "", "", used)
    report_id = str(values.get("admin/report_id") or uuid.uuid4().hex[:12].upper())
    already = re.match(r"^[A-Z]{2}-[^-]+-.+", report_id)  # country-sender-number, as C.1.1 wants
    c.safety_report_id = c.worldwide_id = report_id if already else f"{settings['country']}-{settings['sender']}-{report_id}"
    c.reaction_id = str(uuid.uuid4())
    description = str(values.get("event/description") or "")
    c.reaction_text = first_sentence(description) if description else "not reported"
    c.occupation = str(values.get("reporter/occupation") or "")
    _meddra(c, values, source, problems)
    if description and c.reaction_text.rstrip(".") != description.strip().rstrip("."):  # (cut: at a sentence, a length)
        problems.append(_warn(source, "event/description", "E.i.1.1a takes the first sentence (max 250 characters) "
                              "of the description as the reaction term; the whole text goes to H.1" +
                              ("" if c.meddra else ". Code the reaction in MedDRA before submission"), "E2B-MAP"))
    outcomes = values.get("event/outcome") or []
    c.seriousness = [(code, next(r.element for r in mapping() if r.convert == f"flag:{name}"))
                     for name, code in SERIOUSNESS.items()]
    c.reaction_outcome = "5" if "death" in outcomes else "0"
    c.country = str(values.get("reporter/country") or "")
    c.expedited = bool(outcomes)
    c.malfunction = "product_problem" in (values.get("event/problem_type") or [])
    c.has_address = any(c.v(e) for e in ("C.2.r.2.3", "C.2.r.2.4", "C.2.r.2.5", "C.2.r.2.6"))
    for prefix in _instances(values, "event/test"):
        t = Block()
        _fill(t, "test", values, prefix, "test", used)
        _test_as_text(t, values, prefix, source, problems)
        c.tests.append(t)
    for group, role in (("suspect_product", "1"), ("concomitant", "2")):
        for prefix in _instances(values, group):
            d = Drug(id=str(uuid.uuid4()), role=role)
            _fill(d, "drug", values, prefix, group, used)
            _timing(d, values, prefix, source, problems)
            d.route_text = values.get(prefix + "route_other") or d.v("G.k.4.r.10.1") or ""
            for name, element, limit in (("dose", "G.k.4.r.1a", 8), ("duration", "G.k.4.r.6a", 5)):
                amount = d.v(element)  # ICH: 8N, 5N: a width of 8, of 5 (the draft takes 12 digits)
                if amount and len(amount) > limit:
                    problems.append(_refuse(source, prefix + name, f"{amount} is {len(amount)} characters long; "
                                            f"E2B(R3) {element} {name} takes at most {limit} (digits and decimal "
                                            "point): give it in a larger unit or with fewer decimals", "E2B-LEN"))
            d.dosage = bool(d.timing) or any(d.v(e) for e in ("G.k.4.r.1a", "G.k.4.r.7", "G.k.4.r.8",
                                                               "G.k.4.r.10.2b"))
            unclear = _action_taken(values, prefix)[1] if role == "1" and not d.v("G.k.8") else None
            if unclear:
                box, event = load_catalog().node("event/event_date").mention(form_of(values)), values.get("event/event_date")
                done = "the drug was stopped" if unclear.endswith("stop_date") else "the dose was reduced"
                said = (f"{values[unclear]} and {box} {event} are the same at the precision both have" if event
                        else f"{box} is not given")
                problems.append(_warn(source, unclear, f"{said}: whether {done} on or after the event is "
                                      "not known, so G.k.8 action taken with drug is not sent", "E2B-MAP"))
            c.drugs.append(d)
    devices = _instances(values, "device")
    suspects = [d for d in c.drugs if d.role == "1"]
    if devices and suspects:
        c.combination = True
        carrier = _device_carrier(c.drugs, suspects, source, problems)
        for prefix in devices:
            dev = Block()
            _fill(dev, "device", values, prefix, "device", used)
            address = dev.v("FDA.G.k.12.r.7.1b")
            if address and len(address) > 100:  # (FDA's limit: an error of the whole batch, naming no box or file)
                del dev.values["FDA.G.k.12.r.7.1b"]
                problems.append(_warn(source, prefix + "manufacturer_address", f"{len(address)} characters, and FDA."
                                      "G.k.12.r.7.1b (the manufacturer's address) takes at most 100: not sent; give "
                                      "the city and state alone to send it", "E2B-MAP"))
            name = dev.v("FDA.G.k.12.r.7.1a")
            if name and len(name) > 100:  # (the draft takes 250; FDA refuses the ICSR)
                problems.append(_refuse(source, prefix + "manufacturer", f"{len(name)} characters, and FDA.G.k.12.r."
                                        "7.1a (the device's manufacturer) takes at most 100: give the company's name "
                                        "alone", "E2B-LEN"))
            carrier.devices.append(dev)
        if c.malfunction and not any(d.all("FDA.G.k.12.r.3.r") for d in carrier.devices):
            problems.append(_warn(source, "event/problem_type", "a product problem is reported but no device has a "
                                  "problem code (device/problem_code), so no device is flagged as malfunctioning "
                                  "(FDA.G.k.12.r.1)", "E2B-MAP"))
    elif devices:
        problems.append(_warn(source, "device[1]", "a report with devices but no suspect drug is a device report "
                              "(eMDR, Form 3500A), not an E2B drug ICSR: the devices are not sent", "E2B-MAP"))
    c.local_report_type = "1" if c.expedited else "2"
    if c.expedited:  # a serious case is not a 15-day one when its reaction is expected: the draft cannot say
        box = load_catalog().node("event/outcome").box_for(form_of(values))
        problems.append(_warn(source, "event/outcome", f"sent as a 15-day report because {box} marks the event "
                              "serious; the draft does not say whether the reaction is expected (listed): check "
                              "C.1.7 / FDA.C.1.7.1", "E2B-MAP"))
    received = load_catalog().node("event/report_date").mention(form_of(values))
    if not c.v("C.1.4"):  # was sent as nullFlavor UNK (and C.1.5 as the export's day): FDA refuses it
        problems.append(_refuse(source, "event/report_date", "E2B(R3) needs C.1.4, the date the report was first "
                                f"received: give {received}", "E2B-MAP"))
    elif len(c.v("C.1.4")) < 8:  # 2026-10 went as '202610'
        problems.append(_refuse(source, "event/report_date", "E2B(R3) C.1.4 and C.1.5 (dates the report was first "
                                "received and of its most recent information) take a full date, the day at least "
                                f"(CCYYMMDD): {received} is {values['event/report_date']}: give the day", "E2B-MAP"))
    catalog = load_catalog()
    _codes_not_sent(values, source, problems)
    _follow_up_said(values, source, problems)
    for path, value in values.items():
        template = catalog.field(path)
        if template is None or value in ("", []) or path in used:
            continue
        key = template.path
        if key in DERIVED or (devices and not suspects and key.startswith("device/")):
            continue
        problems.append(_warn(source, path, "no E2B(R3) data element in this mapping takes this box; "
                              "it is not sent (mention it in the narrative if it matters)", "E2B-MAP"))
    return c


def _meddra(c: Case, values: dict, source: str, problems: List[Problem]):
    """E.i.2.1b, the reaction's MedDRA code, with its version (E.i.2.1a), both from the draft:
    the code was always nullFlavor UNK, which ICH and FDA refuse, and a draft could not give
    it. One without the other cannot be sent (UNK, as before): said."""
    code, version = c.values.pop("E.i.2.1b", None), c.values.pop("E.i.2.1a", None)
    if code and version:
        c.meddra = (code, version)
    elif code:
        problems.append(_warn(source, "event/meddra_version", f"the reaction's MedDRA code {code} is not sent without "
                              "its MedDRA version (E.i.2.1a): E.i.2.1b is sent as nullFlavor UNK", "E2B-MAP"))
    elif version:
        problems.append(_warn(source, "event/meddra_code", f"MedDRA version {version} is not sent without the "
                              "reaction's MedDRA code: E.i.2.1b is sent as nullFlavor UNK", "E2B-MAP"))


def _timing(d: "Drug", values: dict, prefix: str, source: str, problems: List[Problem]):
    """The parts of a dosage's effectiveTime, in the order of the ICH and FDA examples: the
    interval (G.k.4.r.2/3), the therapy dates (G.k.4.r.4/5), the duration (G.k.4.r.6a/b,
    D3 therapy duration, which was dropped with a warning that E2B has no place for it). A
    frequency without an E2B interval goes in the dosage text (G.k.4.r.8), said."""
    if d.v("G.k.4.r.2"):
        d.timing.append(("period", *d.v("G.k.4.r.2").split()))
    if d.v("G.k.4.r.4") or d.v("G.k.4.r.5"):
        d.timing.append(("range", d.v("G.k.4.r.4"), d.v("G.k.4.r.5")))
    if d.v("G.k.4.r.6a") and d.v("G.k.4.r.6b"):
        d.timing.append(("width", d.v("G.k.4.r.6a"), d.v("G.k.4.r.6b")))
    elif values.get(prefix + "duration"):
        problems.append(_warn(source, prefix + "duration", f"a duration of {values[prefix + 'duration']} without its "
                              "unit is not sent: E2B(R3) G.k.4.r.6a takes its unit (G.k.4.r.6b); give D3 duration "
                              "unit", "E2B-MAP"))
    text = d.v("G.k.4.r.8")
    if not text:
        return
    frequency, other = values.get(prefix + "frequency"), values.get(prefix + "frequency_other")
    if d.v("G.k.4.r.2"):  # an interval and words beside it (a batch may give both)
        problems.append(_warn(source, prefix + "frequency_other", f"'{other}' is sent in the dosage text "
                              f"(G.k.4.r.8) beside the interval of D2 frequency (G.k.4.r.2/3): '{text}'", "E2B-MAP"))
        return
    choice = load_catalog().field(prefix + "frequency").choice(frequency) if frequency else None
    said = (", ".join(x for x in (choice.label if choice and frequency != "other" else None, other) if x)
            or (choice.label if choice else frequency))
    problems.append(_warn(source, prefix + ("frequency" if frequency else "frequency_other"), f"frequency '{said}' "
                          f"has no E2B interval (G.k.4.r.2/3); it is sent in the dosage text (G.k.4.r.8): '{text}'",
                          "E2B-MAP"))


def _test_as_text(t: Block, values: dict, prefix: str, source: str, problems: List[Problem]):
    """What of a test cannot go in E2B's numeric elements goes in its text ones, said: a
    result with a unit that is no UCUM code this tool knows (spaces: 'beats per min'; 'G/L'),
    or with a unit beside a text result, as F.r.3.4 text with its unit (the unit was dropped;
    'C' went into the UCUM unit as is, where it means coulombs); a normal low or high that
    is not a number ('<150', 'negative') in F.r.6 comments (it broke the ICH schema)."""
    result, unit = values.get(prefix + "result"), values.get(prefix + "unit")
    unit_ok = not unit or t.v("F.r.3.3") is not None  # its UCUM code ('C', '°C': Cel)
    if result and unit and (not unit_ok or not t.v("F.r.3.2")):
        t.values.pop("F.r.3.2", None)
        t.values["F.r.3.4"] = f"{result} {unit}"
        why = ("is the unit of a result that is not a number" if unit_ok else "is not a unit code (UCUM, no spaces)"
               if re.search(r"\s", unit) else "is not a UCUM unit code this tool knows (F.r.3.3 takes UCUM only)")
        problems.append(_warn(source, prefix + "unit", f"'{unit}' {why}: the result is sent as text with its unit "
                              f"(F.r.3.4): '{result} {unit}'", "E2B-MAP"))
    ranges = {side: values.get(prefix + side) for side in ("low", "high")}
    unsent = [side for side, element in (("low", "F.r.4"), ("high", "F.r.5"))
              if ranges[side] and not (t.v(element) and unit_ok)]
    if not unsent:
        return
    for element in ("F.r.4", "F.r.5"):
        if not unit_ok:
            t.values.pop(element, None)
    text = (f"normal range: {ranges['low']} - {ranges['high']}" if all(ranges.values())
            else f"normal {unsent[0]}: {ranges[unsent[0]]}")
    if unit and not (unit_ok and t.v("F.r.3.2")):
        text += f" {unit}"
    t.values["F.r.6"] = text
    for side in unsent:
        why = "is not a number" if _number(ranges[side]) is None else f"has a unit that is no unit code ('{unit}')"
        problems.append(_warn(source, prefix + side, f"'{ranges[side]}' {why}: E2B's normal {side} value "
                              f"(F.r.{4 if side == 'low' else 5}) takes a number; sent as text in the test's comments "
                              f"(F.r.6): '{text}'", "E2B-MAP"))


def _device_carrier(drugs: list, suspects: list, source: str, problems: List[Problem]) -> "Drug":
    """The suspect product a combination case's devices are sent with (FDA.G.k.12.r sits in a
    drug). The draft does not link a device to a product, so: the one suspect given by a
    route a device delivers (an intrathecal pump's baclofen, not the oral gabapentin beside
    it), else the first suspect; with more than one suspect, said, so a person checks it."""
    by_device = []
    for routes in (DEVICE_ROUTES, DEVICE_ROUTES_TOO):
        codes = {MAPS["route"][r] for r in routes}
        by_device = by_device or [d for d in suspects if d.v("G.k.4.r.10.2b") in codes]
    carrier = by_device[0] if len(by_device) == 1 else suspects[0]
    if len(suspects) > 1:
        if len(by_device) == 1:
            why = f"the one suspect product given by a route a device delivers ({carrier.route_text})"
        elif by_device:
            why = ("the first suspect product: more than one is given by a route a device delivers ("
                   + ", ".join(d.route_text for d in by_device) + ")")
        else:
            why = ("the first suspect product: none is given by a route a device delivers (an infusion, injection, "
                   "inhaler or patch)")
        problems.append(_warn(source, "device[1]", f"the devices (FDA.G.k.12.r) are sent with G.k #{drugs.index(carrier) + 1} "
                              f"'{carrier.v('G.k.2.2')}', {why}; the draft does not say which product a device "
                              "belongs to: check it before submission", "E2B-MAP"))
    return carrier


def _sender_type(c: "Case") -> str:
    """C.3.1 from the case's own reporter: 3 a health professional, 6 (other) hospital staff
    who are not (a risk manager, a biomedical engineer: they were sent as 7, patient or
    consumer, which spared them FDA's R0022, a sender's organisation), else 7."""
    if c.v("C.2.r.4") in ("1", "2", "3"):
        return "3"
    return "6" if c.occupation in NON_CLINICAL_OCCUPATIONS else "7"


def _follow_up_said(values: dict, source: str, problems: List[Problem]):
    """E2B(R3) has no follow-up number: a follow-up goes out as its case's report, with this
    report's date (B4) as C.1.4 (first received) and C.1.5 (most recent information). Said,
    so C.1.4 is set by hand to the date the case was first received (it was not said: a
    follow-up looked like a new report)."""
    number = str(values.get("admin/follow_up") or "").strip()
    if re.fullmatch(r"\+?[0-9]+", number) and int(number) > 0:  # ('01' is 1, '+0' an initial report; '²' no number)
        box = load_catalog().node("event/report_date").mention(form_of(values))
        problems.append(_warn(source, "admin/follow_up", f"follow-up {int(number)}: E2B(R3) has no follow-up number; "
                              f"C.1.4 (date first received) is sent as this report's date, {box}: set it to the date "
                              "the case was first received before submission", "E2B-MAP"))


_SCOPE_GROUP = {"drug": "suspect_product/", "test": "event/test/", "device": "device/"}


def _codes_not_sent(values: dict, source: str, problems: List[Problem]):
    """A draft's answer that its E2B code list lacks (race 'Middle Eastern or North African',
    newer than FDA's table) cannot be sent: said, not dropped without a word (the field
    counted as sent, the other answers were)."""
    lists = {}
    for row in mapping():
        kind, _, name = row.convert.partition(":")
        if kind == "code" and name != "frequency":  # (a frequency without an interval is said as such)
            group = _SCOPE_GROUP.get(row.scope, "")
            lists[group + (row.draft_path.split("/")[-1] if group else row.draft_path)] = name
    for path, value in values.items():
        field_ = load_catalog().field(path)
        name = lists.get(field_.path) if field_ is not None else None
        if name is None or value in ("", [], None):
            continue
        lacking = [item for item in (value if isinstance(value, list) else [value]) if item not in MAPS[name]]
        for item in lacking:
            choice = field_.choice(item)
            problems.append(_warn(source, path, f"'{choice.label if choice else item}' has no E2B(R3) code in this "
                                  "mapping; it is not sent (mention it in the narrative if it matters)", "E2B-MAP"))


def _versions_in_order(cases: list, follow_ups: List[str], sources: List[str], problems: List[Problem]) -> list:
    """The ICSRs in batch order: versions of one case (one C.1.1: the same admin/report_id,
    initial report and follow-ups) by follow-up number, the initial report first, in the
    places they were given in; the other cases as given. Said, naming the files and their
    follow-up numbers: they went without a word, and `drafts/*.xml` puts X-followup-1.xml
    before X.xml, so a follow-up went ahead of its initial report."""
    def number(i: int) -> int:  # (no number: an initial report; one that is no number is the draft's error)
        return int(follow_ups[i]) if re.fullmatch(r"\+?[0-9]+", follow_ups[i]) else 0

    slots: Dict[str, List[int]] = {}
    for i, c in enumerate(cases):
        slots.setdefault(c.safety_report_id, []).append(i)
    order = list(range(len(cases)))
    for report_id, given in slots.items():
        if len(given) < 2:
            continue
        ranked = sorted(given, key=number)
        for slot, i in zip(given, ranked):
            order[slot] = i
        listed = "; ".join(f"{sources[i]} (follow-up {number(i)}{', initial report' if not number(i) else ''})"
                           for i in ranked)
        problems.append(_warn(sources[ranked[0]], "admin/report_id", f"C.1.1 {report_id} is shared by {len(given)} "
                              f"ICSRs of this batch, versions of one case: {listed}; they are sent in that order, "
                              "the initial report first: check that each version is meant to be sent", "E2B-MAP"))
    return [cases[i] for i in order]


def _warn(source, path, message, rule) -> Problem:
    box, label = load_catalog().describe(path)
    return Problem("warning", message, path, box, label, None, source, rule)


def _refuse(source, path, message, rule) -> Problem:
    """An error at a draft's box that stops the export (what E2B or FDA would refuse)."""
    box, label = load_catalog().describe(path)
    return Problem("error", message, path, box, label, None, source, rule)


DEFAULTS = {"sender": "MEDWATCHTOOL", "country": "US", "batch_receiver": "ZZFDA", "message_receiver": "CDER",
            "sender_type": "", "sender_organisation": ""}


def load_settings(config: Optional[str], overrides: dict) -> dict:
    """Sender/receiver settings: defaults, then an INI file's [e2b] section, then options."""
    settings = dict(DEFAULTS)
    if config:
        import configparser

        parser = configparser.ConfigParser()
        try:
            with open(config, encoding="utf-8") as handle:
                parser.read_file(handle)
        except (OSError, configparser.Error) as exc:
            raise InputError(f"cannot read the E2B settings ({exc})", config) from None
        if parser.has_section("e2b"):
            settings.update({k: v for k, v in parser.items("e2b") if k in DEFAULTS})
    settings.update({k: v for k, v in overrides.items() if v})
    return settings


def export(drafts: List[Path], settings: dict) -> (bytes, List[Problem]):
    """One E2B(R3) batch for the drafts, and the problems found (mapping warnings, FDA rules)."""
    from .draft import draft_values, read_draft
    from .render import environment

    problems: List[Problem] = []
    cases, follow_ups = [], []
    for path in drafts:
        root = read_draft(path)
        # a draft with errors would become a wrong ICSR: its own problems block the export
        problems.extend(p for p in validate_tree(root, str(path)) if p.is_error)
        values = draft_values(root)
        found = len(problems)
        cases.append(case_from_draft(values, settings, problems, str(path)))
        in_boxes_of(form_of(values), problems[found:])  # a consumer's draft: its form's boxes (not 3500's C1, D2)
        follow_ups.append(str(values.get("admin/follow_up") or "").strip())
    cases = _versions_in_order(cases, follow_ups, [str(p) for p in drafts], problems)
    now = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S+0000")
    for c in cases:  # C.3.1 per ICSR from its own reporter: one consumer's case made every case's 7
        c.sender_type = settings["sender_type"] or _sender_type(c)
        c.first_sender = "1" if c.sender_type == "2" else "2"  # C.1.8.2 (ICH requires it): this sender, a regulator or not
    batch = dict(settings, created=now, number=f"{settings['sender']}-{now[:14]}")
    xml = environment().get_template("e2b-batch.xml.j2").render(batch=batch, cases=cases)
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(remove_blank_text=True))
    etree.indent(root, space="  ")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    from .e2b_rules import check

    problems.extend(check(root))
    return data, problems


# ---- import ------------------------------------------------------------------------------
def _xpath(node, expr):
    found = node.xpath(expr, namespaces=NSMAP)
    out = []
    for f in found if isinstance(found, list) else [found]:
        text = f if isinstance(f, str) else "".join(f.itertext())
        if str(text).strip():
            out.append(str(text).strip())
    return out


def parse_icsr(data: bytes, source: str) -> etree._Element:
    """Parse an E2B(R3) batch or single message safely; InputError on anything else."""
    from .safe_io import parse_xml_bytes

    root = parse_xml_bytes(data, source)
    q = etree.QName(root)
    if q.namespace != HL7 or q.localname not in ("MCCI_IN200100UV01", "PORR_IN049016UV"):
        raise InputError(f"not an ICH E2B(R3) ICSR: the root element is <{q.localname}> in "
                         f"{'namespace ' + repr(q.namespace) if q.namespace else 'no namespace'}; "
                         f"expected MCCI_IN200100UV01 or PORR_IN049016UV in '{HL7}'", source, root.sourceline)
    return root


def messages(root: etree._Element) -> list:
    if etree.QName(root).localname == "PORR_IN049016UV":
        return [root]
    return root.findall(f"{{{HL7}}}PORR_IN049016UV")


def draft_from_message(message, source: str) -> (dict, List[Problem], set):
    """Draft values from one ICSR message; returns values, warnings and the nodes mapped."""
    values: Dict[str, object] = {}
    touched: set = set()
    warnings: List[Problem] = []

    def take(row: Row, anchor, path: str):
        nodes = anchor.xpath(row.xpath, namespaces=NSMAP)
        for n in nodes:  # (an element one of whose attributes was read: its children may still hold data)
            touched.add(("@", n.getparent()) if isinstance(n, etree._ElementUnicodeResult) and n.is_attribute else n)
        found = _xpath(anchor, row.xpath)
        if path in values and not row.convert.startswith("flag"):
            return  # an earlier row (e.g. the coded route) already gave this field
        value = import_value(row, found)
        if value is None:
            if not row.convert.startswith("flag"):
                for each in dict.fromkeys(found):  # (each of them: a second dosage's text was lost unsaid)
                    warnings.append(Problem("warning", f"{row.element} {row.label.split(':')[0]} '{each[:60]}' has no "
                                            "equivalent in the draft; not imported", path, "", "", None, source,
                                            "E2B-IMPORT"))
            return
        if row.convert.startswith("flag"):
            values.setdefault(path, []).append(value)
        elif row.convert == "weight_kg":
            values[path], values[path + "_unit"] = value, "kg"
        elif row.convert == "qualification":
            values[path] = value
            values[path.replace("occupation", "health_professional")] = "false" if value == "non_health_professional" else "true"
        else:
            values[path] = value

    ids = _xpath(message, CASE + "/hl7:id[@root='2.16.840.1.113883.3.989.2.1.3.1']/@extension")
    if ids:
        values["admin/report_id"] = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in ids[0])[:100]
    values["admin/form"] = "3500"
    for scope in ("case", "patient", "reporter"):
        anchors = message.xpath(SCOPES[scope], namespaces=NSMAP)
        for row in mapping():
            if row.scope == scope and anchors:
                take(row, anchors[0], row.draft_path)
    reactions = message.xpath(SCOPES["reaction"], namespaces=NSMAP)
    if reactions:
        for row in mapping():
            if row.scope == "reaction":
                take(row, reactions[0], row.draft_path)
    if not values.get("event/description") and reactions:
        text = _xpath(reactions[0], "hl7:value/hl7:originalText")
        if text:
            values["event/description"] = text[0]
    for i, anchor in enumerate(message.xpath(SCOPES["test"], namespaces=NSMAP), 1):
        for row in mapping():
            if row.scope == "test":
                take(row, anchor, f"event/test[{i}]/" + row.draft_path.split("/")[-1])
    kinds = (["adverse_event"] if reactions else []) + (
        ["product_problem"] if message.xpath(SCOPES["drug"] + "/" + SCOPES["device"] + "//hl7:characteristic"
                                             "[hl7:code/@code='C54026']/hl7:value[@value='true']", namespaces=NSMAP) else [])
    if kinds:
        values["event/problem_type"] = kinds
    roles = {}
    for assessment in message.xpath(CASE + "/" + ROLE, namespaces=NSMAP):
        touched.add(assessment.find(f"{{{HL7}}}value"))
        drug_id = _xpath(assessment, "hl7:subject2/hl7:productUseReference/hl7:id/@root")
        code = _xpath(assessment, "hl7:value/@code")
        if drug_id and code:
            roles[drug_id[0]] = code[0]
    counts = {"suspect_product": 0, "concomitant": 0}
    devices = 0
    for anchor in message.xpath(SCOPES["drug"], namespaces=NSMAP):
        drug_id = (_xpath(anchor, "hl7:id/@root") or [""])[0]
        group = "concomitant" if roles.get(drug_id) == "2" else "suspect_product"
        counts[group] += 1
        prefix = f"{group}[{counts[group]}]/"
        for row in mapping():
            if row.scope == "drug" and not (group == "concomitant" and row.draft_path not in ("name", "start_date", "stop_date")):
                take(row, anchor, prefix + row.draft_path)
        for part in anchor.xpath(SCOPES["device"], namespaces=NSMAP):
            devices += 1
            _city_and_state(part, f"device[{devices}]/manufacturer_address", values, touched, warnings, source)
            for row in mapping():
                if row.scope == "device":
                    take(row, part, f"device[{devices}]/" + row.draft_path.split("/")[-1])
    return values, touched, warnings


def _city_and_state(part, path: str, values: dict, touched: set, warnings: List[Problem], source: str):
    """E3 is the manufacturer's city and state: from FDA.G.k.12.r.7.1c/d where a message gives
    them (FDA's example 2 gave E3 its street, '1 Hwy Street', the city and state listed as not
    mapped); the street (7.1b, which this tool sends E3 in) is then said not to be imported."""
    addr = part.find(f"{{{HL7}}}asManufacturedProduct/{{{HL7}}}manufacturerOrganization/{{{HL7}}}addr")
    if addr is None:
        return
    found = [el for el in (addr.find(f"{{{HL7}}}city"), addr.find(f"{{{HL7}}}state"))
             if el is not None and (el.text or "").strip()]
    if not found:
        return
    values[path] = ", ".join(el.text.strip() for el in found)
    touched.update(found)
    street = addr.find(f"{{{HL7}}}streetAddressLine")
    if street is not None and (street.text or "").strip():
        touched.add(street)
        warnings.append(Problem("warning", f"FDA.G.k.12.r.7.1b Device manufacturer address '{street.text.strip()[:60]}'"
                                " has no equivalent in the draft (E3 takes the city and state); not imported", path,
                                "", "", None, source, "E2B-IMPORT"))


STRUCTURAL = {"code", "id", "interactionId", "processingCode", "processingModeCode", "acceptAckCode",
              "statusCode", "responseModeCode", "priorityNumber", "interpretationCode", "creationTime"}


def unmapped(message, touched: set) -> List[str]:
    """Leaf data in the message that no mapping row read, as 'element path = value' lines."""
    out = []
    for el in message.iter():
        if not isinstance(el.tag, str) or el in touched or ("@", el) in touched:
            continue
        name = etree.QName(el).localname
        data = (el.text or "").strip() if len(el) == 0 else ""
        attrs = {k: v for k, v in el.attrib.items() if k in ("value", "code", "extension") and v}
        if name in STRUCTURAL or not (data or attrs):
            continue
        if el.getparent() is not None and el.getparent() in touched:
            continue
        chain = []
        for a in el.iterancestors():
            if a is message:
                break
            chain.append(etree.QName(a).localname)
        where = "/".join(reversed(chain))
        shown = data[:60] if data else " ".join(f"@{k}={v}" for k, v in attrs.items())
        out.append(f"{where}/{name} = {shown}")
    return out


def import_file(file: str, out_dir: Path) -> (List[Path], List[Problem]):
    """Write one draft per ICSR in `file` into `out_dir`; list what could not be mapped."""
    from .draft import build_draft, write_draft
    from .safe_io import read_bytes

    root = parse_icsr(read_bytes(file), file)
    written, problems = [], []
    msgs = messages(root)
    if not msgs:
        raise InputError("the batch holds no PORR_IN049016UV message", file)
    for number, message in enumerate(msgs, 1):
        raw, touched, warned = draft_from_message(message, f"{file} message {number}")
        problems.extend(warned)
        values, bad = coerce_values(raw)
        name = f"{values.get('admin/report_id') or 'icsr'}-{number}.xml" if len(msgs) > 1 else \
            f"{values.get('admin/report_id') or 'icsr'}.xml"
        for path, message_text in bad:
            problems.append(_warn(f"{file} message {number}", path, f"not imported: {message_text}", "E2B-IMPORT"))
        for line in unmapped(message, touched):
            problems.append(Problem("warning", f"not mapped to a draft field: {line}", None, "", "", None,
                                    f"{file} message {number}", "E2B-IMPORT"))
        root_draft = build_draft(values)
        target = out_dir / name
        write_draft(root_draft, target)
        for p in validate_tree(root_draft, str(target)):
            p.severity = "warning"  # an imported case may lack what our form requires; say so, keep it
            problems.append(p)
        written.append(target)
    return written, problems


@lru_cache(maxsize=1)
def official_schema(folder: str) -> etree.XMLSchema:
    """The ICH XSD set (not shipped: point at it with --ich-xsd), loaded once."""
    path = Path(folder) / "multicacheschemas" / "MCCI_IN200100UV01.xsd"
    if not path.exists():
        raise InputError("the ICH E2B(R3) schema set is not there (expected multicacheschemas/"
                         "MCCI_IN200100UV01.xsd)", folder)
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False)))
