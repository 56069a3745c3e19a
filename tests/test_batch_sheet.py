"""`medwatch batch WORKBOOK --sheet NAME`: a clinic's workbook often holds more than the
rows (instructions first, a hidden lookup list, one sheet per clinic). The real command on
real workbooks: the sheet named is read wherever it stands, a name that is no sheet is
refused naming the sheets, a run is resumed only on its own sheet, and a header that is
not field paths on the sheet read by default points to --sheet."""
import subprocess

import pytest

from medwatch_tool.cli import main

from test_batch import columns_of, example_rows, write_csv

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
                                           "the workbook's sheets ('Adverse events'), give --sheet NAME")
    assert not (tmp_path / "o").exists()


def test_a_sheet_the_workbook_does_not_have_is_refused_naming_its_sheets(runner, tmp_path, clinic):
    result = batch(runner, clinic, tmp_path / "o", "--sheet", "Events")
    assert result.exit_code == 1
    assert result.output == (f"Error: {clinic}: has no sheet named 'Events': its sheets of rows are 'Instructions', "
                             "'Adverse events', 'Lookup' (hidden)\n")
    assert not (tmp_path / "o").exists()


def test_sheet_is_for_workbooks_only(runner, tmp_path):
    src = write_csv(tmp_path / "events.csv", _rows("C"))
    result = batch(runner, src, tmp_path / "o", "--sheet", "Sheet1")
    assert result.exit_code == 2
    assert f"Error: --sheet chooses a sheet of an Excel workbook; {src} is read as CSV" in result.output
    assert not (tmp_path / "o").exists()


def test_a_run_is_resumed_only_on_its_own_sheet(runner, tmp_path, two_clinics):
    """--resume skips rows by number: on another sheet it would skip rows it never read."""
    out = tmp_path / "o"
    assert batch(runner, two_clinics, out, "--sheet", "Clinic B").exit_code == 0
    assert drafts(out) == ["B-0.xml", "B-1.xml"]
    other = batch(runner, two_clinics, out, "--sheet", "Clinic A", "--resume")
    assert other.exit_code == 1
    assert other.output == (f"Error: {two_clinics}: cannot finish the batch run in {out}: it read the sheet 'Clinic B' "
                            "(--sheet) of the workbook, and this run reads the sheet 'Clinic A' (--sheet); the rows "
                            "it recorded are another sheet's. Resume it with --sheet 'Clinic B', or draft this sheet "
                            "into the folder with --update\n")
    default = batch(runner, two_clinics, out, "--resume")  # (the first sheet, Clinic A)
    assert default.exit_code == 1 and "this run reads the first visible sheet (no --sheet)" in default.output
    same = batch(runner, two_clinics, out, "--sheet", "Clinic B", "--resume")
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
