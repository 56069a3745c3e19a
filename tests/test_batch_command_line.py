"""`medwatch batch` as scripts, services and hurried users call it: inputs in the output
folder, resumes read another way, closed streams, empty names, Ctrl-C before any row."""
import csv
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

from medwatch_tool.cli import main

from test_batch import columns_of, example_rows, read_problems, write_csv


def test_an_input_in_the_out_folder_under_an_output_name_is_refused_untouched(runner, tmp_path):
    """It was replaced by the run's problems.csv (or a draft, or a page), atomically: the rows gone."""
    for name, render in (("problems.csv", []), ("ITB-2026-0117.txt", ["--render", "text"]),
                         ("events.xml", [])):
        folder = tmp_path / name
        folder.mkdir()
        src = write_csv(folder / name, example_rows())
        before = src.read_bytes()
        result = runner.invoke(main, ["batch", str(src), "--out", str(folder), *render])
        assert result.exit_code == 1
        assert "lies in the --out folder under a name this run writes" in result.output
        assert src.read_bytes() == before and [p.name for p in folder.iterdir()] == [name]
    beside = tmp_path / "beside"  # an input of another name may lie there, as before
    beside.mkdir()
    src = write_csv(beside / "events.csv", example_rows())
    assert runner.invoke(main, ["batch", str(src), "--out", str(beside)]).exit_code == 0


def test_a_resume_reading_the_input_another_way_is_refused(runner, tmp_path):
    """A CSV named .json failed every line as JSON; renamed .csv, --resume took its rows for
    done (the same bytes) and drafted none of them. Such a file is now refused before a row
    is read; a run that read its input one way is still not resumed reading it another (a
    tab-separated file named .csv, then .tsv)."""
    wrong = write_csv(tmp_path / "events.json", example_rows())
    first = runner.invoke(main, ["batch", str(wrong), "--out", str(tmp_path / "json")])
    assert first.exit_code == 1 and "is CSV text" in first.output and not (tmp_path / "json").exists()
    tabbed = tmp_path / "events.csv"
    with open(tabbed, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter="\t").writerows([columns_of(example_rows())] + [
            [row.get(column, "") for column in columns_of(example_rows())] for row in example_rows()])
    out = tmp_path / "o"
    begun = runner.invoke(main, ["batch", str(tabbed), "--out", str(out)])
    assert begun.exit_code == 0 and "3 drafted" in begun.output, begun.output
    renamed = tmp_path / "events.tsv"
    renamed.write_bytes(tabbed.read_bytes())
    again = runner.invoke(main, ["batch", str(renamed), "--out", str(out), "--resume"])
    assert again.exit_code == 2  # a usage error, as --help says: nothing is done
    assert ("it read its input as CSV, and this run reads it as tab-separated text (by its name, or "
            "--input-format)" in again.output)
    assert "To draft the changed file" not in again.output  # nothing changed in it


def test_a_run_that_journaled_no_row_does_not_hold_its_folder(runner, tmp_path):
    """A header-only template drafts nothing; filled in and run again, it was told "already
    holds a batch run: add --resume", and then that the file had changed."""
    template = tmp_path / "events.csv"
    assert runner.invoke(main, ["fields", "--csv-template"]).exit_code == 0
    template.write_text(runner.invoke(main, ["fields", "--csv-template"]).output, encoding="utf-8")
    out = tmp_path / "o"
    empty = runner.invoke(main, ["batch", str(template), "--out", str(out)])
    assert empty.exit_code == 0 and "0 drafted" in empty.output
    write_csv(template, example_rows())
    filled = runner.invoke(main, ["batch", str(template), "--out", str(out)])
    assert filled.exit_code == 0 and "3 drafted, 0 with errors" in filled.output, filled.output


def test_an_empty_out_folder_name_is_a_usage_error(runner, tmp_path):
    """--out "$DIR" with DIR unset meant the current folder: drafts scattered where the script ran."""
    src = write_csv(tmp_path / "events.csv", example_rows())
    result = runner.invoke(main, ["batch", str(src), "--out", ""])
    assert result.exit_code == 2 and "is empty: name the folder for the drafts" in result.output


def test_render_takes_its_value_in_any_case(runner, tmp_path):
    src = write_csv(tmp_path / "events.csv", example_rows())
    assert runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--render", "HTML"]).exit_code == 0
    assert len(list((tmp_path / "o").glob("*.html"))) == 3


def test_a_run_with_standard_error_closed_drafts_and_says_so_on_standard_output(console_script, tmp_path):
    """Started by a service with stderr closed, the run did nothing and exited 1 without a word."""
    src = write_csv(tmp_path / "events.csv", example_rows())
    done = subprocess.run(f"'{console_script}' batch '{src}' --out '{tmp_path / 'o'}' 2>&-", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "3 drafted, 0 with errors" in done.stdout
    assert len(list((tmp_path / "o").glob("*.xml"))) == 3


def test_closed_standard_input_is_said_in_words(console_script, tmp_path):
    done = subprocess.run(f"'{console_script}' batch - --out '{tmp_path / 'o'}' <&-", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "unexpected" not in done.stderr
    assert "standard input is closed" in done.stderr


def test_ctrl_c_while_waiting_for_the_input_is_an_interruption(console_script, tmp_path):
    """On a named pipe nobody writes to yet, Ctrl-C gave click's "Aborted!" and exit 1."""
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    proc = subprocess.Popen([str(console_script), "batch", str(fifo), "--out", str(tmp_path / "o")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # (started, and waiting in open())
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted before any row was read" in stderr and "Aborted" not in stderr


def test_a_folder_turned_read_only_at_the_end_is_no_internal_error(runner, tmp_path, monkeypatch):
    """Removing the draft-name index failed (the folder read-only, say) and the run ended in
    "unexpected PermissionError ... please report it", without its summary."""
    real = pathlib.Path.unlink

    def refused(self, *args, **kwargs):
        if ".medwatch-batch-names" in self.name:
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "unlink", refused)
    src = write_csv(tmp_path / "events.csv", example_rows())
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 0 and "3 drafted, 0 with errors" in result.output, result.output
    assert not read_problems(tmp_path / "o")


def test_a_comma_separated_file_named_tsv_is_read(runner, tmp_path):
    """It was refused as one column 'admin/report_id,admin/form,...' that is no field, though a
    tab-separated file named .csv is read; the header line tells which it is."""
    src = tmp_path / "events.tsv"
    src.write_bytes(write_csv(tmp_path / "events.csv", example_rows()).read_bytes())
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0 and "3 drafted, 0 with errors" in result.output, result.output


def as_a_user(command):
    """`command` run without the power to pass a folder's permissions (root has it: it is
    then dropped with setpriv, where the system has it)."""
    if os.geteuid() != 0:
        return command
    if not shutil.which("setpriv"):
        pytest.skip("running as root, and no setpriv to drop the power to pass permissions")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", "--bounding-set", caps, "--inh-caps", caps] + command


def test_a_folder_that_may_not_be_searched_is_said_as_such(console_script, tmp_path):
    """The input in it, or --out in it: "unexpected PermissionError ... please report it"."""
    closed = tmp_path / "closed"
    closed.mkdir()
    write_csv(closed / "events.csv", example_rows())
    src = write_csv(tmp_path / "events.csv", example_rows())
    closed.chmod(0o600)  # readable, not searchable: nothing in it can be reached
    try:
        for args, said in ((["batch", str(closed / "events.csv"), "--out", str(tmp_path / "o")],
                            f"Error: {closed / 'events.csv'}: cannot be read (Permission denied)"),
                           (["batch", str(src), "--out", str(closed / "o")],
                            f"Error: {closed / 'o'}: cannot write here (Permission denied)")):
            done = subprocess.run(as_a_user([str(console_script), *args]), capture_output=True, text=True, timeout=60)
            assert (done.returncode, done.stderr.strip()) == (1, said)
    finally:
        closed.chmod(0o700)
    assert not (tmp_path / "o").exists()


def test_rows_typed_at_a_terminal_end_with_one_ctrl_d(console_script, tmp_path):
    """The prompt says "then Ctrl-D"; one did nothing ('Drafting 0/0'), a second drafted."""
    pexpect = pytest.importorskip("pexpect")
    src = write_csv(tmp_path / "events.csv", example_rows())
    child = pexpect.spawn(str(console_script), ["batch", "-", "--out", str(tmp_path / "o"), "--jobs", "1"],
                          encoding="utf-8", timeout=30)
    child.expect("then Ctrl-D")
    for line in src.read_text(encoding="utf-8").splitlines():
        child.sendline(line)
    child.sendeof()
    assert child.expect(["3 drafted, 0 with errors", pexpect.TIMEOUT], timeout=20) == 0, child.before
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
