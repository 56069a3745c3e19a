"""The batch journal: an append-only record of finished rows in the output folder.

It is what makes a killed run resumable without duplicates: `--resume` skips every row it
lists, and `problems.csv` is regenerated from it, so a row's problems appear exactly once
however often the run is restarted.
"""
import csv
import json
import os
import re
from pathlib import Path
from typing import Iterator, Optional

from .errors import OutputError
from .name_index import NameIndex
from .outcomes import Outcome, Summary
from .safe_io import atomic_text_writer, write_all

JOURNAL = ".medwatch-batch.jsonl"
PROBLEMS = "problems.csv"
PROBLEM_COLUMNS = ["row", "report_id", "path", "box", "label", "severity", "message", "rule"]

_NO_PROBLEMS = json.dumps({"problems": []})[1:-1]  # as journal_line writes an entry without problems
_json_string = json.encoder.encode_basestring  # a str as json.dumps(..., ensure_ascii=False) writes it


def journal_line(outcome: Outcome, last: int = 0) -> str:
    """A row's journal entry, exactly as json.dumps(entry, ensure_ascii=False) writes it.
    Rows without problems (nearly all) are formatted directly: json.dumps of the dict took
    three times as long, in the main process that every row passes through. `last`: the
    last line of a JSON Lines record written over many lines (one with problems)."""
    named = bool(outcome.name) and not outcome.name.startswith("row-")
    if outcome.problems or last:
        entry = {"row": outcome.row, "file": outcome.file, "report_id": outcome.report_id,
                 "problems": outcome.problems}
        if named:
            entry["name"] = outcome.name
        if last:
            entry["last"] = last
        return json.dumps(entry, ensure_ascii=False)
    file = "null" if outcome.file is None else _json_string(outcome.file)
    name = f', "name": {_json_string(outcome.name)}' if named else ""
    return f'{{"row": {outcome.row}, "file": {file}, "report_id": {_json_string(outcome.report_id)}, "problems": []{name}}}'


class Journal:
    """Append-only record of finished rows, fsynced in groups of rows.

    A row that is not in the journal is simply drafted again by --resume (same name,
    replaced whole). Drafts themselves are not fsynced one by one (that cost more than the
    drafting); instead --resume checks the draft of every journaled row and drafts the row
    again if a crash or power cut left its file missing or cut short.
    """

    GROUP = 256

    def __init__(self, folder: Path, page: Optional[str] = None, not_before: Optional[int] = None):
        """`page`: the suffix of the page --render writes beside each draft (".html"), if any;
        `not_before`: when the run began to write drafts over earlier ones (--update, in the
        file system's time, ns): a draft or page older than that is no draft of this run."""
        self.path = folder / JOURNAL
        self.done = bytearray()  # one bit per row number: 1.25 MB for ten million rows
        self.earlier = Summary()  # what the journal already holds, for the summary line
        if self.path.is_symlink():  # appending to, or cutting, the file it points to would be no journal's work
            raise OutputError("is a symbolic link, which a batch journal never is: remove it", str(self.path))
        self.names = NameIndex(folder)  # names given by report id (row-NNNNNN names are unique anyway)
        self.redo = set()  # journaled rows whose draft did not survive: their old entry is void
        self.redone = set()  # those of them this run drafted again
        self._drop_cut_line()
        self.repeated = self._journaled_more_than_once()  # {row: entries}, as the journal began
        later = dict(self.repeated)
        for entry in self.entries():
            if _superseded(entry, later):
                continue
            if entry["file"] and not _intact(folder / entry["file"], page, not_before):
                self.redo.add(entry["row"])
                if entry.get("name"):  # still its row's name: a later row with the same id stays the duplicate
                    self.names.claim(entry["name"], entry["row"])
                continue
            self._mark(entry["row"], entry.get("last", 0))
            self.earlier.count(entry)
            self.earlier.skipped += 1
            if entry.get("name"):  # a failed row's too: as in a run never interrupted, a later row with
                self.names.claim(entry["name"], entry["row"])  # its report id is refused as its repeat
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            self.names.close()
            raise OutputError(f"cannot write here ({exc.strerror or exc})", str(self.path)) from None
        self.pending = []
        self.failure: Optional[OutputError] = None
        self.kept = self.earlier.skipped  # rows journaled, earlier runs included

    def _drop_cut_line(self):
        """Cut off a last line that a kill left unfinished, so that what --resume appends
        starts on a line of its own (glued to the fragment, the first new entry would be
        unreadable and its row's problems lost). That row is not done: it is drafted again."""
        try:
            with self.path.open("r+b") as handle:
                size = end = handle.seek(0, os.SEEK_END)
                while end > 0:  # back from the end, a block at a time, to the last line break
                    start = max(0, end - 65536)
                    handle.seek(start)
                    newline = handle.read(end - start).rfind(b"\n")
                    if newline >= 0:
                        end = start + newline + 1
                        break
                    end = start
                if end < size:
                    handle.truncate(end)
                    os.fsync(handle.fileno())
        except FileNotFoundError:
            pass

    def _journaled_more_than_once(self) -> dict:
        """{row: its entries} for the rows the journal holds more than once: a row whose draft
        was lost and drafted again by a --resume. Only its last entry counts (counted twice, and
        its problems listed twice, once the lost draft was back). A bit per row finds them."""
        seen, again = bytearray(), {}
        try:
            with self.path.open("rb") as handle:
                for line in handle:
                    found = _ROW.match(line)
                    if found is None:
                        continue  # a line cut short by a kill
                    row = int(found.group(1))
                    if _set_bit(seen, row):
                        again[row] = again.get(row, 1) + 1
        except FileNotFoundError:
            pass
        return again

    def _mark(self, row: int, last: int = 0):
        """Row `row` is done, and the lines up to `last` that its record took (JSON Lines)."""
        _set_bit(self.done, row)
        if last > row:  # (rare: no range made for every row)
            for number in range(row + 1, last + 1):
                _set_bit(self.done, number)

    def is_done(self, row: int) -> bool:
        byte = row >> 3
        return byte < len(self.done) and bool(self.done[byte] & (1 << (row & 7)))

    def entries(self, with_problems_only: bool = False) -> Iterator[dict]:
        """The journal's entries, read back one line at a time (or only those listing a
        problem: decoding every line made writing problems.csv a pause at the end of a run)."""
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8") as handle:
            for line in handle:
                if with_problems_only and _NO_PROBLEMS in line:
                    continue  # the key itself: a quote inside a message is escaped as \"
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill: that row is simply redone

    def record(self, outcome: Outcome, last: int = 0):
        """Journal a finished row (in groups); `last` as journal_line takes it. Once a write
        has failed nothing more is journaled (`failure` says why): the rows not journaled are
        simply redone by --resume."""
        if self.failure:
            return
        if outcome.row in self.redo:
            self.redone.add(outcome.row)
        self.pending.append(journal_line(outcome, last))
        self._mark(outcome.row, last)
        if len(self.pending) >= self.GROUP:
            self.commit()

    def commit(self):
        """Append the pending rows to the journal and fsync it."""
        if not self.pending or self.failure:
            return
        pending, self.pending = self.pending, []
        try:
            write_all(self.fd, _utf8("".join(line + "\n" for line in pending)))
            os.fsync(self.fd)
            self.kept += len(pending)
        except OSError as exc:  # a line cut short by this is dropped by the next --resume
            self.failure = OutputError(f"cannot write ({exc.strerror or exc})", str(self.path))

    def close(self):
        try:
            self.commit()
        finally:
            try:
                os.close(self.fd)
            except OSError as exc:  # a network file system may report a failed write only here
                self.failure = self.failure or OutputError(f"cannot write ({exc.strerror or exc})", str(self.path))
            self.names.close()

    def write_problems(self, folder: Path):
        """problems.csv from the journal, in row order, written atomically. It starts with a
        byte order mark: without one Excel, where clinicians open it, reads UTF-8 as the
        local code page ("—" shows as "â€”", "José" as "JosÃ©")."""
        with atomic_text_writer(folder / PROBLEMS, encoding="utf-8-sig") as handle:
            writer = csv.DictWriter(handle, fieldnames=PROBLEM_COLUMNS, lineterminator="\r\n")  # (a CR in a cell quoted)
            writer.writeheader()
            void = self.redo - self.redone  # drafts lost and not drafted again: their rows are not done
            later = dict(self.repeated)  # and each row this run drafted again has one entry more
            for row in self.redone:
                later[row] = later.get(row, 1) + 1
            # input order (rows redone by --resume come last)
            for entry in self.entries(with_problems_only=not (void or later)):
                if _superseded(entry, later) or entry["row"] in void:
                    continue
                for problem in entry["problems"]:
                    writer.writerow({column: _inert(cell) for column, cell in problem.items()})


_ROW = re.compile(rb'\{"row": (\d+),')  # how journal_line begins every entry


def _set_bit(bits: bytearray, row: int) -> bool:
    """Set row's bit (the array grown as needed); whether it was set already."""
    byte, bit = row >> 3, 1 << (row & 7)
    if byte >= len(bits):
        bits.extend(bytes(byte + 1 - len(bits) + 4096))
    was = bool(bits[byte] & bit)
    bits[byte] |= bit
    return was


def _superseded(entry: dict, later: dict) -> bool:
    """Whether a later entry of the same row replaces `entry` (`later` counts down the
    entries of each row journaled more than once, as they are read in order)."""
    left = later.get(entry["row"])
    if left is None:
        return False
    later[entry["row"]] = left - 1
    return left > 1


_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf8(text: str) -> bytes:
    """Journal lines as UTF-8, whatever str a message quotes: a lone surrogate (a JSON value's
    "\\ud800" escape), which UTF-8 cannot hold, is written as that escape's text. Raised here, it
    stopped the run for good: --resume met the same row again."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # (only inside the entries' JSON strings, where "\\" + "ud800" reads back as text)
        return _SURROGATE.sub(lambda m: f"\\\\u{ord(m.group()):04x}", text).encode("utf-8")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell):
    """A problems.csv cell that a spreadsheet shows and never runs. Excel and LibreOffice
    take a cell beginning with = + - @ as a formula (CSV injection), and the report id and
    path columns hold what the input said; a leading apostrophe keeps such a cell text. A
    control character there (a JSON key's \u0000, a terminal's escape) is written as its
    escape: raw, it broke CSV readers and coloured a terminal that showed the file."""
    if cell.__class__ is not str:
        return cell
    if _CONTROL.search(cell):
        cell = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", cell)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _intact(draft: Path, page: Optional[str] = None, not_before: Optional[int] = None) -> bool:
    """A draft file that exists and ends with its closing tag (not lost or cut short), and
    its page (`page`: the page's suffix, when the run renders one) not lost or empty either:
    neither is fsynced, and after a power cut --resume drafts the row again. With
    `not_before`, both written since then: a rewrite that a power cut lost leaves the
    earlier run's whole file, which an update must not keep."""
    try:
        if page:
            found = os.stat(draft.with_name(draft.name[:-4] + page))
            if found.st_size == 0 or (not_before is not None and found.st_mtime_ns < not_before):
                return False
        with draft.open("rb") as handle:
            if not_before is not None and os.fstat(handle.fileno()).st_mtime_ns < not_before:
                return False
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4096))  # (a comment added after it by hand is no loss)
            return b"</report>" in handle.read()
    except OSError:
        return False
