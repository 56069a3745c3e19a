"""A workbook's sheet and shared strings read by lxml (sheet_rows.py) give the values openpyxl's
own readers give, for every kind of cell a spreadsheet program writes; what is damaged is
said at its cell. The real command on real workbooks, and the two readers side by side."""
import io
import re

import pytest

from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, read_draft

from test_batch import _rewrite_sheet, columns_of, example_rows

openpyxl = pytest.importorskip("openpyxl")
from openpyxl.reader.strings import read_string_table  # noqa: E402
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH  # noqa: E402
from openpyxl.worksheet._reader import WorkSheetParser  # noqa: E402

from medwatch_tool.errors import InputDamaged  # noqa: E402
from medwatch_tool.sheet_rows import DamagedCell, shared_strings, sheet_cells  # noqa: E402

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# every kind of cell: numbers (whole, decimal, exponent, in a date and a time-span format,
# a date out of range), shared and inline text (formatting runs, a phonetic reading),
# booleans, ISO dates, formulas with their saved values, errors, empty cells, cells and
# rows without a reference, a comment between cells
SHEET = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN}"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>plain</t></is></c></row>
<row r="2" spans="1:9"><c r="A2"><v>42</v></c><c r="B2" s="0"><v>2.5</v></c><c r="C2"><v>1.5E3</v></c>
  <c r="D2" s="1"><v>45000</v></c><c r="E2" s="1"><v>45000.75</v></c><c r="F2" s="2"><v>1.25</v></c>
  <c r="G2" s="1"><v>99999999</v></c><c r="H2"><v></v></c><c r="I2"/></row>
<row r="4"><c r="A4" t="b"><v>1</v></c><c r="B4" t="b"><v>0</v></c><c r="C4" t="d"><v>2026-03-04</v></c>
  <c r="D4" t="d"><v>2026-03-04T10:30:00</v></c><c r="E4" t="str"><f>A1&amp;"x"</f><v>textx</v></c>
  <c r="F4" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="G4"><f>1+1</f><v>2</v></c><c r="H4" t="str"><f>A1</f></c></row>
<row><c t="inlineStr"><is><r><rPr><b/></rPr><t>bold </t></r><r><t>then plain</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></is></c>
  <!-- a comment --><c t="inlineStr"><is><t>lead </t><r><t>run</t></r></is></c><c t="inlineStr"/>
  <c t="inlineStr"><v>not this</v><is><t>this</t></is></c></row>
<row r="7.0"><c r="AB7" t="s"><v>2</v></c><c r="ZZ7" t="s"><v>3</v></c><c r="b7" t="s"><v></v></c></row>
</sheetData></worksheet>""".encode()

STRINGS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="{MAIN}" count="4" uniqueCount="4"><si><t>report id</t></si>
<si><r><rPr><i/></rPr><t xml:space="preserve">Itching, </t></r><r><t>fever</t></r></si>
<si><t>line_x005F_x000D_break</t><rPh sb="0" eb="1"><t>READING</t></rPh></si><si><t/></si></sst>""".encode()


def _openpyxl_rows(sheet: bytes, strings, epoch):
    parser = WorkSheetParser(io.BytesIO(sheet), strings, data_only=True, epoch=epoch,
                             date_formats={1, 2}, timedelta_formats={2})
    return [(number, [(c["column"], c["value"], c["style_id"] or 0) for c in cells])
            for number, cells in parser.parse()]


@pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl's on G2, a date out of range
@pytest.mark.parametrize("epoch", [WINDOWS_EPOCH, MAC_EPOCH], ids=["1900", "1904"])
def test_every_kind_of_cell_reads_as_openpyxl_reads_it(epoch):
    strings = read_string_table(io.BytesIO(STRINGS))
    assert shared_strings(io.BytesIO(STRINGS)) == strings == ["report id", "Itching, fever", "line_x000D_break", ""]
    ours = list(sheet_cells(io.BytesIO(SHEET), strings, {1, 2}, {2}, epoch))
    assert ours == _openpyxl_rows(SHEET, strings, epoch)
    assert [number for number, _ in ours] == [1, 2, 4, 5, 7]
    assert ours[3][1] == [(1, "bold then plain", 0), (2, "lead run", 0), (3, None, 0), (4, "this", 0)]
    assert ours[4][1][:2] == [(28, "line_x000D_break", 0), (702, "", 0)]
    assert ours[1][1][6] == (7, "#VALUE!", 1)  # refused at its box, as before


def test_a_row_s_extension_list_is_no_cell():
    """(openpyxl takes a row's <extLst> for one more empty cell; it holds none.)"""
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c t="inlineStr"><is><t>a</t></is></c>' \
            '<extLst><ext uri="x"/></extLst></row></sheetData></worksheet>'
    assert list(sheet_cells(io.BytesIO(sheet.encode()), [], set(), set(), WINDOWS_EPOCH)) == [(1, [(1, "a", 0)])]


def _workbook(path, rows):
    book = openpyxl.Workbook()
    header = columns_of(rows)
    book.active.append(header)
    for row in rows:
        book.active.append([row.get(h) for h in header])
    book.save(path)
    return header


def test_formatted_text_in_the_shared_strings_reaches_the_draft_whole(runner, tmp_path):
    """Excel keeps a cell's text in the shared string table, in runs when part of it is
    formatted (a word in bold): the description is drafted whole, runs joined."""
    rows = example_rows()[:1]
    rows[0]["event/description"] = "PLACEHOLDER"
    src = tmp_path / "excel.xlsx"
    _workbook(src, rows)
    _rewrite_sheet(src, rb't="inlineStr"><is><t>PLACEHOLDER</t></is>', b't="s"><v>0</v>')
    table = (f'<sst xmlns="{MAIN}"><si><r><rPr><b/></rPr><t>Severe </t></r><r><t>drowsiness &amp; slow '
             'breathing</t></r></si></sst>').encode()
    _add_shared_strings(src, table)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    [draft] = out.glob("*.xml")
    assert draft_values(read_draft(draft))["event/description"] == "Severe drowsiness & slow breathing"


def test_excel_s_escapes_in_a_text_are_read_as_the_characters_they_stand_for(runner, tmp_path):
    """Excel saves a carriage return in a text as _x000D_ (a narrative pasted from Windows:
    every line break) and a control character as _x0007_; they went into the draft as
    '_x000D_'. Now the line breaks are the text's own, a bell is refused at its box as in a
    CSV file, and an '_x000D_' typed as such (saved _x005F_x000D_) stays as typed."""
    rows = example_rows()[:2]
    rows[0]["event/description"] = "PLACEHOLDER"
    rows[1]["event/history"] = "HISTORY"
    src = tmp_path / "excel.xlsx"
    _workbook(src, rows)
    _rewrite_sheet(src, rb't="inlineStr"><is><t>PLACEHOLDER</t></is>', b't="s"><v>0</v>')
    _rewrite_sheet(src, rb't="inlineStr"><is><t>HISTORY</t></is>', b't="s"><v>1</v>')
    _add_shared_strings(src, (f'<sst xmlns="{MAIN}"><si><t xml:space="preserve">Drowsy at 08:00._x000D_\nGCS 10 '
                              'in ED; field _x005F_x000D_ kept _xD83D__xDE00_</t></si><si><t>bell_x0007_ rang</t></si>'
                              '</sst>').encode())
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    [draft] = out.glob("*.xml")
    assert draft_values(read_draft(draft))["event/description"] == ("Drowsy at 08:00.\r\nGCS 10 in ED; field _x000D_ "
                                                                   "kept \U0001F600")  # (an emoji: its halves joined)
    problems = (out / "problems.csv").read_text(encoding="utf-8-sig")
    assert "event/history,B7" in problems and "U+0007" in problems and "_x0007_" not in problems


def _add_shared_strings(src, table: bytes):
    """Give a saved workbook a shared string table, as Excel saves one."""
    _rewrite_sheet(src, rb"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                   b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>', "[Content_Types].xml")
    _rewrite_sheet(src, rb"</Relationships>", b'<Relationship Id="rIdSst" Target="sharedStrings.xml" Type="http://'
                   b'schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
                   "xl/_rels/workbook.xml.rels")
    import zipfile

    with zipfile.ZipFile(src, "a") as book:
        book.writestr("xl/sharedStrings.xml", table)


@pytest.mark.parametrize("cell, said", [
    (b'<c r="C2" t="n"><v>about 40</v></c>', "cell C2 holds 'about 40' where a number is saved"),
    (b'<c r="C2" t="s"><v>7</v></c>', "cell C2 holds '7' where the number of a shared text is saved"),
    (b'<c r="C2" t="b"><v>yes</v></c>', "cell C2 holds 'yes' where 1 or 0 (true or false) is saved"),
    (b'<c r="C2" t="d"><v>last week</v></c>', "cell C2 holds 'last week' where an ISO date is saved"),
    (b'<c r="2C" t="inlineStr"><is><t>x</t></is></c>', "a cell is placed at '2C', which is no cell"),
], ids=["number", "shared-text", "boolean", "date", "reference"])
def test_a_damaged_cell_is_named_and_the_rows_before_it_stand(runner, tmp_path, cell, said):
    """A cell no spreadsheet program would write (a hand-edited or broken export): the run
    says which cell and what it holds, drafts the rows before it, and exits 1."""
    rows = example_rows()
    src = tmp_path / "damaged.xlsx"
    header = _workbook(src, rows)
    row3 = rows[1]
    value = row3[header[2]]
    _rewrite_sheet(src, re.escape(f'<c r="C3" t="inlineStr"><is><t>{value}</t></is></c>'.encode()),
                   cell.replace(b"C2", b"C3").replace(b"2C", b"3C"))
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    expected = said.replace("C2", "C3 (Follow-up number [admin/follow_up])").replace("2C", "3C")
    assert f"damaged.xlsx: cannot be read after row 2 (the workbook is damaged: {expected})" in result.output
    assert "Traceback" not in result.output
    assert len(list(out.glob("*.xml"))) == 1  # row 2 drafted; the damage is at row 3


def test_a_shared_string_table_declaring_entities_is_refused(runner, tmp_path):
    """The shared strings are read by this tool's own parser now: entities stay refused there."""
    rows = example_rows()[:1]
    rows[0]["event/description"] = "PLACEHOLDER"
    src = tmp_path / "entities.xlsx"
    _workbook(src, rows)
    _rewrite_sheet(src, rb't="inlineStr"><is><t>PLACEHOLDER</t></is>', b't="s"><v>0</v>')
    _add_shared_strings(src, f'<!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/hostname">]><sst xmlns="{MAIN}">'
                        f'<si><t>&x;</t></si></sst>'.encode())
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert re.search(r"entities\.xlsx: not a readable Excel \.xlsx workbook \(its XML declares entities, which this "
                     r"tool refuses", result.output), result.output
    assert not out.exists()


def _batch_of_edited(runner, tmp_path, name: str, edit):
    """The example rows as a workbook `name`, changed by `edit(src, rows, header)`, run
    through `medwatch batch`: (result, output folder, rows)."""
    rows = example_rows()
    src = tmp_path / name
    header = _workbook(src, rows)
    edit(src, rows, header)
    out = tmp_path / "o"
    return runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"]), out, rows


def _weight_cell(text: str, kind: str = 'inlineStr'):
    """An edit of the workbook: row 3's A4 weight cell holding `text` (raw XML) as `kind`."""
    def edit(src, rows, header):
        column = header.index("patient/weight")
        letter = chr(ord("A") + column)
        old = f'<c r="{letter}3" t="inlineStr"><is><t>{rows[1]["patient/weight"]}</t></is></c>'
        new = (f'<c r="{letter}3" t="inlineStr"><is><t>{text}</t></is></c>' if kind == "inlineStr"
               else f'<c r="{letter}3"{f" t={chr(34)}{kind}{chr(34)}" if kind else ""}><v>{text}</v></c>')
        _rewrite_sheet(src, re.escape(old.encode()), new.encode())
    return edit


def _then(*edits):
    def edit(src, rows, header):
        for one in edits:
            one(src, rows, header)
    return edit


def _prolog(text: str):
    return lambda src, rows, header: _rewrite_sheet(src, rb"\A(<\?xml[^>]*\?>)?", text.encode())


def _weight_shared(table: str):
    """Row 3's weight as the first text of a shared string table `table` (whole XML)."""
    return _then(_weight_cell("0", "s"), lambda src, rows, header: _add_shared_strings(src, table.encode()))


@pytest.mark.parametrize("edit, drafted, said", [
    # a DOCTYPE naming an outside file: libxml2 then drops an undefined entity and the rest of
    # its text with a warning only (weight 1&nbsp;65 was drafted as 1): refused, nothing drafted
    (_then(_prolog('<!DOCTYPE worksheet SYSTEM "sheet.dtd">'), _weight_cell("1&nbsp;65")), 0,
     "cannot be read (its XML declares a document type (<!DOCTYPE>), which spreadsheet programs do not write"),
    (_weight_cell("1&nbsp;65"), 1, "cannot be read after row 2 (the workbook is damaged: Entity 'nbsp' not defined "
                                   "(line 1, column "),
    (_weight_cell("1e999", ""), 1, "cannot be read after row 2 (the workbook is damaged: cell H3 (A4 Weight "
                                   "[patient/weight]) holds '1e999' where a number is saved)"),
    (lambda src, rows, header: _rewrite_sheet(src, rb'<row r="3"', b'<row r="2000000"'), 1,
     "cannot be read after row 2 (the workbook is damaged: a row is numbered 2,000,000, past Excel's last row "
     "1,048,576)"),
    (_weight_cell("x" * 10_000_001), 1, "cannot be read after row 2 (a cell holds more than 10,000,000 characters, "
                                        "which no spreadsheet program writes (Excel keeps at most 32,767 in a cell))"),
    (lambda src, rows, header: _rewrite_sheet(src, rb"</sheetData>", b'<row r="9">' + b"<a>" * 300
                                              + b"</a>" * 300 + b"</row></sheetData>"), 3,
     "cannot be read after row 4 (its XML is nested more than 256 elements deep, which no spreadsheet program "
     "writes)"),
], ids=["doctype", "undefined-entity", "infinite-number", "row-past-excel", "ten-million-characters",
        "nested-256-deep"])
def test_a_sheet_no_spreadsheet_program_writes_stops_the_run_at_its_row(runner, tmp_path, edit, drafted, said):
    result, out, _ = _batch_of_edited(runner, tmp_path, "odd.xlsx", edit)
    assert result.exit_code == 1, result.output
    assert f"odd.xlsx: {said}" in result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output
    assert len(list(out.glob("*.xml"))) == drafted


@pytest.mark.parametrize("edit, weight", [
    (_prolog("<?xml version='1.0' encoding='latin-1'?>"), None),
    # a merge within row 1 has the sheet scanned before it is read: in the same encoding
    (_then(_prolog("<?xml version='1.0' encoding='latin-1'?>"),
           lambda src, rows, header: _rewrite_sheet(src, rb"</sheetData>", b'</sheetData><mergeCells count="1">'
                                                    b'<mergeCell ref="A1:B1"/></mergeCells>')), None),
    (_weight_shared(f"<?xml version='1.0' encoding='latin-1'?><sst xmlns=\"{MAIN}\"><si><t>77</t></si></sst>"), "77"),
    (_weight_shared(f"<?xml version='1.0' encoding='utf_8'?><sst xmlns=\"{MAIN}\"><si><t>77</t></si></sst>"), "77"),
], ids=["sheet-latin-1", "sheet-latin-1-scanned", "shared-latin-1", "shared-utf_8"])
def test_an_encoding_named_as_python_names_it_is_read(runner, tmp_path, edit, weight):
    """Python's XML writers declare 'latin-1' or 'utf_8', names libxml2 does not know by
    that spelling (openpyxl read them): read, not refused as damaged."""
    result, out, rows = _batch_of_edited(runner, tmp_path, "python.xlsx", edit)
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("*.xml"))) == len(rows)
    drafted = draft_values(read_draft(out / f"{rows[1]['admin/report_id']}.xml"))["patient/weight"]
    assert drafted == (weight or rows[1]["patient/weight"])


def test_odd_cells_read_as_openpyxl_reads_them_or_named_by_their_place():
    """A style number that is no number, two texts where one belongs (the last counts, as in
    openpyxl), and a damaged cell without a reference named by its place with what it
    saved, not its formula."""
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData><row r="3"><c s="²" t="inlineStr"><is><t>a</t><t>b</t></is></c>'
             '<c t="inlineStr"><is><r><t>c</t><t>d</t></r></is></c><c><f>CONCAT("7","8 kg")</f><v>78 kg</v></c>'
             '</row></sheetData></worksheet>').encode()
    cells = sheet_cells(io.BytesIO(sheet), [], set(), set(), WINDOWS_EPOCH)
    with pytest.raises(DamagedCell, match=r"cell C3 holds '78 kg' where a number is saved"):
        next(cells)
    first_two = sheet.replace(b'<c><f>CONCAT("7","8 kg")</f><v>78 kg</v></c>', b"")
    assert list(sheet_cells(io.BytesIO(first_two), [], set(), set(), WINDOWS_EPOCH)) == [(3, [(1, "b", 0), (2, "d", 0)])]


def test_a_damaged_shared_string_table_is_said_in_one_line(runner, tmp_path):
    edit = _weight_shared(f'<sst xmlns="{MAIN}"><si><t>77</t></si><si><t>cut sh')
    result, out, _ = _batch_of_edited(runner, tmp_path, "cut.xlsx", edit)
    assert result.exit_code == 1, result.output
    assert re.search(r"cut\.xlsx: not a readable Excel \.xlsx workbook \(its shared texts \(xl/sharedStrings\.xml\) "
                     r"cannot be read: Premature end of data in tag t line 1 \(line 1, column \d+\)\)", result.output)
    assert "Traceback" not in result.output and not out.exists()


class _Trickle(io.BytesIO):
    """A stream that gives a byte at a time, as a slow pipe may."""

    def read(self, size=-1):
        return super().read(1 if size and size > 0 else size)


CAFE = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c t="inlineStr"><is><t>caf\xe9</t></is></c></row>' \
       '</sheetData></worksheet>'


@pytest.mark.parametrize("part", [
    b"<?xml version='1.0' encoding='latin-1'?>" + CAFE.encode("latin-1"),
    _Trickle(b"<?xml version='1.0' encoding='latin-1'?>" + CAFE.encode("latin-1")),
    b"\xef\xbb\xbf<?xml version='1.0' encoding='latin-1'?>" + CAFE.encode("utf-8"),  # the byte order mark decides
    b"<?xml-stylesheet type='text/xsl' encoding='latin-1' href='x'?>" + CAFE.encode("utf-8"),  # not a declaration
], ids=["declared", "read-a-byte-at-a-time", "utf-8-byte-order-mark", "stylesheet-instruction"])
def test_a_declared_encoding_is_read_as_openpyxl_read_it(part):
    stream = part if isinstance(part, io.BytesIO) else io.BytesIO(part)
    assert list(sheet_cells(stream, [], set(), set(), WINDOWS_EPOCH)) == [(1, [(1, "café", 0)])]


def test_a_part_s_error_is_its_own_not_an_earlier_part_s():
    """lxml keeps its error log across parses: an empty part after one in an unknown encoding
    is said as empty, not as the other's encoding."""
    with pytest.raises(InputDamaged, match="x-bogus"):
        shared_strings(io.BytesIO(f"<?xml version='1.0' encoding='x-bogus'?><sst xmlns=\"{MAIN}\"/>".encode()))
    with pytest.raises(InputDamaged) as empty:
        shared_strings(io.BytesIO(b""), "xl/strings.xml")
    assert str(empty.value) == "its shared texts (xl/strings.xml) cannot be read: no element found"


def test_a_row_of_more_cells_than_excel_has_columns_is_damage_whatever_its_cells_hold():
    """(A cell past the last column was named by its number: cell 18,301 of row 3.)"""
    cells = "<c/>" * 18_300 + "<c><v>oops</v></c>"
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="3">{cells}</row></sheetData></worksheet>'.encode()
    with pytest.raises(InputDamaged, match=r"its row 3 holds 18,301 cells, more than the 16,384 columns of a sheet"):
        list(sheet_cells(io.BytesIO(sheet), [], set(), set(), WINDOWS_EPOCH))
