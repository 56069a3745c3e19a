"""`medwatch render`: the draft as the FDA form shows it, in text and printable HTML."""
import os
import stat

import pytest

from medwatch_tool.catalog import load_catalog
from medwatch_tool.cli import main

from helpers import example_tree, set_text, write


def test_text_groups_by_section_and_box(runner, examples):
    result = runner.invoke(main, ["render", str(examples / "baclofen-pump-catheter-kink.xml")])
    assert result.exit_code == 0, result.output
    out = result.output
    order = [out.index(f"SECTION {box}.") for box in "ABCDEFG"]
    assert order == sorted(order)
    assert "B3    Date of event: 14-Sep-2026" in out
    assert "D2    Route: Intrathecal" in out
    assert "--- Suspect medical device #2" in out
    assert "E6    Date explanted: 17-Sep-2026" in out
    assert "E7a   Single-use device reprocessed and reused?: [ ]" in out  # empty box shown as such
    assert "1. Test name: Body temperature" in out


def test_every_catalog_label_appears(runner, examples):
    """Every box of Form 3500 is on its page, filled or empty (a field no form has, the
    reaction's MedDRA code, only when it holds a value)."""
    out = runner.invoke(main, ["render", str(examples / "baclofen-overdose.xml")]).output
    for field in load_catalog().fields:
        assert (field.label in out) == (field.box != "—" or field.path.startswith("admin/")), field.path


def test_consumer_form_uses_its_own_boxes(runner, examples):
    out = runner.invoke(main, ["render", str(examples / "baclofen-missed-refill-consumer.xml")]).output
    assert "FDA 3500B (consumer)" in out
    assert "SECTION E. ABOUT THE PERSON WHO HAD THE PROBLEM" in out
    assert "A3    Date the problem happened: 02-Nov-2026" in out


@pytest.mark.parametrize("kind", ["text", "html"])
def test_consumer_form_pages_name_boxes_in_its_own_words_and_leave_out_those_it_lacks(runner, tmp_path, kind):
    """A 3500B page said "Patient identifier", "Outcome attributed to adverse event" and
    showed boxes that form does not have (Occupation, Procode) empty; one holding an answer
    (the consumer form implies: no health professional) is still shown."""
    root = example_tree("baclofen-missed-refill-consumer.xml")
    out = runner.invoke(main, ["render", str(write(root, tmp_path)), "--to", kind]).output
    for field in load_catalog().fields:
        if field.on_form("3500B") and field.label_3500b and field.path.count("/") == 1:  # (no test given: no table)
            assert field.label_3500b.replace("'", "&#39;" if kind == "html" else "'") in out, field.path
    for gone in ("Patient identifier", "Outcome attributed to adverse event", "Occupation", "Procode",
                 "Single-use device reprocessed"):
        assert gone not in out, gone
    assert "Health professional?" in out
    professional = runner.invoke(main, ["render", str(write(root, tmp_path)), "--to", kind, "--form", "3500"]).output
    assert "Patient identifier" in professional and "Occupation" in professional


def test_consumer_form_pages_follow_its_own_section_order(runner, examples):
    """A 3500B page went in Form 3500's order: E (the person), A, B, C, D, then F."""
    for kind in ("text", "html"):
        out = runner.invoke(main, ["render", str(examples / "baclofen-missed-refill-consumer.xml"), "--to", kind]).output
        titles = ["ABOUT THE PROBLEM", "ABOUT THE PRODUCT", "ABOUT THE PERSON WHO HAD THE PROBLEM",
                  "ABOUT THE PERSON FILLING OUT THIS FORM"]
        found = [out.upper().index(title) for title in titles]
        assert found == sorted(found), kind


def test_consumer_form_names_units_in_plain_words(runner, examples):
    draft = str(examples / "baclofen-overdose.xml")
    consumer = runner.invoke(main, ["render", draft, "--form", "3500B"]).output
    assert "C9    Amount in: micrograms (mcg)" in consumer
    assert "Strength in: milligrams per millilitre (mg/mL)" in consumer
    professional = runner.invoke(main, ["render", draft]).output
    assert "D2    Dose unit: MICROGRAM(S) - UGM" in professional


def test_html_is_escaped_and_written_owner_only(runner, tmp_path):
    root = example_tree()
    set_text(root, "event/description", "<script>alert('x')</script> & more")
    draft = write(root, tmp_path)
    out = tmp_path / "report.html"
    result = runner.invoke(main, ["render", str(draft), "--to", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in html
    assert "@media print" in html
    assert "<th class=\"box\">B5</th>" in html
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_render_reports_problems_but_still_renders(runner, tmp_path):
    root = example_tree()
    set_text(root, "patient/sex", "robot")
    result = runner.invoke(main, ["render", str(write(root, tmp_path))])
    assert result.exit_code == 0
    assert "A3 Sex [patient/sex]: 'robot' is not an allowed value" in result.stderr
    assert "A3    Sex: robot" in result.stdout


def test_render_bad_file_one_line(runner, tmp_path):
    result = runner.invoke(main, ["render", str(tmp_path / "missing.xml")])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'missing.xml'}: no such file"


def test_fields_lists_catalog(runner):
    result = runner.invoke(main, ["fields"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["path", "box", "label", "type", "allowed", "values"]
    assert any(l.startswith("event/event_date") and " B3 " in l and "Date of event" in l for l in lines)
    assert any(l.startswith("suspect_product[1]/route") and "intrathecal" in l for l in lines)
    assert any(l.startswith("device[1]/udi") and " E4 " in l for l in lines)
    csv_out = runner.invoke(main, ["fields", "--format", "csv", "--form", "3500B"]).output
    assert "event/event_date,A3,Date the problem happened,date," in csv_out  # (its own words)


def test_text_never_cuts_an_identifier_or_a_web_address_across_lines(runner, tmp_path):
    """textwrap's defaults cut a UDI longer than the line in the middle and split at hyphens,
    putting a line break and six spaces inside it: copied from the page, the identifier was
    wrong. It now stands whole on a line of its own; the text around it still wraps."""
    udi = "(01)00643169001763(17)280131(21)NGP412877H(01)00643169001763(17)280131(21)NGP412877H"
    serial = "SN-2026-0001-ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ00-1111-2222-3333-4444-5555-6666"
    address = "https://example.org/recalls/" + "a" * 70
    root = example_tree("baclofen-pump-catheter-kink.xml")
    set_text(root, "device/udi", udi)
    set_text(root, "device/serial", serial)
    set_text(root, "event/description", "Pump stopped; see " + address + " and the notice " + "word " * 30)
    result = runner.invoke(main, ["render", str(write(root, tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for whole in (udi, serial, address):
        assert "      " + whole in lines, whole
    assert max(len(line) for line in lines if "word" in line) <= 78  # ordinary text is wrapped as before


def test_a_line_break_inside_a_value_or_a_test_cell_is_indented_under_it(runner, tmp_path):
    """A lot number 'LOT<CR>42' was written on one line with its CR: a terminal showed
    '42    Lot #: LOT', the lot as LOT and 42 where box numbers go. A test's cell broken over
    two lines went on at column 0, and a test line was never wrapped (200 characters)."""
    root = example_tree("baclofen-pump-catheter-kink.xml")
    set_text(root, "suspect_product/lot", "LOT\r42")
    set_text(root, "event/test/name", "Serum creatinine\n(repeat, fasting)")
    result = runner.invoke(main, ["render", str(write(root, tmp_path))])
    assert result.exit_code == 0, result.output
    page = result.output
    assert "\r" not in page and max(len(line) for line in page.splitlines()[1:]) <= 78  # (but the title)
    assert "D1    Lot #:\n      LOT\n      42\n" in page
    assert "      1. Test name: Serum creatinine\n         (repeat, fasting); Test date:" in page


def test_fields_as_json_give_each_form_s_label_and_none_for_a_box_the_consumer_form_lacks(runner):
    import json

    listed = {f["path"]: f for f in json.loads(runner.invoke(main, ["fields", "--format", "json", "--form", "3500B"])
                                              .output)}
    assert (listed["patient/identifier"]["label"], listed["patient/identifier"]["label_3500"]) == (
        "Person's initials", "Patient identifier")
    assert (listed["reporter/occupation"]["box_3500B"], listed["reporter/occupation"]["label_3500B"]) == ("—", "")


@pytest.mark.parametrize("command", [[], ["validate"], ["render"], ["e2b"]], ids=lambda c: " ".join(c) or "medwatch")
def test_the_examples_in_help_run_as_shown(runner, tmp_path, monkeypatch, command):
    """A user's first try is often an example from `--help`: `medwatch e2b --help`'s export
    was refused (no sender's organisation, FDA's R0022), so the import after it had no file.
    Each example of these commands, on the shipped examples, runs in order and succeeds."""
    import shlex
    import shutil

    from helpers import EXAMPLES

    shutil.copytree(EXAMPLES, tmp_path / "examples")
    shutil.copy(EXAMPLES / "baclofen-overdose.xml", tmp_path / "draft.xml")  # ("validate --format json draft.xml")
    monkeypatch.chdir(tmp_path)
    shown = runner.invoke(main, [*command, "--help"]).output
    lines = [line.strip() for line in shown.split("Examples:")[1].splitlines() if line.strip().startswith("medwatch ")]
    ran = 0
    for line in lines:
        if "|" in line or ">" in line:
            continue
        words = shlex.split(line)[1:]
        files = [str(p.relative_to(tmp_path)) for w in words for p in sorted(tmp_path.glob(w))] if "*" in line else None
        if files:
            words = [w for w in words if "*" not in w] + files
        result = runner.invoke(main, words)
        assert result.exit_code == 0, (line, result.output)
        ran += 1
    assert ran >= 2, lines


def test_a_box_no_form_has_is_shown_only_when_it_holds_a_value(runner, tmp_path):
    """The reaction's MedDRA code is no box of Form 3500 or 3500B (safety staff add it for
    E2B): a page "like the form" showed two empty rows of it in section B of every report."""
    from lxml import etree

    from medwatch_tool.catalog import NS

    root = example_tree()
    for to in ("text", "html"):
        page = runner.invoke(main, ["render", str(write(root, tmp_path)), "--to", to]).output
        assert "MedDRA" not in page and "Report ID" in page, page
    description = root.find(f"{{{NS}}}event/{{{NS}}}description")
    for name, value in (("meddra_version", "27.1"), ("meddra_code", "10033295")):
        description.addnext(etree.Element(f"{{{NS}}}{name}"))
        description.getnext().text = value
    page = runner.invoke(main, ["render", str(write(root, tmp_path))]).output
    assert "Reaction MedDRA code (LLT): 10033295" in page and "MedDRA version: 27.1" in page, page
