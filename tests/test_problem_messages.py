"""What `medwatch batch` says about cells it cannot take: one plain message per mistake, at
the box it is about, in problems.csv as a spreadsheet shows it."""
import pytest

from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, read_draft

from test_batch import example_rows, read_problems, write_csv


def run(runner, tmp_path, rows):
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    return result, out


@pytest.mark.parametrize("path, cell", [
    ("suspect_product[1]/name", "#N/A"),       # a lookup that found nothing: a text box took it as a name
    ("reporter/last_name", "#REF!"),
    ("patient/age", "#DIV/0!"),
    ("event/outcome", "#VALUE!"),              # a box of several answers
    ("reporter/city", "#NV"),                  # German Excel's #N/A
    ("event/event_date", "Err:502"),           # LibreOffice
])
def test_a_spreadsheet_formula_error_is_refused_at_its_box(runner, tmp_path, path, cell):
    row = dict(example_rows()[0], **{path: cell})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1, result.output
    assert not list(out.glob("*.xml"))
    problems = [(p["path"], p["message"]) for p in read_problems(out)]
    assert problems == [(path, f"'{cell}' is the error of a spreadsheet formula, not a value: correct the "
                               "formula (or clear the cell) in the spreadsheet and export it again")]


def test_text_that_merely_starts_like_an_error_is_kept(runner, tmp_path):
    row = dict(example_rows()[0], **{"suspect_product[1]/lot": "#A1234", "event/description": "#N/A in the chart"})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 0, result.output
    values = draft_values(read_draft(next(out.glob("*.xml"))))
    assert values["suspect_product[1]/lot"] == "#A1234" and values["event/description"] == "#N/A in the chart"


def test_sas_missing_value_dot_leaves_number_and_date_boxes_empty(runner, tmp_path):
    row = dict(example_rows()[0], **{"patient/weight": ".", "patient/weight_unit": ".", "suspect_product[1]/stop_date": "."})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 0, result.output
    values = draft_values(read_draft(next(out.glob("*.xml"))))
    assert "patient/weight" not in values and "suspect_product[1]/stop_date" not in values


def test_schema_limits_are_said_in_words_and_problems_csv_shows_the_value_as_written(runner, tmp_path):
    """libxml2's '[facet 'fractionDigits'] The value ... ('2')' is not for a clinician; and a
    message starting with '-1' got an apostrophe in problems.csv (kept from being a formula)."""
    row = dict(example_rows()[0], **{"patient/weight": "70.308", "patient/weight_unit": "kg",
                                     "suspect_product[1]/dose": "123456789012345", "patient/age": "-1",
                                     "patient/age_unit": "year", "suspect_product[1]/duration": "0",
                                     "suspect_product[1]/duration_unit": "day"})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1
    messages = {p["path"]: p["message"] for p in read_problems(out)}
    assert messages["patient/weight"] == ("'70.308' has more decimal places than fit in this box (at most 2): "
                                          "round it to 2 places")
    assert messages["suspect_product[1]/dose"] == "'123456789012345' has more digits than fit in this box (at most 12 in all)"
    row["suspect_product[1]/dose"] = "0.333333333333333"  # =1/3 in a sheet, shown 0.33: said how to round it
    again = tmp_path / "again"
    again.mkdir()
    result, out = run(runner, again, [row])
    assert {p["path"]: p["message"] for p in read_problems(out)}["suspect_product[1]/dose"] == (
        "'0.333333333333333' has more digits than fit in this box (at most 12 in all): round it (a spreadsheet holds "
        "a formula's result with all its digits, and may show it rounded; =ROUND(..., 2) rounds it in the sheet)")
    assert messages["patient/age"] == "'-1' is too small: this box takes 0 or more"
    assert messages["suspect_product[1]/duration"] == "'0' is too small: this box takes only numbers above 0"
    assert "facet" not in result.output and "facet" not in (out / "problems.csv").read_text(encoding="utf-8-sig")


def test_a_refused_value_is_not_reported_again_by_the_rule_that_misses_it(runner, tmp_path):
    """A description too long for B5 is refused; the rule 'no event: describe the adverse
    event' (MW-MIN-4), which then finds none, said the same mistake a second time."""
    row = dict(example_rows()[0], **{"event/description": "x" * 25000})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1
    problems = read_problems(out)
    # (the first example is a consumer's report: form 3500B numbers the description A4)
    assert [(p["path"], p["box"], p["rule"]) for p in problems] == [("event/description", "A4", "")]
    assert "at most 20000" in problems[0]["message"]


def test_a_comma_file_that_writes_a_date_day_first_has_its_two_way_dates_refused(runner, tmp_path):
    """A British clinic's export, comma-separated: 03/11/2025 (3 November) was stored as
    11 March, without a word; only 16/10/2026, which cannot be month first, was refused."""
    base = example_rows()
    rows = [dict(r, **{"admin/report_id": f"UK-{i}"}) for i, r in enumerate(base)]
    rows[0]["event/event_date"] = "03/11/2025"   # both ways: refused, with both readings
    rows[1]["event/event_date"] = "16/10/2025"   # only day first: read so
    rows[2]["event/event_date"] = "05/05/2025"   # the same either way
    result, out = run(runner, tmp_path, rows)
    assert result.exit_code == 1, result.output
    problems = [(p["row"], p["path"], p["message"]) for p in read_problems(out)]
    assert problems == [("2", "event/event_date", "'03/11/2025' could be 3 Nov or 11 Mar 2025 (this file writes "
                                                  "16/10/2025 in B3 date of event on row 3, the day first): write "
                                                  "2025-11-03 or 2025-03-11")]
    assert ("note: " + str(tmp_path / "events.csv") + ": this file writes 16/10/2025 in B3 date of event on row 3, "
            "the day first: its dates that read both ways (03/11/2025) are refused") in result.output
    assert draft_values(read_draft(out / "UK-1.xml"))["event/event_date"] == "2025-10-16"
    assert draft_values(read_draft(out / "UK-2.xml"))["event/event_date"] == "2025-05-05"


def test_a_json_lines_file_that_writes_a_date_day_first_has_its_two_way_dates_refused(runner, tmp_path):
    """As a comma file's: JSON Lines read 03/11/2025 (3 November) as 11 March without a word,
    while the same rows as CSV or in a workbook were refused with both readings."""
    import json

    from medwatch_tool.draft import nest

    rows = [dict(r, **{"admin/report_id": f"UK-{i}"}) for i, r in enumerate(example_rows())]
    rows[0]["event/event_date"] = "16/10/2025"   # only day first: read so, and the file is day first
    rows[1]["event/event_date"] = "03/11/2025"   # both ways: refused, with both readings
    rows[2]["suspect_product[1]/start_date"] = "05/04/2025"  # in a repeated group too
    src = tmp_path / "events.jsonl"
    src.write_text("".join(json.dumps(nest({k: v.split("; ") if k == "event/outcome" else v for k, v in r.items()}))
                           + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    why = "this file writes 16/10/2025 in B3 date of event on line 1, the day first"
    assert [(p["row"], p["path"], p["message"]) for p in read_problems(out)] == [
        ("2", "event/event_date", f"'03/11/2025' could be 3 Nov or 11 Mar 2025 ({why}): write 2025-11-03 or 2025-03-11"),
        ("3", "suspect_product[1]/start_date",
         f"'05/04/2025' could be 5 Apr or 4 May 2025 ({why}): write 2025-04-05 or 2025-05-04")]
    assert f"note: {src}: {why}: its dates that read both ways (03/11/2025) are refused" in result.output
    assert draft_values(read_draft(out / "UK-0.xml"))["event/event_date"] == "2025-10-16"
    piped = runner.invoke(main, ["batch", "-", "--out", str(tmp_path / "p"), "--input-format", "jsonl"],
                          input=src.read_bytes())  # (a pipe cannot be looked through first: as a CSV file's)
    assert [(p["row"], p["message"][:42]) for p in read_problems(tmp_path / "p")] == [
        ("1", "16/10/2025 is not a date read month first,")], piped.output


def test_a_comma_file_without_a_day_first_date_reads_slashed_dates_month_first(runner, tmp_path):
    rows = [dict(r, **{"admin/report_id": f"US-{i}"}) for i, r in enumerate(example_rows())]
    rows[0]["event/event_date"] = "03/11/2025"
    rows[1]["event/description"] = "Seen in clinic 10/16/2025; refill due."
    result, out = run(runner, tmp_path, rows)
    assert result.exit_code == 0, result.output
    assert draft_values(read_draft(out / "US-0.xml"))["event/event_date"] == "2025-03-11"


@pytest.mark.parametrize("form, path, cell, message", [
    ("3500", "suspect_product[1]/dose", "5 mIU", "'5 mIU': the unit is not one that D2 dose unit takes: 'mIU' is not "
                                                "on this list: MIU means million international units"),
    ("3500", "patient/weight", "70 stone", "'70 stone': the unit is not one that A4 weight unit takes: 'stone' is not "
                                          "one of the allowed values (kg, lb)"),
    # a consumer's row: its form's unit boxes, in its words (3500B's A2 is the outcome, D2 a device's maker)
    ("3500B", "suspect_product[1]/dose", "5 mIU", "'5 mIU': the unit is not one that C9 'Amount in' takes: 'mIU' is "
                                                 "not on this list"),
    ("3500B", "patient/weight", "70 stone", "'70 stone': the unit is not one that E5 'Weight in (lb or kg)' takes"),
])
def test_a_number_with_a_unit_its_unit_box_refuses_says_why(runner, tmp_path, form, path, cell, message):
    """'5 mIU' was only "'5 mIU' is not a number": the number was fine, the unit was not."""
    row = dict(example_rows()[0], **{path: cell, "admin/form": form})
    row.pop(path.replace("dose", "dose_unit").replace("weight", "weight_unit"), None)
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1
    [problem] = [p for p in read_problems(out) if p["path"] == path]
    assert problem["message"].startswith(message), problem["message"]


@pytest.mark.parametrize("path, cell, message", [
    ("patient/age", "1970-05-02", "'1970-05-02' is a date, and this box takes a number"),
    ("patient/age", "05/02/1970", "'05/02/1970' is a date, and this box takes a number"),
    ("suspect_product[1]/dose", "1/2", "'1/2' holds two numbers, and this box takes one: write a fraction as a "
                                       "decimal (1/2 is 0.5); a combination's strengths (10/325 mg) go with"),
    ("suspect_product[1]/strength", "10/325", "'10/325' holds two numbers"),  # (not "a fraction": 0.03)
    ("patient/weight", "70 - 75 kg", "'70 - 75 kg' is a range"),  # (spaced, it was told of the unit '- 75 kg')
    ("suspect_product[1]/dose", "1-2", "'1-2' is a range: give one number here (say the range in the description)"),
    ("patient/weight", "70-75 kg", "'70-75 kg' is a range: give one number here"),
    # a bound ('~10 mg' was told why; '<10 mg' was only "is not a number")
    ("suspect_product[1]/dose", "<10 mg", "'<10 mg' is a bound, not a number: write the number alone (10 mg), and say "
                                          "in the description that it was less than that"),
    ("patient/weight", "≥ 100", "'≥ 100' is a bound, not a number: write the number alone (100), and say in the "
                                     "description that it was at least that"),
    ("suspect_product[1]/dose", "up to 3", "'up to 3' is a bound, not a number: write the number alone (3)"),
])
def test_a_date_fraction_or_range_in_a_number_box_is_named_as_such(runner, tmp_path, path, cell, message):
    """They were read as a number and a unit: "'1/2': the unit is not one that D2 dose unit
    takes: '/2' is not one of the allowed values", sending the user to the unit's column."""
    row = dict(example_rows()[1], **{path: cell})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1
    [problem] = [p for p in read_problems(out) if p["path"] == path]
    assert problem["message"].startswith(message), problem["message"]


@pytest.mark.parametrize("slip", ["31/4/2026", "30/02/2026", "29/2/2025"])
def test_a_day_no_month_has_says_nothing_of_how_the_file_writes_dates(runner, tmp_path, slip):
    """31/4/2026 ("not a date either way") was taken as the file writing the day first, and
    every other row's 3/4/2026 was refused as "3 Apr or 4 Mar": one slip refused a US file."""
    rows = [dict(r, **{"admin/report_id": f"US-{i}"}) for i, r in enumerate(example_rows())]
    rows[0]["event/event_date"] = "3/4/2026"
    rows[1]["event/event_date"] = slip
    result, out = run(runner, tmp_path, rows)
    assert [(p["row"], p["path"]) for p in read_problems(out)] == [("3", "event/event_date")], result.output
    assert "is not a date either way" in read_problems(out)[0]["message"]
    assert draft_values(read_draft(out / "US-0.xml"))["event/event_date"] == "2026-03-04"
    assert "the day first" not in result.output


def test_a_file_of_dates_written_both_ways_says_so(runner, tmp_path):
    """A file with 30/4/2026 (day first) and 3/13/2026 (month first) cannot tell what 3/4/2026
    means: refused with both readings, and the message shows both signs."""
    rows = [dict(r, **{"admin/report_id": f"MIX-{i}"}) for i, r in enumerate(example_rows())]
    rows[0]["event/event_date"] = "3/4/2026"
    rows[1]["event/event_date"] = "3/13/2026"
    rows[2]["event/event_date"] = "30/4/2026"
    result, out = run(runner, tmp_path, rows)
    assert [(p["row"], p["message"]) for p in read_problems(out)] == [
        ("2", "'3/4/2026' could be 3 Apr or 4 Mar 2026 (this file writes 30/4/2026 in B3 date of event on row 4, the "
              "day first, and 3/13/2026 in B3 date of event on row 3, the month first): write 2026-04-03 or 2026-03-04")]
    assert draft_values(read_draft(out / "MIX-1.xml"))["event/event_date"] == "2026-03-13"
    assert draft_values(read_draft(out / "MIX-2.xml"))["event/event_date"] == "2026-04-30"


def test_a_day_first_date_outside_the_date_columns_says_nothing_of_the_file(runner, tmp_path):
    """A lot number 13-11-2024, or a letter from abroad quoted in a description, made every
    two-way date of a US file refused."""
    rows = [dict(r, **{"admin/report_id": f"US-{i}"}) for i, r in enumerate(example_rows())]
    rows[0]["event/event_date"] = "11/03/2025"
    rows[1]["event/description"] = "Seen in London on 14/11/2025 by the pump clinic."
    rows[1]["suspect_product[1]/lot"] = "LOT 13-11-2024"
    result, out = run(runner, tmp_path, rows)
    assert result.exit_code == 0, (result.output, read_problems(out))
    assert draft_values(read_draft(out / "US-0.xml"))["event/event_date"] == "2025-11-03"
    assert "the day first" not in result.output


def test_a_unicode_text_export_written_day_first_is_told_too(runner, tmp_path):
    """Excel's "Unicode Text" (UTF-16, tab-separated) is recoded as it is read: the scan for a
    day-first date did not see its dates, and 03/11/2025 was read as 11 March."""
    rows = [dict(r, **{"admin/report_id": f"UK-{i}"}) for i, r in enumerate(example_rows())]
    rows[0]["event/event_date"] = "03/11/2025"
    rows[1]["event/event_date"] = "16/10/2025 14:30"
    header = list(dict.fromkeys(k for r in rows for k in r))
    text = "\r\n".join("\t".join(r.get(k, "") for k in header) for r in [dict(zip(header, header))] + rows)
    src = tmp_path / "events.txt"
    src.write_bytes(b"\xff\xfe" + (text + "\r\n").encode("utf-16-le"))
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--input-format", "tsv"])
    assert result.exit_code == 1, result.output
    assert [(p["row"], p["path"]) for p in read_problems(out)] == [("2", "event/event_date")]
    assert "this file writes 16/10/2025 in B3 date of event on row 3, the day first" in read_problems(out)[0]["message"]


def problems_of(out):
    return {(p["path"], p["rule"]): (p["box"], p["severity"], p["message"]) for p in read_problems(out)}


def test_a_weight_without_its_unit_is_told_as_such_not_as_out_of_range(runner, tmp_path):
    """"weight 70 is outside the human range (at most 650 kg / 1430 lb), or its unit is
    missing" blamed the weight; an age without its unit was already told at its unit box."""
    row = dict(example_rows()[1], **{"patient/weight_unit": ""})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1
    assert problems_of(out) == {("patient/weight_unit", "MW-WT-2"): ("A4", "error", "a weight needs its unit (kg or lb)")}


def test_a_number_without_its_unit_and_other_without_saying_what_are_warnings(runner, tmp_path):
    row = dict(example_rows()[1], **{"suspect_product[1]/dose_unit": "", "suspect_product[1]/strength_unit": "",
                                     "suspect_product[1]/duration": "5", "suspect_product[1]/route": "other",
                                     "suspect_product[1]/frequency_other": "",
                                     "suspect_product[1]/stop_date": "2026-10-09"})  # ongoing, yet stopped
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 0, result.output  # drafted: warnings only
    assert problems_of(out) == {
        ("suspect_product[1]/strength_unit", "MW-UNIT-2"): (
            "D1", "warning", "a strength of 2 without its unit cannot be read: give the strength unit"),
        ("suspect_product[1]/dose_unit", "MW-UNIT-1"): (
            "D2", "warning", "a dose of 450 without its unit cannot be read: give the dose unit (mg, mL, ...)"),
        ("suspect_product[1]/duration_unit", "MW-UNIT-3"): (
            "D3", "warning", "a duration of 5 without its unit cannot be read: give the duration unit (days, weeks, ...)"),
        ("suspect_product[1]/route_other", "MW-OTH-1"): (
            "D2", "warning", 'the route is "other": say which route in D2 other route'),
        ("suspect_product[1]/frequency_other", "MW-OTH-2"): (
            "D2", "warning", 'the frequency is "other": say how often in D2 other frequency'),
        ("suspect_product[1]/ongoing", "MW-DATE-8"): (
            "D3", "warning", "the therapy is marked as ongoing but has a stop date (2026-10-09): one of the two is wrong"),
    }


def test_a_product_marked_returned_without_its_date_is_a_warning(runner, tmp_path):
    row = dict(example_rows()[2], **{"availability/returned_date": ""})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 0, result.output
    assert problems_of(out) == {("availability/returned_date", "MW-AVL-2"): (
        "C1", "warning", "the product is marked as returned to the manufacturer: give the date it was returned")}


def test_placeholders_in_the_boxes_of_the_minimum_criteria_are_warned_about(runner, tmp_path):
    """'N/A' as the patient, '-' as the event, 'Unknown' as the product: the report looked
    valid (FDA's minimum criteria met) and was drafted without a word."""
    row = dict(example_rows()[1], **{"patient/identifier": "N/A", "event/description": "-",
                                     "suspect_product[1]/name": "Unknown", "reporter/first_name": "?",
                                     "concomitant[1]/name": "None"})  # (no concomitant product: not a criterion)
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 0, result.output
    told = {path: (box, severity, message) for (path, rule), (box, severity, message) in problems_of(out).items()
            if rule == "MW-MIN-6"}
    assert set(told) == {"patient/identifier", "event/description", "suspect_product[1]/name", "reporter/first_name"}
    assert told["patient/identifier"] == (
        "A1", "warning", "'N/A' is a placeholder, not an answer: give the real one or leave the box empty (FDA "
        "needs this box, or one like it, to accept a report)")
    assert told["suspect_product[1]/name"][2].startswith("'Unknown' is a placeholder")


def test_initials_and_names_that_spell_a_placeholder_are_not_taken_for_one(runner, tmp_path):
    """NA, N.A. (initials, what A1 asks for), Na (a surname), Nil (a given name) are in the
    list of what a coded cell may hold for "no value", not in the rule's."""
    rows = [dict(example_rows()[1], **{"admin/report_id": f"P{n}", "patient/identifier": initials,
                                       "reporter/last_name": "Na", "reporter/first_name": "Nil"})
            for n, initials in enumerate(["NA", "N.A."])]
    result, out = run(runner, tmp_path, rows)
    assert result.exit_code == 0 and "2 drafted, 0 with errors, 0 warnings" in result.output, result.output


def test_an_event_date_after_the_report_date_is_told_once(runner, tmp_path):
    """MW-DATE-3 (event date after the report date) and MW-DATE-7 (a date after the report
    date) both told it."""
    row = dict(example_rows()[1], **{"event/event_date": "2026-10-22"})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1
    assert list(problems_of(out)) == [("event/event_date", "MW-DATE-3")]


def test_a_social_security_number_as_patient_identifier_is_warned_about(runner, tmp_path):
    """The form: initials or a record code, never a name or SSN; only the name was caught."""
    row = dict(example_rows()[1], **{"patient/identifier": "123-45-6789"})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 0, result.output
    assert problems_of(out) == {("patient/identifier", "MW-PAT-2"): (
        "A1", "warning", "the patient identifier looks like a social security number: use initials or a record "
        "code, never the SSN")}


@pytest.mark.parametrize("answer", ["Declined", "Prefer not to say", "Not reported"])
def test_a_question_the_patient_would_not_answer_leaves_its_box_empty(runner, tmp_path, answer):
    """Race 'Declined' (as health records write it) failed the whole report over a box the
    form does not require."""
    row = dict(example_rows()[1], **{"patient/race": answer, "patient/ethnicity": answer})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 0 and "1 drafted, 0 with errors" in result.output, result.output
    values = draft_values(read_draft(next(out.glob("*.xml"))))
    assert "patient/race" not in values and "patient/ethnicity" not in values


def test_more_answers_than_a_box_takes_are_refused_saying_so(runner, tmp_path):
    """Six device problem codes were refused with the schema's "is not expected here (expected
    expiration_date, operator, ...)", naming other boxes."""
    row = dict(example_rows()[1], **{"device[1]/brand_name": "SynchroMed II",
                                     "device[1]/problem_code": "1001; 1002; 1003; 1004; 1005; 1006"})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1, result.output
    assert [(p["path"], p["box"], p["message"]) for p in read_problems(out) if p["severity"] == "error"] == [
        ("device[1]/problem_code", "E", "6 answers are given (1001; 1002; 1003; 1004; 1005; 1006), and this box "
                                        "takes at most 5: keep those that matter most")]
    row["device[1]/problem_code"] = "1001; 1002; 1003; 1004; 1005; 1001"  # the same code twice is one answer
    (tmp_path / "again").mkdir()
    result, out = run(runner, tmp_path / "again", [row])
    assert result.exit_code == 0, (result.output, read_problems(out))


def test_a_carriage_return_in_a_value_keeps_problems_csv_readable(runner, tmp_path):
    """A CR alone in a quoted cell was written unquoted into the message: Excel and Python's
    csv split the record there, and its rest read as a row of its own."""
    src = tmp_path / "cr.csv"
    src.write_bytes(b'admin/report_id,patient/age\nR1,"4\r4"\n')
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    problems = read_problems(out)
    assert {p["row"] for p in problems} == {"2"} and all(p["rule"] or p["path"] for p in problems)
    assert ("patient/age", "'4\r4' is not a number") in {(p["path"], p["message"]) for p in problems}


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_line_too_long_to_read_does_not_stop_the_look_for_day_first_dates(runner, tmp_path, suffix):
    """The look at the first rows gave up at a line too long to read: 03/11/2025 below it was
    read as 11 March, without a word."""
    import json

    from medwatch_tool.draft import nest
    from medwatch_tool.input_streams import MAX_FIELD

    rows = [dict(r, **{"admin/report_id": f"UK-{i}"}) for i, r in enumerate(example_rows()[1:])]
    rows[0]["event/event_date"], rows[1]["event/event_date"] = "16/10/2025", "03/11/2025"
    src = tmp_path / f"events.{suffix}"
    if suffix == "csv":
        text = write_csv(tmp_path / "plain.csv", rows).read_text(encoding="utf-8").split("\n", 1)
        src.write_text(text[0] + "\n" + "x" * (MAX_FIELD + 10) + "\n" + text[1], encoding="utf-8")
    else:
        src.write_text("x" * (MAX_FIELD + 10) + "\n" + "".join(
            json.dumps(nest({k: v.split("; ") if k == "event/outcome" else v for k, v in r.items()})) + "\n"
            for r in rows), encoding="utf-8")
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    refused = [p for p in read_problems(out) if p["report_id"] == "UK-1"]
    assert [p["message"][:58] for p in refused] == ["'03/11/2025' could be 3 Nov or 11 Mar 2025 (this file writ"]
    assert "the day first: its dates that read both ways" in result.output


@pytest.mark.parametrize("case", ["a line too long inside a quoted cell", "dates written =\"16/10/2025\""])
def test_the_look_for_day_first_dates_reads_the_rows_as_the_rows_are_read(runner, tmp_path, case):
    """The look ahead read the line too long as blank, dropping the quote that closed the cell,
    so the rest of its rows were one cell; and it did not read ="16/10/2025" as 16/10/2025.
    Either way 03/11/2025 was read as 11 March."""
    from medwatch_tool.input_streams import MAX_FIELD

    rows = [dict(r, **{"admin/report_id": f"UK-{i}"}) for i, r in enumerate(example_rows())]
    rows[0]["event/event_date"], rows[2]["event/event_date"] = "03/11/2025", "16/10/2025"
    if case.startswith("dates"):
        rows[2]["event/event_date"] = '="16/10/2025"'
    else:  # (row 3, refused for it; the rows after it are read as before)
        rows[1]["event/description"] = "start\n" + "x" * (MAX_FIELD + 10) + " end"
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert "the day first: its dates that read both ways" in result.output, result.output
    refused = [p["message"][:44] for p in read_problems(out) if p["path"] == "event/event_date"]
    assert refused == ["'03/11/2025' could be 3 Nov or 11 Mar 2025 ("], read_problems(out)


def test_a_line_too_long_that_opens_a_quote_is_counted_as_the_rows_reader_counts_it(runner, tmp_path):
    """The rows' reader starts afresh after a line too long to read; the look ahead kept its
    quote open, took the next row into a cell, and named the day-first date's row one short."""
    from medwatch_tool.input_streams import MAX_FIELD

    rows = [dict(r, **{"admin/report_id": f"UK-{i}"}) for i, r in enumerate(example_rows()[1:])]
    rows[0]["event/event_date"], rows[1]["event/event_date"] = "03/11/2025", "16/10/2025"
    head, first, second = write_csv(tmp_path / "plain.csv", rows).read_text(encoding="utf-8").splitlines()
    src = tmp_path / "events.csv"
    src.write_text("\n".join([head, first, '"' + "x" * (MAX_FIELD + 10), second]) + "\n", encoding="utf-8")
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert "this file writes 16/10/2025 in B3 date of event on row 4, the day first" in result.output, result.output
    assert [p["row"] for p in read_problems(out) if p["path"] == "event/event_date"] == ["2"]


@pytest.mark.parametrize("path, cell, shown", [
    ("suspect_product[1]/route", "oral\u200b", "after 'oral' (U+200B, zero width space)"),
    ("event/event_date", "2025-03-04\u2060", "after '2025-03-04' (U+2060, word joiner)"),
    ("suspect_product[1]/dose", "\u200e5", "at its start (U+200E, left-to-right mark)"),
])
def test_an_invisible_character_in_a_value_is_named(runner, tmp_path, path, cell, shown):
    """Pasted from a web page or a record system: "'oral' is not one of the allowed values
    (did you mean oral?)", "'2025-03-04' is not a date; write e.g. 2026-11-03": the user
    was told to write what they had written."""
    row = dict(example_rows()[1], **{path: cell})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1
    [problem] = [p for p in read_problems(out) if p["path"] == path]
    assert f"holds an invisible character {shown}, which this box cannot take" in problem["message"], problem


def test_a_text_too_long_is_told_so_whatever_invisible_characters_it_holds(runner, tmp_path):
    """A name with a zero-width non-joiner (as Persian names hold) over 100 characters was
    told to delete the character, which its box takes, not that it is too long."""
    row = dict(example_rows()[1], **{"reporter/last_name": "Moham\u200cmadi" + "x" * 120})
    result, out = run(runner, tmp_path, [row])
    [problem] = [p for p in read_problems(out) if p["path"] == "reporter/last_name"]
    assert problem["message"] == "'" + row["reporter/last_name"][:30] + "…' is 130 characters long; at most 100 fit in " \
                                 "this box", problem  # (its start said: "is 130 characters long" did not say which)


def test_a_box_of_only_invisible_characters_is_no_answer(runner, tmp_path):
    """A description of one zero-width space met FDA's criterion that the event is described
    (MW-MIN-4), drafted without a word; a name with a direction mark keeps it."""
    row = dict(example_rows()[1], **{"event/description": "\u200b", "reporter/last_name": "\u200f\u0639\u0644\u064a"})
    result, out = run(runner, tmp_path, [row])
    assert result.exit_code == 1
    assert [(p["path"], p["rule"]) for p in read_problems(out) if p["severity"] == "error"] == [
        ("event/description", "MW-MIN-4")]


def test_a_fraction_in_a_box_of_no_product_says_nothing_of_strengths(runner, tmp_path):
    row = dict(example_rows()[1], **{"patient/age": "1/2"})
    result, out = run(runner, tmp_path, [row])
    [problem] = [p for p in read_problems(out) if p["path"] == "patient/age"]
    assert problem["message"] == ("'1/2' holds two numbers, and this box takes one: write a fraction as a decimal "
                                  "(1/2 is 0.5)")

