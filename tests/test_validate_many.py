"""Batch validation checks a chunk of drafts in one group document: it must find exactly what
`medwatch validate` finds on each draft alone (same problems, paths, boxes, lines)."""
from medwatch_tool.draft import draft_document, draft_values, parse_draft, read_draft
from medwatch_tool.validate import validate_many, validate_tree

from helpers import EXAMPLES


def _variants():
    """Good drafts, drafts with rule errors and warnings, and drafts the XSD rejects."""
    out = []
    for path in sorted(EXAMPLES.glob("*.xml")):
        base = draft_values(read_draft(path))
        out.append(base)
        out.append(dict(base, **{"event/outcome": ["death"]}))                      # MW-OUT-1
        out.append(dict(base, **{"patient/age": "300", "patient/age_unit": "year"}))  # MW-AGE-1
        out.append(dict(base, **{"event/report_date": "2999-01-01"}))                # future date
        out.append(dict(base, **{"event/event_date": "2026-02-30"}))                 # XSD: not a date
        out.append(dict(base, **{"patient/identifier": "Jane Mary Doe"}))            # warning
        out.append(dict(base, **{"patient/identifier": "Jane Mary Doe", "patient/weight": "900",
                                 "patient/weight_unit": "kg"}))  # two asserts of one rule: MW-PAT-1, MW-WT-1
        out.append(dict(base, **{"event/problem_type": ["adverse_event", "product_problem"],
                                 "device[1]/brand_name": "Pump", "device[1]/udi": ""}))  # device warning
    return out


def test_group_validation_equals_validation_one_by_one():
    documents = [draft_document(values)[0] for values in _variants()]
    names = [f"draft-{i}.xml" for i in range(len(documents))]
    together = validate_many(documents, names)
    assert len(together) == len(documents)
    found_any = 0
    for data, name, (root, problems) in zip(documents, names, together):
        alone = validate_tree(parse_draft(data, name), name)
        assert [p.as_dict() for p in problems] == [p.as_dict() for p in alone], name
        assert root.tag.endswith("}report")
        found_any += bool(alone)
    assert found_any >= 2 * len(documents) // 3  # the variants really do have problems


def test_tuned_rules_report_what_plain_iso_schematron_reports():
    """The tool runs rules.sch tuned for speed (date rule narrowed to date fields, today
    passed in, the skeleton's idle default-mode walk dropped, each assert one xsl:if, a
    rule's asserts tried together first).
    lxml's stock ISO Schematron
    compile of the same file (reading today from the clock) must fail the same asserts at the
    same places on every variant."""
    from lxml import etree, isoschematron

    from medwatch_tool.resources import schema_path
    from medwatch_tool.validate import rule_report

    stock = isoschematron.Schematron(etree.parse(str(schema_path("rules.sch"))), store_report=True)
    svrl = "{http://purl.oclc.org/dsdl/svrl}"

    def failures(report):
        return sorted((f.get("id"), f.get("location"), " ".join("".join(f.itertext()).split()))
                      for f in report.getroot().iter(f"{svrl}failed-assert"))

    failing = 0
    for values in _variants():
        draft = parse_draft(draft_document(values)[0], "variant.xml")
        stock(draft)
        expected = failures(stock.validation_report)
        assert failures(rule_report(draft)) == expected
        failing += bool(expected)
    assert failing >= 4  # the variants do break rules


def test_rules_for_schema_valid_drafts_find_what_the_full_walk_finds():
    """A batch's chunk, every draft accepted by the XSD, runs the rules without walking into
    fields: on every such variant they fail the same asserts at the same places."""
    from lxml import etree

    from medwatch_tool.validate import _xsd, rule_report

    def failures(report):
        return sorted((f.get("id"), f.get("location"))
                      for f in report.getroot().iter("{http://purl.oclc.org/dsdl/svrl}failed-assert"))

    checked = failing = 0
    for values in _variants():
        draft = parse_draft(draft_document(values)[0], "variant.xml")
        if not _xsd().validate(etree.ElementTree(draft)):
            continue
        full = failures(rule_report(draft))
        assert failures(rule_report(draft, schema_valid=True)) == full
        checked += 1
        failing += bool(full)
    assert checked >= 6 and failing >= 3


def test_a_draft_the_xsd_rejects_still_has_every_element_checked_by_the_rules():
    """Only a draft the XSD accepts holds nothing inside its fields: on one that puts an
    element inside a field (a hand-edited file), `medwatch validate` still applies the date
    rule to it, besides saying what the XSD refuses."""
    from medwatch_tool.validate import validate_bytes

    values = draft_values(read_draft(sorted(EXAMPLES.glob("*.xml"))[0]))
    data = draft_document(dict(values, **{"patient/identifier": "JD"}))[0].decode()
    data = data.replace("<identifier>JD</identifier>",
                        "<identifier>JD<event_date>2999-01-01</event_date></identifier>", 1)
    assert "<event_date>2999-01-01" in data
    problems = validate_bytes(data.encode(), "edited.xml")
    assert any(p.rule == "MW-DATE-6" and "2999-01-01" in p.message for p in problems), problems
    assert any(not p.rule and p.is_error for p in problems)  # and the XSD's own refusal


def test_a_chunk_is_checked_against_the_xsd_in_one_call_and_any_draft_it_refuses_alone():
    """validate_many checks a chunk of drafts against the XSD as one group (report.xsd with a
    group root added in memory): a chunk of valid drafts passes as a whole, one bad draft fails
    the whole, and each draft is then checked alone, so the findings are each draft's own."""
    from medwatch_tool.safe_io import parse_xml_bytes
    from medwatch_tool.validate import _DECLARATION, _GROUP, _GROUP_START, _group_xsd

    def chunk(values_list):
        group = parse_xml_bytes(_GROUP_START + b"".join(draft_document(v)[0][len(_DECLARATION):]
                                                         for v in values_list) + b"</group>")
        group.tag = _GROUP
        return group

    variants = _variants()
    valid = [v for v in variants if v.get("event/event_date") != "2026-02-30"]
    assert _group_xsd().validate(chunk(valid))
    assert not _group_xsd().validate(chunk(valid[:3] + [dict(valid[0], **{"event/event_date": "2026-02-30"})]))
    documents = [draft_document(v)[0] for v in valid]
    names = [f"v{i}.xml" for i in range(len(documents))]
    for data, name, (root, problems) in zip(documents, names, validate_many(documents, names)):
        assert [p.as_dict() for p in problems] == [p.as_dict() for p in validate_tree(parse_draft(data, name), name)]
        assert root.getparent().tag == "group"  # (the rules' XSLT sees the group as before)
