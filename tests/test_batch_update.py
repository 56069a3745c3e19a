"""`medwatch batch --update`: the rows problems.csv named, corrected, drafted into the same folder.

Before it, a corrected file was refused in the run's folder (--resume takes only the same
input) and had to go into another --out, leaving a clinic's drafts in two folders."""
import contextlib
import json
import os
import signal
import stat
import subprocess
import time

import pytest
from lxml import etree

from medwatch_tool.cli import main

from test_batch import example_rows, read_problems, write_csv


def named_rows(count: int = 6):
    rows = [dict(r) for r in (example_rows() * 3)[:count]]
    for i, row in enumerate(rows):
        row["admin/report_id"] = f"R{i}"
    return rows


def batch(runner, src, out, *options):
    return runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", *options])


def drafted_with_pages(runner, tmp_path, count: int):
    """`count` named rows drafted with HTML pages into tmp_path/drafts: (rows, input, folder)."""
    rows = named_rows(count)
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out, "--render", "html").exit_code == 0
    return rows, src, out


def split_by_a_stop(runner, tmp_path, monkeypatch, count: int):
    """`count` rows drafted with pages, then an update without the last row stopped by a
    failed move between that row's draft (moved aside) and its page (left behind)."""
    rows, src, out = drafted_with_pages(runner, tmp_path, count)
    write_csv(src, rows[:-1])
    moves = FailingMoves(monkeypatch)
    moves.at(2)
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 1
    moves.none()
    return rows, src, out, moves


def drafts(folder):
    return sorted(p.name for p in folder.glob("*.xml"))


@contextlib.contextmanager
def stopped_at_the_second_chunk(monkeypatch):
    """Runs in this block get SIGTERM as their second chunk of rows is sent (as if Ctrl-C)."""
    from medwatch_tool import batch as batch_module

    real = batch_module._chunked

    def stopped(*args):
        for number, chunk in enumerate(real(*args)):
            if number == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            yield chunk

    monkeypatch.setattr(batch_module, "_chunked", stopped)
    try:
        yield
    finally:
        monkeypatch.setattr(batch_module, "_chunked", real)


class FailingMoves:
    """The moves of drafts aside at an update's end, the nth of them failing (a full disk)."""

    def __init__(self, monkeypatch):
        from medwatch_tool import update_run

        self.monkeypatch, self.module, self.real = monkeypatch, update_run, update_run._move

    def at(self, n: int):
        calls = []

        def move(source, target):
            calls.append(source)
            if len(calls) == n:
                raise OSError(28, "No space left on device")
            self.real(source, target)

        self.monkeypatch.setattr(self.module, "_move", move)

    def none(self):
        self.monkeypatch.setattr(self.module, "_move", self.real)


def test_the_rows_corrected_after_a_run_are_drafted_into_its_folder(runner, tmp_path):
    rows = named_rows()
    rows[1]["event/event_date"] = "2026-02-30"
    rows[4]["patient/sex"] = "moon"
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    first = batch(runner, src, out)
    assert first.exit_code == 1, first.output
    assert {p["report_id"] for p in read_problems(out)} == {"R1", "R4"}
    assert drafts(out) == ["R0.xml", "R2.xml", "R3.xml", "R5.xml"]

    rows[1]["event/event_date"] = "2026-02-03"  # as the clinician corrects the file problems.csv named
    rows[4]["patient/sex"] = "female"
    write_csv(src, rows)
    refused = batch(runner, src, out, "--resume")
    assert refused.exit_code != 0
    assert "run it with --update instead" in refused.output

    updated = batch(runner, src, out, "--update")
    assert updated.exit_code == 0, updated.output
    assert "6 drafted, 0 with errors" in updated.output
    assert drafts(out) == [f"R{i}.xml" for i in range(6)]
    assert read_problems(out) == []  # the earlier run's problems are not this file's
    ns = {"mw": "urn:x-medwatch-tool:report:1"}
    assert etree.parse(str(out / "R1.xml")).findtext("mw:event/mw:event_date", namespaces=ns) == "2026-02-03"
    assert etree.parse(str(out / "R4.xml")).findtext("mw:patient/mw:sex", namespaces=ns) == "female"
    assert not (out / "superseded").exists()  # nothing the file gave before is gone from it
    assert os.listdir(out) == [n for n in os.listdir(out) if not n.endswith(".tmp")]

    again = batch(runner, src, out, "--resume")  # the update is a run like any other: done is done
    assert again.exit_code == 0, again.output
    assert "6 rows done by an earlier run" in again.output


def test_drafts_the_corrected_input_no_longer_gives_are_moved_aside_with_their_pages(runner, tmp_path):
    rows = named_rows()
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out, "--render", "html").exit_code == 0
    kept_before = (out / "R0.xml").read_bytes()

    rows[2]["patient/sex"] = "moon"  # now fails: its old draft must not pass for this file's
    rows[3]["admin/report_id"] = "R3-renamed"
    del rows[5]
    write_csv(src, rows)
    result = batch(runner, src, out, "--render", "html", "--update")
    assert result.exit_code == 1, result.output
    assert "4 drafted, 1 with errors" in result.output
    aside = aside_of(out)
    assert (f"3 drafts of the earlier run that this input no longer gives (a row that now fails, or was removed "
            f"or renamed) moved into {aside}: R2.xml, R3.xml, R5.xml") in result.output
    assert drafts(out) == ["R0.xml", "R1.xml", "R3-renamed.xml", "R4.xml"]
    assert sorted(p.name for p in out.glob("*.html")) == ["R0.html", "R1.html", "R3-renamed.html", "R4.html"]
    assert sorted(os.listdir(aside)) == ["R2.html", "R2.xml", "R3.html", "R3.xml", "R5.html", "R5.xml"]
    assert stat.S_IMODE(aside.stat().st_mode) == stat.S_IMODE(aside.parent.stat().st_mode) == 0o700
    assert (out / "R0.xml").read_bytes() == kept_before  # the same row gives the same draft
    assert [(p["report_id"], p["path"]) for p in read_problems(out)] == [("R2", "patient/sex")]
    assert sorted(n for n in os.listdir(out) if n.startswith(".")) == [
        ".medwatch-batch-input.json", ".medwatch-batch.jsonl", ".medwatch-batch.lock"]  # the update has ended


def aside_of(out):
    """The one folder of superseded drafts an update made (superseded/<when it began>)."""
    made = list((out / "superseded").iterdir())
    assert len(made) == 1, made
    return made[0]


def test_an_update_stopped_midway_is_finished_by_resume_and_then_moves_what_is_gone(runner, tmp_path, monkeypatch):
    from medwatch_tool.drafting import CHUNK

    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows() * CHUNK)]
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    del rows[-1]  # the last row's draft is to be moved aside, but only once the update has ended
    write_csv(src, rows)

    last = f"R{len(rows)}.xml"
    with stopped_at_the_second_chunk(monkeypatch):
        stopped = batch(runner, src, out, "--update")
    assert stopped.exit_code == 143, stopped.output
    assert "--resume" in stopped.output and "--update" not in stopped.output.split("to finish:")[-1]
    assert (out / last).exists() and not (out / "superseded").exists()  # rows not drafted yet may give it

    finished = batch(runner, src, out, "--resume")
    assert finished.exit_code == 0, finished.output
    assert f"moved into {aside_of(out)}: {last}" in finished.output
    assert os.listdir(aside_of(out)) == [last]
    assert len(drafts(out)) == len(rows)


def test_an_update_stopped_and_begun_again_moves_only_what_the_input_no_longer_gives(runner, tmp_path, monkeypatch):
    """The first design noted each earlier draft's inode and moved the drafts still on it: a
    stopped update, then --update again, found inode numbers the file system had handed out
    again to drafts the input still gave, and moved those current drafts aside."""
    from medwatch_tool.drafting import CHUNK

    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows() * CHUNK)]
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    rows[5]["patient/sex"] = "moon"
    del rows[-3:]
    write_csv(src, rows)
    with stopped_at_the_second_chunk(monkeypatch):
        assert batch(runner, src, out, "--update").exit_code == 143
    again = batch(runner, src, out, "--update")
    assert again.exit_code == 1, again.output
    gone = ["R5.xml"] + [f"R{i}.xml" for i in range(len(rows), len(rows) + 3)]
    assert sorted(os.listdir(aside_of(out))) == sorted(gone)
    assert drafts(out) == sorted(f"R{i}.xml" for i in range(len(rows)) if i != 5)


def test_drafts_no_journal_lists_are_moved_aside_too(runner, tmp_path):
    """A run killed before journaling its last rows (the journal is written 256 rows at a
    time) left drafts no journal names: an update whose input no longer gives them left them
    in the folder as if current."""
    rows = named_rows(3)
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    (out / "R7.xml").write_bytes((out / "R0.xml").read_bytes())  # as a killed run left it: drafted, not journaled
    result = batch(runner, src, out, "--update")
    assert result.exit_code == 0, result.output
    assert os.listdir(aside_of(out)) == ["R7.xml"]
    assert drafts(out) == ["R0.xml", "R1.xml", "R2.xml"]


def test_superseded_drafts_of_two_updates_are_both_kept(runner, tmp_path):
    rows = named_rows(2)
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    for description in ("first version", "second version"):
        rows[1]["event/description"] = description
        write_csv(src, rows)
        assert batch(runner, src, out, "--update").exit_code == 0  # R1 drafted anew with this description
        write_csv(src, rows[:1])
        assert batch(runner, src, out, "--update").exit_code == 0  # and moved aside
    kept = sorted((out / "superseded").glob("*/R1.xml"))
    assert len(kept) == 2
    assert ["first version" in p.read_text() for p in kept] == [True, False]
    assert "second version" in kept[1].read_text()


def test_an_update_from_a_file_without_rows_is_refused(runner, tmp_path):
    src = write_csv(tmp_path / "events.csv", named_rows(2))
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    header_only = tmp_path / "header.csv"
    header_only.write_text(src.read_text().splitlines()[0] + "\n")
    result = batch(runner, header_only, out, "--update")
    assert result.exit_code != 0
    assert "gives no rows: updating the drafts with it would move every draft of the earlier run aside" in result.output
    assert drafts(out) == ["R0.xml", "R1.xml"] and not (out / "superseded").exists()
    assert batch(runner, src, out, "--resume").exit_code == 0  # the earlier run is as it was


def test_drafts_are_never_moved_through_a_link(runner, tmp_path):
    src = write_csv(tmp_path / "events.csv", named_rows(2))
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir()
    (out / "superseded").symlink_to(elsewhere)
    write_csv(src, named_rows(1))
    result = batch(runner, src, out, "--update")
    assert result.exit_code == 1
    assert f"{out / 'superseded'}: is a symbolic link" in result.output
    assert list(elsewhere.iterdir()) == [] and drafts(out) == ["R0.xml", "R1.xml"]
    (out / "superseded").unlink()
    finished = batch(runner, src, out, "--resume")
    assert finished.exit_code == 0, finished.output
    assert os.listdir(aside_of(out)) == ["R1.xml"]


def test_an_update_that_stopped_before_its_first_row_is_still_finished(runner, tmp_path):
    """Killed between dropping the earlier journal and journaling a row of its own: the folder's
    drafts are still the earlier run's (not refused as someone else's), and the next run moves
    those it does not give."""
    from medwatch_tool import update_run

    rows = named_rows(3)
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    update_run.begin(out, None)  # what an update does first, before a kill
    write_csv(src, rows[:2])
    result = batch(runner, src, out, "--update")
    assert result.exit_code == 0, result.output
    assert os.listdir(aside_of(out)) == ["R2.xml"]


def test_an_update_stopped_before_its_first_row_keeps_the_earlier_pages_form(runner, tmp_path):
    """The earlier run's --render was checked only while its journal held rows: an update
    stopped before its first row, then run with another --render, left the earlier pages
    (of rows since corrected) beside the new drafts and pages."""
    from medwatch_tool import update_run

    src = write_csv(tmp_path / "events.csv", named_rows(2))
    out = tmp_path / "drafts"
    assert batch(runner, src, out, "--render", "html").exit_code == 0
    update_run.begin(out, "html")
    for options in (["--update"], []):
        result = batch(runner, src, out, "--render", "text", *options)
        assert result.exit_code != 0
        assert "its drafts were made with --render html, and this run asks for --render text" in result.output
    assert not list(out.glob("*.txt"))
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0


def test_an_update_keeps_the_earlier_run_s_pages_form(runner, tmp_path):
    src = write_csv(tmp_path / "events.csv", named_rows(2))
    out = tmp_path / "drafts"
    assert batch(runner, src, out, "--render", "text").exit_code == 0
    result = batch(runner, src, out, "--render", "html", "--update")
    assert result.exit_code == 2  # a usage error, as --help says: nothing is done
    assert "its drafts were made with --render text, and this run asks for --render html" in result.output
    assert sorted(p.name for p in out.glob("*.txt")) == ["R0.txt", "R1.txt"]  # left as they were
    assert not list(out.glob("*.html"))
    assert (out / ".medwatch-batch.jsonl").exists()  # the earlier run is still there to --resume


def test_update_and_resume_together_is_a_usage_error(runner, tmp_path):
    src = write_csv(tmp_path / "events.csv", named_rows(1))
    result = batch(runner, src, tmp_path / "drafts", "--update", "--resume")
    assert result.exit_code == 2
    assert "give one of them" in result.output
    assert not (tmp_path / "drafts").exists()


def test_an_update_into_a_folder_of_no_run_is_a_first_run_and_keeps_others_files(runner, tmp_path):
    src = write_csv(tmp_path / "events.csv", named_rows(2))
    fresh = batch(runner, src, tmp_path / "new", "--update")
    assert fresh.exit_code == 0, fresh.output
    assert drafts(tmp_path / "new") == ["R0.xml", "R1.xml"]
    others = tmp_path / "others"
    others.mkdir()
    (others / "R0.xml").write_text("<hand-made/>")
    refused = batch(runner, src, others, "--update")
    assert refused.exit_code != 0
    assert "already holds drafts or pages not from a batch run (R0.xml)" in refused.output
    assert (others / "R0.xml").read_text() == "<hand-made/>"


def test_the_installed_command_updates_a_folder(console_script, tmp_path):
    rows = named_rows(3)
    rows[0]["patient/sex"] = "moon"
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    first = subprocess.run([console_script, "batch", str(src), "--out", str(out)], capture_output=True, text=True)
    assert first.returncode == 1, first.stderr
    rows[0]["patient/sex"] = "male"
    write_csv(src, rows)
    updated = subprocess.run([console_script, "batch", str(src), "--out", str(out), "--update"],
                             capture_output=True, text=True)
    assert updated.returncode == 0, updated.stderr
    assert "3 drafted, 0 with errors" in updated.stdout
    assert drafts(out) == ["R0.xml", "R1.xml", "R2.xml"]


def test_a_move_that_failed_midway_is_finished_by_resume_with_no_page_left_behind(runner, tmp_path, monkeypatch):
    """Stopped between moving a draft and its page, the page of a report the input no longer
    gives stayed among the current ones for good (the next run looked for drafts only). A
    failed move also said 'problems.csv lists the problems of the rows recorded; make room'."""
    rows, src, out = drafted_with_pages(runner, tmp_path, 4)
    write_csv(src, rows[:2])
    moves = FailingMoves(monkeypatch)
    moves.at(2)
    stopped = batch(runner, src, out, "--render", "html", "--update")
    moves.none()
    assert stopped.exit_code == 1, stopped.output
    assert ("stopped: every row is done and recorded; the end of the update (the drafts the input no longer gives "
            "moved aside) is left: fix that, then finish with: medwatch batch") in stopped.output
    assert "--resume" in stopped.output.splitlines()[-1]
    assert "make room" not in stopped.output and "lists the problems of the rows recorded" not in stopped.output
    finished = batch(runner, src, out, "--render", "html", "--resume")
    assert finished.exit_code == 0, finished.output
    assert ("1 draft of the earlier run that this input no longer gives (a row that now fails, or was removed or "
            f"renamed) moved into {aside_of(out)}: R3.xml; 1 moved there before the update was stopped"
            in finished.output)
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".xml", ".html")) == [
        "R0.html", "R0.xml", "R1.html", "R1.xml"]
    assert sorted(os.listdir(aside_of(out))) == ["R2.html", "R2.xml", "R3.html", "R3.xml"]


def test_an_update_in_which_no_row_drafts_moves_nothing(runner, tmp_path):
    """A JSON Lines file of `null` lines gives rows that all fail: the update moved all 5,000
    drafts of a clinic's earlier run aside, leaving none."""
    src = write_csv(tmp_path / "events.csv", named_rows(3))
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text("null\nnull\n")
    result = batch(runner, wrong, out, "--update")
    assert result.exit_code == 1
    assert "0 drafted, 2 with errors" in result.output
    assert (f"no row of {wrong} was drafted: the earlier run's drafts are left where they were, none moved aside "
            "for it; correct the rows (or the file given) and run --update again") in result.output
    assert drafts(out) == ["R0.xml", "R1.xml", "R2.xml"] and not (out / "superseded").exists()
    write_csv(src, named_rows(2))
    assert batch(runner, src, out, "--update").exit_code == 0
    assert os.listdir(aside_of(out)) == ["R2.xml"]


def test_ctrl_c_before_an_update_began_says_to_run_the_update_again(runner, tmp_path, monkeypatch):
    """Stopped while a big workbook's header was read (before the update began), the run said
    to finish with --resume, which the earlier run's folder then refused for a changed file."""
    from medwatch_tool import update_run

    rows = named_rows(2)
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text("null\n")
    assert "no row of" in batch(runner, wrong, out, "--update").output  # an update left under way
    rows[1]["event/description"] = "corrected"
    write_csv(src, rows)

    def pressed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(update_run, "begin", pressed)
    result = batch(runner, src, out, "--update")  # (Ctrl-C ignored as it ends: conftest restores it)
    assert result.exit_code == 130
    assert result.output.strip().endswith(f"to finish: medwatch batch {src} --out {out} --update")


def test_a_damaged_marker_still_ends_the_update(runner, tmp_path):
    from medwatch_tool import update_run

    rows = named_rows(3)
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    update_run.begin(out, None)
    assert not (out / "problems.csv").exists()  # the earlier input's problems are not this update's
    (out / update_run.MARKER).write_text('{"aside": "../../elsewhere"')
    write_csv(src, rows[:2])
    result = batch(runner, src, out)  # a plain run finishes an update that journaled nothing yet
    assert result.exit_code == 0, result.output
    assert os.listdir(aside_of(out)) == ["R2.xml"] and not (out / update_run.MARKER).exists()


def test_an_update_killed_as_it_began_is_begun_afresh_by_resume(runner, tmp_path):
    """Killed after marking the update and before dropping the earlier journal, a --resume on
    standard input (which cannot be compared with what the run began on) finished the update
    on the earlier run's journal: every row skipped as done, the earlier drafts kept."""
    from medwatch_tool import update_run

    rows = named_rows(3)
    out = tmp_path / "drafts"
    first = runner.invoke(main, ["batch", "-", "--out", str(out), "--jobs", "1"],
                          input=write_csv(tmp_path / "a.csv", rows).read_bytes())
    assert first.exit_code == 0, first.output
    (out / update_run.MARKER).write_text('{"render": null, "aside": "superseded/T", "dropped": false}')
    rows[0]["patient/sex"] = "moon"
    result = runner.invoke(main, ["batch", "-", "--out", str(out), "--jobs", "1", "--resume"],
                           input=write_csv(tmp_path / "b.csv", rows).read_bytes())
    assert result.exit_code == 1, result.output
    assert "2 drafted, 1 with errors" in result.output and "done by an earlier run" not in result.output
    assert drafts(out) == ["R1.xml", "R2.xml"] and os.listdir(out / "superseded" / "T") == ["R0.xml"]


def test_an_update_begun_again_after_a_stop_keeps_a_draft_with_its_page_and_replaces_nothing(
        runner, tmp_path, monkeypatch):
    """Begun again (not resumed) after a stop between moving a page and its draft, the update
    moved them into two folders and counted only the second; and reusing one folder must not
    replace a draft moved there before the stop."""

    rows, src, out = drafted_with_pages(runner, tmp_path, 4)
    moves = FailingMoves(monkeypatch)
    write_csv(src, rows[:2])
    moves.at(2)  # R2's draft moved, R2's page not
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 1
    moves.none()
    again = batch(runner, src, out, "--render", "html", "--update")
    assert again.exit_code == 0, again.output
    assert "1 draft of the earlier run" in again.output and "R3.xml; 1 moved there before" in again.output
    assert sorted(os.listdir(aside_of(out))) == ["R2.html", "R2.xml", "R3.html", "R3.xml"]

    # a draft of a name moved aside before a stop, drafted again, then moved again: both kept
    aside = aside_of(out)
    write_csv(src, rows[:3])  # R2 back: the update ends with nothing to move
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0
    write_csv(src, rows[:1])
    moves.at(3)  # R1 moved whole, then stopped at R2's draft
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 1
    rows[1]["event/description"] = "R1 drafted again"
    write_csv(src, rows[:2])
    moves.at(1)  # R1 drafted again; stopped at R2's draft again
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 1
    moves.none()
    write_csv(src, rows[:1])
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0
    second = [p for p in (out / "superseded").iterdir() if p != aside]
    assert len(second) == 1  # one folder for the update begun three times
    assert sorted(os.listdir(second[0])) == ["R1.html", "R1.xml", "R1~2.html", "R1~2.xml", "R2.html", "R2.xml"]
    assert "R1 drafted again" in (second[0] / "R1~2.xml").read_text()
    assert "R1 drafted again" in (second[0] / "R1~2.html").read_text()
    assert "R1 drafted again" not in (second[0] / "R1.xml").read_text()


def test_a_page_left_by_a_stop_goes_beside_its_own_draft_not_an_older_one(runner, tmp_path, monkeypatch):
    """A draft moved aside, its page not (stopped), the row then drafted again and moved aside
    again: the page must go with the draft it shows, never with the older draft of that name."""

    rows, src, out = drafted_with_pages(runner, tmp_path, 4)
    moves = FailingMoves(monkeypatch)
    write_csv(src, rows[:2] + rows[3:])  # R2 gone: its draft is moved, the stop comes at its page
    moves.at(2)
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 1
    rows[2]["event/description"] = "the second version"
    write_csv(src, rows[:3])  # R2 back, drafted again (draft and page); R3 gone: stopped at it
    moves.at(2)  # (the first move: R2's first page, joining its draft as the update begins again)
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 1
    moves.none()
    write_csv(src, rows[:2])
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0
    aside = aside_of(out)
    assert sorted(os.listdir(aside)) == ["R2.html", "R2.xml", "R2~2.html", "R2~2.xml", "R3.html", "R3.xml"]
    assert all("the second version" in (aside / name).read_text() for name in ("R2~2.xml", "R2~2.html"))
    # the first version's page joined its draft when the update began again, before the row
    # was drafted again over it
    assert not any("the second version" in (aside / name).read_text() for name in ("R2.xml", "R2.html"))
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".xml", ".html")) == [
        "R0.html", "R0.xml", "R1.html", "R1.xml"]


def test_a_draft_an_update_lost_to_a_power_cut_is_drafted_again_by_resume(runner, tmp_path):
    """Drafts are not fsynced: a power cut can lose an update's rewrite of a draft the journal
    already lists, leaving the earlier run's whole draft, which --resume kept as current."""
    from medwatch_tool import update_run

    rows, src, out = drafted_with_pages(runner, tmp_path, 2)
    before = {name: (out / name).read_bytes() for name in ("R1.xml", "R1.html")}
    rows[1]["event/description"] = "corrected"
    write_csv(src, rows)
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0
    update_run.begin(out, "html")  # as if the update were still under way: its journal back as it was
    assert batch(runner, src, out, "--render", "html", "--resume").exit_code == 0  # (a run of it, journaled)
    old = time.time() - 3600
    for name, data in before.items():  # the rename the power cut lost: the earlier run's files are back
        (out / name).write_bytes(data)
        os.utime(out / name, (old, old))
    (out / update_run.MARKER).write_text(json.dumps({"render": "html", "aside": "superseded/T", "dropped": True}))
    resumed = batch(runner, src, out, "--render", "html", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "corrected" in (out / "R1.xml").read_text() and "corrected" in (out / "R1.html").read_text()


def test_an_update_leaves_the_user_s_own_pages_and_pages_of_drafts_removed_by_hand(runner, tmp_path):
    """Pages without a draft beside them were all moved aside at the end of every update
    (index.html, notes.txt kept in the folder), without a word."""
    rows = named_rows(3)
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out, "--render", "text").exit_code == 0
    (out / "notes.txt").write_text("call the pharmacy back")
    (out / "R1.xml").unlink()  # removed by hand; its page stays as the user left it
    write_csv(src, rows[:1] + rows[2:])
    result = batch(runner, src, out, "--render", "text", "--update")
    assert result.exit_code == 0, result.output
    assert (out / "notes.txt").read_text() == "call the pharmacy back" and (out / "R1.txt").exists()
    assert not (out / "superseded").exists() and "note:" not in result.output


@pytest.mark.parametrize("marker", ["as written", "without when it began"])
def test_a_draft_is_never_set_aside_with_an_earlier_draft_s_page(runner, tmp_path, marker):
    """Killed between a row's draft and its page, a run left the new draft beside the old
    page; an update begun again then moved the two aside as one pair."""
    from medwatch_tool import update_run

    rows, src, out = drafted_with_pages(runner, tmp_path, 4)
    old = time.time() - 60
    for name in ("R2.html", "R3.html"):  # R3: as a folder copied without its files' times leaves it
        os.utime(out / name, (old, old))
    update_run.begin(out, "html")  # an update began ...
    if marker == "without when it began":  # as this code's first markers were written
        mark = json.loads((out / update_run.MARKER).read_text())
        del mark["since"]
        (out / update_run.MARKER).write_text(json.dumps(mark))
        time.sleep(0.01)
    newer = (out / "R2.xml").read_text().replace(rows[2]["event/description"], "the newer draft")
    (out / "R2.xml").write_text(newer)  # ... wrote R2's draft, and was killed before its page
    write_csv(src, rows[:2])
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0
    aside = aside_of(out)
    assert sorted(os.listdir(aside)) == ["R2.html", "R2~2.xml", "R3.html", "R3.xml"]
    assert "the newer draft" in (aside / "R2~2.xml").read_text()
    assert "the newer draft" not in (aside / "R2.html").read_text()


def test_a_page_split_by_a_stop_joins_its_draft_before_the_row_is_drafted_again(runner, tmp_path, monkeypatch):
    """Stopped between a draft's move and its page's, then begun again with the row given
    again: the row's new page was written over the page of the draft set aside."""
    rows, src, out, _ = split_by_a_stop(runner, tmp_path, monkeypatch, 3)  # R2's draft moved, its page not
    first_page = (out / "R2.html").read_bytes()
    rows[2]["event/description"] = "given again"
    write_csv(src, rows)
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0
    aside = aside_of(out)
    assert sorted(os.listdir(aside)) == ["R2.html", "R2.xml"] and (aside / "R2.html").read_bytes() == first_page
    assert "given again" in (out / "R2.xml").read_text() and "given again" in (out / "R2.html").read_text()


def test_a_failed_move_of_a_page_alone_and_the_held_note_name_the_folder(runner, tmp_path, monkeypatch):
    rows, src, out, moves = split_by_a_stop(runner, tmp_path, monkeypatch, 4)  # R3's draft moved, its page not
    moves.at(1)  # then the page's move fails at the end of the --resume
    failed = batch(runner, src, out, "--render", "html", "--resume")
    moves.none()
    assert failed.exit_code == 1, failed.output
    assert "the end of the update (the drafts the input no longer gives moved aside) is left" in failed.output
    assert "unexpected" not in failed.output
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text("null\n")
    held = batch(runner, wrong, out, "--render", "html", "--update")
    assert f"1 draft moved into {aside_of(out)} before the update was stopped stay there" in held.output
    assert (aside_of(out) / "R3.html").exists()  # put beside its draft when the update began again
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0
    assert sorted(os.listdir(aside_of(out))) == ["R3.html", "R3.xml"]


def test_a_marker_stamped_ahead_of_the_clock_does_not_redraft_every_row(runner, tmp_path, monkeypatch):
    """Every draft looked older than a marker stamped in the future (the clock set back since,
    a disk from another machine): each --resume redrafted every row, and a long update stopped
    more than once never got further."""
    from medwatch_tool import update_run
    from medwatch_tool.drafting import CHUNK

    rows = [dict(r, **{"admin/report_id": f"R{i}"}) for i, r in enumerate(example_rows() * CHUNK)]
    src = write_csv(tmp_path / "events.csv", rows)
    out = tmp_path / "drafts"
    assert batch(runner, src, out).exit_code == 0
    rows[0]["event/description"] = "corrected"
    write_csv(src, rows)
    with stopped_at_the_second_chunk(monkeypatch):
        assert batch(runner, src, out, "--update").exit_code == 143
    ahead = time.time() + 3600
    os.utime(out / update_run.MARKER, (ahead, ahead))
    resumed = batch(runner, src, out, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert f"({CHUNK} rows done by an earlier run, counted in)" in resumed.output


def test_a_draft_edited_by_hand_before_the_update_keeps_its_page(runner, tmp_path):
    rows, src, out = drafted_with_pages(runner, tmp_path, 3)
    with open(out / "R2.xml", "a") as handle:
        handle.write("<!-- checked by JD -->\n")
    earlier = time.time() - 60
    os.utime(out / "R2.html", (earlier, earlier))  # the draft newer than its page, as an editor's save leaves it
    write_csv(src, rows[:2])
    assert batch(runner, src, out, "--render", "html", "--update").exit_code == 0
    assert sorted(os.listdir(aside_of(out))) == ["R2.html", "R2.xml"]


def test_a_page_joins_its_draft_never_through_a_link(runner, tmp_path, monkeypatch):
    rows, src, out, _ = split_by_a_stop(runner, tmp_path, monkeypatch, 3)  # R2's draft moved, its page not
    aside = aside_of(out)
    elsewhere = tmp_path / "elsewhere"
    aside.rename(elsewhere)
    aside.symlink_to(elsewhere)
    result = batch(runner, src, out, "--render", "html", "--update")
    assert result.exit_code == 1
    assert f"{aside}: is a symbolic link" in result.output
    assert "the update has not begun again: fix that, then run this command again" in result.output
    assert os.listdir(elsewhere) == ["R2.xml"] and (out / "R2.html").exists()
