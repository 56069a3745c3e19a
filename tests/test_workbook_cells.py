"""`medwatch batch` on .xlsx workbooks: every cell read as Excel shows it, from the sheet the
user looks at, however the workbook's XML was written. The real command, real files."""
import os
from datetime import datetime

from openpyxl.styles.numbers import BUILTIN_FORMATS

import pytest

from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, read_draft

from test_batch import _rewrite_sheet, columns_of, example_rows, read_problems

openpyxl = pytest.importorskip("openpyxl")


def _rows(count=4):
    """`count` good rows (the examples, and copies under other report ids)."""
    rows = example_rows()
    while len(rows) < count:
        rows.append(dict(rows[len(rows) % 3], **{"admin/report_id": f"COPY-{len(rows)}"}))
    return rows[:count]


def _workbook(path, rows, sheet=None):
    """The rows under their header on `sheet` (the workbook's first one when not given)."""
    book = openpyxl.Workbook() if sheet is None else None
    sheet = sheet if sheet is not None else book.active
    header = columns_of(rows)
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) for h in header])
    if book is not None:
        book.save(path)
    return header


def _formatted(path, row, field, number_format):
    """A workbook of the one `row` whose `field` cell has `number_format`, saved at `path`."""
    book = openpyxl.Workbook()
    header = _workbook(None, [row], book.active)
    book.active.cell(row=2, column=header.index(field) + 1).number_format = number_format
    book.save(path)
    return path


def _run(runner, src, out):
    return runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])


def _drafts(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.xml"))}


@pytest.mark.parametrize("dimension", ["A1", "A1:CM3", "A1:AF5"],
                         ids=["no-rows", "rows-after-3", "columns-after-AF"])
def test_a_stale_sheet_dimension_loses_no_row_nor_column(runner, tmp_path, dimension):
    """Some programs save a <dimension> that is not the sheet's extent. openpyxl trusts it:
    with A1 the run said '0 drafted, 0 with errors' and exit 0; with A1:CM3 rows 4-5 were
    dropped; with A1:AF5 every column after AF (reporter/city, ...) was left out, silently."""
    src = tmp_path / "stale.xlsx"
    header = _workbook(src, _rows(4))
    assert len(header) > 32  # columns beyond AF
    reference = _run(runner, src, tmp_path / "ref")
    assert reference.exit_code == 0 and "4 drafted, 0 with errors" in reference.output, reference.output
    _rewrite_sheet(src, rb'<dimension ref="[A-Z0-9:]+"\s*/>', f'<dimension ref="{dimension}"/>'.encode())
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 0 and "4 drafted, 0 with errors" in result.output, result.output
    assert _drafts(tmp_path / "o") == _drafts(tmp_path / "ref")
    city = draft_values(read_draft(tmp_path / "o" / "COPY-3.xml")).get("reporter/city")
    assert city and city == _rows(4)[3]["reporter/city"]


def test_rows_of_different_lengths_and_rows_the_sheet_leaves_out_are_read(runner, tmp_path):
    """Without a dimension each row is as long as its last cell: a short row, a row missing
    from the XML and a row with a value past the named columns keep their numbers."""
    rows = _rows(3)
    book = openpyxl.Workbook()
    header = columns_of(rows)
    book.active.append(header)
    book.active.append(["SHORT", None, None, None, 40])  # report id and age only: row 2
    for number, row in enumerate(rows, 4):  # row 3 is left out of the sheet
        for column, name in enumerate(header, 1):
            book.active.cell(row=number, column=column, value=row.get(name))
    book.active.cell(row=6, column=len(header) + 2, value="stray")
    src = tmp_path / "ragged.xlsx"
    book.save(src)
    _rewrite_sheet(src, rb'<dimension ref="[A-Z0-9:]+"\s*/>', b"")
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    assert "2 drafted, 2 with errors" in result.output
    problems = read_problems(tmp_path / "o")
    assert {p["row"] for p in problems} == {"2", "6"}
    assert len(header) == 91  # A to CM; "stray" in CO (was "has values beyond the 91 named columns": where?)
    assert any(p["row"] == "6" and "has a value in column CO, beyond the 91 named columns (A to CM)" in p["message"]
               for p in problems)


def _merged_workbook(path, value_first=True):
    """Four rows whose reporter/city is merged over rows 2-4, as Excel saves it: the value in
    the range's first cell only (or in none, `value_first` False)."""
    rows = _rows(4)
    book = openpyxl.Workbook()
    header = _workbook(path, rows, book.active)
    city = openpyxl.utils.get_column_letter(header.index("reporter/city") + 1)
    ref = f"{city}2:{city}4"
    if not value_first:
        book.active[f"{city}2"] = None
    book.active.merge_cells(ref)
    book.save(path)
    return rows, ref


def test_merged_cells_over_several_rows_are_refused_naming_the_range(runner, tmp_path):
    """reporter/city merged over rows 2-4 shows one city in each row, but Excel keeps it in
    row 2 only: before, rows 3-4 were drafted without it, silently."""
    src = tmp_path / "merged.xlsx"
    rows, ref = _merged_workbook(src)
    out = tmp_path / "o"
    result = _run(runner, src, out)
    assert result.exit_code == 1 and not out.exists(), result.output
    first = ref.split(":")[0]
    assert result.output == (
        f"Error: {src}: merged cells {ref} (reporter/city): Excel shows the value of a range's first cell "
        f"across the range, but the workbook holds it only in that cell ({first}), so the range's other cells "
        "would be read as empty: unmerge the cells, fill in each row's value, save the workbook, and run again\n")


def test_merged_cells_are_found_in_a_sheet_whose_cells_leave_out_their_references(runner, tmp_path):
    """r= is optional on rows and cells: a merged range with a value then ended in "unexpected
    UnboundLocalError ... please report it" (openpyxl's reading of an empty reference)."""
    import re

    src = tmp_path / "merged.xlsx"
    _, ref = _merged_workbook(src)
    _rewrite_sheet(src, rb'(<sheetData>.*</sheetData>)', lambda m: re.sub(rb' r="[A-Z]*[0-9]+"', b"", m.group(1)))
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {src}: merged cells {ref} (reporter/city): Excel shows the value"), \
        result.output


def test_a_row_of_more_cells_than_a_sheet_has_columns_is_damage(runner, tmp_path):
    src = tmp_path / "wide.xlsx"
    _workbook(src, _rows(2))
    _rewrite_sheet(src, rb'</row></sheetData>', b"<c/>" * 16_385 + b"</row></sheetData>")
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    assert "the workbook is damaged: its row 3 holds 16,4" in result.output
    assert "more than the 16,384 columns of a sheet" in result.output


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="peak memory read from Linux's /proc")
def test_what_follows_the_rows_of_a_sheet_is_not_kept_in_memory(tmp_path):
    """Merged ranges after the rows were kept by the reader to the end of the sheet: a 0.1 MB
    workbook of two million took 1.5 GB; 400,000 (9.6 MB unzipped, under the check of parts
    that expand too much) about 300 MB."""
    import subprocess
    import sys

    src = tmp_path / "merges.xlsx"
    _workbook(src, _rows(3))
    _rewrite_sheet(src, rb"</sheetData>", b"</sheetData><mergeCells>" + b'<mergeCell ref="A1:B1"/>' * 400_000
                   + b"</mergeCells>")
    probe = ("import sys; from medwatch_tool.cli import main\n"
             "try:\n    main(sys.argv[1:], prog_name='medwatch')\nexcept SystemExit:\n    pass\n"
             "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])")
    done = subprocess.run([sys.executable, "-c", probe, "batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"],
                          capture_output=True, text=True, timeout=300)
    assert "3 drafted, 0 with errors" in done.stdout, done.stdout + done.stderr
    assert int(done.stdout.split()[-1]) < 100_000, done.stdout  # KB (about 45 MB; it was 330, or 190 with the scan fixed)


def _rename_part(src, old: str, new: str):
    import io
    import zipfile

    saved = src.read_bytes()
    with zipfile.ZipFile(io.BytesIO(saved)) as original, zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            copy.writestr(new if info.filename == old else info.filename, original.read(info.filename))


@pytest.mark.parametrize("member", ["xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.DAT"])
def test_a_workbook_whose_part_expands_a_thousand_times_is_not_read(runner, tmp_path, member):
    """A 2 MB workbook whose styles expand to 2 GB took 4 GB of memory to open; one whose
    table of texts does filled the temporary folder. (A part is read by the name the
    workbook's relationships give it: one not ending in .xml is looked at too.)"""
    import zipfile

    src = tmp_path / "bomb.xlsx"
    _workbook(src, _rows(2))
    if member.endswith(".DAT"):
        for part in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
            _rewrite_sheet(src, rb"sheet1\.xml", member.split("/")[-1].encode(), member=part)
        _rename_part(src, "xl/worksheets/sheet1.xml", member)
    end = b"</styleSheet>" if member.endswith("styles.xml") else b"</worksheet>"
    _rewrite_sheet(src, end, b" " * 20_000_000 + end, member=member)
    with zipfile.ZipFile(src) as archive:
        packed = archive.getinfo(member).compress_size
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1 and not (tmp_path / "o").exists(), result.output
    assert result.output.startswith(f"Error: {src}: not read: its part {member} expands from {packed:,} bytes to 2"), \
        result.output
    assert "which no spreadsheet program writes and would take that much memory or disk to read" in result.output


@pytest.mark.parametrize("member, data", [
    ("xl/media/image1.bmp", b"BM" + b"\xff" * 18_000_000),  # a white bitmap
    ("xl/media/image1.dib", b"(\x00\x00\x00" + b"\xff" * 18_000_000),
    ("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(12_000_000)),  # an .xlsm's macros
    ("xl/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 24_000_000),
], ids=["bmp", "dib", "macros", "embedded"])
def test_a_part_never_read_that_zips_tight_is_no_zip_bomb(runner, tmp_path, member, data):
    """An 18 MB white bitmap zips to 17 KB; it is never read, and the workbook was refused."""
    import zipfile

    src = tmp_path / "picture.xlsx"
    _workbook(src, _rows(2))
    with zipfile.ZipFile(src, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 0 and "2 drafted" in result.output, result.output


def test_a_workbook_with_a_part_encrypted_in_its_zip_is_refused_with_the_usual_message(runner, tmp_path):
    """The check of parts before reading met the encrypted part first: "unexpected RuntimeError"."""
    import shutil
    import subprocess
    import zipfile

    if shutil.which("zip") is None:
        pytest.skip("needs the zip command to encrypt a part")
    src = tmp_path / "plain.xlsx"
    _workbook(src, _rows(2))
    parts = tmp_path / "parts"
    zipfile.ZipFile(src).extractall(parts)
    encrypted = tmp_path / "encrypted.xlsx"
    subprocess.run(["zip", "-q", "-P", "secret", str(encrypted), "xl/styles.xml"], cwd=parts, check=True)
    subprocess.run(["zip", "-q", "-r", str(encrypted), ".", "-x", "xl/styles.xml"], cwd=parts, check=True)
    result = _run(runner, encrypted, tmp_path / "o")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {encrypted}: not a readable Excel .xlsx workbook (RuntimeError: "), \
        result.output


def test_entities_declared_in_the_workbook_part_are_refused_before_it_is_read(runner, tmp_path):
    """openpyxl expanded them: a sheet named 'A&y;C' was listed as 'AINTERNALC'."""
    src = tmp_path / "entity.xlsx"
    _workbook(src, _rows(2))
    _rewrite_sheet(src, rb"\A(<\?xml[^>]*\?>)?", b'<?xml version="1.0"?><!--' + b"x" * 70_000  # a long prolog
                   + b'--><!DOCTYPE workbook [<!ENTITY y "INTERNAL">]>', member="xl/workbook.xml")
    _rewrite_sheet(src, rb'name="Sheet"', b'name="A&y;C"', member="xl/workbook.xml")
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--sheet", "elsewhere"])
    assert result.exit_code == 1, result.output
    assert result.output == (f"Error: {src}: not a readable Excel .xlsx workbook (its XML declares entities, which "
                             "this tool refuses: spreadsheet programs do not write them, and they can expand a small "
                             "file without bound or read other files)\n")


def test_a_merged_title_above_the_header_keeps_its_hint(runner, tmp_path):
    """A report title merged across the columns (and over two rows) is no header: the error
    still names the row that holds the field paths, not the title's merge."""
    book = openpyxl.Workbook()
    book.active.append(["Adverse event export"])
    book.active.append([])
    _workbook(None, _rows(3), book.active)
    book.active.merge_cells("A1:F2")
    src = tmp_path / "titled.xlsx"
    book.save(src)
    result = _run(runner, src, tmp_path / "o")
    assert result.output == (f"Error: {src}: row 1 is not the header: the field paths are on row 3; "
                             "delete the 2 rows above it (a report title, say)\n")


@pytest.mark.parametrize("where", ["footer", "heading"])
def test_a_merge_within_one_row_hides_no_other_row_s_value(runner, tmp_path, where):
    """A footer ('Prepared by pharmacy') or a section heading merged across one row refused
    the whole workbook, though it hides no value of another row: its row is read as it is."""
    book = openpyxl.Workbook()
    sheet = book.active
    header = _workbook(None, _rows(3), sheet)
    last = openpyxl.utils.get_column_letter(len(header))
    if where == "footer":
        sheet.append([])
        sheet.append(["Prepared by pharmacy, confidential"])
        sheet.merge_cells(f"A6:{last}6")
    else:
        sheet.insert_rows(2)
        sheet["A2"] = "October reports"
        sheet.merge_cells(f"A2:{last}2")
    src = tmp_path / f"{where}.xlsx"
    book.save(src)
    out = tmp_path / "o"
    result = _run(runner, src, out)
    assert "merged cells" not in result.output, result.output
    assert "3 drafted, 1 with errors" in result.output
    [row] = {p["row"] for p in read_problems(out)}
    assert row == ("6" if where == "footer" else "2")


def test_merged_cells_holding_no_value_hide_nothing(runner, tmp_path):
    """A merged block of empty cells (a sheet's layout) holds no value to lose: read as before."""
    src = tmp_path / "blank-merge.xlsx"
    rows, ref = _merged_workbook(src, value_first=False)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 0 and "4 drafted, 0 with errors" in result.output, result.output
    assert "reporter/city" not in draft_values(read_draft(tmp_path / "o" / f"{rows[0]['admin/report_id']}.xml"))


def _chart_then_data(path, age):
    """A chart sheet 'Chart' before the worksheet 'Data', whose patient/age is `age`."""
    from openpyxl.chart import BarChart, Reference

    rows = [dict(example_rows()[1], **{"admin/report_id": "CHARTED"})]
    book = openpyxl.Workbook()
    data = book.active
    data.title = "Data"
    header = _workbook(path, rows, data)
    data.cell(row=2, column=header.index("patient/age") + 1, value=age)
    chart = BarChart()
    chart.add_data(Reference(data, min_col=1, min_row=1, max_row=2))
    book.create_chartsheet("Chart", 0).add_chart(chart)
    book.save(path)
    assert book.sheetnames == ["Chart", "Data"]
    return f"{openpyxl.utils.get_column_letter(header.index('patient/age') + 1)}2"


def test_a_formula_after_a_chart_sheet_is_checked_on_the_sheet_read(runner, tmp_path):
    """The formula check looked at the workbook's first sheet, the chart, while the rows were
    read from 'Data': its uncomputed =40+4 was drafted as no age, exit 0."""
    src = tmp_path / "chart.xlsx"
    cell = _chart_then_data(src, "=40+4")
    out = tmp_path / "o"
    result = _run(runner, src, out)
    assert result.exit_code == 1 and not out.exists(), result.output
    assert result.output.startswith(f"Error: {src}: cell {cell} of the sheet 'Data' holds a formula whose value "
                                    "the workbook does not hold")
    # as Excel saves it: the value with the formula, nothing to recompute
    _rewrite_sheet(src, rb"<f>40\+4</f><v>\s*</v>", b"<f>40+4</f><v>44</v>")
    _rewrite_sheet(src, rb' fullCalcOnLoad="1"', b"", member="xl/workbook.xml")
    result = _run(runner, src, out)
    assert result.exit_code == 0, result.output
    assert draft_values(read_draft(out / "CHARTED.xml"))["patient/age"] == "44"
    assert "note:" not in result.output  # a chart holds no rows: no sheet of rows was left unread


@pytest.mark.parametrize("path, value, number_format, stored", [
    ("reporter/postal_code", 2134, "00000", {"reporter/postal_code": "02134"}),
    ("reporter/postal_code", 21341234, "00000-0000", {"reporter/postal_code": "02134-1234"}),
    ("patient/identifier", 4567, "0000000000", {"patient/identifier": "0000004567"}),
    ("suspect_product[1]/strength", 0.009, "0.0%",
     {"suspect_product[1]/strength": "0.9", "suspect_product[1]/strength_unit": "%"}),
    ("suspect_product[1]/strength", 0.009, "0%",  # shown rounded, 1%: what was typed is kept
     {"suspect_product[1]/strength": "0.9", "suspect_product[1]/strength_unit": "%"}),
    ("suspect_product[1]/dose", 0.25, "0%", {"suspect_product[1]/dose": "25", "suspect_product[1]/dose_unit": "%"}),
    ("event/description", 0.125, "0.0%", {"event/description": "12.5%"}),
    ("patient/weight", 70.25, "0.0", {"patient/weight": "70.25"}),  # decimals shown only round: as held
    ("suspect_product[1]/lot", 1.1, "0.00", {"suspect_product[1]/lot": "1.10"}),  # a text box: as shown
    ("event/test[1]/result", 7.4, "0.00", {"event/test[1]/result": "7.40"}),
    ("event/test[1]/result", 5, "0.0#", {"event/test[1]/result": "5.0"}),
    ("event/test[1]/result", 1500.5, "#,##0.00", {"event/test[1]/result": "1500.50"}),  # no separator: a locale's
    ("event/test[1]/result", 7.4, "_(* #,##0.00_)", {"event/test[1]/result": "7.40"}),  # accounting: spaces unseen
    ("event/test[1]/result", 7.456, "0.00", {"event/test[1]/result": "7.456"}),  # shown rounded: as typed
    ("event/test[1]/result", 7.4, '0.00 "mmol/L"', {"event/test[1]/result": "7.40 mmol/L"}),  # a unit: as shown
    ("suspect_product[1]/dose", 0.5, '0.0 "mg"',  # the unit to its box, as with '0 "mg"'
     {"suspect_product[1]/dose": "0.5", "suspect_product[1]/dose_unit": "MG"}),
    ("patient/weight", 70.25, '0.0 "kg"', {"patient/weight": "70.25", "patient/weight_unit": "kg"}),
    ("patient/weight", 70.25, '"$"0.0', {"patient/weight": "70.25"}),  # text before it (a currency): as held
    # a unit after a number shown otherwise (thousands, optional decimals, General, a colour):
    # it was dropped, the dose drafted in the unit column's unit
    ("suspect_product[1]/dose", 1000, '#,##0 "mcg"',
     {"suspect_product[1]/dose": "1000", "suspect_product[1]/dose_unit": "UGM"}),
    ("suspect_product[1]/dose", 2.5, '0 "mcg"',  # shown rounded, "3 mcg": typed 2.5
     {"suspect_product[1]/dose": "2.5", "suspect_product[1]/dose_unit": "UGM"}),
    ("suspect_product[1]/dose", 2.5, '[Blue]0.## "mg"',
     {"suspect_product[1]/dose": "2.5", "suspect_product[1]/dose_unit": "MG"}),
    ("patient/weight", 70.5, 'General" kg"', {"patient/weight": "70.5", "patient/weight_unit": "kg"}),
    ("event/test[1]/result", 1500, '#,##0 "mg/dL"', {"event/test[1]/result": "1500 mg/dL"}),
    ("event/test[1]/result", 1500, '#,##0 "€"', {"event/test[1]/result": "1500"}),  # a currency: as held
    ("event/test[1]/result", 150000, '#,##0,"K"', {"event/test[1]/result": "150000"}),  # scaled (150K): as held
    ("event/test[1]/result", 1500000, '#,##0,,"M"', {"event/test[1]/result": "1500000"}),  # (not "1500000M")
    ("event/test[1]/result", 3, '">"0.0', {"event/test[1]/result": ">3.0"}),  # a qualifier before it: as shown
    ("event/test[1]/result", 0.05, '"<"0.00', {"event/test[1]/result": "<0.05"}),  # (it was read as 3, 0.05)
    ("event/test[1]/result", 1.5, '\\~0.0', {"event/test[1]/result": "~1.5"}),
    ("event/test[1]/result", 3, '"+"0.0;"-"0.0', {"event/test[1]/result": "+3.0"}),
    ("event/test[1]/result", -3, '"+"0.0;"-"0.0', {"event/test[1]/result": "-3"}),  # its own section: as held
    ("event/test[1]/result", -0.4, '"↑"0.0;"↓"0.0', {"event/test[1]/result": "-0.4"}),  # (not "-↑0.4")
    ("event/test[1]/result", -3, '0.0 "mmol/L";[Red]0.0 "mmol/L"', {"event/test[1]/result": "-3.0 mmol/L"}),
    ("event/test[1]/low", -2, BUILTIN_FORMATS[43], {"event/test[1]/low": "-2.00"}),  # Excel's Comma Style
    ("patient/weight", 70, "0.00E+00", {"patient/weight": "70"}),  # a number box: the number held
    ("event/test[1]/result", 1500, "0.0E+0", {"event/test[1]/result": "1500"}),  # a lab count: as held too
    ("patient/weight", 70.5, "0.00", {"patient/weight": "70.5"}),  # a number box drops the zeros shown
])
def test_a_number_is_read_as_its_format_shows_it(runner, tmp_path, path, value, number_format, stored):
    """A ZIP code 02134 is held as 2134 formatted "00000", and 0.9% as 0.009 formatted "0.0%":
    before, they were drafted as 2134 and 0.009, a strength a hundred times too small."""
    row = dict(example_rows()[1], **{"admin/report_id": "FORMATTED"})
    for unit in ("suspect_product[1]/strength_unit", "suspect_product[1]/dose_unit"):
        row.pop(unit, None)
    row[path] = value
    src = _formatted(tmp_path / "formats.xlsx", row, path, number_format)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 0, (result.output, read_problems(tmp_path / "o"))
    values = draft_values(read_draft(tmp_path / "o" / "FORMATTED.xml"))
    assert {k: values.get(k) for k in stored} == stored


def test_a_date_cell_in_a_number_box_says_what_excel_did(runner, tmp_path):
    """A dose typed 1/2, which Excel made 2 January: "'2026-01-02': the unit is not one that D2
    dose unit takes: '-01-02' is not one of the allowed values"."""
    row = dict(example_rows()[1], **{"admin/report_id": "HALF", "suspect_product[1]/dose": datetime(2026, 1, 2)})
    src = _formatted(tmp_path / "half.xlsx", row, "suspect_product[1]/dose", "m/d")
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    [problem] = [p for p in read_problems(tmp_path / "o") if p["path"] == "suspect_product[1]/dose"]
    assert problem["message"].startswith("'2026-01-02' is a date, and this box takes a number: Excel turns what "
                                         "is typed as 1/2 or 1-2 into a date"), problem


@pytest.mark.parametrize("number_format, value, unit", [
    ('#" vials"', 2, "tablet"), ('0 "mIU"', 5, "mg"), ('0.0 "mcg/kg/min"', 0.5, "mcg"), ('#,##0 "USD"', 2, "mg"),
])
def test_words_a_format_shows_after_a_number_that_no_unit_box_takes_are_refused(runner, tmp_path, number_format,
                                                                                value, unit):
    """As a CSV cell '2 tabs' is: the words on screen may be the unit that matters (5 mIU is
    no 5 mg; 0.5 mcg/kg/min no 0.5 mcg). Reading the number alone with the unit column's unit
    was tried and taken back: it drafted those silently."""
    row = dict(example_rows()[1], **{"admin/report_id": "TABS", "suspect_product[1]/dose": value,
                                     "suspect_product[1]/dose_unit": unit})
    src = _formatted(tmp_path / "tabs.xlsx", row, "suspect_product[1]/dose", number_format)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    [problem] = [p for p in read_problems(tmp_path / "o") if p["path"] == "suspect_product[1]/dose"]
    assert "the unit is not one that D2 dose unit takes" in problem["message"], problem


@pytest.mark.parametrize("number_format", ['#,##0 "mcg"', '0 "mcg"', '# "mcg"'])
def test_a_unit_shown_by_the_format_and_another_in_the_unit_column_is_refused(runner, tmp_path, number_format):
    """1,000 mcg on screen, mg in the dose unit column: drafted as 1000 mg, a thousand times
    the dose, without a word (the format's unit was dropped)."""
    row = dict(example_rows()[1], **{"admin/report_id": "UNITS", "suspect_product[1]/dose": 1000,
                                     "suspect_product[1]/dose_unit": "mg"})
    src = _formatted(tmp_path / "units.xlsx", row, "suspect_product[1]/dose", number_format)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    [problem] = [p for p in read_problems(tmp_path / "o") if p["path"] == "suspect_product[1]/dose"]
    assert problem["message"].startswith("'1000 mcg' gives the unit as UGM, but D2 dose unit says MG"), problem


@pytest.mark.parametrize("path, held, number_format, stored", [
    ("event/event_date", datetime(2026, 9, 1), "mmm-yy", "2026-09"),  # Excel's own, shown Sep-26
    ("suspect_product[1]/start_date", datetime(2023, 3, 1), "mmmm yyyy", "2023-03"),
    ("suspect_product[1]/expiration_date", datetime(2027, 6, 1), "yyyy-mm", "2027-06"),
    ("patient/date_of_birth", datetime(1987, 4, 1), "[$-409]mmm-yy;@", "1987-04"),  # as Excel saves a locale's
    ("concomitant[1]/start_date", datetime(2020, 1, 1), "yyyy", "2020"),
    ("concomitant[1]/start_date", datetime(2020, 5, 1), "yyyy", "2020-05"),  # a month was given: kept
    ("event/event_date", datetime(2026, 9, 14), "mmm-yy", "2026-09-14"),  # a day was given: kept
    ("event/event_date", datetime(2026, 9, 1), "d-mmm-yy", "2026-09-01"),  # the day is shown
    ("event/event_date", datetime(2026, 9, 1, 14, 30), "mmm-yy h:mm", "2026-09-01T14:30:00"),  # a time: no month
])
def test_a_date_shown_without_its_day_is_read_as_the_partial_date_shown(runner, tmp_path, path, held,
                                                                       number_format, stored):
    """'Nov 2026' typed in Excel is held as 2026-11-01 formatted "mmm-yy": before, the draft got a
    day the clinician never gave (2026-11-01), which went to FDA and into the date-order rules.
    A day (or month) other than the 1st Excel fills in was given with the date, and is kept."""
    row = dict(example_rows()[1], **{"admin/report_id": "PARTIAL", path: held})
    src = _formatted(tmp_path / "dates.xlsx", row, path, number_format)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1", "--render", "text"])
    values = draft_values(read_draft(tmp_path / "o" / "PARTIAL.xml"))
    assert values[path] == stored.partition("T")[0], (result.output, read_problems(tmp_path / "o"))
    if len(stored) == 7:  # the page shows the month, as the workbook did
        month = datetime.strptime(stored, "%Y-%m").strftime("%b-%Y")
        page = (tmp_path / "o" / "PARTIAL.txt").read_text(encoding="utf-8")
        assert f": {month}\n" in page and f"01-{month}" not in page


@pytest.mark.parametrize("path, box", [("patient/weight", "A4"), ("patient/age", "A2")])
def test_a_percent_in_a_box_whose_units_have_no_percent_is_refused_at_its_box(runner, tmp_path, path, box):
    """0.7 formatted as a percent shows 70%: never drafted as 0.7 kg nor as 70 kg."""
    row = dict(example_rows()[1], **{"admin/report_id": "PERCENT", path: 0.7})
    src = _formatted(tmp_path / "percent.xlsx", row, path, "0%")
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1 and "0 drafted, 1 with errors" in result.output, result.output
    [problem] = read_problems(tmp_path / "o")
    assert (problem["path"], problem["box"]) == (path, box)
    assert problem["message"].startswith(f"'70%': the unit is not one that {box} ")
    assert "'%' is not one of the allowed values" in problem["message"]


def test_a_hidden_first_sheet_is_passed_over_for_the_first_visible_one(runner, tmp_path):
    """Lookup lists are often kept on a hidden first sheet: before, its 'junk' column stopped
    the run as 'row 1 (header): column 1 'junk' is not a field', with no word of the sheet."""
    book = openpyxl.Workbook()
    lists = book.active
    lists.title = "Lists"
    lists.append(["junk", "routes"])
    lists.sheet_state = "hidden"
    events = book.create_sheet("Events")
    _workbook(None, _rows(3), events)
    book.create_sheet("Old")
    src = tmp_path / "hidden.xlsx"
    book.save(src)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "3 drafted, 0 with errors, 0 warnings",
        f"note: {src}: only the first visible worksheet, 'Events', was read; not the workbook's other sheets "
        "'Lists' (hidden), 'Old' (--sheet NAME reads another)"]
    events["A1"] = "report id"  # an error on the sheet read names it, as it is not the first one
    book.save(src)
    result = _run(runner, src, tmp_path / "o2")
    assert result.exit_code == 1 and not (tmp_path / "o2").exists()
    assert result.output.startswith(f"Error: {src}: the sheet 'Events': row 1 (header): column A 'report id' "
                                    "is not a field")


def test_a_workbook_of_only_a_header_says_so(runner, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(list(example_rows()[0]))
    src = tmp_path / "header.xlsx"
    book.save(src)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 0 and result.output.startswith("0 drafted, 0 with errors, 0 warnings\n")
    assert f"note: {src}: the file holds no rows below its header (row 1): nothing was drafted" in result.output


def test_dates_typed_as_text_day_first_are_refused_when_they_read_both_ways(runner, tmp_path):
    """A workbook whose dates are typed as text day first (16/10/2026) had its 08/10/2026
    drafted as 10 August, silently, where the same rows in a CSV file were refused with both
    readings: the workbook's first rows are now looked at as a CSV file's are."""
    rows = _rows(2)
    rows[0].update({"event/event_date": "16/10/2026", "event/report_date": "21/10/2026"})
    rows[1].update({"event/event_date": "08/10/2026", "event/report_date": "2026-11-01"})
    src = tmp_path / "typed.xlsx"
    _workbook(src, rows)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1 and "1 drafted, 1 with errors" in result.output, result.output
    assert (f"note: {src}: this file writes 16/10/2026 in B3 date of event on row 2, the day first: its dates "
            "that read both ways (03/11/2025) are refused with both readings") in result.output
    first = draft_values(read_draft(tmp_path / "o" / f"{rows[0]['admin/report_id']}.xml"))
    assert (first["event/event_date"], first["event/report_date"]) == ("2026-10-16", "2026-10-21")
    [problem] = read_problems(tmp_path / "o")
    assert (problem["row"], problem["box"]) == ("3", "B3")
    assert problem["message"].startswith("'08/10/2026' could be 8 Oct or 10 Aug 2026")


@pytest.mark.parametrize("held, digits", [("1.23456789012345E+19", 20), ("1.23456789012345E+17", 18),
                                          ("1.23456789012345E+15", 16)])
def test_a_code_kept_as_a_number_of_more_digits_than_excel_keeps_is_refused(runner, tmp_path, held, digits):
    """A 20-digit serial number typed into Excel is held as 1.23456789012345E+19: it was
    drafted as 12345678901234499584, digits no one typed nor saw."""
    row = dict(example_rows()[2], **{"admin/report_id": "LONG", "device[1]/serial": "SERIAL"})
    src = tmp_path / "long.xlsx"
    _workbook(src, [row])
    _rewrite_sheet(src, rb't="inlineStr"><is><t>SERIAL</t></is>', b'><v>' + held.encode() + b'</v>')
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1 and "0 drafted, 1 with errors" in result.output, result.output
    [problem] = read_problems(tmp_path / "o")
    assert (problem["path"], problem["box"]) == ("device[1]/serial", "E4")
    assert problem["message"].startswith(f"'{held}' is a number of {digits} digits, more than the 15 Excel keeps")


def test_a_number_of_sixteen_digits_that_excel_did_not_cut_is_read_whole(runner, tmp_path):
    row = dict(example_rows()[2], **{"admin/report_id": "EXACT", "device[1]/serial": "SERIAL"})
    src = tmp_path / "exact.xlsx"
    _workbook(src, [row])
    _rewrite_sheet(src, rb't="inlineStr"><is><t>SERIAL</t></is>', b'><v>1.234567890123456E+15</v>')
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert draft_values(read_draft(tmp_path / "o" / "EXACT.xml"))["device[1]/serial"] == "1234567890123456"


def test_a_date_in_a_box_that_takes_text_is_refused_as_excel_s_reading(runner, tmp_path):
    """A lot number typed 3-5 is made the date 5 March by Excel: it was drafted as the lot
    2026-03-05. In a date box a date cell is read as before."""
    row = dict(example_rows()[1], **{"admin/report_id": "LOT", "suspect_product[1]/lot": datetime(2026, 3, 5),
                                     "event/event_date": datetime(2026, 3, 1)})
    src = tmp_path / "lot.xlsx"
    _workbook(src, [row])
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    [problem] = read_problems(tmp_path / "o")
    assert (problem["path"], problem["box"]) == ("suspect_product[1]/lot", "D1")
    assert problem["message"].startswith("'2026-03-05' is a date, and this box takes text: Excel turns what is "
                                         "typed as 3-5 or 1/2 into a date")


@pytest.mark.parametrize("path, held, number_format, shown", [
    ("suspect_product[1]/lot", 120000, "0.00E+00", "1.20E+05"),  # typed 12E4: Excel's own format for it
    ("device[1]/serial", 5e10, "0E+00", "5E+10"),
    ("device[1]/model", 120000, "##0.0E+0", "120.0E+3"),  # engineering: the exponent a multiple of 3
    ("device[1]/catalog", 999999, "0.0E+0", "1.0E+6"),  # rounded as Excel does (it was "10.0E+5")
    ("device[1]/catalog", 125000, "0.0E+0", "1.3E+5"),  # half away from zero (it was "1.2E+5")
])
def test_a_number_in_scientific_notation_in_a_box_of_a_code_is_refused(runner, tmp_path, path, held,
                                                                      number_format, shown):
    """A lot typed 12E4 is held by Excel as 120000 and shown as 1.20E+05: it was drafted as the
    lot 120000, neither what was typed nor what was shown, without a word."""
    row = dict(example_rows()[1], **{"admin/report_id": "SCI", path: held})
    src = _formatted(tmp_path / "sci.xlsx", row, path, number_format)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    [problem] = read_problems(tmp_path / "o")
    assert problem["path"] == path
    assert problem["message"] == (f"'{shown}' is the number {held:.0f} shown in scientific notation, and this box "
                                  "takes a code: Excel turns a code typed as 12E4 into the number 120000. Format the "
                                  "column as Text, type the code again, and run again")


def test_a_number_shown_with_a_qualifier_in_a_box_of_a_number_alone_is_refused_saying_why(runner, tmp_path):
    """'">"0.0' shows a weight of 70.5 as >70.5: read as shown the box said "'>70.5' is not a
    number", naming nothing of the format; read as held (before) the '>' was dropped."""
    row = dict(example_rows()[1], **{"admin/report_id": "QUAL", "patient/weight": 70.5})
    src = _formatted(tmp_path / "qualified.xlsx", row, "patient/weight", '">"0.0')
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    [problem] = read_problems(tmp_path / "o")
    assert (problem["path"], problem["message"]) == ("patient/weight", (
        "'>70.5' is the number 70.5 shown with '>' before it by the cell's format, and this box takes the number "
        "alone: give the number without '>' (the cells the format Number), say what it means in the description, "
        "and run again"))


def test_a_time_span_in_a_number_box_is_told_in_hours(runner, tmp_path):
    """36:00 in a [h]:mm cell was quoted back as '1 day, 12:00:00', with 'day, 12:00:00' taken
    for a unit."""
    row = dict(example_rows()[1], **{"admin/report_id": "SPAN", "suspect_product[1]/duration": 1.5})
    row.pop("suspect_product[1]/duration_unit", None)
    src = _formatted(tmp_path / "span.xlsx", row, "suspect_product[1]/duration", "[h]:mm")
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1, result.output
    [problem] = read_problems(tmp_path / "o")
    assert problem["box"] == "D3"
    assert problem["message"] == ("'36:00' is a time span (hours:minutes), not a number: write the number of hours "
                                  "(36), or of days, with its unit in the unit's box")
    from medwatch_tool.coerce import coerce_values  # (a box whose unit takes no hours: not a number, no more)
    assert coerce_values({"patient/weight": "1:30"})[1] == [("patient/weight", "'1:30' is not a number")]


def _repackaged(src, change):
    """The saved workbook `src` with each member's bytes passed through `change(name, data)`
    (None leaves a member out), as another program would have packaged it."""
    import io
    import zipfile

    saved = src.read_bytes()
    with zipfile.ZipFile(io.BytesIO(saved)) as original, zipfile.ZipFile(src, "w") as copy:
        for info in original.infolist():
            data = change(info.filename, original.read(info.filename))
            if data is not None:
                copy.writestr(info, data)


@pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl's, on the namespaces it does not know
def test_a_strict_open_xml_workbook_is_named_as_such(runner, tmp_path):
    """Excel's "Strict Open XML Spreadsheet" is saved with other namespaces, which openpyxl
    does not read: the run said the workbook held "no worksheet (only charts)"."""
    src = tmp_path / "strict.xlsx"
    _workbook(src, _rows(1))

    def strict(name, data):
        return (data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                             b"http://purl.oclc.org/ooxml/spreadsheetml/main")
                .replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                         b"http://purl.oclc.org/ooxml/officeDocument/relationships"))
    _repackaged(src, strict)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1 and not (tmp_path / "o").exists()
    assert result.output == (f"Error: {src}: is saved as a Strict Open XML Spreadsheet, which this tool cannot "
                             "read: save it in Excel as an Excel Workbook (.xlsx), or as CSV\n")


def test_an_excel_binary_workbook_is_named_as_such(runner, tmp_path):
    """An .xlsb (its parts binary; here a workbook's XML parts renamed so) was "not a readable
    Excel .xlsx workbook (File contains no valid workbook part)"."""
    src = tmp_path / "big.xlsx"
    _workbook(src, _rows(1))
    _repackaged(src, lambda name, data: data if name != "xl/workbook.xml" else None)
    import zipfile

    with zipfile.ZipFile(src, "a") as book:
        book.writestr("xl/workbook.bin", b"\x83\x01\x00\x80\x01")
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1
    assert result.output == (f"Error: {src}: is an Excel Binary Workbook (.xlsb), which this tool cannot read: "
                             "save it in Excel as an Excel Workbook (.xlsx), or as CSV\n")


def test_an_empty_first_sheet_names_the_sheets_not_read(runner, tmp_path):
    """Rows on the second sheet behind an empty first one: "the first sheet is empty" said
    neither which sheet nor that the rows' sheet was not read."""
    book = openpyxl.Workbook()
    _workbook(None, _rows(2), book.create_sheet("Reports"))
    src = tmp_path / "two.xlsx"
    book.save(src)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 1
    assert result.output == (f"Error: {src}: the first sheet, 'Sheet', is empty, and only it is read, not the sheet "
                             "'Reports' that holds rows: name the sheet to read with --sheet NAME (or put it "
                             "first), and run again\n")
    book = openpyxl.Workbook()  # Excel's three sheets of old, all empty: no sheet to point to
    book.create_sheet("Sheet2")
    book.create_sheet("Sheet3")
    book.save(src)
    assert _run(runner, src, tmp_path / "o").output == f"Error: {src}: the first sheet is empty\n"


def test_rows_hidden_in_the_sheet_are_drafted_and_named_in_a_note(runner, tmp_path):
    """A user may hide rows (or filter them out) to leave them out: they were drafted without
    a word. They still are, as Excel's own CSV export keeps them, and a note names them."""
    book = openpyxl.Workbook()
    _workbook(None, _rows(10), book.active)
    for number in (3, 5, 6, 7, 8, 9, 10):
        book.active.row_dimensions[number].hidden = True
    src = tmp_path / "hidden.xlsx"
    book.save(src)
    result = _run(runner, src, tmp_path / "o")
    assert result.exit_code == 0 and "10 drafted, 0 with errors" in result.output, result.output
    assert (f"note: {src}: rows 3, 5, 6, 7, 8 and 2 more are hidden in the sheet (hidden, or filtered out) and read "
            "like the others: to leave a row out, delete it") in result.output
