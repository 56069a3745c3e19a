"""A batch run as a process: its file names, its worker processes, and what it leaves in the
output folder when it is killed, stopped or resumed."""
import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from medwatch_tool.cli import main
from medwatch_tool.draft import nest
from medwatch_tool.journal import JOURNAL

from test_batch import (children, columns_of, example_rows, mixed_rows, numbered_rows, read_problems, started_batch,
                        write_csv)


def ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # a zombie has ended; only reaping is left


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="finds the worker processes in /proc")
def test_workers_end_when_the_main_process_is_killed(console_script, tmp_path):
    """A worker held the main process's end of its own pipe: killed from outside (the
    out-of-memory killer picks one process), the main process left its workers waiting for a
    task forever, and `medwatch batch ... | cat` never ended."""
    src = write_csv(tmp_path / "big.csv", numbered_rows(3000))
    out = tmp_path / "o"
    proc = started_batch(console_script, src, out, journaled=2000)
    workers = children(proc.pid)
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and not all(ended(w) for w in workers):
        time.sleep(0.05)
    left = [w for w in workers if not ended(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, "worker processes outlived the killed run"


def test_a_follow_up_number_names_one_file_however_it_is_written(runner, tmp_path):
    """The file name took the follow-up cell as written: 'N/A' named a file in a folder that
    does not exist ('CASE-1-followup-N/A.xml') and stopped every run for good; '01', '1.0' and
    '+1' drafted follow-up 1 three times over, under three names."""
    base = example_rows()[0]
    cells = ["1", "01", "1.0", "+1", "N/A", "2", "abc"]
    rows = [dict(base, **{"admin/report_id": "CASE-1", "admin/follow_up": cell}) for cell in cells]
    src = write_csv(tmp_path / "follow.csv", rows)
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert "cannot write" not in result.output
    assert sorted(p.name for p in out.glob("*.xml")) == ["CASE-1-followup-1.xml", "CASE-1-followup-2.xml",
                                                        "CASE-1.xml"]
    problems = {(p["row"], p["path"]) for p in read_problems(out)}
    assert problems == {("3", "admin/report_id"), ("4", "admin/report_id"), ("5", "admin/report_id"),
                        ("8", "admin/follow_up")}
    assert "3 drafted, 4 with errors" in result.output


def test_a_lost_draft_is_redrafted_though_a_later_row_repeats_its_id(runner, tmp_path):
    """The name index was rebuilt from the journal with the later row's claim first: the
    lost draft's own row was then refused as the duplicate, and the draft was never
    redrafted, by any number of --resume runs."""
    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows())]
    rows.append(dict(rows[0], **{"admin/report_id": "r0"}))  # the same file name as row 2's, in another case
    src = write_csv(tmp_path / "dup.csv", rows)
    out = tmp_path / "o"
    first = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert first.exit_code == 1
    (out / "R0.xml").unlink()  # as a power cut may lose a draft not yet on disk
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert again.exit_code == 1
    assert (out / "R0.xml").exists()
    assert [(p["row"], p["path"]) for p in read_problems(out)] == [(str(len(rows) + 1), "admin/report_id")]
    assert read_problems(out)[0]["message"].startswith("row 2 has the same draft name r0.xml")


def test_one_run_at_a_time_and_sigterm_stops_cleanly(console_script, runner, tmp_path):
    """Two runs into one folder (a --resume typed in a second terminal while the first still
    ran) each journaled the same rows: problems.csv listed every problem twice, for good. And
    SIGTERM (`timeout`, a service manager) ended a run with no word and no problems.csv."""
    rows = numbered_rows(6000)
    src = write_csv(tmp_path / "big.csv", rows)
    out = tmp_path / "o"
    proc = started_batch(console_script, src, out, jobs="1")
    journal = out / ".medwatch-batch.jsonl"
    second = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert second.exit_code == 1
    assert f"Error: {out}: another medwatch batch run is writing into this folder now" in second.output
    fresh = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])  # not "add --resume"
    assert fresh.exit_code == 1
    assert f"Error: {out}: another medwatch batch run is writing into this folder now" in fresh.output
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "interrupted: the " in stderr and "--resume" in stderr and "Traceback" not in stderr
    assert (out / "problems.csv").exists()
    done = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "2", "--resume"])
    assert done.exit_code == 1
    problems = [(p["row"], p["path"], p["message"]) for p in read_problems(out)]
    assert len(problems) == len(set(problems)), "a problem was written twice"
    entries = [line for line in journal.open()]
    assert len(entries) == len(rows)


def test_files_a_killed_run_was_writing_are_removed_by_the_next(runner, tmp_path):
    """`.NAME.PID.tmp`: a draft cut short by a kill, with health data in it, was left for good
    (--resume replaced only its own process id's)."""
    src = write_csv(tmp_path / "e.csv", example_rows())
    out = tmp_path / "o"
    assert runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"]).exit_code == 0
    ended = subprocess.Popen(["true"])
    ended.wait()  # a process id no process has now (as a killed run's)
    (out / f".ITB-2026-0117.xml.{ended.pid}.tmp").write_text("<report")
    (out / f".problems.csv.{ended.pid}.tmp").write_text("row,")
    (out / ".my-notes.tmp").write_text("the user's own")
    (out / f".by-hand.xml.{os.getppid()}.tmp").write_text("<report")  # a running process's (medwatch new -o)
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert again.exit_code == 0
    assert sorted(p.name for p in out.glob(".*.tmp")) == [f".by-hand.xml.{os.getppid()}.tmp", ".my-notes.tmp"]


def test_resume_keeps_the_run_s_render_and_input_kind(runner, tmp_path):
    """Resumed with another --render, a run left pages of two kinds (or none for some drafts);
    begun on standard input and resumed on a file, it skipped the file's first rows unread."""
    src = write_csv(tmp_path / "e.csv", example_rows())
    out = tmp_path / "o"
    first = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--render", "html"])
    assert first.exit_code == 0
    other = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--render", "text", "--resume"])
    assert other.exit_code == 2 and "it began with --render html; resume it with the same" in other.output
    none = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert none.exit_code == 2 and "it began with --render html" in none.output
    same = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--render", "html", "--resume"])
    assert same.exit_code == 0 and "3 rows done by an earlier run" in same.output
    assert not list(out.glob("*.txt"))

    piped_out = tmp_path / "p"
    piped = runner.invoke(main, ["batch", "-", "--out", str(piped_out), "--jobs", "1"], input=src.read_bytes())
    assert piped.exit_code == 0
    from_file = runner.invoke(main, ["batch", str(src), "--out", str(piped_out), "--jobs", "1", "--resume"])
    assert from_file.exit_code == 2 and "it began on standard input, which cannot be compared" in from_file.output
    again = runner.invoke(main, ["batch", "-", "--out", str(piped_out), "--jobs", "1", "--resume"],
                          input=src.read_bytes())
    assert again.exit_code == 0
    assert "note: -: standard input cannot be compared with what the run began on" in again.output


def test_rows_added_by_a_resume_are_checked_by_the_next(runner, tmp_path):
    """Only the first run's part of the file was compared: a row added for one resume and
    edited before the next was skipped as done, its old draft kept."""
    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows())]
    src = tmp_path / "e.csv"

    def write(count):
        with open(src, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns_of(rows))
            writer.writeheader()
            writer.writerows(rows[:count])

    write(2)
    out = tmp_path / "o"
    assert runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"]).exit_code == 0
    write(3)  # a row added at the end
    added = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert added.exit_code == 0 and "(2 rows done by an earlier run, counted in)" in added.output
    rows[2]["event/description"] = "Corrected after the resume."
    write(3)
    edited = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert edited.exit_code == 1 and "has changed since the batch run" in edited.output


def test_a_workbook_saved_again_is_refused_with_the_reason(runner, tmp_path):
    import openpyxl

    rows = example_rows()
    header = list(rows[0])

    def save(count):
        book = openpyxl.Workbook()
        book.active.append(header)
        for row in rows[:count]:
            book.active.append([row.get(k, "") for k in header])
        book.save(tmp_path / "e.xlsx")

    save(1)
    out = tmp_path / "o"
    runner.invoke(main, ["batch", str(tmp_path / "e.xlsx"), "--out", str(out), "--jobs", "1"])
    save(2)
    again = runner.invoke(main, ["batch", str(tmp_path / "e.xlsx"), "--out", str(out), "--jobs", "1", "--resume"])
    assert again.exit_code == 1
    assert "a workbook saved again changes as a whole, so --resume takes it only unchanged" in again.output
    assert "rows added at its end would be fine" not in again.output


def test_folders_made_for_drafts_are_owner_only_whatever_the_umask(runner, tmp_path):
    src = write_csv(tmp_path / "e.csv", example_rows())
    previous = os.umask(0)
    try:
        result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "a" / "b" / "c"), "--jobs", "1"])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert folder.stat().st_mode & 0o777 == 0o700, folder


def test_a_journal_that_is_a_link_is_refused(runner, tmp_path):
    """Followed, the journal's rows (cell values) were appended to whatever file it pointed to."""
    src = write_csv(tmp_path / "e.csv", example_rows())
    out = tmp_path / "o"
    out.mkdir()
    target = tmp_path / "elsewhere.txt"
    target.write_text("someone's file\n")
    (out / ".medwatch-batch.jsonl").symlink_to(target)
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert result.exit_code == 1 and "is a symbolic link, which a batch journal never is" in result.output
    assert target.read_text() == "someone's file\n"


def test_a_repeated_report_id_in_json_lines_names_the_line(runner, tmp_path):
    from medwatch_tool.draft import nest

    row = example_rows()[0]
    src = tmp_path / "e.jsonl"
    src.write_text("".join(json.dumps(nest(row)) + "\n" for _ in range(2)), encoding="utf-8")
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1
    [problem] = read_problems(out)
    assert problem["row"] == "2" and problem["message"].startswith("line 1 has the same draft name")


def test_a_signal_between_two_chunks_is_an_interruption_not_a_finished_run(runner, tmp_path, monkeypatch):
    """A signal that came after the last result in hand and before the next chunk was sent
    stopped the run without a word: "drafted ... 0 with errors", exit 0, rows undrafted."""
    from medwatch_tool import batch
    from medwatch_tool.drafting import CHUNK

    real = batch._chunked

    def signalled_at_the_second(*args):
        for number, chunk in enumerate(real(*args)):
            if number == 1:
                os.kill(os.getpid(), signal.SIGTERM)  # as if sent now, between the two chunks
            yield chunk

    monkeypatch.setattr(batch, "_chunked", signalled_at_the_second)
    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows() * CHUNK)]
    src = write_csv(tmp_path / "e.csv", rows)
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 143, result.output
    assert f"{CHUNK} drafted" in result.output
    assert f"interrupted: the {CHUNK} rows done so far are kept" in result.output


def test_a_caller_of_run_batch_gets_ctrl_c_back_after_a_second_one_stopped_it(tmp_path):
    """A second Ctrl-C stops a run at once (KeyboardInterrupt) and more are ignored while it
    closes; afterwards Ctrl-C was still ignored in the program that called run_batch."""
    from medwatch_tool.batch import run_batch
    from medwatch_tool.readers import open_source

    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows() * 20)]
    source = open_source(str(write_csv(tmp_path / "e.csv", rows)))
    seen = []

    def pressed_twice(outcome):
        seen.append(outcome)
        if len(seen) in (2, 3):
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        run_batch(source, tmp_path / "o", on_row=pressed_twice)
    source.close()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert (tmp_path / "o" / "problems.csv").exists()  # closed as after one Ctrl-C: problems.csv written


def test_a_closed_terminal_stops_the_run_cleanly(console_script, runner, tmp_path):
    """A run on a terminal whose window is closed (SIGHUP, then EIO on every write) failed
    on its progress bar: exit 1, and rows drafted but never journaled. It stops as for
    Ctrl-C: exit 129, problems.csv written, --resume finishes."""
    import pty

    rows = numbered_rows(6000)
    src = write_csv(tmp_path / "big.csv", rows)
    out = tmp_path / "o"
    controller, terminal = pty.openpty()
    proc = started_batch(console_script, src, out, jobs="1", stdin=terminal, stdout=terminal, stderr=terminal,
                         start_new_session=True)
    os.close(terminal)
    journal = out / ".medwatch-batch.jsonl"
    os.close(controller)  # the window is closed
    os.killpg(proc.pid, signal.SIGHUP)
    assert proc.wait(timeout=60) == 129
    assert (out / "problems.csv").exists()
    done = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert done.exit_code == 1 and "rows done by an earlier run, counted in" in done.output
    assert sorted(json.loads(line)["row"] for line in journal.open()) == list(range(2, 2 + len(rows)))


def test_a_row_repeating_a_failed_row_s_id_is_refused_whether_or_not_the_run_was_interrupted(runner, tmp_path):
    """The same input gives the same drafts: a row with the report id of an earlier row that
    failed is refused as its repeat in one run, and so it is when the run was interrupted
    between the two and resumed (a review found it drafted then: a second case keyed with
    the wrong id would have been filed as that report, depending on a Ctrl-C)."""
    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows())]
    failing = dict(rows[1], **{"event/event_date": "2026-13-01"})  # row 3: no month 13
    whole = [rows[0], failing, rows[2], rows[1]]  # row 5: R1 again, valid
    one_run = tmp_path / "one"
    src = write_csv(tmp_path / "all.csv", whole)
    result = runner.invoke(main, ["batch", str(src), "--out", str(one_run), "--jobs", "1"])
    assert result.exit_code == 1 and "2 drafted, 2 with errors" in result.output
    src = write_csv(tmp_path / "grown.csv", whole[:3])  # as if interrupted after row 4
    resumed = tmp_path / "resumed"
    assert runner.invoke(main, ["batch", str(src), "--out", str(resumed), "--jobs", "1"]).exit_code == 1
    write_csv(src, whole)
    again = runner.invoke(main, ["batch", str(src), "--out", str(resumed), "--jobs", "1", "--resume"])
    assert again.exit_code == 1 and "2 drafted, 2 with errors" in again.output
    for out in (one_run, resumed):
        assert sorted(p.name for p in out.glob("*.xml")) == ["R0.xml", "R2.xml"]
        assert [(p["row"], p["message"][:30]) for p in read_problems(out)] == \
            [("3", read_problems(out)[0]["message"][:30]), ("5", "row 3 has the same draft name ")]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_row_added_to_an_input_without_a_final_line_break_is_not_skipped_unread(runner, tmp_path, kind):
    """The input's last row had no line break: a row added at its end joined it, that joined
    row was done already, and --resume skipped the new row without a word."""
    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows())]
    failing = dict(rows[1], **{"event/event_date": "2026-13-01"})
    src = tmp_path / f"e.{kind}"

    group = [rows[0], rows[2], failing, dict(rows[1], **{"admin/report_id": "R9"})]  # the last one added later
    if kind == "csv":  # one header for all four
        lines = write_csv(tmp_path / "all.csv", group).read_text(encoding="utf-8").splitlines(keepends=True)
    else:
        lines = [json.dumps(nest(r)) + "\n" for r in group]
    src.write_text("".join(lines[:-1]).rstrip("\r\n"), encoding="utf-8", newline="")  # no final line break
    out = tmp_path / "o"
    first = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert first.exit_code == 1 and "2 drafted, 1 with errors" in first.output
    corrected = lines[-1]
    with src.open("a", encoding="utf-8", newline="") as handle:
        handle.write(corrected)
    refused = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert refused.exit_code == 1
    assert "the input's last row had no line break at its end" in refused.output
    assert not (out / "R9.xml").exists()
    data = src.read_bytes()  # the line break put where the message says
    cut = data.rindex(corrected.encode("utf-8"))
    src.write_bytes(data[:cut] + b"\n" + data[cut:])
    done = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert "3 drafted, 1 with errors" in done.output and (out / "R9.xml").exists()


def test_a_draft_lost_and_drafted_again_is_counted_once_by_every_later_resume(runner, tmp_path):
    """A draft lost (a power cut) was drafted again by --resume, and the journal then held its
    row twice: each later --resume counted it twice ('3 drafted' for 2 rows) and listed its
    problems twice in problems.csv."""
    warn, human = (r for r in mixed_rows() if r["admin/report_id"] in ("WARN", "HUMAN"))
    src = write_csv(tmp_path / "two.csv", [warn, human])
    out = tmp_path / "o"
    first = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    warnings = [(p["row"], p["path"], p["message"]) for p in read_problems(out)]
    assert first.exit_code == 0 and warnings and {row for row, _, _ in warnings} == {"2"}
    (out / "WARN.xml").unlink()
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert again.exit_code == 0 and (out / "WARN.xml").exists()
    for _ in range(2):
        later = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
        assert later.exit_code == 0
        assert later.output.startswith(f"2 drafted, 0 with errors, {len(warnings)} warning")
        assert "(2 rows done by an earlier run, counted in)" in later.output
        assert [(p["row"], p["path"], p["message"]) for p in read_problems(out)] == warnings


def test_an_output_folder_moved_away_mid_run_stops_the_run_and_is_not_made_again(console_script, tmp_path):
    """Moved (or removed) while a run wrote into it, the folder was made again, at the
    umask's mode and without journal or lock, and took the rest of the drafts; the run said
    "6000 drafted" and exited 0 while its journal and problems.csv went with the moved one."""
    src = write_csv(tmp_path / "big.csv", numbered_rows(6000))
    out = tmp_path / "o"
    proc = started_batch(console_script, src, out, journaled=2000)
    out.rename(tmp_path / "o.moved")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert f"{out}: cannot write here (the folder is gone: moved or removed while the run wrote into it)" in err
    assert not out.exists()


@pytest.mark.parametrize("render", ["html", "text"])
def test_a_page_lost_or_left_empty_is_rendered_again_by_resume(runner, tmp_path, render):
    """After a power cut a page, like a draft, may be missing or empty (neither is fsynced):
    --resume checked only the drafts, and the page stayed lost for good."""
    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows())]
    src = write_csv(tmp_path / "e.csv", rows)
    out = tmp_path / "o"
    suffix = {"html": ".html", "text": ".txt"}[render]
    assert runner.invoke(main, ["batch", str(src), "--out", str(out), "--render", render]).exit_code == 0
    whole = (out / f"R1{suffix}").read_bytes()
    (out / f"R0{suffix}").unlink()
    (out / f"R1{suffix}").write_bytes(b"")
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--render", render, "--resume"])
    assert again.exit_code == 0 and "3 drafted" in again.output and "(1 row done by an earlier run" in again.output
    assert (out / f"R0{suffix}").stat().st_size > 0 and (out / f"R1{suffix}").read_bytes() == whole


def test_rows_done_but_not_recorded_are_said_so_when_the_journal_cannot_be_written(console_script, tmp_path):
    """The journal past a file-size limit: the summary said "183 drafted ..." and then
    "stopped: the 0 rows recorded so far are kept", which read as a contradiction."""
    import re
    import resource

    src = write_csv(tmp_path / "e.csv", numbered_rows(600))
    out = tmp_path / "o"
    command = [str(console_script), "batch", str(src), "--out", str(out), "--jobs", "1"]

    def small_files():  # drafts (1-2 kB) fit; the journal (a group of 256 rows, ~50 kB) does not
        resource.setrlimit(resource.RLIMIT_FSIZE, (40960, 40960))

    stopped = subprocess.run(command, capture_output=True, text=True, timeout=120, preexec_fn=small_files)
    assert stopped.returncode == 1
    said = re.search(r"stopped: the (\d+) rows? recorded so far (?:is|are) kept \(the other (\d+) counted above "
                     r"could not be recorded: --resume does them again\)", stopped.stderr)
    assert said, stopped.stderr
    counted = re.match(r"(\d+) drafted, (\d+) with errors", stopped.stdout)
    assert int(said.group(1)) + int(said.group(2)) == int(counted.group(1)) + int(counted.group(2))
    finished = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=120)
    done = re.match(r"(\d+) drafted, (\d+) with errors", finished.stdout)
    assert int(done.group(1)) + int(done.group(2)) == 600, finished.stdout


def test_a_chunk_that_cannot_be_written_leaves_no_later_row_recorded(runner, tmp_path):
    """With two workers, a chunk whose draft could not be written (a disk full for a moment)
    was skipped while the chunks after it, already under way, were recorded: the record had
    a gap. A later row refused as a repeat of one in the gap then held the report id, and on
    --resume the first row was refused as a repeat of it: neither drafted, each blaming the other."""
    rows = numbered_rows(400)
    rows[198]["admin/report_id"] = rows[298]["admin/report_id"] = "DUP-1"  # rows 200 and 300
    src = write_csv(tmp_path / "rows.csv", rows)
    clean = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "ref"), "--jobs", "2"])
    assert (tmp_path / "ref" / "DUP-1.xml").exists(), clean.output
    out = tmp_path / "o"
    header = tmp_path / "header.csv"
    header.write_text(src.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert runner.invoke(main, ["batch", str(header), "--out", str(out)]).exit_code == 0  # the folder, as a run's
    (out / "R00148.xml").mkdir()  # row 150, in the second chunk: its draft cannot be written
    stopped = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "2"])
    assert stopped.exit_code == 1 and "cannot write" in stopped.output
    recorded = [json.loads(line)["row"] for line in (out / JOURNAL).read_text().splitlines()]
    assert sorted(recorded) == list(range(2, 2 + len(recorded))), "rows after the failed chunk were recorded"
    (out / "R00148.xml").rmdir()
    done = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "2", "--resume"])
    assert (out / "DUP-1.xml").exists(), done.output
    assert done.output.splitlines()[0].startswith(clean.output.splitlines()[0].split(" (")[0])
    assert read_problems(out) == read_problems(tmp_path / "ref")


def test_a_problems_file_that_cannot_be_written_is_not_said_to_list_the_problems(runner, tmp_path):
    """The folder turned read-only at the end: problems.csv was not written (or an older one
    stayed), and the run said 'problems.csv lists the problems of the rows recorded'."""
    rows = [dict(r, **{"admin/report_id": f"P{i}"}) for i, r in enumerate(mixed_rows())]
    src = write_csv(tmp_path / "rows.csv", rows)
    out = tmp_path / "o"
    header = tmp_path / "header.csv"
    header.write_text(src.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert runner.invoke(main, ["batch", str(header), "--out", str(out)]).exit_code == 0
    (out / "problems.csv").unlink(missing_ok=True)
    (out / "problems.csv").mkdir()  # where problems.csv goes, something that cannot be replaced by it
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1
    assert f"{out / 'problems.csv'} could not be written, cannot write" in result.output, result.output
    assert "lists the problems" not in result.output and "see " not in result.output
    (out / "problems.csv").rmdir()
    done = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert done.exit_code == 1 and read_problems(out), done.output
