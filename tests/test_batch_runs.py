"""A batch run as a process: its file names, its worker processes, and what it leaves in the
output folder when it is killed, stopped or resumed."""
import os
import signal
import subprocess
import time
from pathlib import Path

from medwatch_tool.cli import main

from test_batch import example_rows, numbered_rows, read_problems, write_csv


def children(pid: int):
    """The processes `pid` started (its batch workers), from /proc (Linux)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


def ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # a zombie has ended; only reaping is left


def test_workers_end_when_the_main_process_is_killed(console_script, tmp_path):
    """A worker held the main process's end of its own pipe: killed from outside (the
    out-of-memory killer picks one process), the main process left its workers waiting for a
    task forever, and `medwatch batch ... | cat` never ended."""
    src = write_csv(tmp_path / "big.csv", numbered_rows(3000))
    out = tmp_path / "o"
    proc = subprocess.Popen([str(console_script), "batch", str(src), "--out", str(out), "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / ".medwatch-batch.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not journal.exists() or journal.stat().st_size < 2000):
        time.sleep(0.02)
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
    assert "used by row 2" in read_problems(out)[0]["message"]
