"""`medwatch validate`: located, box-numbered messages and exit codes, on real files."""
import json

import pytest
from lxml import etree

from medwatch_tool.catalog import NS
from medwatch_tool.cli import main

from helpers import example_tree, remove, set_text, write


def run(runner, *args):
    result = runner.invoke(main, ["validate", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_every_example_is_valid(runner, examples):
    files = sorted(examples.glob("*.xml"))
    assert len(files) >= 3
    result = run(runner, *files)
    assert result.exit_code == 0, result.output
    for f in files:
        assert f"{f}: valid" in result.output


def line_of(path, needle):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_bad_date_is_located_with_box_and_label(runner, tmp_path):
    root = example_tree()
    set_text(root, "event/event_date", "2026-02-30")
    draft = write(root, tmp_path)
    result = run(runner, draft)
    assert result.exit_code == 1
    line = line_of(draft, "2026-02-30")
    assert f"{draft}:{line}: error: B3 Date of event [event/event_date]: 2026-02-30 is not a date" in result.output


def test_missing_required_box(runner, tmp_path):
    root = example_tree()
    remove(root, "suspect_product/name")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    assert "D1 Product name [suspect_product[1]/name]: is required but missing" in result.output


def test_unknown_code(runner, tmp_path):
    root = example_tree()
    set_text(root, "suspect_product/route", "intrathecall")
    set_text(root, "patient/sex", "M")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    assert ("D2 Route [suspect_product[1]/route]: 'intrathecall' is not an allowed value "
            "(did you mean intrathecal? `medwatch fields` lists all 67)") in result.output
    assert "A3 Sex [patient/sex]: 'M' is not an allowed value (allowed: male, female)" in result.output


def test_death_outcome_without_date(runner, tmp_path):
    root = example_tree()
    set_text(root, "event/outcome", "death")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    assert "B2 Date of death [event/death_date]: the outcome is death, so the date of death is required (MW-OUT-1)" in result.output


def test_death_date_without_death_outcome(runner, tmp_path):
    root = example_tree()
    event = root.find("{urn:x-medwatch-tool:report:1}event")
    death = event.makeelement("{urn:x-medwatch-tool:report:1}death_date")
    death.text = "2026-10-09"
    event.find("{urn:x-medwatch-tool:report:1}event_date").addprevious(death)
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    assert "(MW-OUT-2)" in result.output


def test_therapy_stop_before_start(runner, tmp_path):
    root = example_tree("baclofen-pump-catheter-kink.xml")
    set_text(root, "concomitant/stop_date", "2026-09-01")
    draft = write(root, tmp_path)
    result = run(runner, draft)
    assert result.exit_code == 1
    line = line_of(draft, "2026-09-01")
    assert (f"{draft}:{line}: error: F Therapy end date [concomitant[1]/stop_date]: therapy stop date "
            "2026-09-01 is before the start date 2026-09-15 (MW-DATE-1)") in result.output


def test_partial_dates_only_conflict_when_certain(runner, tmp_path):
    root = example_tree("baclofen-pump-catheter-kink.xml")
    set_text(root, "concomitant/start_date", "2026-09")
    set_text(root, "concomitant/stop_date", "2026-09-01")
    assert run(runner, write(root, tmp_path)).exit_code == 0


def test_explant_before_implant_and_future_date(runner, tmp_path):
    root = example_tree("baclofen-pump-catheter-kink.xml")
    set_text(root, "device/implanted_date", "2999-01-01")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    assert "E6 Date implanted [device[1]/implanted_date]: the date 2999-01-01 is in the future (MW-DATE-6)" in result.output
    assert "MW-DATE-7" not in result.output  # (in the future says it: one message per mistake)
    set_text(root, "device/implanted_date", "2026-10-15")  # after the report, not in the future
    result = run(runner, write(root, tmp_path))
    assert "the date 2026-10-15 is after B4 date of this report (2026-09-30) (MW-DATE-7)" in result.output


def test_minimum_criteria(runner, tmp_path):
    root = example_tree()
    for path in ("patient", "reporter", "suspect_product"):
        remove(root, path)
    set_text(root, "event/description", " ")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    for rule in ("MW-MIN-1", "MW-MIN-2", "MW-MIN-3", "MW-MIN-4"):
        assert f"({rule})" in result.output


def test_human_ranges(runner, tmp_path):
    root = example_tree()
    set_text(root, "patient/age", "300")
    set_text(root, "patient/weight", "900")
    result = run(runner, write(root, tmp_path))
    assert "A2 Age [patient/age]: age 300 year(s) is outside the human range" in result.output
    assert "A4 Weight [patient/weight]" in result.output


def test_warnings_do_not_fail(runner, tmp_path):
    root = example_tree("baclofen-pump-catheter-kink.xml")
    remove(root, "device/udi")
    remove(root, "device/serial")
    catheter = root.findall("{urn:x-medwatch-tool:report:1}device")[1]
    for name in ("lot", "udi"):
        catheter.remove(catheter.find("{urn:x-medwatch-tool:report:1}" + name))
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 0, result.output
    assert "warning: E4 Unique device identifier (UDI) # [device[1]/udi]" in result.output
    assert "[device[2]/udi]" in result.output
    assert "(2 warnings)" in result.output


def test_json_format(runner, tmp_path):
    root = example_tree()
    set_text(root, "patient/sex", "M")
    result = run(runner, "--format", "json", write(root, tmp_path))
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert problems == [{
        "severity": "error", "message": "'M' is not an allowed value (allowed: male, female)",
        "path": "patient/sex", "box": "A3", "label": "Sex", "line": problems[0]["line"],
        "file": str(tmp_path / "draft.xml"), "rule": "",
    }]
    assert problems[0]["line"] > 1


BAD_INPUTS = {
    "empty": (b"", "the file is empty"),
    "garbage": (bytes(range(256)) * 4, "not an XML file"),
    "truncated": (b'<?xml version="1.0"?>\n<report xmlns="urn:x-medwatch-tool:report:1"><patient>', "not well-formed XML"),
    "nested-too-deep": (b"<a>" * 100_000 + b"</a>" * 100_000,  # before: libxml2's 'use XML_PARSE_HUGE option'
                        "not well-formed XML: elements nested over 256 deep (a report is a few levels deep)"),
    "wrong-namespace": (b'<report xmlns="urn:other"><patient/></report>', "not a MedWatch draft"),
    "no-namespace": (b"<report><patient/></report>", "not a MedWatch draft"),
    "xxe": (b'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            b'<report xmlns="urn:x-medwatch-tool:report:1"><event><description>&xxe;</description></event></report>',
            "DOCTYPE/ENTITY declaration is not allowed"),
    "billion-laughs": (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                       + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
                       + b']>\n<report xmlns="urn:x-medwatch-tool:report:1">&lol9;</report>',
                       "DOCTYPE/ENTITY declaration is not allowed"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line(runner, tmp_path, kind):
    data, expected = BAD_INPUTS[kind]
    bad = tmp_path / f"{kind}.xml"
    bad.write_bytes(data)
    result = run(runner, bad)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"{bad}") and expected in lines[0]
    assert "passwd" not in result.output and "root:" not in result.output


def test_directory_and_missing_path(runner, tmp_path):
    result = run(runner, tmp_path, tmp_path / "nope.xml")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"{tmp_path}: error: is a directory, not a file", f"{tmp_path / 'nope.xml'}: error: no such file"]


def test_stdin(runner, examples):
    result = runner.invoke(main, ["validate", "-"], input=(examples / "baclofen-overdose.xml").read_bytes())
    assert result.exit_code == 0 and "-: valid" in result.output


def test_no_arguments_is_a_usage_error(runner):
    assert runner.invoke(main, ["validate"]).exit_code == 2


def test_today_is_allowed_and_tomorrow_is_in_the_future(runner, tmp_path):
    """The rules get today's date from the tool (not the XSLT clock): check the edge both ways."""
    from datetime import date, timedelta

    today, tomorrow = date.today(), date.today() + timedelta(days=1)
    root = example_tree()
    set_text(root, "event/event_date", today.isoformat())
    set_text(root, "event/report_date", today.isoformat())
    assert run(runner, write(root, tmp_path, "today.xml")).exit_code == 0
    set_text(root, "event/report_date", tomorrow.isoformat())
    result = run(runner, write(root, tmp_path, "tomorrow.xml"))
    assert result.exit_code == 1
    assert f"the date {tomorrow.isoformat()} is in the future (MW-DATE-6)" in result.output
    assert f"the date {today.isoformat()} is in the future" not in result.output


def test_date_rules_narrowed_to_date_fields_select_the_same_elements():
    """rules.sch writes the date rule's context for any element; the tool narrows it to the
    schema's date fields. Both must pick the same elements out of a draft holding every field."""
    from lxml import etree

    from medwatch_tool.catalog import NS, load_catalog
    from medwatch_tool.resources import schema_path
    from medwatch_tool.rule_contexts import narrowed_context
    from medwatch_tool.rules import NARROW

    rules = etree.parse(str(schema_path("rules.sch")))
    narrowed = [r for r in rules.iter("{http://purl.oclc.org/dsdl/schematron}rule") if r.get(NARROW)]
    assert narrowed, "the date rule lost its mw:narrow-to-kind marker"
    doc = etree.Element(f"{{{NS}}}report")
    for f in load_catalog().fields:
        etree.SubElement(doc, f"{{{NS}}}{f.name}").text = "2026-01-02"
        etree.SubElement(doc, f"{{{NS}}}{f.name}").text = " "  # blank: no date rule applies
    ns = {"mw": NS}
    for rule in narrowed:
        generic = rule.get("context")
        narrow = narrowed_context(generic, rule.get(NARROW))
        everywhere = doc.xpath(f"//{generic}", namespaces=ns)
        named = doc.xpath(" | ".join(f"//{alt}" for alt in narrow.split(" | ")), namespaces=ns)
        assert everywhere == named
        assert {e.tag for e in named} >= {f"{{{NS}}}event_date", f"{{{NS}}}date_of_birth"}
        assert f"{{{NS}}}expiration_date" not in {e.tag for e in named}
        assert all(e.text.strip() for e in named)
        assert "local-name()" not in narrow  # the tests on the name alone were decided once per name


def test_only_predicates_on_the_name_alone_are_decided_when_narrowing():
    from medwatch_tool.rule_contexts import about_the_name_only, predicates

    assert predicates("[a = ']'][b[c]]") == ["a = ']'", "b[c]"]
    assert about_the_name_only("contains(local-name(), 'date')")
    assert about_the_name_only("not(local-name() = 'x') and string-length(local-name()) > 4")
    for depends_on_more in ["normalize-space(.)", "*", "mw:x", "$lo", "@id", "name() = 'date'",
                            "local-name(..) = 'event'", "count(preceding-sibling::*) = 0", "date"]:
        assert not about_the_name_only(depends_on_more), depends_on_more


def test_codes_written_with_spaces_around_them_are_read_by_the_rules(runner, tmp_path):
    """The schema takes ' kg ' (a token); the rules compared 'kg' and found the weight
    'outside the human range', and missed ' true ' as an ongoing therapy."""
    root = example_tree()
    set_text(root, "patient/weight_unit", " kg ")
    set_text(root, "suspect_product/ongoing", " true ")
    start = root.find(f"{{{NS}}}suspect_product/{{{NS}}}start_date")
    start.addnext(etree.Element(f"{{{NS}}}stop_date"))
    set_text(root, "suspect_product/stop_date", "2026-10-09")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 0, result.output
    assert "MW-WT" not in result.output
    assert "D3 Therapy ongoing? [suspect_product[1]/ongoing]: the therapy is marked as ongoing but has a stop date " \
           "(2026-10-09): one of the two is wrong (MW-DATE-8)" in result.output


def test_a_weight_without_its_unit_is_told_at_the_unit(runner, tmp_path):
    root = example_tree()
    remove(root, "patient/weight_unit")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    assert "A4 Weight unit [patient/weight_unit]: a weight needs its unit (kg or lb) (MW-WT-2)" in result.output
    assert "MW-WT-1" not in result.output


def test_a_rule_reading_a_box_the_schema_refused_says_nothing_more(runner, tmp_path):
    """'moons' refused as an age unit also gave "age 52 moons(s) is outside the human range",
    'stone' as a weight unit "weight 70 stone is outside the human range", a start date
    2026-13 "therapy stop date 2026-01 is before the start date 2026-13": two verdicts for
    one mistake, the second wrong (a batch row said only the first)."""
    root = example_tree()
    set_text(root, "patient/age", "52")
    set_text(root, "patient/age_unit", "moons")
    set_text(root, "patient/weight_unit", "stone")
    set_text(root, "suspect_product/start_date", "2026-13")
    product = root.find("{urn:x-medwatch-tool:report:1}suspect_product")
    product.find("{urn:x-medwatch-tool:report:1}start_date").addnext(etree.Element("{urn:x-medwatch-tool:report:1}stop_date"))
    set_text(root, "suspect_product/stop_date", "2026-01")
    remove(root, "suspect_product/ongoing")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    told = [line.split(": error: ")[1] for line in result.output.splitlines() if ": error: " in line]
    assert [line.split(" [")[0] for line in told] == ["A2 Age unit", "A4 Weight unit", "D3 Therapy start date"], told
    assert "MW-AGE-1" not in result.output and "MW-WT-1" not in result.output and "MW-DATE-1" not in result.output


@pytest.mark.parametrize("path", ["patient/date_of_birth", "suspect_product/start_date", "event/event_date"])
def test_a_date_in_the_future_is_told_once(runner, tmp_path, path):
    """A date of birth in 2999 gave three errors (after the event date, in the future, after
    the date of this report), a therapy start or an event date in 2999 two: one mistake."""
    root = example_tree()
    if root.find("/".join(f"{{{NS}}}{step}" for step in path.split("/"))) is None:
        patient = root.find(f"{{{NS}}}patient")
        patient.find(f"{{{NS}}}age_unit").addnext(etree.Element(f"{{{NS}}}date_of_birth"))
    set_text(root, path, "2999-01-01")
    result = run(runner, write(root, tmp_path))
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "the date 2999-01-01 is in the future (MW-DATE-6)" in errors[0], result.output


def test_a_rule_not_reading_the_box_refused_or_only_misplaced_still_speaks(runner, tmp_path):
    """A first version of the check above also dropped MW-DATE-7 on a date of death after
    the date of this report when the event date was refused (the rule passes the event date
    by its name, reading nothing of it), and MW-DATE-4 when the event date was only out of
    place (its value fine)."""
    root = example_tree()
    event = root.find(f"{{{NS}}}event")
    event.findall(f"{{{NS}}}outcome")[-1].addnext(etree.Element(f"{{{NS}}}death_date"))
    set_text(root, "event/death_date", "2026-10-25")
    set_text(root, "event/outcome", "death")
    set_text(root, "event/event_date", "2026-02-30")
    result = run(runner, write(root, tmp_path))
    assert "B3 Date of event [event/event_date]" in result.output
    assert "B2 Date of death [event/death_date]: the date 2026-10-25 is after B4 date of this report (2026-10-21) " \
           "(MW-DATE-7)" in result.output, result.output
    set_text(root, "event/event_date", "2026-10-26")
    event.append(event.find(f"{{{NS}}}event_date"))  # after the description: out of place, its value fine
    result = run(runner, write(root, tmp_path))
    assert "(MW-DATE-4)" in result.output and "is not expected here" in result.output, result.output


def test_a_device_traced_by_its_serial_number_is_not_told_it_cannot_be(runner, tmp_path):
    """A pump with a serial number but no UDI or lot was warned "the manufacturer needs one
    to trace the device": a serial number traces that one device best of all."""
    root = example_tree("baclofen-pump-catheter-kink.xml")  # a product problem; the pump has a serial and a UDI
    remove(root, "device/udi")
    result = runner.invoke(main, ["validate", str(write(root, tmp_path))])
    assert "MW-DEV-1" not in result.output, result.output
    remove(root, "device/serial")
    result = runner.invoke(main, ["validate", str(write(root, tmp_path))])
    assert ("device[1]/udi]: device problem reported without a UDI, lot or serial number: the manufacturer needs one "
            "to trace the device (MW-DEV-1)") in result.output, result.output


def test_a_zip_code_that_lost_its_leading_zero_is_told(runner, tmp_path):
    """A spreadsheet keeps 02115 typed in a column of numbers as 2115: the draft would give
    FDA a ZIP code that does not exist, without a word. Another country's 4-digit postal
    code is no ZIP code, and a whole one is fine."""
    root = example_tree()
    set_text(root, "reporter/postal_code", "2115")
    result = runner.invoke(main, ["validate", str(write(root, tmp_path))])
    assert ("G1 ZIP/postal code [reporter/postal_code]: '2115' has 4 digits, and a US ZIP code has 5: a spreadsheet "
            "drops the leading zeros of a number") in result.output, result.output
    assert "(MW-REP-2)" in result.output and result.exit_code == 0, result.output
    set_text(root, "reporter/postal_code", "21151234")
    result = runner.invoke(main, ["validate", str(write(root, tmp_path))])
    assert "'21151234' has 8 digits, and a US ZIP code has 9" in result.output, result.output
    for zip_code, country in (("02115", "US"), ("021151234", "US"), ("02115-1234", "US"), ("2100", "DK")):
        set_text(root, "reporter/postal_code", zip_code)
        set_text(root, "reporter/country", country)
        result = runner.invoke(main, ["validate", str(write(root, tmp_path))])
        assert "MW-REP-2" not in result.output, (zip_code, country, result.output)
    root = example_tree("baclofen-missed-refill-consumer.xml")
    set_text(root, "reporter/postal_code", "501")
    result = runner.invoke(main, ["validate", str(write(root, tmp_path))])
    assert "'501' is too short for a US ZIP code, which has 5 digits" in result.output, result.output
    assert "if you live outside the US, give your F6 'Country' (MW-REP-2)" in result.output, result.output


def test_a_country_a_draft_cannot_hold_is_told_what_a_draft_holds(runner, tmp_path):
    """'us' in a draft was told "a country name or its two-letter code", the words of the
    batch's help; a draft holds the code only, in capitals."""
    root = example_tree()
    set_text(root, "reporter/country", "us")
    result = runner.invoke(main, ["validate", str(write(root, tmp_path))])
    assert result.exit_code == 1 and ("G1 Country [reporter/country]: 'us' is not a country code: a draft holds the "
                                      "two-letter ISO code, in capitals (US)") in result.output, result.output
