"""Draft many reports at once: every input row ends as a draft or as problems, never lost.

Rows are streamed from the reader, drafted in worker processes (results come back in
input order) and recorded in an append-only journal (`DIR/.medwatch-batch.jsonl`, one
line per finished row, fsynced in groups). The journal is what makes a killed run
resumable without duplicates: `--resume` skips every row it lists, and `problems.csv` is
regenerated from it, so a row's problems appear exactly once however often the run is
restarted.
"""
import csv
import itertools
import json
import os
import signal
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Union

from . import input_identity
from .catalog import NS, load_catalog
from .coerce import coerce_values
from .draft import draft_document
from .errors import InputError, OutputError
from .name_index import NameIndex
from .readers import InputDamaged, Row, Source
from .safe_io import FolderWriter, atomic_text_writer, write_all
from .validate import validate_many  # the worker's own imports, once per process (not per row)
from .workers import OrderedWorkers, WorkerLost

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
    name: str = ""               # the draft name the row claimed (also when it was not drafted)

    def __reduce__(self):  # pickled as its fields: each row's outcome comes back from a worker
        return Outcome, (self.row, self.file, self.report_id, self.problems, self.name)

    @property
    def drafted(self) -> bool:
        return self.file is not None


@dataclass
class Summary:
    drafted: int = 0
    failed: int = 0
    warnings: int = 0
    skipped: int = 0
    interrupted: bool = False  # stopped by Ctrl-C: what is done is kept, --resume finishes
    cannot_write: str = ""     # stopped because the output folder cannot be written (disk full...)
    worker_lost: str = ""      # stopped because a worker process was killed (out of memory...)
    cannot_read: str = ""      # stopped because the input could not be read further (I/O error...)
    kept: int = 0              # rows the journal holds at the end: what --resume will not redo
    # rows with an error, per form box: a few hundred boxes at most, however long the input
    errors_at: Counter = field(default_factory=Counter)

    def line(self) -> str:
        text = (f"{self.drafted} drafted, {self.failed} with errors, "
                f"{self.warnings} warning{'s' * (self.warnings != 1)}")
        return text + (f" ({self.skipped} rows already done, skipped)" if self.skipped else "")

    def worst(self, shown: int = 3) -> str:
        """Where most failed rows fail ('D2 Dose unit (812 rows), B3 Date of event (40 rows)'):
        a column written wrongly throughout shows at once, before problems.csv is opened."""
        places = []
        for (box, label), rows in self.errors_at.most_common(shown):
            where = " ".join(x for x in (box if box not in ("", "—") else "", label) if x) or "the row as a whole"
            places.append(f"{where} ({rows:,} row{'s' * (rows != 1)})")
        return ", ".join(places)


@lru_cache(maxsize=1)
def _report_id_check() -> Callable[[str], bool]:
    """Whether a report id may name a file: the schema's own pattern and length keep names safe."""
    import re

    id_field = load_catalog().field("admin/report_id")
    pattern = re.compile(id_field.pattern)
    return lambda report_id: len(report_id) <= id_field.max_length and pattern.fullmatch(report_id) is not None


def _draft_name(values: dict, row: int) -> str:
    """`ID.xml`, `ID-followup-N.xml`, or `row-000042.xml` without a usable report id."""
    report_id = str(values.get("admin/report_id", "")).strip()
    if not (report_id and _report_id_check()(report_id)):
        return f"row-{row:06d}.xml"  # no id, or one the schema will reject anyway
    follow_up = str(values.get("admin/follow_up", "")).strip()
    if report_id[:4].lower() == "row-":
        report_id = "id-" + report_id  # never collides with the names given by row number
    return report_id + (f"-followup-{follow_up}" if follow_up not in ("", "0") else "") + ".xml"


CHUNK = 32  # rows a worker drafts together: the rules run once per chunk (validate_many)
CHUNK_TEXT = 1 << 20  # characters of cell text after which a chunk is sent even if short of CHUNK rows
WINDOW = 8  # per worker: chunks out or waiting for their turn (a bound on memory)


def _problem(outcome: Outcome, severity, message, path=None, box="", label="", rule=""):
    outcome.problems.append({"row": outcome.row, "report_id": outcome.report_id, "path": path or "",
                             "box": box, "label": label, "severity": severity,
                             "message": message, "rule": rule})


def _prepare(number: int, values: dict, row_problems: List[str], name: Optional[str],
             duplicate_of: Optional[int]):
    """A row's outcome so far and its draft document (None when it cannot be drafted)."""
    name = name or _draft_name(values, number)
    outcome = Outcome(number, None, str(values.get("admin/report_id", "")).strip(), name=name)
    for message in row_problems:
        _problem(outcome, "error", f"row {number} {message}")
    if duplicate_of is not None:
        _problem(outcome, "error", f"draft name {name} is already used by row {duplicate_of} (same report id "
                 "and follow-up number, in any letter case); this row was not drafted", "admin/report_id", "—",
                 "Report ID")
    if outcome.problems:
        return outcome, None
    values, value_problems = coerce_values(values)
    catalog = load_catalog()
    for path, message in value_problems:
        box, label = catalog.describe(path)
        _problem(outcome, "error", message, path, box, label)
    try:
        return outcome, draft_document(values)
    except InputError as exc:
        _problem(outcome, "error", exc.reason)
        return outcome, None


def draft_rows(items: List[tuple], out_dir: str, render_to: Optional[str] = None) -> List[Outcome]:
    """Coerce, build, validate and (if no errors) write the drafts of a chunk of rows.

    `items` are `as_task(row, draft name, row whose draft already has that name or None)`.
    Runs in a worker; the chunk's drafts are validated together, exactly as they will be on
    disk.
    """
    outcomes, drafted = [], []
    for item in items:
        outcome, document = _prepare(*item)
        outcomes.append(outcome)
        if document is not None:
            drafted.append((outcome, document))
    checked = validate_many([data for _, (data, _) in drafted], [o.name for o, _ in drafted])
    with FolderWriter(out_dir) as folder:  # not fsynced: --resume re-checks every draft
        for (outcome, (data, leaves)), (root, problems) in zip(drafted, checked):
            for p in problems:
                _problem(outcome, p.severity, p.message, p.path, p.box, p.label, p.rule)
            if outcome.problems and any(p["severity"] == "error" for p in outcome.problems):
                continue
            folder.write(outcome.name, data)
            if render_to:
                page = outcome.name[:-4] + (".html" if render_to == "html" else ".txt")
                folder.write(page, _renderer(render_to)(root, leaves))
            outcome.file = outcome.name
    return outcomes


def as_task(row: Row, name: Optional[str] = None, duplicate_of: Optional[int] = None) -> tuple:
    """A row as a worker gets it: a plain tuple, which pickles and unpickles at about three
    quarters of the cost of a Row (every row crosses to a worker)."""
    return row.number, row.values, row.problems, name, duplicate_of


_RENDERERS: dict = {}


def _renderer(to: str):
    """This process's renderer: HTML through per-shape skeletons (see skeleton.py), text in full."""
    if to not in _RENDERERS:
        if to == "html":
            from .skeleton import SkeletonRenderer

            _RENDERERS[to] = SkeletonRenderer(to)
        else:
            from .render import render

            _RENDERERS[to] = lambda root, leaves=None: render(root, to=to)
    return _RENDERERS[to]


def _worker(chunk: tuple) -> Union[List[Outcome], OutputError]:
    """Draft a chunk of rows; a bug must not lose a row, so on one the chunk is redone row by
    row and the row it is about gets the error as a problem. When the output folder cannot
    be written (disk full...) no row is to blame: the error is returned and the run stops."""
    out_dir, render_to, items = chunk
    try:
        return draft_rows(items, out_dir, render_to)
    except OutputError as exc:
        return exc
    except Exception:
        pass  # a bug: the chunk is redone row by row below
    try:
        return [_alone(item, out_dir, render_to) for item in items]
    except OutputError as exc:
        return exc


def _alone(item: tuple, out_dir: str, render_to: Optional[str]) -> Outcome:
    number, name = item[0], item[3]
    try:
        return draft_rows([item], out_dir, render_to)[0]
    except OutputError:
        raise
    except Exception as exc:
        outcome = Outcome(number, None, name=name or "")
        _problem(outcome, "error", f"internal error: {type(exc).__name__}: {exc}")
        return outcome


_NO_PROBLEMS = json.dumps({"problems": []})[1:-1]  # as journal_line writes an entry without problems
_json_string = json.encoder.encode_basestring  # a str as json.dumps(..., ensure_ascii=False) writes it


def journal_line(outcome: Outcome) -> str:
    """A row's journal entry, exactly as json.dumps(entry, ensure_ascii=False) writes it.
    Rows without problems (nearly all) are formatted directly: json.dumps of the dict took
    three times as long, in the main process that every row passes through."""
    named = bool(outcome.name) and not outcome.name.startswith("row-")
    if outcome.problems:
        entry = {"row": outcome.row, "file": outcome.file, "report_id": outcome.report_id,
                 "problems": outcome.problems}
        if named:
            entry["name"] = outcome.name
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

    def __init__(self, folder: Path):
        self.path = folder / JOURNAL
        self.done = bytearray()  # one bit per row number: 1.25 MB for ten million rows
        self.earlier = Summary()  # what the journal already holds, for the summary line
        self.names = NameIndex(folder)  # names given by report id (row-NNNNNN names are unique anyway)
        self.redo = set()  # journaled rows whose draft did not survive: their old entry is void
        self._drop_cut_line()
        for entry in self.entries():
            if entry["file"] and not _intact(folder / entry["file"]):
                self.redo.add(entry["row"])
                continue
            self._mark(entry["row"])
            _count(entry, self.earlier)
            self.earlier.skipped += 1
            if entry.get("name"):
                self.names.claim(entry["name"], entry["row"])
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
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

    def _mark(self, row: int):
        byte = row >> 3
        if byte >= len(self.done):
            self.done.extend(bytes(byte + 1 - len(self.done) + 4096))
        self.done[byte] |= 1 << (row & 7)

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

    def record(self, outcome: Outcome):
        """Journal a finished row (in groups). Once a write has failed nothing more is
        journaled (`failure` says why): the rows not journaled are simply redone by --resume."""
        if self.failure:
            return
        self.pending.append(journal_line(outcome))
        self._mark(outcome.row)
        if len(self.pending) >= self.GROUP:
            self.commit()

    def commit(self):
        """Append the pending rows to the journal and fsync it."""
        if not self.pending or self.failure:
            return
        pending, self.pending = self.pending, []
        try:
            write_all(self.fd, "".join(line + "\n" for line in pending).encode("utf-8"))
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
            writer = csv.DictWriter(handle, fieldnames=PROBLEM_COLUMNS, lineterminator="\n")
            writer.writeheader()
            void = set(self.redo)
            # input order (rows redone by --resume come last)
            for entry in self.entries(with_problems_only=not void):
                if entry["row"] in void:  # the entry of a draft that was lost; a later one replaces it
                    void.discard(entry["row"])
                    continue
                for problem in entry["problems"]:
                    writer.writerow({column: _inert(cell) for column, cell in problem.items()})


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell):
    """A problems.csv cell that a spreadsheet shows and never runs. Excel and LibreOffice
    take a cell beginning with = + - @ as a formula (CSV injection), and the report id and
    path columns hold what the input said; a leading apostrophe keeps such a cell text."""
    return "'" + cell if cell.__class__ is str and cell.startswith(_FORMULA_START) else cell


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


class _StopOnCtrlC:
    """Ctrl-C asks the run to stop after the rows under way instead of killing it mid-write:
    they are journaled, problems.csv is written, and --resume takes over cleanly. A second
    Ctrl-C acts at once (the previous handler is back)."""

    def __enter__(self):
        self.requested = False
        self.installed = threading.current_thread() is threading.main_thread()  # only there can it be
        if self.installed:
            self.previous = signal.signal(signal.SIGINT, self._request) or signal.SIG_DFL
        return self

    def _request(self, signum, frame):
        self.requested = True
        signal.signal(signal.SIGINT, self.previous)

    def __exit__(self, *exc):
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)


def run_batch(source: Source, out_dir, render_to: Optional[str] = None, jobs: int = 1,
              resume: bool = False, on_row: Optional[Callable[[Outcome], None]] = None) -> Summary:
    """Draft every row of `source` into `out_dir`; returns the counts for the summary line."""
    folder = Path(out_dir)
    if (folder / JOURNAL).exists() and not resume:
        raise InputError("already holds a batch run: add --resume to finish it, or choose another --out",
                         str(folder))
    rows = iter(source)
    try:
        head = next(rows, None)  # reads the header: a wrong one stops the run before anything is written
    except (OSError, InputDamaged) as exc:
        raise InputError(f"cannot be read ({_reason(exc)})", source.name) from None
    if not (folder / JOURNAL).exists():
        _refuse_others_files(folder, source.name)
    changed = input_identity.change(folder, source.name) if resume else None
    if changed:
        raise InputError(f"has changed since the batch run in {folder} began ({changed}): --resume only "
                         "finishes a run on the same input, and would skip rows it never read. To draft "
                         "the changed file, choose another --out", source.name)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        input_identity.record(folder, source.name)
    except OSError as exc:
        raise OutputError(f"cannot create this folder ({exc.strerror or exc})", str(folder)) from None
    journal = Journal(folder)
    summary = journal.earlier

    def tasks():
        for row in _read_until_failure(itertools.chain([head] if head is not None else [], rows), source.name, summary):
            if journal.is_done(row.number):
                continue
            name = _draft_name(row.values, row.number)
            try:
                first = journal.names.claim(name, row.number) if not name.startswith("row-") else None
            except OutputError as exc:  # stop reading rows; the loop below finishes what is out
                failures.append(exc)
                stopping.set()
                return
            yield as_task(row, name, first)

    stopping = threading.Event()
    failures: List[OutputError] = []  # the output folder cannot be written: the run stops
    try:
        with _StopOnCtrlC() as ctrl_c:
            def stop() -> bool:  # Ctrl-C stops the sending of rows at once, not at the next result
                return ctrl_c.requested or stopping.is_set()

            try:
                for outcome in _outcomes(tasks(), jobs, str(folder), render_to, stop):
                    journal.record(outcome)
                    _count({"file": outcome.file, "problems": outcome.problems}, summary)
                    if on_row:
                        on_row(outcome)
                    if ctrl_c.requested and not stopping.is_set():
                        stopping.set()  # no new rows; those under way are finished and journaled
                        summary.interrupted = True
                    if journal.failure and not stopping.is_set():
                        stopping.set()
            except OutputError as exc:
                failures.append(exc)
            except WorkerLost as exc:  # the rows it had are not journaled: --resume redoes them
                summary.worker_lost = str(exc)
    finally:
        journal.close()
        try:
            journal.write_problems(folder)
        except OutputError as exc:
            failures.append(exc)
    failure = journal.failure or (failures[0] if failures else None)
    if failure:
        summary.cannot_write = str(failure)
    summary.kept = journal.kept
    return summary


_OURS = (".xml", ".html", ".txt")  # what a run writes besides its hidden files: drafts, pages, problems.csv


def _refuse_others_files(folder: Path, input_name: str):
    """A new run writes drafts by report id and problems.csv, replacing files of the same
    names: in a folder that already holds such files (hand-made drafts, another tool's
    output) it could overwrite them without a word, so it starts only where there are none
    (the input itself may lie there)."""
    try:
        with os.scandir(folder) as entries:
            found = [e.name for e in entries if e.name == PROBLEMS or e.name.lower().endswith(_OURS)]
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise OutputError(f"cannot be read ({exc.strerror or exc})", str(folder)) from None
    found = [name for name in found if not _same_file(folder / name, input_name)]
    if found:
        shown = ", ".join(sorted(found)[:3]) + (f" and {len(found) - 3:,} more" if len(found) > 3 else "")
        raise InputError(f"already holds drafts or pages not from a batch run ({shown}), which this run could "
                         "replace: choose a new or empty --out folder", str(folder))


def _same_file(path: Path, input_name: str) -> bool:
    try:
        return input_name != "-" and os.path.samefile(path, input_name)
    except OSError:  # a dangling link, say: not the input
        return False


def _read_until_failure(rows: Iterator[Row], name: str, summary: Summary) -> Iterator[Row]:
    """The rows, until reading fails (a disk or network error, a removed USB stick, a
    damaged workbook): then the run stops, as when the output folder cannot be written. The
    rows read so far are drafted and journaled, and --resume goes on from there once the
    input reads again."""
    last = 1  # the header
    try:
        for row in rows:
            last = row.number
            yield row
    except (OSError, InputDamaged) as exc:
        summary.cannot_read = f"{name}: cannot be read after row {last} ({_reason(exc)})"


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _count(entry: dict, summary: Summary):
    if entry["file"]:
        summary.drafted += 1
    else:
        summary.failed += 1
        for box_and_label in {(p["box"], p["label"]) for p in entry["problems"] if p["severity"] == "error"}:
            summary.errors_at[box_and_label] += 1
    summary.warnings += sum(1 for p in entry["problems"] if p["severity"] == "warning")


def _outcomes(tasks: Iterator[tuple], jobs: int, out_dir: str, render_to: Optional[str],
              stopping: Callable[[], bool]) -> Iterator[Outcome]:
    """Results in input order, from this process (jobs=1) or worker processes. Once
    `stopping()` is true no new rows are started; the rows already sent are finished and
    yielded (a few hundred at most), so nothing done is thrown away."""
    chunks = _chunked(tasks, out_dir, render_to)
    if jobs <= 1:
        for chunk in chunks:
            if stopping():
                return
            result = _worker(chunk)
            if isinstance(result, OutputError):
                raise result
            yield from result
        return
    _load_shared(render_to)
    with OrderedWorkers(jobs, _worker, initializer=_warm_up) as workers:
        failure = None
        for result in workers.run(chunks, jobs * WINDOW, lambda: failure is not None or stopping()):
            if isinstance(result, OutputError):  # send no more; take in what is under way
                failure = failure or result
                continue
            yield from result
    if failure:
        raise failure


def _chunked(tasks: Iterator[tuple], out_dir: str, render_to: Optional[str]) -> Iterator[tuple]:
    """Tasks for `_worker`: CHUNK rows, fewer when their cells hold much text (memory)."""
    items, text = [], 0
    for item in tasks:
        items.append(item)
        text += _text_size(item[1])
        if len(items) == CHUNK or text >= CHUNK_TEXT:
            yield out_dir, render_to, items
            items, text = [], 0
    if items:
        yield out_dir, render_to, items


def _text_size(values: dict) -> int:
    try:
        return len("".join(values.values()))  # a spreadsheet's cells, all text: one pass in C
    except TypeError:  # JSON numbers, true/false, lists
        return sum(len(v) if isinstance(v, str) else len(str(v)) for v in values.values())


def _load_shared(render_to: Optional[str] = None):
    """Load the catalog, schema, rules, country table and page template in the main process,
    just before the workers are forked: they inherit them instead of each building its own
    (0.15 s of CPU in all for two workers). Each call after the first finds them loaded."""
    from lxml import etree

    from .coerce import _country
    from .validate import _xsd, rule_report

    load_catalog(), _xsd(), rule_report(etree.Element("warm-up"))
    _country("US")  # reads the country table (G1 reporter's country)
    if render_to:
        from .render import render

        _renderer(render_to)
        render(etree.Element(f"{{{NS}}}report"), to=render_to)  # compiles the template


def _warm_up():
    """A worker's start. Ctrl-C is for the main process to handle (a worker killed by it
    would leave its chunk unanswered). Loads what it did not inherit (none, when forked)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _load_shared()
