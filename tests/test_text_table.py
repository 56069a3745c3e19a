"""A workbook whose shared string table is too long to hold in memory (text_table.py): its
texts are set aside in an unnamed temporary file and read back as the rows ask for them.
The real command on real workbooks: the drafts are the same as from the same rows with
their text in the cells, whatever order the table is in; nothing is left in the temporary
folder; no room there is said, not a traceback."""
import errno
import os
import random
import re
import subprocess
import tempfile
import zipfile

import pytest

from medwatch_tool import text_table
from medwatch_tool.cli import main

from test_batch import example_rows

openpyxl = pytest.importorskip("openpyxl")
from test_sheet_rows import _add_shared_strings, _workbook  # noqa: E402

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_INLINE = re.compile(rb'(<c [^>]*?)t="inlineStr"(?: [^>]*)?><is><t(?: [^>]*)?>(.*?)</t></is></c>', re.S)
UNUSED = text_table.IN_MEMORY * 2  # texts no cell uses (left in the table by deleted rows)


def _rows(count=24):
    """`count` rows of the three examples, each its own report."""
    rows = []
    for number in range(count):
        row = dict(example_rows()[number % 3])
        row["admin/report_id"] = f"LONG-{number:03d}"
        row["event/description"] = f"{row.get('event/description', 'Event')} (case {number})"
        rows.append(row)
    return rows


def _with_long_table(inline, excel, seed):
    """A copy of an openpyxl-saved workbook with its text in a shared string table, as Excel
    keeps it, the table holding UNUSED other texts too, all in a random order."""
    with zipfile.ZipFile(inline) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    used = list(dict.fromkeys(match.group(2) for match in _INLINE.finditer(sheet)))
    table = used + [f"unused text {n}".encode() for n in range(UNUSED)]
    random.Random(seed).shuffle(table)
    number = {text: place for place, text in enumerate(table)}
    shared = _INLINE.sub(lambda m: m.group(1) + b't="s"><v>' + str(number[m.group(2)]).encode() + b"</v></c>", sheet)
    with zipfile.ZipFile(inline) as book, zipfile.ZipFile(excel, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in book.infolist():
            copy.writestr(info, shared if info.filename == "xl/worksheets/sheet1.xml" else book.read(info.filename))
    _add_shared_strings(excel, b'<sst xmlns="' + MAIN.encode() + b'">'
                        + b"".join(b'<si><t xml:space="preserve">' + text + b"</t></si>" for text in table) + b"</sst>")
    assert len(table) > text_table.IN_MEMORY + text_table.BLOCK * text_table.KEPT  # read back from the file, not all kept
    return excel


def _drafts(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.suffix in (".xml", ".html")}


@pytest.fixture
def workbooks(tmp_path):
    inline = tmp_path / "inline.xlsx"
    _workbook(inline, _rows())
    return inline, _with_long_table(inline, tmp_path / "excel.xlsx", seed=1)


def test_a_long_table_of_texts_gives_the_drafts_the_cells_give(runner, tmp_path, workbooks, monkeypatch):
    inline, excel = workbooks
    spare = tmp_path / "temporary"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    results = {}
    for book in (inline, excel):
        out = tmp_path / f"out-{book.stem}"
        result = runner.invoke(main, ["batch", str(book), "--out", str(out), "--render", "html", "--jobs", "2"])
        assert result.exit_code == 0, result.output
        assert "24 drafted, 0 with errors" in result.output
        results[book] = _drafts(out)
    assert len(results[inline]) == 48 and results[excel] == results[inline]
    assert list(spare.iterdir()) == []  # the texts' file never had a name there


def test_the_installed_command_leaves_nothing_in_the_temporary_folder(console_script, tmp_path, workbooks):
    """The texts are health data: the file that holds them has no name, so nothing stays
    behind, whether the run ends or is killed."""
    inline, excel = workbooks
    spare = tmp_path / "temporary"
    spare.mkdir()
    out = tmp_path / "o"
    done = subprocess.run([str(console_script), "batch", str(excel), "--out", str(out), "--jobs", "1"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(spare)})
    assert done.returncode == 0, done.stderr
    assert len(list(out.glob("*.xml"))) == 24
    assert list(spare.iterdir()) == []


def test_two_orders_of_the_same_table_read_alike(tmp_path, workbooks):
    """Excel numbers texts in the order the rows first use them; another program may not.
    Read in either order (and past the blocks kept in memory), the rows are the same."""
    from medwatch_tool.readers import open_source

    inline, excel = workbooks
    other = _with_long_table(inline, tmp_path / "other.xlsx", seed=2)

    def rows(path):
        source = open_source(str(path))
        try:
            return [(row.number, row.values, row.problems) for row in source]
        finally:
            source.close()

    assert rows(excel) == rows(other) == rows(inline)


def test_no_room_for_the_texts_is_said_with_what_to_do(runner, tmp_path, workbooks, monkeypatch):
    """A full temporary folder (simulated: no test can fill a disk) stops the run before it
    begins, with a message naming the workbook, the folder and TMPDIR, not a traceback."""
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(workbooks[1]), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.strip() == (f"Error: {workbooks[1]}: its texts could not be set aside in a temporary file in "
                                     f"{tempfile.gettempdir()} (No space left on device): set TMPDIR to a folder "
                                     "with room")
    assert not out.exists()  # nothing begun: the same command runs once there is room
