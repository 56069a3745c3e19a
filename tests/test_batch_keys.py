"""`medwatch batch`: one box spelt several ways (an unindexed path, `admin[1]/`, a stray
space in a JSON key, an object wrapped in an array) is one box for every check; and
problems name the entries of a repeated group as the input numbers them."""
import json

import pytest

from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, read_draft

from test_batch import read_problems

# a row that passes FDA's four minimum criteria, less the suspect product's name
MINIMUM = ["admin/report_id", "patient/identifier", "event/description", "reporter/last_name", "reporter/email",
           "event/problem_type"]
GIVEN = ["P-1", "Spasms", "Pereira", "dp@example.org", "adverse event"]
RECORD = {"patient": {"identifier": "P-1"}, "event": {"description": "Spasms", "problem_type": "adverse event"},
          "reporter": {"last_name": "Pereira", "email": "dp@example.org"}}


def batch(runner, src, out):
    return runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])


def write_csv(path, header, *rows):
    path.write_text("\n".join([",".join(header)] + [",".join(row) for row in rows]) + "\n", encoding="utf-8")
    return path


def write_jsonl(path, *records):
    path.write_text("\n".join(json.dumps(dict(RECORD, **r)) for r in records) + "\n", encoding="utf-8")
    return path


def problems_of(out):
    return [(p["row"], p["path"], p["message"]) for p in read_problems(out)]


# 1. a number with its unit, and the unit box under another spelling of its path

CONFLICT = "'5 mg' gives the unit as MG, but D2 dose unit says UGM: leave the unit to one of them"
WEIGHT_CONFLICT = "'70 kg' gives the unit as kg, but A4 weight unit says lb: leave the unit to one of them"


def test_a_dose_and_a_unit_box_spelt_differently_in_a_csv_header_are_checked_together(runner, tmp_path):
    """Before: `suspect_product/dose` beside `suspect_product[1]/dose_unit` drafted '5 mg' with
    unit 'mcg' as 5 micrograms, "1 drafted, 0 with errors"."""
    header = MINIMUM + ["suspect_product/name", "suspect_product/dose", "suspect_product[1]/dose_unit"]
    src = write_csv(tmp_path / "in.csv", header, ["C1", *GIVEN, "Baclofen", "5 mg", "mcg"],
                    ["C2", *GIVEN, "Baclofen", "5 mg", "mg"])
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "1 drafted, 1 with errors" in result.output
    assert problems_of(out) == [("2", "suspect_product[1]/dose", CONFLICT)]
    values = draft_values(read_draft(out / "C2.xml"))
    assert (values["suspect_product[1]/dose"], values["suspect_product[1]/dose_unit"]) == ("5", "MG")


def test_a_dose_and_a_unit_box_spelt_differently_in_a_workbook_header_are_checked_together(runner, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(MINIMUM + ["Suspect_Product/Name", "suspect_product/dose ", "suspect_product[1]/dose_unit"])
    book.active.append(["X1", *GIVEN, "Baclofen", "5 mg", "mcg"])
    src = tmp_path / "in.xlsx"
    book.save(src)
    out = tmp_path / "o"
    assert "0 drafted, 1 with errors" in batch(runner, src, out).output
    assert problems_of(out) == [("2", "suspect_product[1]/dose", CONFLICT)]


@pytest.mark.parametrize("record, path, message", [
    # a trailing space in the unit's key (before: drafted as 70 lb)
    ({"patient": {"identifier": "P-1", "weight": "70 kg", "weight_unit ": "lb"}}, "patient/weight", WEIGHT_CONFLICT),
    # the section wrapped in a one-element array, the unit as a path (before: 70 lb)
    ({"patient": [{"identifier": "P-1", "weight": "70 kg"}], "patient/weight_unit": "lb"}, "patient/weight",
     WEIGHT_CONFLICT),
    # an object for the one product, the unit as an indexed path (before: 5 micrograms)
    ({"suspect_product": {"name": "Baclofen", "dose": "5 mg"}, "suspect_product[1]/dose_unit": "mcg"},
     "suspect_product[1]/dose", CONFLICT),
])
def test_a_number_and_its_unit_box_under_json_keys_spelt_differently_are_checked_together(runner, tmp_path, record,
                                                                                           path, message):
    src = write_jsonl(tmp_path / "in.jsonl", dict({"admin": {"report_id": "J1"},
                                                   "suspect_product": [{"name": "Baclofen"}]}, **record))
    out = tmp_path / "o"
    assert "0 drafted, 1 with errors" in batch(runner, src, out).output
    assert problems_of(out) == [("1", path, message)]


# 2. the report id and follow-up number, under any spelling of their keys

def test_a_report_id_under_any_json_key_spelling_names_the_draft_and_is_checked_for_repeats(runner, tmp_path):
    """Before: "4 drafted, 0 with errors": A1.xml, row-000002.xml and row-000003.xml (three
    drafts of report A1), and the follow-up 1 of A2 saved as A2.xml."""
    product = {"suspect_product": [{"name": "Baclofen"}]}
    src = write_jsonl(tmp_path / "in.jsonl",
                      dict(product, admin={"report_id": "A1", "form": "3500B"}),
                      dict(product, admin=[{"report_id": "A1", "form": "3500B"}]),
                      dict(product, admin={"report_id ": "A1", "form": "3500B"}),
                      dict(product, admin={"report_id": "A2", "form": "3500B", "follow_up ": 1}))
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "2 drafted, 2 with errors" in result.output and result.exit_code == 1
    assert sorted(p.name for p in out.glob("*.xml")) == ["A1.xml", "A2-followup-1.xml"]
    problems = read_problems(out)
    assert [(p["row"], p["report_id"], p["path"]) for p in problems] == [("2", "A1", "admin/report_id"),
                                                                        ("3", "A1", "admin/report_id")]
    assert all(p["message"].startswith("line 1 has the same draft name A1.xml") for p in problems)


def test_ids_that_would_take_a_row_s_name_or_a_windows_device_s_are_drafted_under_an_underscore(runner, tmp_path):
    """ROW-7 was drafted as id-ROW-7.xml, and a report id-row-7 then refused as its repeat;
    CON.xml, LPT1.2.xml cannot be files on Windows (the run would have stopped there)."""
    header = MINIMUM + ["suspect_product[1]/name"]
    ids = ["ROW-7", "id-row-7", "CON", "lpt1.2", "CONSULT", "NUL-followup", "com0"]
    src = write_csv(tmp_path / "in.csv", header, *[[i, *GIVEN, "Baclofen"] for i in ids])
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 0 and "7 drafted, 0 with errors" in result.output, result.output
    assert sorted(p.name for p in out.glob("*.xml")) == sorted(
        ["_ROW-7.xml", "id-row-7.xml", "_CON.xml", "_lpt1.2.xml", "CONSULT.xml", "NUL-followup.xml", "_com0.xml"])
    assert draft_values(read_draft(out / "_CON.xml"))["admin/report_id"] == "CON"


def test_a_report_id_column_written_with_an_index_names_the_draft(runner, tmp_path):
    """Before: two rows of report H1 drafted as row-000002.xml and row-000003.xml."""
    src = write_csv(tmp_path / "in.csv", ["admin[1]/report_id", *MINIMUM[1:], "suspect_product[1]/name"],
                    ["H1", *GIVEN, "Baclofen"], ["H1", *GIVEN, "Baclofen"])
    out = tmp_path / "o"
    assert "1 drafted, 1 with errors" in batch(runner, src, out).output
    assert sorted(p.name for p in out.glob("*.xml")) == ["H1.xml"]
    [problem] = read_problems(out)
    assert (problem["row"], problem["report_id"]) == ("3", "H1")
    assert problem["message"].startswith("row 2 has the same draft name H1.xml")


# 3. an unindexed header and the validator's indexed path are one box

def test_an_unindexed_column_gives_one_problem_under_one_path(runner, tmp_path):
    """Before: the too-long test name at `event/test/name`, and "is required but missing" at
    `event/test[1]/name`, for a box the user filled."""
    header = MINIMUM + ["suspect_product/name", "event/test/name", "event/test/result"]
    src = write_csv(tmp_path / "in.csv", header, ["N1", *GIVEN, "Baclofen", "x" * 251, "5"])
    out = tmp_path / "o"
    assert "0 drafted, 1 with errors" in batch(runner, src, out).output
    assert problems_of(out) == [("2", "event/test[1]/name", "'" + "x" * 30 + "…' is 251 characters long; at most 250 fit in this box")]


# 4. gaps in a repeated group: problems name the input's entries

DATE_ORDER = "therapy stop date 2026-04-01 is before the start date 2026-05-01"


def test_problems_of_a_group_with_a_gap_name_the_csv_columns_of_the_entry(runner, tmp_path):
    """Before: row 3's date-order error was put at suspect_product[2]/stop_date (empty in the
    input: the draft numbers products 1 and 3 as 1 and 2), and in row 2 it was not reported
    at all, taken for the same mistake as the refused value at the input's [2]."""
    header = MINIMUM + ["suspect_product[1]/name", "suspect_product[2]/stop_date", "suspect_product[3]/name",
                        "suspect_product[3]/start_date", "suspect_product[3]/stop_date"]
    src = write_csv(tmp_path / "in.csv", header,
                    ["G1", *GIVEN, "Baclofen", "garbage", "Tizanidine", "2026-05-01", "2026-04-01"],
                    ["G2", *GIVEN, "Baclofen", "", "Tizanidine", "2026-05-01", "2026-04-01"])
    out = tmp_path / "o"
    assert "0 drafted, 2 with errors" in batch(runner, src, out).output
    problems = [(row, path, message.split(";")[0]) for row, path, message in problems_of(out)]
    assert problems == [("2", "suspect_product[2]/stop_date", "'garbage' is not a date"),
                        ("2", "suspect_product[3]/stop_date", DATE_ORDER),
                        ("3", "suspect_product[3]/stop_date", DATE_ORDER)]


def test_problems_of_a_json_array_with_an_empty_entry_name_the_entry_as_the_array_does(runner, tmp_path):
    """Before: line 1's rule error named suspect_product[2] (the empty {}) while line 2's value
    problem named [3]; and `event/test` given only as its second entry was "event/test[1]/name
    is required but missing"."""
    products = [{"name": "Baclofen"}, {}, {"name": "Tizanidine", "start_date": "2026-05-01",
                                             "stop_date": "2026-04-01"}]
    src = write_jsonl(tmp_path / "in.jsonl",
                      {"admin": {"report_id": "E1"}, "suspect_product": products},
                      {"admin": {"report_id": "E2"}, "suspect_product": [{"name": "A"}, {}, {"name": "C", "dose": "abc"}]},
                      {"admin": {"report_id": "E3"}, "suspect_product": [{"name": "A"}],
                       "event": dict(RECORD["event"], test=[{}, {"result": "5"}])})
    out = tmp_path / "o"
    assert "0 drafted, 3 with errors" in batch(runner, src, out).output
    assert problems_of(out) == [("1", "suspect_product[3]/stop_date", DATE_ORDER),
                                ("2", "suspect_product[3]/dose", "'abc' is not a number"),
                                ("3", "event/test[2]/name", "is required but missing")]


# 5. unknown keys and groups given as values

def test_a_suggestion_for_a_misspelt_key_keeps_its_entry(runner, tmp_path):
    """Before: "did you mean 'suspect_product/name'?", i.e. the first product's name."""
    src = write_jsonl(tmp_path / "in.jsonl", {"admin": {"report_id": "K1"},
                                              "suspect_product": [{"name": "Baclofen"}, {"nmae": "Tizanidine"}]})
    out = tmp_path / "o"
    batch(runner, src, out)
    assert problems_of(out) == [("1", "suspect_product[2]/nmae",
                                 "'suspect_product[2]/nmae' is not a field; did you mean 'suspect_product[2]/name'?")]


@pytest.mark.parametrize("record, path, message", [
    ({"suspect_product": "Baclofen"}, "suspect_product",
     """'suspect_product' is a group of fields, not a value: give a list of entries, e.g. "suspect_product": """
     """[{"name": "Baclofen"}]"""),
    ({"suspect_product": ["Baclofen", "Tizanidine"]}, "suspect_product",
     """'suspect_product' is a group of fields, not a value: give a list of entries, e.g. "suspect_product": """
     """[{"name": "Baclofen"}]"""),
    ({"suspect_product": [{"name": "Baclofen"}], "event/test": "CBC normal"}, "event/test",
     """'event/test' is a group of fields, not a value: give a list of entries, e.g. "event/test": """
     """[{"name": "CBC normal"}]"""),
    ({"suspect_product": [{"name": "Baclofen"}], "patient": "P-1"}, "patient",
     """'patient' is a group of fields, not a value: give an object of its fields, e.g. "patient": """
     """{"identifier": "P-1"}"""),
])
def test_a_group_given_as_a_value_is_told_the_form_it_takes(runner, tmp_path, record, path, message):
    """Before: "'suspect_product' is not a field; did you mean 'suspect_product/ndc'?"."""
    src = write_jsonl(tmp_path / "in.jsonl", dict({"admin": {"report_id": "V1"}}, **record))
    out = tmp_path / "o"
    assert "0 drafted, 1 with errors" in batch(runner, src, out).output
    assert (path, message) in [(p, m) for _, p, m in problems_of(out)]


def test_an_index_of_thousands_of_digits_is_no_field_and_stops_nothing(runner, tmp_path):
    """`suspect_product[1111...]/name` (5,000 digits) as a column or a JSON key stopped the run
    with "unexpected ValueError" (Python's limit on converting digits to a number)."""
    column = "suspect_product[" + "1" * 5000 + "]/name"
    src = write_csv(tmp_path / "in.csv", MINIMUM + [column], ["C1", *GIVEN, "Baclofen"])
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 1 and "row 1 (header): column 7 'suspect_product[1111" in result.output
    assert "unexpected" not in result.output
    src = write_jsonl(tmp_path / "in.jsonl", dict(RECORD, admin={"report_id": "J1"}, **{column: "Baclofen"}),
                      dict(RECORD, admin={"report_id": "J2"}, suspect_product=[{"name": "Baclofen"}]))
    result = batch(runner, src, tmp_path / "o2")
    assert "1 drafted, 1 with errors" in result.output, result.output
