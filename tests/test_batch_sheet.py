"""`medwatch batch WORKBOOK --sheet NAME`: a clinic's workbook often holds more than the
rows (instructions first, a hidden lookup list, one sheet per clinic). The real command on
real workbooks: the sheet named is read wherever it stands, a name that is no sheet is
refused naming the sheets, a run is resumed only on its own sheet, and a header that is
not field paths on the sheet read by default points to --sheet."""
import subprocess

import pytest

from medwatch_tool.cli import main

from test_batch import columns_of, example_rows, read_problems, write_csv

openpyxl = pytest.importorskip("openpyxl")


def _rows(prefix):
    rows = example_rows()
    for number, row in enumerate(rows):
        row["admin/report_id"] = f"{prefix}-{number}"
    return rows


def _sheet(book, title, rows, hidden=False):
    sheet = book.create_sheet(title)
    header = columns_of(rows)
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) for h in header])
    if hidden:
        sheet.sheet_state = "hidden"
    return sheet


@pytest.fixture
def clinic(tmp_path):
    """Instructions first, then the events, then a hidden lookup list."""
    book = openpyxl.Workbook()
    book.active.title = "Instructions"
    book.active.append(["Fill in one row per event on the next sheet."])
    _sheet(book, "Adverse events", _rows("EV"))
    book.create_sheet("Lookup").append(["mg"])
    book["Lookup"].sheet_state = "hidden"
    path = tmp_path / "clinic.xlsx"
    book.save(path)
    return path


@pytest.fixture
def two_clinics(tmp_path):
    book = openpyxl.Workbook()
    book.remove(book.active)
    _sheet(book, "Clinic A", _rows("A"))
    _sheet(book, "Clinic B", _rows("B")[:2])
    path = tmp_path / "clinics.xlsx"
    book.save(path)
    return path


def batch(runner, src, out, *options):
    return runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", *options])


def drafts(folder):
    return sorted(p.name for p in folder.glob("*.xml"))


def test_the_sheet_named_is_read_wherever_it_stands(runner, tmp_path, clinic):
    result = batch(runner, clinic, tmp_path / "o", "--sheet", "Adverse events")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("3 drafted, 0 with errors, 0 warnings\n")
    assert "only the first" not in result.output  # (the note on sheets not read: this one was chosen)
    assert drafts(tmp_path / "o") == ["EV-0.xml", "EV-1.xml", "EV-2.xml"]
    same = batch(runner, clinic, tmp_path / "o2", "--sheet", " adverse EVENTS")  # as typed, not as the tab shows it
    assert same.exit_code == 0, same.output
    for name in drafts(tmp_path / "o"):
        assert (tmp_path / "o2" / name).read_bytes() == (tmp_path / "o" / name).read_bytes()


def test_a_hidden_sheet_is_read_when_named(runner, tmp_path, clinic):
    result = batch(runner, clinic, tmp_path / "o", "--sheet", "Lookup")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {clinic}: the sheet 'Lookup': row 1 (header): column A 'mg' is not a "
                                    "field"), result.output


def test_instructions_first_point_to_the_sheet_of_rows(runner, tmp_path, clinic):
    """Read by default, the instructions' first line is taken for a header: the message says
    which sheet that was and which others the workbook has, and how to choose one."""
    result = batch(runner, clinic, tmp_path / "o")
    assert result.exit_code == 1
    assert result.output.rstrip().endswith("It is the first visible sheet's, 'Instructions'; to read another of "
                                           "the workbook's sheets that hold rows ('Adverse events', 'Lookup' "
                                           "(hidden)), give --sheet NAME")
    assert not (tmp_path / "o").exists()


def test_a_wrong_header_on_the_sheet_of_rows_does_not_point_elsewhere(runner, tmp_path):
    """A header with a misspelt field is the rows' sheet all the same: no word of --sheet."""
    book = openpyxl.Workbook()
    book.active.title = "Events"
    rows = _rows("EV")
    book.active.append(["patient/agee"] + columns_of(rows)[1:])
    _sheet(book, "Summary", _rows("S"))
    src = tmp_path / "typo.xlsx"
    book.save(src)
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 1
    assert "'patient/agee' is not a field" in result.output and "--sheet" not in result.output, result.output


def test_a_named_sheet_that_is_empty_names_those_that_hold_rows(runner, tmp_path, clinic):
    book = openpyxl.load_workbook(clinic)
    book.create_sheet("Blank")
    book.save(clinic)
    result = batch(runner, clinic, tmp_path / "o", "--sheet", "Blank")
    assert result.exit_code == 1
    assert result.output == (f"Error: {clinic}: the sheet 'Blank' is empty; the workbook's sheets that hold rows are "
                             "'Instructions', 'Adverse events', 'Lookup' (hidden)\n")


def test_a_sheet_name_is_matched_as_typed_in_a_terminal(runner, tmp_path):
    """An accent composed or not, spaces doubled: the sheet is found; two sheets that only
    such differences tell apart are not guessed between."""
    book = openpyxl.Workbook()
    book.active.title = "Caf\u00e9 events"  # composed, as Excel keeps it
    _sheet(book, "Other", _rows("O"))
    book.remove(book.active)
    _sheet(book, "Caf\u00e9 events", _rows("C"))
    _sheet(book, "Twice", _rows("T1"))
    _sheet(book, "TWICE ", _rows("T2"))
    src = tmp_path / "names.xlsx"
    book.save(src)
    result = batch(runner, src, tmp_path / "o", "--sheet", "cafe\u0301  EVENTS")  # decomposed, as a Mac may type it
    assert result.exit_code == 0, result.output
    assert drafts(tmp_path / "o") == ["C-0.xml", "C-1.xml", "C-2.xml"]
    both = batch(runner, src, tmp_path / "o2", "--sheet", "twice")
    assert both.exit_code == 1
    assert both.output == (f"Error: {src}: has 2 sheets whose names differ from 'twice' only in letter case or "
                           "spaces: give --sheet as its tab shows it ('Twice', 'TWICE ')\n")
    exact = batch(runner, src, tmp_path / "o3", "--sheet", "TWICE ")
    assert exact.exit_code == 0 and drafts(tmp_path / "o3") == ["T2-0.xml", "T2-1.xml", "T2-2.xml"]


def test_a_sheet_the_workbook_does_not_have_is_refused_naming_its_sheets(runner, tmp_path, clinic):
    result = batch(runner, clinic, tmp_path / "o", "--sheet", "Events")
    assert result.exit_code == 1
    assert result.output == (f"Error: {clinic}: has no sheet named 'Events': its sheets of rows are 'Instructions', "
                             "'Adverse events', 'Lookup' (hidden)\n")
    assert not (tmp_path / "o").exists()


def test_sheet_is_for_workbooks_only(runner, tmp_path, clinic):
    src = write_csv(tmp_path / "events.csv", _rows("C"))
    result = batch(runner, src, tmp_path / "o", "--sheet", "Sheet1")
    assert result.exit_code == 2
    assert f"Error: --sheet chooses a sheet of an Excel workbook; {src} is read as CSV" in result.output
    assert not (tmp_path / "o").exists()
    told = runner.invoke(main, ["batch", "--help"]).output  # the exit status the help lists (2 was missing)
    assert ("2 a usage error (an option wrong, such as --sheet for a CSV file, or not the run's in --out: --resume "
            "missing, another --render or --sheet than it began with; nothing is done)") in " ".join(told.split())
    empty = batch(runner, clinic, tmp_path / "o", "--sheet", " ")
    assert empty.exit_code == 2
    assert "Invalid value for '--sheet': is empty: name the sheet to read, as its tab shows it" in empty.output


def test_a_run_is_resumed_only_on_its_own_sheet(runner, tmp_path, two_clinics):
    """--resume skips rows by number: on another sheet it would skip rows it never read."""
    out = tmp_path / "o"
    assert batch(runner, two_clinics, out, "--sheet", "Clinic B").exit_code == 0
    assert drafts(out) == ["B-0.xml", "B-1.xml"]
    other = batch(runner, two_clinics, out, "--sheet", "Clinic A", "--resume")
    assert other.exit_code == 2
    assert other.output == (f"Error: {two_clinics}: cannot finish the batch run in {out}: it read the sheet 'Clinic B' "
                            "of the workbook, and this run reads the sheet 'Clinic A'; the rows it recorded are "
                            "another sheet's. Resume it with --sheet 'Clinic B', or draft this sheet into the folder "
                            "with --update\n")
    default = batch(runner, two_clinics, out, "--resume")  # (the first sheet, Clinic A)
    assert default.exit_code == 2 and "this run reads the sheet 'Clinic A'" in default.output
    same = batch(runner, two_clinics, out, "--sheet", "clinic  b", "--resume")  # (the sheet, however spelt)
    assert same.exit_code == 0 and "(2 rows done by an earlier run, counted in)" in same.output
    update = batch(runner, two_clinics, out, "--sheet", "Clinic A", "--update")
    assert update.exit_code == 0, update.output
    assert drafts(out) == ["A-0.xml", "A-1.xml", "A-2.xml"]  # the other sheet's drafts moved aside
    assert sorted(p.name for p in (out / "superseded").rglob("*.xml")) == ["B-0.xml", "B-1.xml"]


def test_an_interrupted_run_is_told_to_resume_with_its_sheet(runner, tmp_path, two_clinics, monkeypatch):
    from medwatch_tool import batch as batch_module

    def pressed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_module, "_run", pressed)
    result = batch(runner, two_clinics, tmp_path / "o", "--sheet", "Clinic B")  # (Ctrl-C: conftest restores it)
    assert result.exit_code == 130
    assert result.output.strip().endswith(f"to finish: medwatch batch {two_clinics} --out {tmp_path / 'o'} "
                                          "--sheet 'Clinic B' --resume")


def test_the_installed_command_reads_the_sheet_named(console_script, tmp_path, clinic):
    done = subprocess.run([str(console_script), "batch", str(clinic), "--sheet", "Adverse events", "--out",
                           str(tmp_path / "o"), "--jobs", "2"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "3 drafted, 0 with errors, 0 warnings\n"
    assert drafts(tmp_path / "o") == ["EV-0.xml", "EV-1.xml", "EV-2.xml"]


def test_a_run_of_the_first_sheet_is_resumed_with_or_without_naming_it(runner, tmp_path, two_clinics):
    out = tmp_path / "o"
    assert batch(runner, two_clinics, out).exit_code == 0
    named = batch(runner, two_clinics, out, "--sheet", "Clinic A", "--resume")
    assert named.exit_code == 0 and "(3 rows done by an earlier run, counted in)" in named.output


def test_versions_before_sheet_and_this_one_resume_each_other_s_runs_only_on_the_first_sheet(runner, tmp_path,
                                                                                              two_clinics):
    """A run recorded before --sheet (no sheet in its record) read the first visible sheet:
    resumed on it, with --sheet or not, and refused on another. A run of another sheet is
    recorded so that those versions, which know no sheet, refuse to resume it (they would
    read the first sheet and skip its rows by number): its format is not theirs."""
    import json

    out = tmp_path / "o"
    assert batch(runner, two_clinics, out, "--sheet", "Clinic B").exit_code == 0
    record = json.loads((out / ".medwatch-batch-input.json").read_text())
    assert record["format"] not in ("csv", "tsv", "jsonl", "xlsx") and record["sheet"] == "Clinic B"
    assert "--sheet" in record["format"]  # (those versions print it in their refusal: it says why)
    old = tmp_path / "old"
    assert batch(runner, two_clinics, old).exit_code == 0
    record = json.loads((old / ".medwatch-batch-input.json").read_text())
    assert record["format"] == "xlsx"  # (the first sheet: as those versions record it)
    del record["sheet"]
    (old / ".medwatch-batch-input.json").write_text(json.dumps(record))
    other = batch(runner, two_clinics, old, "--sheet", "Clinic B", "--resume")
    assert other.exit_code == 2
    assert ("it read the first visible sheet of the workbook, and this run reads the sheet 'Clinic B'; the rows it "
            "recorded are another sheet's. Resume it with no --sheet") in other.output
    assert batch(runner, two_clinics, old, "--sheet", "Clinic A", "--resume").exit_code == 0
    (old / ".medwatch-batch-input.json").write_text(json.dumps(record))  # (that resume recorded the sheet)
    assert batch(runner, two_clinics, old, "--resume").exit_code == 0


def test_a_sheet_renamed_since_the_run_is_a_changed_workbook(runner, tmp_path, two_clinics):
    """Renamed (or the sheets reordered) between a stop and --resume: the workbook changed,
    said so, not taken for another sheet with advice to name one that is gone."""
    out = tmp_path / "o"
    assert batch(runner, two_clinics, out).exit_code == 0
    book = openpyxl.load_workbook(two_clinics)
    book["Clinic A"].title = "Clinic Z"
    book.save(two_clinics)
    result = batch(runner, two_clinics, out, "--resume")
    assert result.exit_code == 1
    assert "has changed since the batch run" in result.output and "another sheet" not in result.output, result.output


def test_a_log_whose_columns_are_group_names_points_to_the_sheet_of_rows(runner, tmp_path):
    """'Patient', 'Event', 'Device' name groups of fields, not fields: a first sheet so headed
    is a log or a summary, and the message points to the sheet that holds the rows."""
    book = openpyxl.Workbook()
    book.active.title = "Log"
    book.active.append(["Patient", "Event", "Reported", "Status"])
    book.active.append(["AB", "rash", "2026-03-01", "sent"])
    _sheet(book, "Events", _rows("EV"))
    src = tmp_path / "log.xlsx"
    book.save(src)
    result = batch(runner, src, tmp_path / "o")
    assert result.exit_code == 1
    assert result.output.rstrip().endswith("to read another of the workbook's sheets that hold rows ('Events'), "
                                           "give --sheet NAME"), result.output


def test_a_record_of_another_shape_is_refused_not_a_traceback(runner, tmp_path, two_clinics):
    """The run's record edited by hand (a list where the format goes, a number for the
    sheet): --resume refuses it with its usual message."""
    import json

    out = tmp_path / "o"
    assert batch(runner, two_clinics, out, "--sheet", "Clinic B").exit_code == 0
    path = out / ".medwatch-batch-input.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps(dict(record, format=["xlsx"], sheet=5)))
    result = batch(runner, two_clinics, out, "--sheet", "Clinic B", "--resume")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith(f"Error: {two_clinics}: cannot finish the batch run in {out}: it read its input "
                                    "as ?")
    path.write_text(json.dumps(dict(record, sheet=5)))
    result = batch(runner, two_clinics, out, "--sheet", "Clinic B", "--resume")
    assert result.exit_code == 2 and "it read the first visible sheet of the workbook" in result.output, result.output


def _batch_of_numbers(runner, tmp_path, prefix, path, numbers):
    """A batch of a workbook whose column `path` holds `numbers` as number cells, from row 2 on."""
    rows = _rows(prefix)
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheet = _sheet(book, "Events", rows)
    column = columns_of(rows).index(path) + 1
    for row, number in enumerate(numbers, 2):
        sheet.cell(row=row, column=column).value = number
    book.save(tmp_path / f"{prefix}.xlsx")
    out = tmp_path / "out"
    return out, batch(runner, tmp_path / f"{prefix}.xlsx", out)


def test_a_zip_code_excel_kept_as_a_number_is_drafted_and_told(runner, tmp_path):
    """A ZIP code column Excel holds as numbers has lost its leading zeros before the tool
    reads it (02115 is the number 2115): the row is drafted as the cell holds it, and the
    clinician is told which row and box to check, not left to send FDA a ZIP that does not exist."""
    # a consumer's (Form 3500B) row 00501, a health professional's (Form 3500) 02115, a whole one
    out, result = _batch_of_numbers(runner, tmp_path, "ZIP", "reporter/postal_code", [501, 2115, 97201])
    assert result.exit_code == 0, result.output
    assert drafts(out) == ["ZIP-0.xml", "ZIP-1.xml", "ZIP-2.xml"]
    assert "<postal_code>2115</postal_code>" in (out / "ZIP-1.xml").read_text()
    told = [p for p in read_problems(out) if p["rule"] == "MW-REP-2"]
    assert [(p["row"], p["path"], p["box"], p["severity"]) for p in told] == [
        ("2", "reporter/postal_code", "F5", "warning"), ("3", "reporter/postal_code", "G1", "warning")], told
    assert told[0]["message"].startswith("'501' is too short for a US ZIP code, which has 5 digits")
    assert told[1]["message"].startswith("'2115' has 4 digits, and a US ZIP code has 5")


def test_an_ndc_excel_kept_as_a_number_is_drafted_and_told(runner, tmp_path):
    """An NDC typed without its dashes in a column of numbers loses its leading zero
    (0093714656 is the number 93714656): drafted as the cell holds it, and told at its row and
    box; an NDC with its dashes, and a whole one without, are not."""
    out, result = _batch_of_numbers(runner, tmp_path, "NDC", "suspect_product[1]/ndc", [93714656, 5536012345])
    assert result.exit_code == 0, result.output
    told = [(p["row"], p["path"], p["box"], p["message"]) for p in read_problems(out) if p["rule"] == "MW-NDC-1"]
    assert len(told) == 1 and told[0][:3] == ("2", "suspect_product[1]/ndc", "C7"), told  # (a consumer's row)
    assert told[0][3].startswith("NDC '93714656' has 8 digits, and an NDC has 10 (or 11): a spreadsheet drops")
