"""A workbook whose shared string table is too long to hold in memory (text_table.py): its
texts are set aside in an unnamed temporary file and read back as the rows ask for them.
The real command on real workbooks: the drafts are the same as from the same rows with
their text in the cells, whatever order the table is in; nothing is left in the temporary
folder; no room there is said, not a traceback."""
import errno
import gc
import io
import os
import random
import re
import subprocess
import tempfile
import warnings
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


def _with_long_table(inline, excel, seed, unused=UNUSED):
    """A copy of an openpyxl-saved workbook with its text in a shared string table, as Excel
    keeps it, the table holding `unused` other texts too: all in a random order, or with
    seed None the unused ones first and the rows' own last, in the order the rows use them."""
    with zipfile.ZipFile(inline) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    used = list(dict.fromkeys(match.group(2) for match in _INLINE.finditer(sheet)))
    table = [f"unused text {n}".encode() for n in range(unused)] + used
    if seed is not None:
        random.Random(seed).shuffle(table)
    number = {text: place for place, text in enumerate(table)}
    shared = _INLINE.sub(lambda m: m.group(1) + b't="s"><v>' + str(number[m.group(2)]).encode() + b"</v></c>", sheet)
    with zipfile.ZipFile(inline) as book, zipfile.ZipFile(excel, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in book.infolist():
            copy.writestr(info, shared if info.filename == "xl/worksheets/sheet1.xml" else book.read(info.filename))
    _add_shared_strings(excel, b'<sst xmlns="' + MAIN.encode() + b'">'
                        + b"".join(b'<si><t xml:space="preserve">' + text + b"</t></si>" for text in table) + b"</sst>")
    return excel


def _drafts(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.suffix in (".xml", ".html")}


@pytest.fixture
def workbooks(tmp_path):
    inline = tmp_path / "inline.xlsx"
    _workbook(inline, _rows())
    excel = _with_long_table(inline, tmp_path / "excel.xlsx", seed=1)
    return inline, excel


def _same_drafts(runner, tmp_path, inline, excel, monkeypatch, rows=24):
    spare = tmp_path / "temporary"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    results = {}
    for book in (inline, excel):
        out = tmp_path / f"out-{book.stem}"
        result = runner.invoke(main, ["batch", str(book), "--out", str(out), "--render", "html", "--jobs", "2"])
        assert result.exit_code == 0, result.output
        assert f"{rows} drafted, 0 with errors" in result.output
        results[book] = _drafts(out)
    assert len(results[inline]) == 2 * rows and results[excel] == results[inline]
    assert list(spare.iterdir()) == []  # the texts' file never had a name there


def test_a_long_table_of_texts_gives_the_drafts_the_cells_give(runner, tmp_path, workbooks, monkeypatch):
    # (its texts are read back from the file in a random order, past the blocks kept in memory)
    assert UNUSED > text_table.IN_MEMORY + text_table.BLOCK * text_table.KEPT
    _same_drafts(runner, tmp_path, *workbooks, monkeypatch)


@pytest.mark.parametrize("beyond", [1, text_table.BLOCK - 1, text_table.BLOCK])
def test_the_last_texts_of_a_table_just_over_the_limit_are_read(runner, tmp_path, monkeypatch, beyond):
    """In Excel's order the last rows' texts come last: a table a text or a few past what
    is held in memory lost them (fewer than a block waiting for the file), and the last rows
    were refused as damaged."""
    inline = tmp_path / "inline.xlsx"
    _workbook(inline, _rows())
    with zipfile.ZipFile(inline) as book:
        used = len(set(match.group(2) for match in _INLINE.finditer(book.read("xl/worksheets/sheet1.xml"))))
    excel = _with_long_table(inline, tmp_path / "excel.xlsx", seed=None, unused=text_table.IN_MEMORY + beyond - used)
    _same_drafts(runner, tmp_path, inline, excel, monkeypatch)


def test_long_narratives_are_held_by_their_length_too(runner, tmp_path, monkeypatch):
    """Memory is bounded in characters as well as texts: a sheet of long event descriptions
    (4,000 characters each, 4.8 million in all, in a random order) spills well before 50,000
    texts and keeps fewer blocks read back, and reads the same."""
    rows = _rows(1200)
    for row in rows:
        row["event/description"] = ((row["event/description"] + " ") * 200)[:4000].strip()
    assert (sum(len(row["event/description"]) for row in rows)
            > text_table.IN_MEMORY_CHARACTERS + text_table.KEPT_CHARACTERS)
    inline = tmp_path / "inline.xlsx"
    _workbook(inline, rows)
    excel = _with_long_table(inline, tmp_path / "excel.xlsx", seed=3, unused=0)
    _same_drafts(runner, tmp_path, inline, excel, monkeypatch, rows=1200)


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


class _FullDisk(io.RawIOBase):
    """A file on a full disk: it opens, and its writes fail (as the file object's buffer
    is flushed: when the table is done, and again when the file is closed)."""

    def writable(self):
        return True

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["opening", "writing"])
def test_no_room_for_the_texts_is_said_with_what_to_do(runner, tmp_path, workbooks, monkeypatch, where):
    """A full temporary folder (simulated: no test can fill a disk) stops the run before it
    begins, with a message naming the workbook, the folder and TMPDIR, not a traceback, and
    not "not a readable workbook"."""
    def full(*args, **kwargs):
        if where == "writing":
            return io.BufferedWriter(_FullDisk())
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(workbooks[1]), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.strip() == (f"Error: {workbooks[1]}: its texts could not be set aside in a temporary file in "
                                     f"{tempfile.gettempdir()} (No space left on device): set TMPDIR to a folder "
                                     "with room")
    assert not out.exists()  # nothing begun: the same command runs once there is room


def test_no_usable_temporary_folder_at_all_is_said_too(runner, tmp_path, workbooks, monkeypatch):
    """Python finds no temporary folder it can write (TMPDIR, /tmp, /var/tmp and the current
    folder all refused; simulated): the message says which it tried, not that the workbook
    is unreadable."""
    def nowhere(*args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, "No usable temporary directory found in ['/nowhere', '/tmp']")

    monkeypatch.setattr(tempfile, "TemporaryFile", nowhere)
    monkeypatch.setattr(tempfile, "gettempdir", nowhere)
    result = runner.invoke(main, ["batch", str(workbooks[1]), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (f"Error: {workbooks[1]}: its texts could not be set aside in a temporary file "
                                     "(No usable temporary directory found in ['/nowhere', '/tmp']): set TMPDIR to "
                                     "a folder with room")


def test_a_system_without_pread_reads_the_texts_back_alike(runner, tmp_path, workbooks, monkeypatch):
    """Windows has no os.pread: the file is read with seek and read there."""
    monkeypatch.delattr(os, "pread")
    _same_drafts(runner, tmp_path, *workbooks, monkeypatch)


def test_a_workbook_damaged_after_its_texts_closes_their_file(runner, tmp_path, workbooks, monkeypatch):
    """A part read after the table (here the styles) is damaged: the workbook is refused as
    before, and the table's file is closed by the reader, not left for Python to collect
    (which warns of an unclosed file, and may come late)."""
    from test_batch import _rewrite_sheet

    excel = workbooks[1]
    _rewrite_sheet(excel, rb"<styleSheet", b"<styleSheet><broken", "xl/styles.xml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = runner.invoke(main, ["batch", str(excel), "--out", str(tmp_path / "o"), "--jobs", "1"])
        gc.collect()
    assert result.exit_code == 1 and "not a readable Excel .xlsx workbook" in result.output, result.output
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
