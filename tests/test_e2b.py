"""E2B(R3): export valid against the official ICH schema, FDA rules, import of the official
examples, and a per-element round trip through the one mapping table."""
from pathlib import Path

import pytest
from lxml import etree

from medwatch_tool.cli import main
from medwatch_tool.catalog import load_catalog
from medwatch_tool.coerce import CODES, NOT_GIVEN
from medwatch_tool.draft import draft_values, read_draft
from medwatch_tool.e2b import draft_from_message, export as e2b_export, load_settings, mapping, messages, parse_icsr

from helpers import EXAMPLES, example_tree, remove, set_text, write


@pytest.fixture(scope="session")
def ich_xsd():
    folder = Path(__file__).resolve().parents[2] / "shared" / "reference" / "e2b-r3" / "xsd"
    if not folder.is_dir():
        pytest.skip(f"official ICH schema set not found at {folder}")
    return folder


@pytest.fixture(scope="session")
def ich_schema(ich_xsd):
    return etree.XMLSchema(etree.parse(str(ich_xsd / "multicacheschemas" / "MCCI_IN200100UV01.xsd")))


def export(runner, tmp_path, drafts, ich_xsd, *extra):
    out = tmp_path / "batch.xml"
    result = runner.invoke(main, ["e2b", "export", *map(str, drafts), "-o", str(out), "--ich-xsd", str(ich_xsd),
                                  "--sender-organisation", "Neuromodulation Clinic", *extra])
    return out, result


def valid_export(runner, tmp_path, drafts, ich_xsd, ich_schema, *extra):
    """The batch exported (exit 0), parsed and checked against the ICH schema here too."""
    out, result = export(runner, tmp_path, drafts, ich_xsd, *extra)
    assert result.exit_code == 0, result.output
    batch = etree.parse(str(out))
    assert ich_schema.validate(batch), ich_schema.error_log
    return batch, result


def test_every_example_exports_valid_with_no_fda_error(runner, tmp_path, ich_xsd, ich_schema):
    drafts = sorted(EXAMPLES.glob("*.xml"))
    out, result = export(runner, tmp_path, drafts, ich_xsd)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: {len(drafts)} ICSR(s)" in result.output
    assert " error: " not in result.output
    batch = etree.parse(str(out))
    assert ich_schema.validate(batch), ich_schema.error_log
    assert len(batch.getroot().findall("{urn:hl7-org:v3}PORR_IN049016UV")) == len(drafts)
    assert (out.stat().st_mode & 0o777) == 0o600
    # what could not be sent is said, never dropped silently
    assert "E4 Unique device identifier (UDI) # [device[1]/udi]" in result.output and "(E2B-MAP)" in result.output


def test_drug_through_pump_exports_a_device_block(runner, tmp_path, ich_xsd):
    out, result = export(runner, tmp_path, [EXAMPLES / "baclofen-pump-catheter-kink.xml"], ich_xsd)
    assert result.exit_code == 0, result.output
    ns = {"h": "urn:hl7-org:v3"}
    doc = etree.parse(str(out))
    parts = doc.xpath("//h:kindOfProduct[h:name='Gablofen (baclofen injection) intrathecal']/h:part/h:partProduct", namespaces=ns)
    assert [p.xpath("h:name[1]/text()", namespaces=ns)[0] for p in parts] == [
        "SynchroMed II programmable infusion pump", "Ascenda intrathecal catheter"]
    assert parts[0].xpath("h:code/@code", namespaces=ns) == ["LKK"]
    catheter = parts[1]
    assert catheter.xpath(".//h:characteristic[h:code/@code='C54026']/h:value/@value", namespaces=ns) == ["true"]
    assert catheter.xpath(".//h:characteristic[h:code/@code='C54451']/h:value/@code", namespaces=ns) == ["2889"]
    assert doc.xpath("//h:observationEvent[h:code/@code='C156384']/h:value/@value", namespaces=ns) == ["true"]
    # FDA.E.i.3.2h required intervention and hospitalisation from B2
    assert doc.xpath("//h:observation[h:code/@code='7'][h:code/@codeSystem='2.16.840.1.113883.3.989.5.1.2.2.1.3']/h:value/@value", namespaces=ns) == ["true"]
    assert doc.xpath("//h:observation[h:code/@code='33']/h:value/@value", namespaces=ns) == ["true"]
    assert doc.xpath("//h:routeCode/@code", namespaces=ns) == ["037"]


def test_fda_rules_block_the_export(runner, tmp_path, ich_xsd):
    root = example_tree("baclofen-pump-catheter-kink.xml")
    remove(root, "device/problem_code")  # not there: take the catheter's
    draft = write(root, tmp_path)
    out, result = export(runner, tmp_path, [draft], ich_xsd, "--batch-receiver", "FDA")
    assert result.exit_code == 1
    assert "(R0004)" in result.output and "(R0006)" not in result.output
    assert "not written" in result.output and not out.exists()
    device_only = example_tree("baclofen-pump-catheter-kink.xml")
    remove(device_only, "suspect_product")
    draft = write(device_only, tmp_path, "device-only.xml")
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    assert result.exit_code == 1 and "(R0069)" in result.output


OFFICIAL = sorted((Path(__file__).resolve().parents[2] / "shared" / "reference" / "e2b-r3" / "examples").glob("*/*.xml"))


@pytest.mark.parametrize("example", OFFICIAL, ids=[p.name for p in OFFICIAL])
def test_official_example_round_trip(runner, tmp_path, example, ich_xsd, ich_schema):
    imported = tmp_path / "drafts"
    result = runner.invoke(main, ["e2b", "import", str(example), "-o", str(imported)])
    assert result.exit_code == 0, result.output[-2000:]
    assert "Traceback" not in result.output
    assert "not mapped to a draft field:" in result.output  # every unmapped element is listed
    drafts = sorted(imported.glob("*.xml"))
    assert drafts
    # the API, not the CLI: the CLI refuses to write a batch that breaks an FDA rule (e.g. a
    # dose unit with no UCUM equivalent, R0075); the schema and the values must hold anyway
    data, problems = e2b_export(drafts, load_settings(None, {"sender_type": "1", "sender_organisation": "X"}))
    assert ich_schema.validate(etree.fromstring(data)), ich_schema.error_log
    # per mapped element: what the original says equals what the re-export says
    original = [draft_from_message(m, "o")[0] for m in messages(parse_icsr(example.read_bytes(), "o"))]
    again = [draft_from_message(m, "a")[0] for m in messages(parse_icsr(data, "a"))]
    compared = []
    for before, after in zip(original, again):
        for row in mapping():
            keys = [k for k in before if k.endswith(row.draft_path.split("/")[-1])]
            for key in keys:
                compared.append((row.element, key))
                code = getattr(load_catalog().field(key), "type_name", "") in CODES
                if code and before[key].casefold() in NOT_GIVEN:  # a lot 'UNKNOWN' is no lot (free text keeps it)
                    assert after.get(key) is None, f"{row.element} {key}: {before[key]!r} -> {after.get(key)!r}"
                    continue
                assert after.get(key) == before[key], f"{row.element} {key}: {before[key]!r} -> {after.get(key)!r}"
    assert compared, "no mapped element was compared"


@pytest.mark.parametrize("content, expected", [
    (b"", "the file is empty"),
    (b"<MCCI_IN200100UV01 xmlns='urn:hl7-org:v3'><id", "not well-formed XML"),
    (b"<report xmlns='urn:x-medwatch-tool:report:1'/>", "not an ICH E2B(R3) ICSR"),
    (b"<MCCI_IN200100UV01 xmlns='urn:hl7-org:v3'/>", "holds no PORR_IN049016UV message"),
])
def test_bad_input_one_line(runner, tmp_path, content, expected):
    bad = tmp_path / "in.xml"
    bad.write_bytes(content)
    result = runner.invoke(main, ["e2b", "import", str(bad), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and expected in result.output


def test_mapping_table_is_complete_data():
    rows = mapping()
    assert len(rows) > 40
    from medwatch_tool.catalog import load_catalog

    catalog = load_catalog()
    for row in rows:
        path = row.draft_path if "/" in row.draft_path else f"suspect_product/{row.draft_path}"
        assert catalog.field(path) is not None, row


def test_readme_shows_the_generated_mapping_table(runner):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = runner.invoke(main, ["e2b", "mapping"]).output
    assert table.count("\n") == len(mapping()) + 2
    assert table in readme, "README's mapping table is stale: paste `medwatch e2b mapping` into it"


def test_settings_from_config_file(runner, tmp_path, ich_xsd):
    config = tmp_path / "e2b.ini"
    config.write_text("[e2b]\nsender = ACMECLINIC\ncountry = US\nsender_organisation = Acme Clinic\n")
    out = tmp_path / "b.xml"
    result = runner.invoke(main, ["e2b", "export", str(EXAMPLES / "baclofen-overdose.xml"), "-o", str(out),
                                  "--config", str(config), "--ich-xsd", str(ich_xsd)])
    assert result.exit_code == 0, result.output
    ns = {"h": "urn:hl7-org:v3"}
    doc = etree.parse(str(out))
    assert doc.xpath("//h:investigationEvent/h:id[@root='2.16.840.1.113883.3.989.2.1.3.1']/@extension",
                     namespaces=ns) == ["US-ACMECLINIC-ITB-2026-0117"]
    assert doc.xpath("/h:MCCI_IN200100UV01/h:sender/h:device/h:id/@extension", namespaces=ns) == ["ACMECLINIC"]
    assert doc.xpath("//h:representedOrganization/h:name/text()", namespaces=ns) == ["Acme Clinic"]
    bad = runner.invoke(main, ["e2b", "export", str(EXAMPLES / "baclofen-overdose.xml"), "-o", str(out),
                               "--config", str(tmp_path / "missing.ini")])
    assert bad.exit_code == 1 and "cannot read the E2B settings" in bad.output


def test_an_invalid_draft_is_not_exported(runner, tmp_path, ich_xsd):
    from helpers import set_text

    root = example_tree()
    set_text(root, "event/event_date", "2026-02-30")
    draft = write(root, tmp_path)
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    assert result.exit_code == 1 and not out.exists()
    assert "B3 Date of event [event/event_date]: 2026-02-30 is not a date" in result.output
    missing = runner.invoke(main, ["e2b", "export", str(tmp_path / "nope.xml"), "-o", str(out)])
    assert missing.exit_code == 1 and missing.output.strip() == f"Error: {tmp_path / 'nope.xml'}: no such file"


@pytest.mark.parametrize("dates", [(), ("start_date",)], ids=["no-therapy-dates", "start-date"])
def test_a_frequency_exports_valid_with_or_without_therapy_dates(runner, tmp_path, ich_xsd, ich_schema, dates):
    """BID without a start or stop date was written as an SXPR_TS of one part, which the ICH
    schema refuses (it takes two): refused with --ich-xsd in words of the schema, written
    invalid without it."""
    root = example_tree()
    set_text(root, "suspect_product/frequency", "BID")
    remove(root, "suspect_product/frequency_other")
    if not dates:
        remove(root, "suspect_product/start_date")
    batch, result = valid_export(runner, tmp_path, [write(root, tmp_path)], ich_xsd, ich_schema)
    ns = {"h": "urn:hl7-org:v3"}
    period = batch.xpath("//h:substanceAdministration/h:effectiveTime//h:period", namespaces=ns)
    assert [(p.get("value"), p.get("unit")) for p in period] == [("12", "h")]


def test_an_answer_without_an_e2b_code_is_said_not_dropped(runner, tmp_path, ich_xsd):
    """Race 'Middle Eastern or North African' (newer than FDA's table) was left out of the
    message without a word, alone or beside White; a dose in 'unknown' units was told 'dose
    unit is required' as if none had been given."""
    root = example_tree()
    patient = root.find("{urn:x-medwatch-tool:report:1}patient")
    for race in ("middle_eastern_north_african", "white"):
        etree.SubElement(patient, "{urn:x-medwatch-tool:report:1}race").text = race
    etree.cleanup_namespaces(root)
    set_text(root, "suspect_product/dose_unit", "UNK")
    draft = write(root, tmp_path)
    assert runner.invoke(main, ["validate", str(draft)]).exit_code == 0
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    assert ("[patient/race]: 'Middle Eastern or North African' has no E2B(R3) code in this mapping; it is not sent"
            in result.output), result.output
    assert "[suspect_product[1]/dose_unit]: 'UNKNOWN - UNK' has no E2B(R3) code" in result.output
    assert "D2 dose unit is not given, or is one with no UCUM unit to send" in result.output
    assert result.output.count("[suspect_product[1]/frequency]") == 1  # ('other': no interval, said once)


def test_a_follow_up_number_that_is_no_number_is_the_drafts_own_error(runner, tmp_path, ich_xsd):
    """'²' passed a digit test and broke int(): "unexpected ValueError" instead of the draft's problem."""
    root = example_tree()
    set_text(root, "admin/follow_up", "\u00b2")
    out, result = export(runner, tmp_path, [write(root, tmp_path)], ich_xsd)
    assert result.exit_code == 1 and "unexpected" not in result.output, result.output
    assert "[admin/follow_up]" in result.output


def test_a_follow_up_is_said_to_carry_no_follow_up_number(runner, tmp_path, ich_xsd, ich_schema):
    """A follow-up went out exactly as an initial report of its own date, without a word: E2B
    has no follow-up number, and C.1.4 (first received) is its B4. Its own date stays its own
    (a version that took its initial report's date into C.1.4 lost it on import); '+0' is
    an initial report."""
    initial = example_tree()
    set_text(initial, "event/report_date", "2026-10-21")
    set_text(initial, "admin/follow_up", "+0")
    follow_up = example_tree()
    set_text(follow_up, "event/report_date", "2026-11-20")
    set_text(follow_up, "admin/follow_up", "02")
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    drafts = [write(initial, tmp_path / "a"), write(follow_up, tmp_path / "b")]
    assert runner.invoke(main, ["validate", *map(str, drafts)]).exit_code == 0
    batch, result = valid_export(runner, tmp_path, drafts, ich_xsd, ich_schema)
    ns = {"h": "urn:hl7-org:v3"}
    assert batch.xpath("//h:investigationEvent/h:effectiveTime/h:low/@value", namespaces=ns) == ["20261021", "20261120"]
    said = [line for line in result.output.splitlines() if "[admin/follow_up]" in line]
    assert said == [f"{drafts[1]}: warning: Follow-up number [admin/follow_up]: follow-up 2: E2B(R3) has no follow-up "
                    "number; C.1.4 (date first received) is sent as this report's date, B4 date of this report: set it "
                    "to the date the case was first received before submission (E2B-MAP)"], result.output
    imported = tmp_path / "back"
    assert runner.invoke(main, ["e2b", "import", str(tmp_path / "batch.xml"), "-o", str(imported)]).exit_code == 0
    assert sorted(d.read_text().count("<report_date>2026-11-20</report_date>") for d in imported.glob("*.xml")) == [0, 1]
    set_text(follow_up, "admin/form", "3500B")  # a consumer's: its form's box for the date
    consumer, told = export(runner, tmp_path, [write(follow_up, tmp_path / "b")], ich_xsd)
    assert "is sent as this report's date, F9 'Today's date': set it" in told.output, told.output


def test_a_consumer_drafts_export_warnings_name_its_own_forms_boxes(runner, tmp_path, ich_xsd):
    """A 3500B draft's export warnings named Form 3500's boxes ('C1 Product available for
    evaluation?', 'D2 Frequency'), which on the consumer form are other questions."""
    draft = EXAMPLES / "baclofen-missed-refill-consumer.xml"
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    assert result.exit_code == 0, result.output
    assert (f"{draft}: warning: B1 Still have the product [availability/available]: no E2B(R3) data element in this "
            "mapping takes this box; it is not sent") in result.output, result.output
    assert "C1 Product available" not in result.output


def test_a_phone_extension_is_sent_as_a_tel_uri_writes_it_and_read_back(runner, tmp_path, ich_xsd, ich_schema):
    """Hospital numbers carry an extension (x22): the draft takes it, E2B sends it as RFC 3966
    writes it (tel:...;ext=22), valid against the ICH schema, and an import reads it back."""
    root = example_tree()
    set_text(root, "reporter/phone", "614-555-0142 ext. 22")
    batch, result = valid_export(runner, tmp_path, [write(root, tmp_path)], ich_xsd, ich_schema)
    assert batch.xpath("//h:telecom/@value[starts-with(., 'tel:')]", namespaces={"h": "urn:hl7-org:v3"}) == [
        "tel:614-555-0142;ext=22"]
    [icsr] = messages(batch.getroot())
    values, _, _ = draft_from_message(icsr, str(tmp_path / "batch.xml"))
    assert values["reporter/phone"] == "614-555-0142 x22"


NS = {"h": "urn:hl7-org:v3"}


def test_each_icsr_gets_its_own_reporters_sender_type(runner, tmp_path, ich_xsd, ich_schema):
    """C.3.1 was one for the whole batch: a consumer's case beside a physician's made the
    physician's ICSR 'patient / consumer' (7) too. Each ICSR now takes its own reporter's;
    --sender-type still sets every ICSR's."""
    drafts = [EXAMPLES / "baclofen-overdose.xml", EXAMPLES / "baclofen-missed-refill-consumer.xml"]
    batch, result = valid_export(runner, tmp_path, drafts, ich_xsd, ich_schema)
    sender_type = "h:controlActProcess/h:subject/h:investigationEvent/h:subjectOf1//h:assignedEntity/h:code/@code"
    assert [m.xpath(sender_type, namespaces=NS) for m in messages(batch.getroot())] == [["3"], ["7"]]
    out, result = export(runner, tmp_path, drafts, ich_xsd, "--sender-type", "1")
    assert result.exit_code == 0, result.output
    assert [m.xpath(sender_type, namespaces=NS) for m in messages(etree.parse(str(out)).getroot())] == [["1"], ["1"]]


def _suspect(name: str, route: str) -> etree._Element:
    """A suspect product element for a draft (taken by mouth, or by another route)."""
    q = "{urn:x-medwatch-tool:report:1}"
    product = etree.Element(q + "suspect_product")
    for tag, text in (("name", name), ("dose", "300"), ("dose_unit", "MG"), ("route", route)):
        etree.SubElement(product, q + tag).text = text
    return product


def test_devices_go_with_the_suspect_given_by_a_device_route_and_are_said(runner, tmp_path, ich_xsd, ich_schema):
    """An implanted pump went under suspect 1 always: oral gabapentin first and intrathecal
    baclofen second put the pump under gabapentin. The devices now go with the one suspect
    given by a route a device delivers; with more than one suspect, a warning names the
    product (G.k number and name) and why, so a person checks it."""
    single, result = export(runner, tmp_path, [EXAMPLES / "baclofen-pump-catheter-kink.xml"], ich_xsd)
    assert result.exit_code == 0 and "are sent with" not in result.output, result.output
    root = example_tree("baclofen-pump-catheter-kink.xml")
    baclofen = root.find("{urn:x-medwatch-tool:report:1}suspect_product")
    baclofen.addprevious(_suspect("Gabapentin 300 mg capsules", "oral"))
    draft = write(root, tmp_path)
    batch, result = valid_export(runner, tmp_path, [draft], ich_xsd, ich_schema)
    carriers = batch.xpath("//h:kindOfProduct[h:part]/h:name/text()", namespaces=NS)
    assert carriers == ["Gablofen (baclofen injection) intrathecal"]
    assert len(batch.xpath("//h:kindOfProduct/h:part", namespaces=NS)) == 2
    assert (f"{draft}: warning: E Suspect medical device [device[1]]: the devices (FDA.G.k.12.r) are sent with G.k #2 'Gablofen "
            "(baclofen injection) intrathecal', the one suspect product given by a route a device delivers "
            "(Intrathecal); the draft does not say which product a device belongs to: check it before submission "
            "(E2B-MAP)") in result.output, result.output
    # two suspects a device could deliver: the first, said as such
    root.find("{urn:x-medwatch-tool:report:1}suspect_product/{urn:x-medwatch-tool:report:1}route").text = "intravenous_drip"
    out, result = export(runner, tmp_path, [write(root, tmp_path)], ich_xsd)
    assert result.exit_code == 0, result.output
    assert etree.parse(str(out)).xpath("//h:kindOfProduct[h:part]/h:name/text()", namespaces=NS) == [
        "Gabapentin 300 mg capsules"]
    assert ("are sent with G.k #1 'Gabapentin 300 mg capsules', the first suspect product: more than one is given "
            "by a route a device delivers (Intravenous drip, Intrathecal)") in result.output, result.output


@pytest.mark.parametrize("stop, ongoing, reduced, sent, said", [
    ("2026-09-01", None, None, [], None),  # stopped before the event (2026-09-20): no action on it
    ("2026-09-20", None, None, ["1"], None),  # stopped on the day of the event
    ("2026-10", None, None, ["1"], None),  # a later month
    ("2026-09", None, None, [], "suspect_product[1]/stop_date"),  # the same month: not known
    (None, "true", None, [], None),  # ongoing does not say the dose was not changed
    (None, "true", "2026-09-20", ["2"], None),
    (None, "true", "2026-09-10", [], None),  # reduced before the event
    ("2026", None, "2026", [], "suspect_product[1]/stop_date"),
    (None, "true", "2026-09", [], "suspect_product[1]/dose_reduced_date"),  # (was "whether the drug was the dose reduced")
], ids=["stopped-before", "stopped-that-day", "stopped-later-month", "stopped-same-month", "ongoing",
        "reduced-that-day", "reduced-before", "same-year", "reduced-same-month"])
def test_action_taken_is_sent_only_when_done_on_or_after_the_event(runner, tmp_path, ich_xsd, ich_schema,
                                                                  stop, ongoing, reduced, sent, said):
    """G.k.8 was 1 (drug withdrawn) for any stop date, even one before the event, and 4 (dose
    not changed) for any ongoing therapy, which the draft does not say. Now 1 only when
    stopped on or after B3, 2 only when the dose was reduced on or after it, else left out
    (optional in E2B(R3)); a date that cannot tell is said."""
    root = example_tree()
    set_text(root, "event/event_date", "2026-09-20")
    for name in ("ongoing", "dose_reduced_date"):
        remove(root, f"suspect_product/{name}")
    product = root.find("{urn:x-medwatch-tool:report:1}suspect_product")
    anchor = product.find("{urn:x-medwatch-tool:report:1}start_date")
    for name, value in reversed((("stop_date", stop), ("dose_reduced_date", reduced), ("ongoing", ongoing))):
        if value:
            anchor.addnext(etree.Element("{urn:x-medwatch-tool:report:1}" + name))
            anchor.getnext().text = value
    draft = write(root, tmp_path)
    batch, result = valid_export(runner, tmp_path, [draft], ich_xsd, ich_schema)
    assert batch.xpath("//h:inboundRelationship[@typeCode='CAUS']/h:act/h:code/@code", namespaces=NS) == sent
    told = [line for line in result.output.splitlines() if "G.k.8" in line]
    if said and said.endswith("dose_reduced_date"):
        assert told == [f"{draft}: warning: D3 Dose reduced on [{said}]: {reduced} and B3 date of event 2026-09-20 are "
                        "the same at the precision both have: whether the dose was reduced on or after the event is not "
                        "known, so G.k.8 action taken with drug is not sent (E2B-MAP)"], result.output
    elif said:
        assert told == [f"{draft}: warning: D3 Therapy stop date [{said}]: {stop} and B3 date of event 2026-09-20 are the "
                        "same at the precision both have: whether the drug was stopped on or after the event is not known, "
                        "so G.k.8 action taken with drug is not sent (E2B-MAP)"], result.output
    else:
        assert told == [], result.output


@pytest.mark.parametrize("occupation", ["administrator_supervisor", "biomedical_engineer", "risk_manager",
                                        "third_party_servicer"])
@pytest.mark.parametrize("health_professional, sent", [(None, "5"), ("false", "5"), ("true", "3")],
                         ids=["G2-not-given", "G2-no", "G2-yes"])
def test_a_non_clinical_occupation_is_no_health_professional(runner, tmp_path, ich_xsd, ich_schema, occupation,
                                                             health_professional, sent):
    """A risk manager, administrator, biomedical engineer or third-party servicer was sent as
    C.2.r.4 3 'other health professional'; now 5 'consumer or other non health professional'
    unless G2 says the reporter is a health professional."""
    root = example_tree()
    set_text(root, "reporter/occupation", occupation)
    if health_professional:
        set_text(root, "reporter/health_professional", health_professional)
    else:
        remove(root, "reporter/health_professional")
    batch, result = valid_export(runner, tmp_path, [write(root, tmp_path)], ich_xsd, ich_schema)
    assert batch.xpath("//h:asQualifiedEntity/h:code/@code", namespaces=NS) == [sent]


@pytest.mark.parametrize("description, term", [
    ("Pt. developed urticaria after starting amoxicillin 2.5 mg/kg, i.e. approx. 3 doses. Dr. Smith stopped it.",
     "Pt. developed urticaria after starting amoxicillin 2.5 mg/kg, i.e. approx. 3 doses"),
    ("Mrs. J. Doe vs. placebo: rash on day 2. 1. Rash 2. Fever. Resolved.", "Mrs. J. Doe vs. placebo: rash on day 2"),
    # a number ends a sentence, but in a numbered list (a version ran on: "Hb dropped to 7. Patient was transfused")
    ("Hb dropped to 7. Patient was transfused 2 units.", "Hb dropped to 7"),
    ("1. Rash 2. Fever. Resolved.", "1. Rash 2. Fever"),
    ("Events: 1. Rash 2. Fever. Resolved.", "Events: 1. Rash 2. Fever"),  # (after a heading: it was "Events: 1")
    ("Generalised urticaria " + "and itching " * 30 + "after the dose. Resolved.",
     ("Generalised urticaria " + "and itching " * 30)[:250].rsplit(" ", 1)[0]),
    # no space late enough to cut at (a URL, Japanese): cut at 250, not after the first word
    ("Reported via https://portal.example.org/" + "a" * 240 + " by the patient. Rash.",
     ("Reported via https://portal.example.org/" + "a" * 240)[:250]),
    ("2026年10月8日 " + "発疹" * 150, ("2026年10月8日 " + "発疹" * 150)[:250]),
], ids=["abbreviations", "initials-and-numbers", "a-number-ends-it", "a-numbered-list", "a-list-after-a-heading",
         "long-first-sentence",
        "a-long-url", "no-spaces"])
def test_the_reaction_as_reported_is_the_first_real_sentence(runner, tmp_path, ich_xsd, ich_schema, description, term):
    """E.i.1.1a was the description up to its first '. ': 'Pt. developed urticaria...' was
    sent as 'Pt'. Now the first sentence whose period is not an abbreviation's, an initial's
    or a number's, at most 250 characters cut at a word's end; the warning stays."""
    root = example_tree()
    set_text(root, "event/description", description)
    draft = write(root, tmp_path)
    batch, result = valid_export(runner, tmp_path, [draft], ich_xsd, ich_schema)
    assert batch.xpath("//h:observation[h:code/@code='29']/h:value/h:originalText/text()", namespaces=NS) == [term]
    assert batch.xpath("//h:investigationEvent/h:text/text()", namespaces=NS) == [description]
    assert (f"{draft}: warning: B5 Describe event, problem or product use error [event/description]: E.i.1.1a takes the "
            "first sentence (max 250 characters) of the description as the reaction term") in result.output


def test_every_icsr_names_its_first_sender(runner, tmp_path, ich_xsd, ich_schema):
    """C.1.8.2 (first sender of this case), required by ICH, was missing from every ICSR. It
    is 2 'other' (list 2.16.840.1.113883.3.989.2.1.1.3), or 1 'regulator' for a regulatory
    authority sender (C.3.1 2), where the ICH example puts it: before the primary source."""
    first_sender = ("h:controlActProcess/h:subject/h:investigationEvent/h:outboundRelationship[1]/h:relatedInvestigation"
                    "[h:code/@code='1'][h:code/@codeSystem='2.16.840.1.113883.3.989.2.1.1.22']"
                    "/h:subjectOf2/h:controlActEvent/h:author/h:assignedEntity/h:code"
                    "[@codeSystem='2.16.840.1.113883.3.989.2.1.1.3']/@code")
    drafts = sorted(EXAMPLES.glob("*.xml"))
    for extra, code in (((), "2"), (("--sender-type", "2"), "1")):
        out, result = export(runner, tmp_path, drafts, ich_xsd, *extra)
        assert result.exit_code == 0, result.output
        batch = etree.parse(str(out))
        assert ich_schema.validate(batch), ich_schema.error_log
        assert [m.xpath(first_sender, namespaces=NS) for m in messages(batch.getroot())] == [[code]] * len(drafts)


@pytest.mark.parametrize("weight, unit, sent", [
    ("0.85", "kg", "0.85"), ("3.25", "kg", "3.25"), ("78", "kg", "78"), ("1.88", "lb", "0.85"), ("7.5", "lb", "3.4"),
    ("141", "lb", "64"), ("141.5", "lb", "64.2"), ("78.000", "kg", "78"), ("078", "kg", "78"),
], ids=["neonate-kg", "infant-kg", "adult-kg", "neonate-lb", "infant-lb", "adult-lb", "adult-lb-decimal",
        "trailing-zeros", "a-leading-zero"])
def test_a_weight_is_sent_with_its_precision(runner, tmp_path, ich_xsd, ich_schema, weight, unit, sent):
    """D.3 was rounded to 0.1 kg even when given in kg: a 0.85 kg neonate went as 0.8 kg. A
    weight in kg is sent as given; one in lb is converted to kg to 0.01 kg below 10 kg (a
    tenth of a kg is an eighth of a neonate) and 0.1 kg above."""
    root = example_tree()
    set_text(root, "patient/weight", weight)
    set_text(root, "patient/weight_unit", unit)
    batch, result = valid_export(runner, tmp_path, [write(root, tmp_path)], ich_xsd, ich_schema)
    assert batch.xpath("//h:observation[h:code/@code='7']/h:value/@value", namespaces=NS) == [sent]
    assert batch.xpath("//h:observation[h:code/@code='7']/h:value/@unit", namespaces=NS) == ["kg"]


def test_a_test_value_that_is_no_number_is_sent_as_text_and_said(runner, tmp_path, ich_xsd, ich_schema):
    """A normal low/high that is no number ('<150', 'negative') went into a numeric PQ value:
    the batch broke the ICH schema (and was written, exit 0, without --ich-xsd); so did a
    result such as 'Infinity' (Python reads it as a number) and a unit with spaces. Now the
    numbers go in the structured elements and the rest in the test's text ones, said."""
    root = example_tree()  # tests: respiratory rate 8 /min (12-20), heart rate 48 /min (60-100)
    set_text(root, "event/test/low", "<150")
    set_text(root, "event/test/high", "negative")
    second = root.findall("{urn:x-medwatch-tool:report:1}event/{urn:x-medwatch-tool:report:1}test")[1]
    second.find("{urn:x-medwatch-tool:report:1}unit").text = "beats per min"
    third = root.findall("{urn:x-medwatch-tool:report:1}event/{urn:x-medwatch-tool:report:1}test")[2]
    third.find("{urn:x-medwatch-tool:report:1}result").text = "Infinity"
    etree.SubElement(third, "{urn:x-medwatch-tool:report:1}unit").text = "mL"
    draft = write(root, tmp_path)
    assert runner.invoke(main, ["validate", str(draft)]).exit_code == 0
    batch, result = valid_export(runner, tmp_path, [draft], ich_xsd, ich_schema)
    tests = batch.xpath("//h:organizer[h:code/@code='3']/h:component/h:observation", namespaces=NS)
    comments = "h:outboundRelationship2/h:observation[h:code/@code='10']/h:value/text()"
    assert [t.xpath("h:value/h:center/@value", namespaces=NS) for t in tests] == [["8"], [], []]
    assert [t.xpath("h:value[@xsi:type='ED']/text()", namespaces={**NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"})
            for t in tests] == [[], ["48 beats per min"], ["Infinity mL"]]
    assert [t.xpath("h:referenceRange//h:value/@value", namespaces=NS) for t in tests] == [[], [], []]
    assert [t.xpath(comments, namespaces=NS) for t in tests] == [
        ["normal range: <150 - negative"], ["normal range: 60 - 100 beats per min"], []]
    said = [line.split(": warning: ", 1)[1] for line in result.output.splitlines() if "[event/test[" in line]
    assert said == [
        "B6 Low test range [event/test[1]/low]: '<150' is not a number: E2B's normal low value (F.r.4) takes a number; "
        "sent as text in the test's comments (F.r.6): 'normal range: <150 - negative' (E2B-MAP)",
        "B6 High test range [event/test[1]/high]: 'negative' is not a number: E2B's normal high value (F.r.5) takes a "
        "number; sent as text in the test's comments (F.r.6): 'normal range: <150 - negative' (E2B-MAP)",
        "B6 Result unit [event/test[2]/unit]: 'beats per min' is not a unit code (UCUM, no spaces): the result is sent "
        "as text with its unit (F.r.3.4): '48 beats per min' (E2B-MAP)",
        "B6 Low test range [event/test[2]/low]: '60' has a unit that is no unit code ('beats per min'): E2B's normal low "
        "value (F.r.4) takes a number; sent as text in the test's comments (F.r.6): 'normal range: 60 - 100 beats per "
        "min' (E2B-MAP)",
        "B6 High test range [event/test[2]/high]: '100' has a unit that is no unit code ('beats per min'): E2B's normal "
        "high value (F.r.5) takes a number; sent as text in the test's comments (F.r.6): 'normal range: 60 - 100 beats "
        "per min' (E2B-MAP)",
        "B6 Result unit [event/test[3]/unit]: 'mL' is the unit of a result that is not a number: the result is sent as "
        "text with its unit (F.r.3.4): 'Infinity mL' (E2B-MAP)",
    ], result.output


@pytest.mark.parametrize("example, box", [
    ("baclofen-overdose.xml", "B4 date of this report"),
    ("baclofen-missed-refill-consumer.xml", "F9 'Today's date'"),
], ids=["3500", "3500B"])
def test_a_draft_without_its_report_date_is_not_exported(runner, tmp_path, ich_xsd, example, box):
    """Without B4, C.1.4 (date first received) went as nullFlavor UNK and C.1.5 as the day of
    the export, without a word; FDA does not accept that. It is an error: nothing written."""
    root = example_tree(example)
    remove(root, "event/report_date")
    draft = write(root, tmp_path)
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    assert result.exit_code == 1, result.output
    assert not out.exists() and "not written: fix the errors above first" in result.output
    said = [line for line in result.output.splitlines() if "C.1.4" in line]
    assert len(said) == 1 and said[0].startswith(f"{draft}: error: "), result.output
    assert said[0].endswith(f"[event/report_date]: E2B(R3) needs C.1.4, the date the report was first received: give "
                            f"{box} (E2B-MAP)"), result.output


@pytest.mark.parametrize("dose, refused", [("12345678", False), ("1234.567", False), ("123456789", True),
                                           ("1234.5678", True)])
def test_a_dose_longer_than_e2b_takes_is_an_error(runner, tmp_path, ich_xsd, dose, refused):
    """G.k.4.r.1a is 8N in the ICH guide (a width of 8: digits and decimal point); the draft
    takes 12 digits, and a longer dose was exported without a word. It is an error naming
    the box and the limit; nothing is written."""
    root = example_tree()
    set_text(root, "suspect_product/dose", dose)
    draft = write(root, tmp_path)
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    said = [line for line in result.output.splitlines() if "G.k.4.r.1a" in line]
    if not refused:
        assert result.exit_code == 0 and said == [], result.output
        assert etree.parse(str(out)).xpath("//h:doseQuantity/@value", namespaces=NS) == [dose]
        return
    assert result.exit_code == 1 and not out.exists(), result.output
    assert said == [f"{draft}: error: D2 Dose or amount [suspect_product[1]/dose]: {dose} is {len(dose)} characters "
                    "long; E2B(R3) G.k.4.r.1a dose takes at most 8 (digits and decimal point): give it in a larger "
                    "unit or with fewer decimals (E2B-LEN)"], result.output


XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"


def _dosage(batch, name):
    """The first dosage (G.k.4.r) of the product called `name` in an exported batch."""
    [dose] = batch.xpath(f"//h:substanceAdministration[.//h:kindOfProduct/h:name='{name}']/h:outboundRelationship2"
                         "[@typeCode='COMP']/h:substanceAdministration", namespaces=NS)
    return dose


@pytest.mark.parametrize("frequency, text", [
    (None, "450 ug, continuous intrathecal infusion per day"),
    ("HS", "450 ug, HS (at bedtime)"),
    ("PRN", "450 ug, PRN (as needed)"),
    ("PRN+", "450 ug, PRN (as needed), continuous intrathecal infusion per day"),  # (PRN was dropped for the words)
], ids=["other", "HS", "PRN", "PRN-and-its-words"])
def test_a_frequency_without_an_interval_and_a_duration_are_sent(runner, tmp_path, ich_xsd, ich_schema, frequency,
                                                                  text):
    """D2 frequency 'other' (its words), HS and PRN were dropped with a warning that E2B has
    no place for them: the overdose example's continuous infusion went as '450 ug' alone.
    The dose, unit and frequency in words now go in G.k.4.r.8 dosage text, said; D3 therapy
    duration, dropped the same way, goes in G.k.4.r.6a/b (a width beside the start date)."""
    root = example_tree()
    if frequency:
        set_text(root, "suspect_product/frequency", frequency.rstrip("+"))
        if not frequency.endswith("+"):
            remove(root, "suspect_product/frequency_other")
    ongoing = root.find("{urn:x-medwatch-tool:report:1}suspect_product/{urn:x-medwatch-tool:report:1}ongoing")
    for name, value in (("duration", "43"), ("duration_unit", "month")):
        ongoing.addprevious(etree.Element("{urn:x-medwatch-tool:report:1}" + name))
        ongoing.getprevious().text = value
    draft = write(root, tmp_path)
    assert runner.invoke(main, ["validate", str(draft)]).exit_code == 0
    batch, result = valid_export(runner, tmp_path, [draft], ich_xsd, ich_schema)
    dose = _dosage(batch, "Lioresal Intrathecal (baclofen injection)")
    assert dose.xpath("h:text/text()", namespaces=NS) == [text]
    assert dose.xpath("h:doseQuantity/@value", namespaces=NS) == ["450"]
    time = dose.find("{urn:hl7-org:v3}effectiveTime")
    assert time.get(XSI) == "SXPR_TS"
    assert [(c.get(XSI), c.get("operator")) for c in time] == [("IVL_TS", None), ("IVL_TS", "A")]
    assert time.xpath("h:comp/h:low/@value", namespaces=NS) == ["202303"]
    assert [(w.get("value"), w.get("unit")) for w in time.xpath("h:comp/h:width", namespaces=NS)] == [("43", "mo")]
    said = [line.split(": warning: ", 1)[1] for line in result.output.splitlines() if "[suspect_product[1]/" in line]
    shown = {None: "continuous intrathecal infusion per day",
             "PRN+": "PRN, continuous intrathecal infusion per day"}.get(frequency, frequency)
    assert (f"D2 Frequency [suspect_product[1]/frequency]: frequency '{shown}' has no E2B interval (G.k.4.r.2/3); it "
            f"is sent in the dosage text (G.k.4.r.8): '{text}' (E2B-MAP)") in said, result.output
    assert not [line for line in said if "frequency_other]" in line or "duration" in line], result.output


def test_a_duration_with_a_frequency_and_alone_is_valid(runner, tmp_path, ich_xsd, ich_schema):
    """A duration beside an interval and no dates is an SXPR_TS of the two; alone, an IVL_TS
    width; a duration longer than G.k.4.r.6a takes (5N) is an error, as a dose's is."""
    root = example_tree("baclofen-pump-catheter-kink.xml")  # daily, since 2019-05, ongoing
    remove(root, "suspect_product/start_date")
    ongoing = root.find("{urn:x-medwatch-tool:report:1}suspect_product/{urn:x-medwatch-tool:report:1}ongoing")
    for name, value in (("duration", "7.5"), ("duration_unit", "year")):
        ongoing.addprevious(etree.Element("{urn:x-medwatch-tool:report:1}" + name))
        ongoing.getprevious().text = value
    batch, result = valid_export(runner, tmp_path, [write(root, tmp_path)], ich_xsd, ich_schema)
    time = _dosage(batch, "Gablofen (baclofen injection) intrathecal").find("{urn:hl7-org:v3}effectiveTime")
    assert [(c.get(XSI), c.get("operator")) for c in time] == [("PIVL_TS", None), ("IVL_TS", "A")]
    assert etree.tostring(time[1], encoding=str).count("<width") == 1
    assert time.xpath("h:comp/h:width/@value", namespaces=NS) == ["7.5"]
    set_text(root, "suspect_product/frequency", "other")
    out, result = export(runner, tmp_path, [write(root, tmp_path)], ich_xsd)
    assert result.exit_code == 0, result.output
    dose = _dosage(etree.parse(str(out)), "Gablofen (baclofen injection) intrathecal")
    time = dose.find("{urn:hl7-org:v3}effectiveTime")
    assert time.get(XSI) == "IVL_TS" and time.xpath("h:width/@unit", namespaces=NS) == ["a"]
    assert "180 ug, other frequency (not described)" in result.output
    set_text(root, "suspect_product/duration", "123456")
    draft = write(root, tmp_path)
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    assert result.exit_code == 1, result.output
    assert (f"{draft}: error: D3 Therapy duration [suspect_product[1]/duration]: 123456 is 6 characters long; E2B(R3) "
            "G.k.4.r.6a duration takes at most 5 (digits and decimal point): give it in a larger unit or with fewer "
            "decimals (E2B-LEN)") in result.output


def test_a_devices_operator_and_manufacturer_address_are_sent_and_read_back(runner, tmp_path, ich_xsd, ich_schema):
    """E5 operator of device and E3 manufacturer city and state were dropped with a warning
    that E2B has no place for them; FDA's regional device block has both: FDA.G.k.12.r.10
    (code list 2.16.840.1.113883.3.989.5.1.2.1.1.6, coded as in FDA's examples) and
    FDA.G.k.12.r.7.1b (the address, free text, as written). An import reads them back."""
    kink = EXAMPLES / "baclofen-pump-catheter-kink.xml"
    consumer = EXAMPLES / "baclofen-missed-refill-consumer.xml"  # operator: the patient
    batch, result = valid_export(runner, tmp_path, [kink, consumer], ich_xsd, ich_schema)
    operator = ("h:asManufacturedProduct/h:subjectOf/h:characteristic/h:code"
                "[@codeSystem='2.16.840.1.113883.3.989.5.1.2.1.1.6']/@code")
    address = "h:asManufacturedProduct/h:manufacturerOrganization/h:addr/h:streetAddressLine/text()"
    parts = [[(p.xpath(operator, namespaces=NS), p.xpath(address, namespaces=NS))
              for p in m.xpath(".//h:partProduct", namespaces=NS)] for m in messages(batch.getroot())]
    assert parts == [[(["1"], ["Minneapolis, MN"]), (["1"], ["Minneapolis, MN"])], [(["2"], [])]]
    assert "/operator]" not in result.output and "/manufacturer_address]" not in result.output, result.output
    values = draft_from_message(messages(batch.getroot())[0], str(tmp_path / "batch.xml"))[0]
    assert (values["device[1]/operator"], values["device[2]/manufacturer_address"]) == (
        "health_professional", "Minneapolis, MN")
    root = example_tree("baclofen-pump-catheter-kink.xml")
    set_text(root, "device/manufacturer_address", "Medtronic Neuromodulation, 710 Medtronic Parkway, Minneapolis, "
                                                   "MN 55432-5604, United States of America (Operational HQ)")
    draft = write(root, tmp_path)  # (longer than FDA takes: it stopped the whole batch, naming no box nor file)
    batch, result = valid_export(runner, tmp_path, [draft, consumer], ich_xsd, ich_schema)
    assert batch.xpath("//h:streetAddressLine[contains(., 'Parkway')]", namespaces=NS) == []
    assert (f"{draft}: warning: E3 Manufacturer city and state [device[1]/manufacturer_address]: 119 characters, and "
            "FDA.G.k.12.r.7.1b (the manufacturer's address) takes at most 100: not sent") in result.output, result.output


@pytest.mark.parametrize("unit, sent", [
    ("C", "Cel"), ("°C", "Cel"), ("degC", "Cel"), ("F", "[degF]"), ("°F", "[degF]"), ("10^9/L", "10*9/L"),
    ("x10^9/L", "10*9/L"), ("×10⁹/L", "10*9/L"), ("mmHg", "mm[Hg]"), ("bpm", "/min"), ("beats/min", "/min"),
    ("%", "%"), ("mg/dL", "mg/dL"), ("mg/dl", "mg/dl"), ("MG/DL", "mg/dL"), ("mmol/L", "mmol/L"), ("g/dL", "g/dL"),
    ("U/L", "U/L"), ("IU/L", "[IU]/L"), ("ng/mL", "ng/mL"), ("µmol/L", "umol/L"), ("mEq/L", "meq/L"),
    ("Cel", "Cel"), ("mg/DL", "mg/dL"), ("mIU/ML", "m[IU]/mL"),  # (the per part in any case)
])
def test_a_test_unit_is_sent_as_its_ucum_code(runner, tmp_path, ich_xsd, ich_schema, unit, sent):
    """F.r.3.3 is a UCUM code and took the unit as typed: the kink example's body temperature
    went as unit 'C', coulombs in UCUM. The common clinical spellings are sent as their UCUM
    codes, the normal range with them."""
    root = example_tree("baclofen-pump-catheter-kink.xml")  # body temperature 38.6 C (high 37.5)
    set_text(root, "event/test/unit", unit)
    batch, result = valid_export(runner, tmp_path, [write(root, tmp_path)], ich_xsd, ich_schema)
    [test] = batch.xpath("//h:organizer[h:code/@code='3']/h:component/h:observation[h:code/h:originalText="
                         "'Body temperature']", namespaces=NS)
    assert test.xpath("h:value/h:center/@value", namespaces=NS) == ["38.6"]
    assert test.xpath("h:value/h:center/@unit | h:referenceRange//h:value/@unit", namespaces=NS) == [sent, sent]
    assert "[event/test[1]/" not in result.output, result.output


@pytest.mark.parametrize("unit, why", [
    ("G/L", "is not a UCUM unit code this tool knows (F.r.3.3 takes UCUM only)"),  # giga or grams per litre?
    # UCUM's letter case is meaning: micromolar is no micrometre ('um'), millimolar no millimetre
    ("µM", "is not a UCUM unit code this tool knows (F.r.3.3 takes UCUM only)"),
    ("mM", "is not a UCUM unit code this tool knows (F.r.3.3 takes UCUM only)"),
    ("MU/L", "is not a UCUM unit code this tool knows (F.r.3.3 takes UCUM only)"),
    ("Mg/dL", "is not a UCUM unit code this tool knows (F.r.3.3 takes UCUM only)"),  # (megagrams)
    ("mg%", "is not a UCUM unit code this tool knows (F.r.3.3 takes UCUM only)"),
    ("degrees C", "is not a unit code (UCUM, no spaces)"),
])
def test_a_test_unit_not_known_to_be_ucum_sends_the_result_as_text(runner, tmp_path, ich_xsd, ich_schema, unit,
                                                                   why):
    """A unit that is not known to be UCUM went into the UCUM unit attribute unchecked; it
    now sends the result as text with its unit (F.r.3.4) and the range in the comments, said."""
    root = example_tree("baclofen-pump-catheter-kink.xml")
    set_text(root, "event/test/unit", unit)
    draft = write(root, tmp_path)
    batch, result = valid_export(runner, tmp_path, [draft], ich_xsd, ich_schema)
    [test] = batch.xpath("//h:organizer[h:code/@code='3']/h:component/h:observation[h:code/h:originalText="
                         "'Body temperature']", namespaces=NS)
    assert test.xpath("h:value/h:center", namespaces=NS) == [] and test.xpath("h:referenceRange", namespaces=NS) == []
    assert test.xpath("h:value/text()", namespaces=NS) == [f"38.6 {unit}"]
    comments = test.xpath("h:outboundRelationship2/h:observation/h:value/text()", namespaces=NS)
    assert comments == [f"normal high: 37.5 {unit}"]
    assert (f"{draft}: warning: B6 Result unit [event/test[1]/unit]: '{unit}' {why}: the result is sent as text with "
            f"its unit (F.r.3.4): '38.6 {unit}' (E2B-MAP)") in result.output, result.output


def test_versions_of_one_case_in_one_batch_are_said_and_sent_initial_report_first(runner, tmp_path, ich_xsd,
                                                                                    ich_schema):
    """An initial report and its follow-ups (one admin/report_id, follow-up 0, 1, 2: one C.1.1)
    exported together went without a word, in the order given: `drafts/*.xml` puts
    X-followup-1.xml before X.xml, so a follow-up went ahead of its initial report. They are
    sent by follow-up number, initial first, in the places the versions were given in (other
    cases stay where they were), and a warning names the files and their follow-up numbers."""
    folder = tmp_path / "drafts"
    folder.mkdir()
    versions = (("ITB-2026-0117.xml", "0", "2026-10-21"), ("ITB-2026-0117-followup-1.xml", "1", "2026-11-02"),
                ("ITB-2026-0117-followup-2.xml", "2", "2026-11-20"))
    for name, number, date in versions:
        root = example_tree()
        set_text(root, "admin/follow_up", number)
        set_text(root, "event/report_date", date)
        write(root, folder, name)
    (folder / "ITB-2026-0123.xml").write_bytes((EXAMPLES / "baclofen-pump-catheter-kink.xml").read_bytes())
    drafts = sorted(folder.glob("*.xml"))  # as the shell's drafts/*.xml lists them
    assert [d.name for d in drafts] == ["ITB-2026-0117-followup-1.xml", "ITB-2026-0117-followup-2.xml",
                                        "ITB-2026-0117.xml", "ITB-2026-0123.xml"]
    drafts = [drafts[0], drafts[3], drafts[1], drafts[2]]  # another case between the versions
    batch, result = valid_export(runner, tmp_path, drafts, ich_xsd, ich_schema)
    case = "h:controlActProcess/h:subject/h:investigationEvent"
    sent = [(m.xpath(case + "/h:id[@root='2.16.840.1.113883.3.989.2.1.3.1']/@extension", namespaces=NS)[0],
             m.xpath(case + "/h:effectiveTime/h:low/@value", namespaces=NS)[0]) for m in messages(batch.getroot())]
    assert sent == [("US-MEDWATCHTOOL-ITB-2026-0117", "20261021"), ("US-MEDWATCHTOOL-ITB-2026-0123", "20260930"),
                    ("US-MEDWATCHTOOL-ITB-2026-0117", "20261102"), ("US-MEDWATCHTOOL-ITB-2026-0117", "20261120")]
    said = [line for line in result.output.splitlines() if "[admin/report_id]" in line]
    initial, first, second = drafts[3], drafts[0], drafts[2]
    assert said == [f"{initial}: warning: Report ID [admin/report_id]: C.1.1 US-MEDWATCHTOOL-ITB-2026-0117 is shared "
                    f"by 3 ICSRs of this batch, versions of one case: {initial} (follow-up 0, initial report); "
                    f"{first} (follow-up 1); {second} (follow-up 2); they are sent in that order, the initial "
                    "report first: check that each version is meant to be sent (E2B-MAP)"], result.output


def test_a_15_day_report_is_said_to_be_a_claim_the_draft_cannot_make(runner, tmp_path, ich_xsd, ich_schema):
    """C.1.7 (expedited) and FDA.C.1.7.1 1 (15-day) were set for any ticked B2 outcome without a
    word: an expected (listed) serious reaction is not a 15-day report, and the draft does not
    say whether it is expected. The value is kept and said once per case, in its form's box."""
    quiet = example_tree()
    for _ in quiet.findall("{urn:x-medwatch-tool:report:1}event/{urn:x-medwatch-tool:report:1}outcome"):
        remove(quiet, "event/outcome")
    drafts = [EXAMPLES / "baclofen-overdose.xml", EXAMPLES / "baclofen-missed-refill-consumer.xml",
              write(quiet, tmp_path, "not-serious.xml")]
    batch, result = valid_export(runner, tmp_path, drafts, ich_xsd, ich_schema)
    case = "h:controlActProcess/h:subject/h:investigationEvent/h:component/h:observationEvent"
    assert [(m.xpath(case + "[h:code/@code='23']/h:value/@value", namespaces=NS),
             m.xpath(case + "[h:code/@code='C54588']/h:value/@code", namespaces=NS))
            for m in messages(batch.getroot())] == [(["true"], ["1"]), (["true"], ["1"]), (["false"], ["2"])]
    said = [line for line in result.output.splitlines() if "C.1.7" in line]
    assert said == [
        f"{drafts[0]}: warning: B2 Outcome attributed to adverse event [event/outcome]: sent as a 15-day report "
        "because B2 marks the event serious; the draft does not say whether the reaction is expected (listed): check "
        "C.1.7 / FDA.C.1.7.1 (E2B-MAP)",
        f"{drafts[1]}: warning: A2 What the problem led to [event/outcome]: sent as a 15-day report because A2 marks "
        "the event serious; the draft does not say whether the reaction is expected (listed): check C.1.7 / "
        "FDA.C.1.7.1 (E2B-MAP)"], result.output


@pytest.mark.parametrize("example, date, box", [
    ("baclofen-overdose.xml", "2026-10", "B4 date of this report"),
    ("baclofen-overdose.xml", "2026", "B4 date of this report"),
    ("baclofen-missed-refill-consumer.xml", "2026-11", "F9 'Today's date'"),
], ids=["month", "year", "3500B"])
def test_a_report_date_without_its_day_is_not_exported(runner, tmp_path, ich_xsd, example, date, box):
    """A B4 of less than a day's precision (2026-10) was sent as C.1.4 '202610'; ICH and FDA
    take C.1.4 and C.1.5 to the day at least (CCYYMMDD). It is an error naming the box."""
    root = example_tree(example)
    set_text(root, "event/report_date", date)
    draft = write(root, tmp_path)
    assert runner.invoke(main, ["validate", str(draft)]).exit_code == 0  # a partial date is a draft's date
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    assert result.exit_code == 1 and not out.exists(), result.output
    said = [line for line in result.output.splitlines() if "C.1.4" in line]
    assert len(said) == 1 and said[0].startswith(f"{draft}: error: "), result.output
    assert said[0].endswith(f"[event/report_date]: E2B(R3) C.1.4 and C.1.5 (dates the report was first received and "
                            f"of its most recent information) take a full date, the day at least (CCYYMMDD): {box} is "
                            f"{date}: give the day (E2B-MAP)"), result.output


def test_the_reactions_meddra_code_goes_in_by_batch_is_checked_sent_and_read_back(runner, tmp_path, ich_xsd,
                                                                                   ich_schema):
    """E.i.2.1b (the reaction's MedDRA code) was always nullFlavor UNK, which ICH and FDA refuse,
    and a draft had no way to give it. event/meddra_code (8 digits) and event/meddra_version
    (N.N) are taken from a batch's columns, checked by validate, sent as the ICH examples
    send them (value/@code, @codeSystemVersion) and read back by import; without a code the
    reaction goes as before, UNK, with its warning."""
    import csv

    from medwatch_tool.draft import draft_values, read_draft

    example = draft_values(read_draft(EXAMPLES / "baclofen-overdose.xml"))
    flat = {k: "; ".join(v) if isinstance(v, list) else v for k, v in example.items()}
    rows = [{"admin/report_id": name, "event/meddra_code": code, "event/meddra_version": version}
            for name, code, version in (("CODED", "10033295", "27.1"), ("SHORT", "1003329", "27.1"),
                                        ("VERSION", "10033295", "27"))]
    with open(tmp_path / "rows.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(flat) + ["event/meddra_code", "event/meddra_version"])
        writer.writeheader()
        writer.writerows({**flat, **row} for row in rows)
    out = tmp_path / "drafts"
    result = runner.invoke(main, ["batch", str(tmp_path / "rows.csv"), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    with open(out / "problems.csv", newline="", encoding="utf-8-sig") as handle:
        refused = [(p["report_id"], p["path"], p["severity"], p["message"]) for p in csv.DictReader(handle)]
    assert refused == [
        ("SHORT", "event/meddra_code", "error", "'1003329' does not look like a valid reaction MedDRA code (LLT): 8 "
         "digits, e.g. 10033295: the MedDRA lowest level term (LLT) code of the reaction, as the sender's safety "
         "staff code it (E2B E.i.2.1b)"),
        ("VERSION", "event/meddra_version", "error", "'27' does not look like a valid MedDRA version: two numbers "
         "and a point, e.g. 27.1 or 27.0 (not 27): the MedDRA version of the reaction's MedDRA code (E2B E.i.2.1a)")]
    coded = out / "CODED.xml"
    assert runner.invoke(main, ["validate", str(coded)]).exit_code == 0
    root = etree.parse(str(coded)).getroot()
    set_text(root, "event/meddra_version", "27")
    bad = write(root, tmp_path, "bad-version.xml")
    checked = runner.invoke(main, ["validate", str(bad)])
    assert checked.exit_code == 1 and ("error: MedDRA version [event/meddra_version]: '27' does not look like a "
                                       "valid MedDRA version: two numbers and a point") in checked.output
    remove(root, "event/meddra_version")
    alone = write(root, tmp_path, "code-alone.xml")
    checked = runner.invoke(main, ["validate", str(alone)])
    assert checked.exit_code == 0 and ("warning: MedDRA version [event/meddra_version]: the reaction's MedDRA code "
                                       "10033295 is given without its MedDRA version (e.g. 27.1)") in checked.output
    uncoded = EXAMPLES / "baclofen-overdose.xml"
    batch_file, result = export(runner, tmp_path, [coded, uncoded, alone], ich_xsd)
    assert result.exit_code == 0, result.output
    batch = etree.parse(str(batch_file))
    assert ich_schema.validate(batch), ich_schema.error_log
    term = ".//h:observation[h:code/@code='29']/h:value[@codeSystem='2.16.840.1.113883.6.163']"
    assert [[(v.get("code"), v.get("codeSystemVersion"), v.get("nullFlavor")) for v in m.xpath(term, namespaces=NS)]
            for m in messages(batch.getroot())] == [[("10033295", "27.1", None)], [(None, None, "UNK")],
                                                    [(None, None, "UNK")]]
    told = [line.split(": warning: ")[1] for line in result.output.splitlines() if "MedDRA" in line]
    assert told == [
        "B5 Describe event, problem or product use error [event/description]: E.i.1.1a takes the first sentence "
        "(max 250 characters) of the description as the reaction term; the whole text goes to H.1. Code the reaction "
        "in MedDRA before submission (E2B-MAP)",
        "MedDRA version [event/meddra_version]: the reaction's MedDRA code 10033295 is not sent without its MedDRA "
        "version (E.i.2.1a): E.i.2.1b is sent as nullFlavor UNK (E2B-MAP)",
        "B5 Describe event, problem or product use error [event/description]: E.i.1.1a takes the first sentence "
        "(max 250 characters) of the description as the reaction term; the whole text goes to H.1. Code the reaction "
        "in MedDRA before submission (E2B-MAP)"], result.output
    back = tmp_path / "back"
    assert runner.invoke(main, ["e2b", "import", str(batch_file), "-o", str(back)]).exit_code == 0
    imported = draft_values(read_draft(sorted(back.glob("*.xml"))[0]))
    assert (imported["event/meddra_code"], imported["event/meddra_version"]) == ("10033295", "27.1")


def test_a_date_the_draft_refuses_is_its_own_error_not_a_crash(runner, tmp_path, ich_xsd):
    """A hand-edited draft's '10/08/2026' in B3 made the export stop with "unexpected
    ValueError" (working out G.k.8 from the dates), and the other drafts' messages were lost."""
    root = example_tree()
    set_text(root, "event/event_date", "10/08/2026")
    bad = write(root, tmp_path, "bad.xml")
    out, result = export(runner, tmp_path, [bad, EXAMPLES / "baclofen-pump-catheter-kink.xml"], ich_xsd)
    assert result.exit_code == 1 and "unexpected" not in result.output, result.output
    assert f"{bad}:" in result.output and "B3 Date of event [event/event_date]" in result.output, result.output
    assert "not written" in result.output and not out.exists()


def test_hospital_staff_who_are_no_clinicians_send_as_other_not_as_a_consumer(runner, tmp_path, ich_xsd, ich_schema):
    """A risk manager (C.2.r.4 5, no health professional) made the ICSR's C.3.1 sender type 7,
    patient or consumer, which also spared it FDA's R0022 (a sender's organisation): 6, other."""
    root = example_tree()
    set_text(root, "reporter/occupation", "risk_manager")
    remove(root, "reporter/health_professional")
    draft = write(root, tmp_path)
    batch, result = valid_export(runner, tmp_path, [draft], ich_xsd, ich_schema)
    assert batch.xpath("//h:subjectOf1/h:controlActEvent/h:author/h:assignedEntity/h:code/@code", namespaces=NS) == ["6"]
    bare = runner.invoke(main, ["e2b", "export", str(draft), "-o", str(tmp_path / "b.xml")])
    assert bare.exit_code == 1 and "(R0022)" in bare.output, bare.output


@pytest.mark.parametrize("description, cut", [("Rash.", False), ("Rash...", False), ("Severe rash.\nThen fever.", True)])
def test_the_reaction_term_is_said_to_be_taken_from_the_description_only_when_cut(runner, tmp_path, ich_xsd,
                                                                                 description, cut):
    """A description of one sentence is the term whole; one cut after a line break was not said."""
    root = example_tree()
    set_text(root, "event/description", description)
    out, result = export(runner, tmp_path, [write(root, tmp_path)], ich_xsd)
    assert result.exit_code == 0, result.output
    assert ("E.i.1.1a takes the first sentence" in result.output) == cut, result.output


def test_an_implanted_pumps_devices_stay_with_its_drug_beside_an_inhaler(runner, tmp_path, ich_xsd, ich_schema):
    """With an inhaler listed first, the pump and catheter of the intrathecal baclofen went
    with the inhaler (both routes were taken as a device's alike): an infusion's route first."""
    root = example_tree("baclofen-pump-catheter-kink.xml")
    product = root.find("{urn:x-medwatch-tool:report:1}suspect_product")
    inhaler = etree.fromstring(etree.tostring(product))
    for child in list(inhaler):
        if etree.QName(child).localname not in ("name", "route"):
            inhaler.remove(child)
    inhaler.find("{urn:x-medwatch-tool:report:1}name").text = "Salbutamol inhaler"
    inhaler.find("{urn:x-medwatch-tool:report:1}route").text = "respiratory_inhalation"
    product.addprevious(inhaler)
    batch, result = valid_export(runner, tmp_path, [write(root, tmp_path)], ich_xsd, ich_schema)
    carriers = batch.xpath("//h:kindOfProduct[h:part/h:partProduct]/h:name/text()", namespaces=NS)
    assert carriers == [product.find("{urn:x-medwatch-tool:report:1}name").text], carriers
    assert "the one suspect product given by a route a device delivers" in result.output, result.output


def test_import_still_lists_what_it_cannot_map_beside_what_it_now_maps(runner, tmp_path, reference):
    """Mapping the MedDRA code (the reaction's value/@code) and the dosage text silenced the
    reaction as reported ('consciência alterada') and a second dosage's text; FDA's example 2
    gave E3 (city and state) the manufacturer's street."""
    example = reference / "e2b-r3" / "examples" / "fda"
    result = runner.invoke(main, ["e2b", "import", str(example / "FAERS2022Scenario6.xml"), "-o", str(tmp_path / "6")])
    assert "observation/value/originalText = consciência alterada" in result.output, result.output
    assert "'more information on the next course' has no equivalent in the draft" in result.output, result.output
    result = runner.invoke(main, ["e2b", "import", str(example / "FAERS2022Scenario2.xml"), "-o", str(tmp_path / "2")])
    [draft] = (tmp_path / "2").glob("*.xml")
    assert draft_values(read_draft(draft))["device[1]/manufacturer_address"] == "Manufacturer City, Manufacturer State"
    assert "Device manufacturer address '1 Hwy Street' has no equivalent in the draft" in result.output, result.output


def test_a_device_manufacturer_longer_than_fda_takes_is_an_error_at_its_box(runner, tmp_path, ich_xsd):
    """FDA.G.k.12.r.7.1a takes 100 characters; the draft takes 250, and a longer name was
    sent for FDA to refuse the ICSR."""
    root = example_tree("baclofen-pump-catheter-kink.xml")
    set_text(root, "device/manufacturer", "Medtronic " * 11)
    draft = write(root, tmp_path)
    out, result = export(runner, tmp_path, [draft], ich_xsd)
    assert result.exit_code == 1 and not out.exists(), result.output
    assert (f"{draft}: error: E3 Manufacturer name [device[1]/manufacturer]: 109 characters, and FDA.G.k.12.r.7.1a "
            "(the device's manufacturer) takes at most 100") in result.output, result.output
