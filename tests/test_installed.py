"""The installed console script works from any folder: schemas and templates ship inside."""
import os
import subprocess
import sys

import pytest


def test_console_script_from_another_folder(console_script, examples, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    drafts = sorted(str(p) for p in examples.glob("*.xml"))
    done = subprocess.run([str(console_script), "validate", *drafts], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": valid") == len(drafts)
    out = tmp_path / "kink.html"
    done = subprocess.run([str(console_script), "render", drafts[0], "--to", "html", "-o", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "<th class=\"box\">A1</th>" in out.read_text()


def test_python_dash_m_and_version(tmp_path):
    done = subprocess.run([sys.executable, "-m", "medwatch_tool", "--version"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("medwatch, version ")


def test_bad_input_has_no_traceback_in_a_real_process(console_script, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    done = subprocess.run([str(console_script), "render", str(bad)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: {bad}: this is not an XML file (binary data)"


PRINTING = [["fields"], ["fields", "--csv-template"], ["fields", "--jsonl-template"], ["fields", "--format", "csv"],
            ["fields", "--format", "json"], ["e2b", "mapping"], ["render", "{example}"]]


def _printing(command, examples):
    return [word.format(example=examples / "baclofen-overdose.xml") for word in command]


def test_a_result_sent_to_a_full_disk_is_said_not_a_surprise(console_script, examples, tmp_path):
    """`medwatch fields > /dev/full` said "unexpected OSError ... please report it"."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here (Linux and FreeBSD have one)")
    for command in PRINTING:
        with open("/dev/full", "w") as full:
            done = subprocess.run([str(console_script), *_printing(command, examples)], cwd=tmp_path,
                                  stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
        assert (done.returncode, done.stderr.splitlines()[-1:]) == \
            (1, ["Error: standard output: cannot be written (No space left on device)"]), command


def test_a_result_with_its_output_closed_is_refused_not_lost(console_script, examples, tmp_path):
    """Started with standard output closed (`>&-`): `fields --csv-template` failed as an
    internal error, `render` printed nothing and exited 0."""
    for command in PRINTING:
        done = subprocess.run([str(console_script), *_printing(command, examples)], cwd=tmp_path,
                              stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=lambda: os.close(1))
        assert (done.returncode, done.stderr.splitlines()[-1:]) == \
            (1, ["Error: standard output: is closed, so the result cannot be shown: send it to a file (> FILE)"]), command


def test_a_reader_that_leaves_early_is_no_error(console_script, examples, tmp_path):
    for command in PRINTING:
        shown = subprocess.Popen([str(console_script), *_printing(command, examples)], cwd=tmp_path,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        shown.stdout.read(1)
        shown.stdout.close()  # as `| head -c 1` does
        assert shown.wait(timeout=60) == 0, command
        assert shown.stderr.read() == b"", command


def test_a_result_cut_short_by_a_file_size_limit_is_said_not_reported_done(console_script, tmp_path):
    """A nearly full disk or a size limit writes part of a result: Python's stream took the
    short write as done and `fields > events.csv` exited 0 with the file cut short."""
    import resource

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # Python ignores SIGXFSZ: the write fails

    target = tmp_path / "fields.txt"
    for command in (["fields"], ["fields", "--format", "json"]):  # 13 KB and more: over the limit
        with open(target, "w") as out:
            done = subprocess.run([str(console_script), *command], cwd=tmp_path, stdout=out,
                                  stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=limited)
        assert (done.returncode, done.stderr.splitlines()[-1:]) == \
            (1, ["Error: standard output: cannot be written (File too large)"]), command
        assert target.stat().st_size == 4096


def test_a_closed_standard_input_is_no_matter_for_a_named_file_and_said_for_dash(console_script, examples, tmp_path):
    """Started with standard input closed (a service, cron): a batch from a named file wrote
    its drafts, then ended in "unexpected AttributeError ... please report it" (exit 1), and
    `validate -` / `render -` failed the same way."""
    closed = dict(cwd=tmp_path, capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.close(0))
    from test_batch import example_rows, write_csv

    rows = write_csv(tmp_path / "rows.csv", example_rows())
    done = subprocess.run([str(console_script), "batch", str(rows), "--out", str(tmp_path / "o")], **closed)
    assert (done.returncode, done.stdout, done.stderr) == (0, "3 drafted, 0 with errors, 0 warnings\n", "")
    assert len(list((tmp_path / "o").glob("*.xml"))) == 3
    for command in (["validate", "-"], ["render", "-"]):
        done = subprocess.run([str(console_script), *command], **closed)
        assert (done.returncode, done.stderr.strip()) == \
            (1, "Error: standard input: is closed: send the draft in (< FILE), or name a file"), command


def test_help_version_and_other_output_on_a_full_disk_are_one_line(console_script, examples, tmp_path):
    """`medwatch --help > /dev/full` ended in a traceback; `validate DRAFT > /dev/full` in
    "unexpected OSError ... please report it": a full disk is no bug to report."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here (Linux and FreeBSD have one)")
    for command in (["--help"], ["--version"], ["validate", "--help"],
                    ["validate", str(examples / "baclofen-overdose.xml")]):
        with open("/dev/full", "w") as full:
            done = subprocess.run([str(console_script), *command], cwd=tmp_path, stdout=full,
                                  stderr=subprocess.PIPE, text=True, timeout=60)
        assert (done.returncode, done.stderr) == (1, "Error: cannot write (No space left on device)\n"), command


def test_an_e2b_export_is_written_though_its_warnings_cannot_be_printed(console_script, examples, tmp_path):
    """The warnings were printed before the file was written: on a full standard error (or
    a reader leaving it early, `2>&1 | head`) the export ended and the file was never written."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here (Linux and FreeBSD have one)")
    out = tmp_path / "icsr.xml"
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(console_script), "e2b", "export", str(examples / "baclofen-overdose.xml"),
                               "-o", str(out), "--sender-organisation", "Clinic"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=full, text=True, timeout=120)
    assert done.returncode == 1  # the warnings could not be said
    assert out.read_bytes().startswith(b"<?xml") and b"MCCI_IN200100UV01" in out.read_bytes()


def test_render_gives_its_page_though_the_draft_s_problems_cannot_be_printed(console_script, tmp_path):
    """The problems were printed first: on a full standard error `render` exited with nothing
    on standard output, the page lost because of a warning about the draft."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here (Linux and FreeBSD have one)")
    from helpers import example_tree, set_text, write

    root = example_tree()
    set_text(root, "event/event_date", "2026-02-30")  # a problem to print
    unfinished = write(root, tmp_path, "unfinished.xml")
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(console_script), "render", str(unfinished)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=full, text=True, timeout=60)
    normal = subprocess.run([str(console_script), "render", str(unfinished)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert "B3" in normal.stderr and "drafted with medwatch-tool" in normal.stdout
    assert (done.returncode, done.stdout) == (1, normal.stdout)  # the page whole; the problem could not be said


def test_validate_checks_every_file_for_its_exit_status_when_its_reader_leaves_early(console_script, tmp_path):
    """`validate good.xml good.xml bad.xml | head -c 1` exited 0: the reader's leaving ended
    the run before the invalid draft was checked, and a script (pipefail) took all as valid."""
    from helpers import EXAMPLES, example_tree, set_text, write

    root = example_tree()
    set_text(root, "event/event_date", "2026-02-30")
    bad = write(root, tmp_path, "bad.xml")
    good = EXAMPLES / "baclofen-overdose.xml"
    shown = subprocess.Popen([str(console_script), "validate", str(good), str(good), str(bad)], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    shown.stdout.read(1)
    shown.stdout.close()  # as `| head -c 1` does
    assert shown.wait(timeout=60) == 1
    assert b"B3 Date of event" in shown.stderr.read()  # its error is still said


def test_the_wizard_with_a_stream_closed_or_its_reader_gone_says_so_and_keeps_the_answers(console_script, tmp_path):
    """With standard output or input closed the wizard ended in "unexpected RuntimeError:
    input(): lost sys.stdout ... please report it"; with its questions' reader gone
    (`| true`) it exited 0 as if done."""
    for fd, which in ((1, "output"), (0, "input")):
        done = subprocess.run([str(console_script), "new", "-o", str(tmp_path / f"closed{fd}.xml")], cwd=tmp_path,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=60, preexec_fn=lambda fd=fd: os.close(fd))
        assert done.returncode == 1
        assert done.stderr.strip() == (f"Error: standard {which} is closed: the wizard asks its questions there (run "
                                       "it in a terminal, or give it answers on standard input)")
    left = subprocess.Popen([str(console_script), "new", "-o", str(tmp_path / "left.xml")], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    left.stdout.close()  # the reader of its questions is gone, as with `| true`
    left.stdin.write(b"x\n\n\n")
    left.stdin.close()
    assert left.wait(timeout=60) == 1
    assert b"Stopped. Every answer so far is saved in" in left.stderr.read()
