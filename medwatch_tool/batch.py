"""Draft many reports at once: every input row ends as a draft or as problems, never lost.

Rows are streamed from the reader, drafted in worker processes (results come back in
input order) and recorded in an append-only journal (`DIR/.medwatch-batch.jsonl`, one
fsynced line per finished row). The journal is what makes a killed run resumable without
duplicates: `--resume` skips every row it lists, and `problems.csv` is regenerated from it,
so a row's problems appear exactly once however often the run is restarted.
"""
import csv
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, List, Optional

from .errors import InputError
from .readers import Row, Source
from .safe_io import atomic_text_writer, atomic_write

JOURNAL = ".medwatch-batch.jsonl"
PROBLEMS = "problems.csv"
PROBLEM_COLUMNS = ["row", "report_id", "path", "box", "label", "severity", "message", "rule"]


@dataclass
class Outcome:
    """What became of one input row."""

    row: int
    file: Optional[str]          # the draft's file name, or None when not drafted
    report_id: str = ""
    problems: List[dict] = field(default_factory=list)

    @property
    def drafted(self) -> bool:
        return self.file is not None


@dataclass
class Summary:
    drafted: int = 0
    failed: int = 0
    warnings: int = 0
    skipped: int = 0

    def line(self) -> str:
        text = (f"{self.drafted} drafted, {self.failed} with errors, "
                f"{self.warnings} warning{'s' * (self.warnings != 1)}")
        return text + (f" ({self.skipped} rows already done, skipped)" if self.skipped else "")


def _draft_name(values: dict, row: int) -> str:
    """`ID.xml`, `ID-followup-N.xml`, or `row-000042.xml` without a usable report id."""
    import re

    from .catalog import load_catalog

    report_id = str(values.get("admin/report_id", "")).strip()
    follow_up = str(values.get("admin/follow_up", "")).strip()
    id_field = load_catalog().field("admin/report_id")  # the schema's pattern keeps names safe
    if not (report_id and len(report_id) <= id_field.max_length and re.fullmatch(id_field.pattern, report_id)):
        return f"row-{row:06d}.xml"  # no id, or one the schema will reject anyway
    if report_id.lower().startswith("row-"):
        report_id = "id-" + report_id  # never collides with the names given by row number
    return report_id + (f"-followup-{follow_up}" if follow_up not in ("", "0") else "") + ".xml"


def draft_row(row: Row, out_dir: str, render_to: Optional[str] = None, name: Optional[str] = None,
              duplicate_of: Optional[int] = None) -> Outcome:
    """Coerce, build, validate and (if no errors) write one row's draft. Runs in a worker."""
    from .coerce import coerce_values
    from .catalog import load_catalog
    from .draft import build_draft, draft_bytes, parse_draft
    from .validate import validate_tree

    report_id = str(row.values.get("admin/report_id", "")).strip()
    number = row.number
    outcome = Outcome(number, None, report_id)

    def add(severity, message, path=None, box="", label="", rule=""):
        outcome.problems.append({"row": number, "report_id": report_id, "path": path or "",
                                 "box": box, "label": label, "severity": severity,
                                 "message": message, "rule": rule})

    for message in row.problems:
        add("error", f"row {number} {message}")
    if duplicate_of is not None:
        add("error", f"draft name {name} is already used by row {duplicate_of} (same report id and "
                     "follow-up number); this row was not drafted", "admin/report_id", "—", "Report ID")
    if outcome.problems:
        return outcome
    values, value_problems = coerce_values(row.values)
    catalog = load_catalog()
    for path, message in value_problems:
        box, label = catalog.describe(path)
        add("error", message, path, box, label)
    try:
        root = build_draft(values)
    except InputError as exc:
        add("error", exc.reason)
        return outcome
    name = name or _draft_name(row.values, number)
    data = draft_bytes(root)
    root = parse_draft(data, name)  # validate what will be on disk, with its line numbers
    for p in validate_tree(root, name):
        add(p.severity, p.message, p.path, p.box, p.label, p.rule)
    if any(p["severity"] == "error" for p in outcome.problems):
        return outcome
    out = Path(out_dir)
    atomic_write(out / name, data, durable=False)  # --resume re-checks it (see Journal)
    if render_to:
        from .render import render

        atomic_write(out / (name[:-4] + (".html" if render_to == "html" else ".txt")),
                     render(root, to=render_to), durable=False)
    outcome.file = name
    return outcome


def _worker(args):
    row = args[0]
    try:
        return draft_row(*args)
    except Exception as exc:  # a bug must not lose the row: it is reported like a problem
        outcome = Outcome(row.number, None)
        outcome.problems.append({"row": row.number, "report_id": "", "path": "", "box": "", "label": "",
                                 "severity": "error", "message": f"internal error: {type(exc).__name__}: {exc}",
                                 "rule": ""})
        return outcome


class Journal:
    """Append-only record of finished rows, fsynced in groups of rows.

    A row that is not in the journal is simply drafted again by --resume (same name,
    replaced whole). Drafts themselves are not fsynced one by one (that cost more than the
    drafting); instead --resume checks the draft of every journaled row and drafts the row
    again if a crash or power cut left its file missing or cut short.
    """

    GROUP = 256

    def __init__(self, folder: Path):
        self.path = folder / JOURNAL
        self.done = bytearray()  # one byte per row number: memory stays small however long the run
        self.earlier = Summary()  # what the journal already holds, for the summary line
        self.names = {}  # draft names taken by report id -> row (row-NNNNNN names are unique anyway)
        self.redo = set()  # journaled rows whose draft did not survive: their old entry is void
        for entry in self.entries():
            if entry["file"] and not _intact(folder / entry["file"]):
                self.redo.add(entry["row"])
                continue
            self._mark(entry["row"])
            _count(entry, self.earlier)
            self.earlier.skipped += 1
            if entry["file"] and not entry["file"].startswith("row-"):
                self.names[entry["file"]] = entry["row"]
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.handle = os.fdopen(fd, "a", encoding="utf-8")
        self.pending = []

    def _mark(self, row: int):
        if row >= len(self.done):
            self.done.extend(bytes(row + 1 - len(self.done) + 4096))
        self.done[row] = 1

    def is_done(self, row: int) -> bool:
        return row < len(self.done) and self.done[row] == 1

    def entries(self) -> Iterator[dict]:
        """The journal's entries, read back one line at a time."""
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8") as handle:
            for line in handle:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill: that row is simply redone

    def record(self, outcome: Outcome):
        entry = {"row": outcome.row, "file": outcome.file, "report_id": outcome.report_id,
                 "problems": outcome.problems}
        self.pending.append(entry)
        self._mark(outcome.row)
        if len(self.pending) >= self.GROUP:
            self.commit()

    def commit(self):
        """Append the pending rows to the journal and fsync it."""
        if not self.pending:
            return
        self.handle.write("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.pending))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.pending = []

    def close(self):
        self.commit()
        self.handle.close()

    def write_problems(self, folder: Path):
        """problems.csv from the journal, in row order, written atomically."""
        with atomic_text_writer(folder / PROBLEMS) as handle:
            writer = csv.DictWriter(handle, fieldnames=PROBLEM_COLUMNS, lineterminator="\n")
            writer.writeheader()
            void = set(self.redo)
            for entry in self.entries():  # input order (rows redone by --resume come last)
                if entry["row"] in void:  # the entry of a draft that was lost; a later one replaces it
                    void.discard(entry["row"])
                    continue
                for problem in entry["problems"]:
                    writer.writerow(problem)


def _intact(draft: Path) -> bool:
    """A draft file that exists and ends with its closing tag (not lost or cut short)."""
    try:
        with draft.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64))
            return b"</report>" in handle.read()
    except OSError:
        return False


def _bounded(tasks: Iterator[tuple], limit: threading.Semaphore) -> Iterator[tuple]:
    """Feed the pool no more than a window of rows ahead of the results (flat memory)."""
    for task in tasks:
        limit.acquire()
        yield task


def run_batch(source: Source, out_dir, render_to: Optional[str] = None, jobs: int = 1,
              resume: bool = False, on_row: Optional[Callable[[Outcome], None]] = None) -> Summary:
    """Draft every row of `source` into `out_dir`; returns the counts for the summary line."""
    folder = Path(out_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if (folder / JOURNAL).exists() and not resume:
        raise InputError("already holds a batch run: add --resume to finish it, or choose another --out",
                         str(folder))
    journal = Journal(folder)
    summary = journal.earlier

    def tasks():
        for row in source:
            if journal.is_done(row.number):
                continue
            name = _draft_name(row.values, row.number)
            first = journal.names.setdefault(name, row.number) if not name.startswith("row-") else row.number
            yield (row, str(folder), render_to, name, first if first != row.number else None)

    try:
        for outcome in _outcomes(tasks(), jobs):
            journal.record(outcome)
            _count({"file": outcome.file, "problems": outcome.problems}, summary)
            if on_row:
                on_row(outcome)
    finally:
        journal.close()
        journal.write_problems(folder)
    return summary


def _count(entry: dict, summary: Summary):
    if entry["file"]:
        summary.drafted += 1
    else:
        summary.failed += 1
    summary.warnings += sum(1 for p in entry["problems"] if p["severity"] == "warning")


def _outcomes(tasks: Iterator[tuple], jobs: int) -> Iterator[Outcome]:
    """Results in input order, from this process (jobs=1) or a pool of workers."""
    if jobs <= 1:
        for task in tasks:
            yield _worker(task)
        return
    import multiprocessing

    window = threading.Semaphore(jobs * 64)
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with context.Pool(jobs, initializer=_warm_up) as pool:
        for outcome in pool.imap(_worker, _bounded(tasks, window), chunksize=16):
            window.release()
            yield outcome


def _warm_up():
    """Load the catalog, schema and rules once per worker, not once per row."""
    from .catalog import load_catalog
    from .validate import _rules, _xsd

    load_catalog(), _xsd(), _rules()
