"""`medwatch batch` on JSON Lines values as exporters write them: lone surrogates, NaN,
numbers and booleans in text boxes, and lines that are not JSON (review 3: A1, B1, C2, C5,
C6, C7, D1)."""
import json

import pytest

from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, flatten, read_draft

from test_batch import read_problems


def base(report_id, **sections):
    """A consumer report that drafts cleanly, as a JSON object; `sections` replace or add."""
    record = {"admin": {"report_id": report_id, "form": "3500B"},
              "event": {"problem_type": "adverse_event", "event_date": "2026-11-02", "report_date": "2026-11-10",
                        "description": "Spasms"},
              "patient": {"age": 44, "age_unit": "year"},
              "reporter": {"last_name": "Pereira", "first_name": "Daniel", "country": "US", "phone": "218 555 0199"},
              "suspect_product": [{"name": "Baclofen"}]}
    for name, section in sections.items():
        record[name] = dict(record.get(name, {}), **section) if isinstance(section, dict) else section
    return record


def jsonl(tmp_path, *lines, name="reports.jsonl", newline="\n"):
    """A JSON Lines file of `lines` (records, or text written as it is), as UTF-8."""
    src = tmp_path / name
    text = newline.join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + newline
    src.write_bytes(text.encode("utf-8", "surrogatepass"))
    return src


def as_csv(path, records):
    """The same records as a CSV file: their flat paths as the header (cells hold no comma)."""
    flat = [flatten(record) for record in records]
    header = list(dict.fromkeys(key for row in flat for key in row))
    path.write_text("\n".join([",".join(header)] + [",".join(str(row.get(k, "")) for k in header) for row in flat])
                    + "\n", encoding="utf-8")
    return path


def batch(runner, src, out, *options):
    return runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", *options])


def values(out, name):
    return draft_values(read_draft(out / f"{name}.xml"))


# B1: a lone surrogate escape is refused at its box (or line), and the run goes on

def test_a_lone_surrogate_is_refused_at_its_box_and_the_run_finishes(runner, tmp_path):
    """Before: "unexpected UnicodeEncodeError" writing the journal: no summary, no
    problems.csv, the lines after never read, and --resume failing the same way for ever."""
    lines = [json.dumps(base("S1")),
             json.dumps(base("S2", patient={"sex": "fem\ud800"})),
             json.dumps(base("S3\udc00")),
             json.dumps(base("S4", patient={"s\udc00ex": "female"})),
             json.dumps(base("S5"))]
    src = jsonl(tmp_path, *lines)
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 1 and "unexpected" not in result.output, result.output
    assert result.output.startswith("2 drafted, 3 with errors, 0 warnings\n")
    assert sorted(p.name for p in out.glob("*.xml")) == ["S1.xml", "S5.xml"]
    problems = [(p["row"], p["report_id"], p["path"], p["box"], p["message"]) for p in read_problems(out)]
    unpaired = ("an unpaired UTF-16 surrogate (half of a character, as a program that cut a text inside an emoji "
                "writes)")
    assert problems == [
        ("2", "S2", "patient/sex", "E2", f"'fem\\ud800' contains \\ud800, {unpaired}, which no box holds: "
                                         "correct the text"),
        ("3", "S3\\udc00", "admin/report_id", "—", f"'S3\\udc00' contains \\udc00, {unpaired}, which no box "
                                                   "holds: correct the text"),
        ("4", "", "", "", f"line 4 has a key 'patient/s\\udc00ex' holding \\udc00, {unpaired}: correct the key")]
    again = batch(runner, src, out, "--resume")
    assert again.exit_code == 1 and again.output.startswith(
        "2 drafted, 3 with errors, 0 warnings (5 lines done by an earlier run, counted in)\n"), again.output
    assert len(read_problems(out)) == 3


def test_the_journal_keeps_a_message_that_quotes_a_lone_surrogate(tmp_path):
    """Whatever str a message holds, the journal writes it (as the escape's text) and reads it back."""
    from medwatch_tool.journal import Journal
    from medwatch_tool.outcomes import Outcome

    journal = Journal(tmp_path)
    outcome = Outcome(1, None, "S\ud800")
    outcome.add_problem("error", "'fem\ud800' is not one of the allowed values", "patient/sex", "A3", "Sex")
    journal.record(outcome)
    journal.close()
    assert journal.failure is None
    [entry] = Journal(tmp_path).entries()
    assert (entry["report_id"], entry["problems"][0]["message"]) == (
        "S\\ud800", "'fem\\ud800' is not one of the allowed values")


# A1: NaN is no value (as pandas writes a missing number); Infinity is refused

def test_nan_is_no_value_with_a_note_and_infinity_is_refused(runner, tmp_path):
    """Before: stored as the words "nan" and "inf" in the lot and serial number boxes."""
    src = jsonl(tmp_path,
                json.dumps(base("N1", patient={"identifier": float("nan"), "weight": float("nan")})),
                json.dumps(base("N2", device=[{"brand_name": "Pump", "lot": float("nan"), "serial": "SN-7"}])),
                json.dumps(base("N3", device=[{"brand_name": "Pump", "serial": float("inf")}])),
                json.dumps(base("N4", patient={"weight": float("-inf")})))
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.output.startswith("2 drafted, 2 with errors"), result.output
    assert "patient/identifier" not in values(out, "N1") and "patient/weight" not in values(out, "N1")
    assert "device[1]/lot" not in values(out, "N2") and values(out, "N2")["device[1]/serial"] == "SN-7"
    assert (f"note: {src}: line 1 (and maybe others) holds NaN, which is not JSON (pandas and Python write it for "
            "a missing number): read as no value, as null is") in result.output
    problems = [(p["row"], p["path"], p["message"]) for p in read_problems(out)]
    too_big = ("is not a number a box can hold (JSON has no Infinity; a program writes it for a number too big or "
               "divided by zero): write the number, or null for no value")
    assert problems == [("3", "device[1]/serial", f"'Infinity' {too_big}"),
                        ("4", "patient/weight", f"'-Infinity' {too_big}")]


# D1: numbers and booleans in text boxes are the file's text

def test_json_numbers_in_text_boxes_are_written_as_the_file_writes_them(runner, tmp_path):
    """Before: report id 1e3 drafted as 1000.0.xml holding 1000.0, a lot 1e22 as 1e+22, a
    serial 1e-7 as 1e-07."""
    src = jsonl(tmp_path, '{"admin": {"report_id": 1e3, "form": "3500B"}, "event": {"problem_type": '
                '"adverse_event", "event_date": 20261102, "report_date": "2026-11-10", "description": "Spasms"}, '
                '"patient": {"age": 4.4e1, "age_unit": "year"}, "reporter": {"last_name": "Pereira", '
                '"first_name": "Daniel", "country": "US", "phone": "218 555 0199"}, "suspect_product": '
                '[{"name": "Baclofen"}], "device": [{"brand_name": "Pump", "lot": 1e22, "serial": 1e-7}]}')
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.glob("*.xml")] == ["1e3.xml"]
    drafted = values(out, "1e3")
    assert (drafted["admin/report_id"], drafted["device[1]/lot"], drafted["device[1]/serial"]) == ("1e3", "1e22", "1e-7")
    assert (drafted["patient/age"], drafted["event/event_date"]) == ("44", "2026-11-02")  # number boxes read them


def test_a_json_boolean_in_a_text_box_is_refused_and_names_no_file(runner, tmp_path):
    """Before: report id true drafted as True.xml holding "true"; a last name true kept as the word."""
    src = jsonl(tmp_path, base(True), base("B2", reporter={"last_name": True}),
                base("B3", event={"outcome": [True]}))
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.output.startswith("0 drafted, 3 with errors"), result.output
    assert not list(out.glob("*.xml"))
    problems = [(p["row"], p["report_id"], p["path"], p["message"]) for p in read_problems(out)]
    refused = ('is true, a yes/no answer (JSON true), but this box takes text: write the text in quotes ("true") '
               "if that is what it says")
    assert problems[:2] == [("1", "true", "admin/report_id", refused), ("2", "B2", "reporter/last_name", refused)]
    assert problems[2][:3] == ("3", "B3", "event/outcome") and problems[2][3].startswith("'true' is not one of")


# C5: messages about lines that are not JSON, in words; C6: line numbers after a CR in a line

def test_lines_that_are_not_json_are_told_in_words_at_their_own_line(runner, tmp_path):
    """Before: "Invalid control character at at column 158" (and the lines after a CR inside a
    line numbered one too high), "Expecting ',' delimiter at column 1" for a record cut short,
    "Extra data" for two records on a line, and Python's "decode using utf-8-sig" advice."""
    good = json.dumps(base("M1"))
    tab = json.dumps(base("M2")).replace("Spasms", "Spasms\tand cramps")
    cr = json.dumps(base("M3")).replace("Spasms", "Spasms\rand cramps")
    bad_date = json.dumps(base("M4", event={"event_date": "2026-02-30"}))
    cut = json.dumps(base("M5"))[:-1]
    two = json.dumps(base("M6")) + json.dumps(base("M7"))
    bom = "\ufeff" + json.dumps(base("M8"))
    src = jsonl(tmp_path, good, tab, cr, bad_date, cut, two, bom, newline="\r\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.output.startswith("2 drafted, 5 with errors"), result.output
    assert sorted(p.stem for p in out.glob("*.xml")) == ["M1", "M8"]
    at = tab.index("\t") + 1
    messages = [(p["row"], p["message"]) for p in read_problems(out)]
    assert messages == [
        ("2", f"line 2 is not valid JSON (a control character, U+0009, inside a text at column {at}: write a tab "
              "as \\t and a line break as \\n)"),
        ("3", f"line 3 is not valid JSON (a control character, U+000D, inside a text at column {at}: write a tab "
              "as \\t and a line break as \\n)"),
        ("4", "2026-02-30 is not a date: February 2026 has 28 days"),
        ("5", f"line 5 is not valid JSON (Expecting ',' delimiter at column {len(cut) + 1}, the end of the line: "
              "is the record cut short?)"),
        ("6", f"line 6 holds two JSON objects, the second from column {len(two) // 2 + 1}: put each report on a "
              "line of its own (neither was drafted)")]
    assert "errors most often at: the line as a whole (4 lines), A3 Date the problem happened (1 line)" in result.output
    assert "for the line, field and box of each problem" in result.output


def test_json_lines_summaries_say_lines(runner, tmp_path):
    """Before: "(2 rows done by an earlier run, counted in)" for a file whose problems say "line 2"."""
    src = jsonl(tmp_path, base("L1"), base("L2"))
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    with src.open("a") as handle:
        handle.write(json.dumps(base("L3")) + "\n")
    result = batch(runner, src, out, "--resume")
    assert result.output.startswith("3 drafted, 0 with errors, 0 warnings (2 lines done by an earlier run, counted in)\n")


# C2: JSON Lines named .txt or .csv

@pytest.mark.parametrize("name", ["export.txt", "export.csv"])
def test_json_lines_named_txt_or_csv_says_what_it_is_and_how_to_read_it(runner, tmp_path, name):
    """Before: read as CSV, its JSON fragments listed as column names ('{"admin":{"report_id":"T1"'
    is not a field)."""
    src = jsonl(tmp_path, base("T1"), name=name)
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 1 and not out.exists()
    assert result.output == (f"Error: {src}: is JSON Lines text, not CSV text: rename it to .jsonl, or give "
                             "--input-format jsonl\n")
    result = batch(runner, src, out, "--input-format", "jsonl")
    assert result.exit_code == 0 and [p.name for p in out.glob("*.xml")] == ["T1.xml"]


# C7: blank lines before the first record

def test_a_file_beginning_with_over_64_kb_of_blank_lines_is_read(runner, tmp_path):
    """Before: "the file is empty"."""
    src = jsonl(tmp_path, *[""] * 70_000, base("E1"), base("E2", event={"event_date": "2026-02-30"}))
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.output.startswith("1 drafted, 1 with errors"), result.output
    [problem] = read_problems(out)
    assert (problem["row"], problem["path"]) == ("70002", "event/event_date")


# review 4 (JSON Lines): lists with "no answer", empty lists, 1_0, control characters in keys,
# a CSV file named .jsonl

def test_no_answer_in_a_list_leaves_the_box_empty_as_it_does_alone(runner, tmp_path):
    """The template writes race and outcome as lists: ["Declined"] refused the report where
    "Declined" left the box empty; [] in a one-value box was "takes one value, not a list"."""
    src = jsonl(tmp_path, base("L1", patient={"race": ["Declined", "white, declined"], "ethnicity": []}),
                base("L2", event={"outcome": ["N/A", "hospitalization"]}, patient={"weight_unit": [None]}),
                base("L3", patient={"race": ["Refused", "Martian"]}))
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 1 and "2 drafted, 1 with errors" in result.output, result.output
    assert values(tmp_path / "o", "L1")["patient/race"] == ["white"] and "patient/ethnicity" not in values(
        tmp_path / "o", "L1")
    assert values(tmp_path / "o", "L2")["event/outcome"] == ["hospitalization"]
    [problem] = read_problems(tmp_path / "o")
    assert (problem["report_id"], problem["path"]) == ("L3", "patient/race")
    assert problem["message"].startswith("'Martian' is not one of the allowed values")


@pytest.mark.parametrize("written", ["1_0", "1_000", "70_kg"])
def test_an_underscore_in_a_number_is_no_digit_grouping(runner, tmp_path, written):
    """Python reads 1_0 as 10: the dose was drafted as 10 mg, silently."""
    src = jsonl(tmp_path, base("U1", suspect_product=[{"name": "Baclofen", "dose": written, "dose_unit": "MG"}]))
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    [problem] = read_problems(tmp_path / "o")
    assert (problem["path"], problem["message"]) == ("suspect_product[1]/dose", f"'{written}' is not a number")


def test_a_control_character_in_a_key_is_written_as_its_escape_in_problems_csv(runner, tmp_path):
    src = jsonl(tmp_path, base("K1", patient={"ident\u0000ifier": "JD", "\u001b[31mage": 3}))
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    data = (tmp_path / "o" / "problems.csv").read_text(encoding="utf-8-sig")
    assert "\x00" not in data and "\x1b" not in data
    paths = {p["path"] for p in read_problems(tmp_path / "o")}
    assert {"patient/ident\\u0000ifier", "patient/\\u001b[31mage"} <= paths


def test_a_pattern_s_help_keeps_an_abbreviation_in_capitals(runner, tmp_path):
    src = jsonl(tmp_path, base("P1", device=[{"brand_name": "Pump", "procode": "L1"}]))
    batch(runner, src, tmp_path / "o")
    [problem] = read_problems(tmp_path / "o")
    assert problem["message"].startswith("'L1' does not look like a valid procode: FDA's three-letter")


@pytest.mark.parametrize("name, separator, real", [("rows.jsonl", ",", "csv"), ("rows.json", ";", "csv"),
                                                   ("rows.ndjson", "\t", "tsv")])
def test_a_spreadsheet_named_as_json_lines_says_what_it_is(runner, tmp_path, name, separator, real):
    """Every line was "not valid JSON (Expecting value at column 1)": 50,000 problems for an export."""
    src = tmp_path / name
    src.write_text(separator.join(["admin/report_id", "patient/age", "event/description"]) + "\nA1,44,Spasms\n",
                   encoding="utf-8")
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 1 and not (tmp_path / "o").exists()
    assert result.output == (f"Error: {src}: is {'CSV' if real == 'csv' else 'tab-separated'} text (its first line "
                             "names fields, as a header does), not JSON Lines text: rename it to "
                             f".{real}, or give --input-format {real}\n")


def test_a_raw_cr_in_the_first_record_does_not_renumber_the_lines_after_it(runner, tmp_path):
    """A CR written raw in line 1's text was taken for how the file ends its lines: in a CRLF
    file every later line's number doubled (line 3 told as line 6), and line 1 was two problems."""
    first = json.dumps(base("C1", event={"description": "Rash@@Fever"})).replace("@@", "\r")
    src = jsonl(tmp_path, first, base("C2"), base("C3", patient={"age": "abc"}), newline="\r\n")
    result = batch(runner, src, tmp_path / "o")
    assert "1 drafted, 2 with errors" in result.output, result.output
    told = [(p["row"], p["report_id"], p["path"]) for p in read_problems(tmp_path / "o")]
    assert told == [("1", "C1", ""), ("3", "C3", "patient/age")]
    assert "U+000D" in read_problems(tmp_path / "o")[0]["message"]


def test_a_line_break_written_raw_in_a_text_is_one_problem_naming_the_report(runner, tmp_path):
    """An exporter joining strings wrote a description's line break raw: the report's two
    lines were two unexplained "not valid JSON" problems with no report id."""
    broken = json.dumps(base("N1", event={"description": "first@@second"})).replace("@@", "\n")
    paragraphs = json.dumps(base("N3", event={"description": "one@@two@@three@@four@@five"})).replace("@@", "\n")
    src = jsonl(tmp_path, broken, base("N2"), paragraphs, base("N4"))
    result = batch(runner, src, tmp_path / "o")
    assert "2 drafted, 2 with errors" in result.output, result.output
    told = [(p["row"], p["report_id"], p["message"]) for p in read_problems(tmp_path / "o")]
    assert told == [(row, report, f"line {row} has a line break written raw inside a text (JSON writes it as \\n), so "
                                  f"the report goes on to line {end}: write its line breaks as \\n, each report on one "
                                  "line; it was not drafted") for row, report, end in [("1", "N1", 2), ("4", "N3", 8)]]


def test_a_group_written_as_an_object_numbering_its_entries_is_read_as_they_number_them(runner, tmp_path):
    """PHP's json_encode writes a list numbered from 1 as {"1": {...}, "2": {...}}: each entry
    was "not a field", entry 2's hint pointing at [1] (Morphine would have gone to product 1)."""
    record = base("P1", event={"test": {"1": {"name": "Creatinine", "result": "1.8"}}})
    record["suspect_product"] = {"1": {"name": "Baclofen"}, "3": {"name": "Morphine"}}
    src = jsonl(tmp_path, record)
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 0, (result.output, read_problems(tmp_path / "o"))
    drafted = values(tmp_path / "o", "P1")
    assert (drafted["suspect_product[1]/name"], drafted["suspect_product[2]/name"]) == ("Baclofen", "Morphine")
    assert drafted["event/test[1]/name"] == "Creatinine"


def test_a_line_holding_a_list_of_reports_under_one_key_says_so(runner, tmp_path):
    """An API's export {"reports": [{...}, {...}]} was ten "not a field" problems and "33 more
    keys", each report's boxes taken for fields of one."""
    src = jsonl(tmp_path, {"reports": [base("W1"), base("W2")]}, base("W3"))
    result = batch(runner, src, tmp_path / "o")
    assert "1 drafted, 1 with errors" in result.output, result.output
    [problem] = read_problems(tmp_path / "o")
    assert problem["message"] == ("line 1 holds 2 reports in a list under 'reports', not one report: write one report "
                                  "per line, e.g. with `jq -c '.reports[]' in.json > out.jsonl`")


def test_keys_that_are_no_fields_are_counted_together_where_most_lines_fail(runner, tmp_path):
    """Each unknown key was counted apart: "the line as a whole (1 line), the line as a whole
    (1 line), ..."."""
    src = jsonl(tmp_path, *[base(f"K{i}", patient={key: 1}) for i, key in enumerate(["colour", "mood", "shoe"])])
    result = batch(runner, src, tmp_path / "o")
    assert "errors most often at: the line as a whole (3 lines)\n" in result.output, result.output


def test_a_group_numbered_from_0_with_gaps_or_by_absurd_numbers(runner, tmp_path):
    """PHP writes a filtered array numbered from 0 as {"0": ..., "2": ...}; a key of thousands
    of digits stopped the whole run with "unexpected ValueError"."""
    zero = base("Z1")
    zero["suspect_product"] = {"0": {"name": "Baclofen"}, "2": {"name": "Morphine"}}
    absurd = base("Z2")
    absurd["suspect_product"] = {"1" * 5000: {"name": "Baclofen"}}
    result = batch(runner, jsonl(tmp_path, zero, absurd, base("Z3")), tmp_path / "o")
    assert "2 drafted, 1 with errors" in result.output, result.output
    drafted = values(tmp_path / "o", "Z1")
    assert (drafted["suspect_product[1]/name"], drafted["suspect_product[2]/name"]) == ("Baclofen", "Morphine")
    assert {p["report_id"] for p in read_problems(tmp_path / "o")} == {"Z2"}


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_a_date_written_as_a_moment_in_utc_is_drafted_with_a_note(runner, tmp_path, suffix):
    """JavaScript's toISOString writes 1 March picked at midnight in Europe as
    2026-02-28T23:00:00.000Z: its date in UTC was drafted without a word. It still is (the
    time is not the form's), with a note once per file; midnight UTC, how date-only values
    are written so, is no moment to note."""
    records = [base("T1", event={"event_date": "2026-03-01T00:00:00.000Z"}),
               base("T2", event={"event_date": "2026-02-28T23:00:00.000Z"}),
               base("T3", event={"event_date": "2026-02-27T22:00Z"})]
    src = jsonl(tmp_path, *records) if suffix == "jsonl" else as_csv(tmp_path / "moments.csv", records)
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 0 and "3 drafted" in result.output, result.output
    assert values(tmp_path / "o", "T2")["event/event_date"] == "2026-02-28"
    unit = "line" if suffix == "jsonl" else "row"
    number = 2 if suffix == "jsonl" else 3
    assert result.output.count("as a moment in UTC") == 1
    assert (f"{unit} {number} writes B3 date of event as a moment in UTC (2026-02-28T23:00:00.000Z): it is read as "
            "its date in UTC, 2026-02-28, which need not be the date where it happened") in result.output


@pytest.mark.parametrize("moment", ["2026-02-28T23:00:00+00:00", "2026-02-28 23:00:00+00", "2026-02-28T23:00:00 UTC"])
def test_a_moment_in_utc_with_its_zone_written_out_is_noted_too(runner, tmp_path, moment):
    """As Python's isoformat() and PostgreSQL write UTC (+00:00, +00): no note, though the
    date can be a day off as with Z; PostgreSQL's own text was refused as "not a date"."""
    src = jsonl(tmp_path, base("U1", event={"event_date": moment}))
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 0 and values(tmp_path / "o", "U1")["event/event_date"] == "2026-02-28", result.output
    assert f"line 1 writes B3 date of event as a moment in UTC ({moment})" in result.output


def test_a_moment_in_utc_is_looked_for_in_the_first_1000_rows_and_not_in_a_date_that_is_none(runner, tmp_path):
    """Data row 1,000 of a CSV file (spreadsheet row 1,001) was not looked at; a note named
    2026-02-30 "drafted" while its box refused it."""
    records = [base(f"R{i}") for i in range(1, 1001)]
    records[0]["event"]["event_date"] = "2026-02-30T23:00:00.000Z"  # refused at its box: no note
    records[-1]["event"]["event_date"] = "2026-02-28T23:00:00.000Z"
    src = as_csv(tmp_path / "long.csv", records)
    result = batch(runner, src, tmp_path / "o")
    assert "999 drafted, 1 with errors" in result.output, result.output
    assert result.output.count("as a moment in UTC") == 1 and "row 1001 writes B3 date of event" in result.output


def test_a_report_id_given_as_a_list_is_shown_as_the_file_writes_it(runner, tmp_path):
    """problems.csv's report_id column showed Python's spelling of the list: ['R10']."""
    out = tmp_path / "o"
    result = batch(runner, jsonl(tmp_path, base(["R10"])), out)
    assert result.exit_code == 1, result.output
    assert {p["report_id"] for p in read_problems(out)} == {'["R10"]'}
