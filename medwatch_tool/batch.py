"""Draft many reports at once: every input row ends as a draft or as problems, never lost.

Rows are streamed from the reader, drafted in worker processes (drafting.py; results come
back in input order) and recorded in an append-only journal (journal.py, one line per
finished row, fsynced in groups), from which `--resume` knows what is done and
`problems.csv` is written.
"""
import itertools
import signal
import threading
from pathlib import Path
from typing import Callable, Iterator, List, Optional

from . import input_identity, out_folder, update_run
from .drafting import CHUNK, CHUNK_TEXT, as_task, draft_name, load_shared, warm_up, worker
from .errors import InputDamaged, InputError, OptionConflict, OutputError
from .journal import JOURNAL, Journal
from .outcomes import Outcome, Summary
from .readers import Row, Source
from .workers import OrderedWorkers, WorkerLost

WINDOW = 4  # per worker: chunks out or waiting for their turn (a bound on memory)


class _StopOnSignal:
    """Ctrl-C, a closed terminal (SIGHUP) or a polite kill (SIGTERM, as `timeout` and
    service managers send) asks the run to stop after the rows under way instead of killing
    it mid-write: they are journaled, problems.csv is written, and --resume takes over
    cleanly. A second signal acts at once (the previous handlers are back); after a second
    Ctrl-C (KeyboardInterrupt) more of them are ignored while the run closes its journal and
    its workers, which takes a moment: a third one, pressed in a hurry, broke into that
    and into Python's own exit with a traceback."""

    SIGNALS = [s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s]

    def __enter__(self):
        self.requested = 0  # the signal that asked, or 0
        self.installed = threading.current_thread() is threading.main_thread()  # only there can it be
        self.previous = {}
        self.stage_two = False  # a second Ctrl-C is handled here (SIGINT's own handler was Python's)
        if self.installed:
            for number in self.SIGNALS:
                self.previous[number] = signal.signal(number, self._request) or signal.SIG_DFL
        return self

    def _request(self, signum, frame):
        self.requested = signum
        self._restore()
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.stage_two = True
            signal.signal(signal.SIGINT, self._at_once)

    @staticmethod
    def _at_once(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # while the run closes (the command line keeps it so)
        raise KeyboardInterrupt

    def _restore(self):
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        self.previous = {}

    def __exit__(self, *exc):
        if self.installed:
            self._restore()
            if self.stage_two:  # Python's handler back, for a caller of run_batch that goes on
                signal.signal(signal.SIGINT, signal.default_int_handler)


def run_batch(source: Source, out_dir, render_to: Optional[str] = None, jobs: int = 1,
              resume: bool = False, on_row: Optional[Callable[[Outcome], None]] = None,
              update: bool = False, began: Optional[Callable[[], None]] = None) -> Summary:
    """Draft every row of `source` into `out_dir`; returns the counts for the summary line.
    `update`: the folder may hold an earlier run, which this one replaces (update_run.py);
    `began` is called once it has begun to (a stop before that leaves the earlier run whole)."""
    if resume and update:
        raise ValueError("resume finishes a run; update begins one")
    folder = Path(out_dir)
    _can_look_into(folder)
    out_folder.refuse_overwriting_input(folder, source.name, render_to)
    if _journaled(folder) and not (resume or update):
        out_folder.Held(folder).release()  # a run writing there now is said as such (not "add --resume")
        raise OptionConflict("already holds a batch run: add --resume to finish it (a run that is done drafts "
                             "nothing more, and --resume says so), --update to draft a corrected input into it "
                             "again, or choose another --out", str(folder))
    rows = iter(source)
    try:
        head = next(rows, None)  # reads the header: a wrong one stops the run before anything is written
    except (OSError, InputDamaged) as exc:
        raise InputError(f"cannot be read ({_reason(exc)})", source.name) from None
    if head is None and ((update and update_run.holds_a_run(folder)) or update_run.pending(folder)):
        raise InputError("gives no rows: updating the drafts with it would move every draft of the earlier run "
                         "aside (an export that failed? another sheet?); check it, or choose another --out",
                         source.name)
    if not ((folder / JOURNAL).exists() or update_run.pending(folder)):  # (a run's folder, journaled
        out_folder.refuse_others_files(folder, source.name, render_to)  # or not: its problems.csv is its own)
    out_folder.make(folder)
    held = out_folder.Held(folder)
    try:
        if update:
            update_run.begin(folder, render_to)
            if began:
                began()
        elif update_run.pending(folder):  # finishing an update stopped before it journaled a row
            update_run.check_render(folder, render_to)
            update_run.complete_begin(folder)
        return _run(source, folder, head, rows, render_to, jobs, on_row)
    finally:
        held.release()


def _run(source: Source, folder: Path, head: Optional[Row], rows: Iterator[Row], render_to: Optional[str],
         jobs: int, on_row: Optional[Callable[[Outcome], None]]) -> Summary:
    """run_batch, once the folder is held by this run."""
    out_folder.remove_leftovers(folder)
    update_run.remove_scratch(folder)
    resuming = _journaled(folder)
    if not resuming:
        input_identity.forget(folder)  # a run killed before it journaled a row: nothing to resume
    try:
        input_identity.check_and_note(folder, source.name, render_to, source.format, source.sheet_read,
                                      source.sheet_default)
    except OSError as exc:
        raise OutputError(f"cannot write here ({exc.strerror or exc})", str(folder)) from None
    if resuming and input_identity.was_piped(folder):
        what = "standard input" if source.name == "-" else "a pipe"
        source.notes.append(f"{what} cannot be compared with what the run began on: the rows already "
                            "done are skipped by their numbers, so give it the same rows")
    journal = Journal(folder, out_folder.PAGE[render_to] if render_to else None, update_run.begun_at(folder))
    summary = journal.earlier
    source.done = journal.is_done
    spans = {}  # row -> its last line, for the JSON Lines records written over many lines (few)

    unit = source.unit  # how the input names its rows: in problems

    def tasks():
        for row in _read_until_failure(itertools.chain([head] if head is not None else [], rows), source.name, summary):
            if journal.is_done(row.number):
                row = _rest_of_a_record(row, journal)
                if row is None:
                    continue
            name = draft_name(row.values, row.number)
            try:
                first = journal.names.claim(name, row.number) if not name.startswith("row-") else None
            except OutputError as exc:  # stop reading rows; the loop below finishes what is out
                failures.append(exc)
                stopping.set()
                return
            if row.last:
                spans[row.number] = row.last
            if row.problems:  # what kept the reader from reading it, said as the input names its rows
                row.problems = [f"{unit} {row.number} {problem}" for problem in row.problems]
            yield as_task(row, name, None if first is None else f"{unit} {first}")
        read_all.set()

    read_all = threading.Event()  # every row was read (and sent): a signal after that stopped nothing
    stopping = threading.Event()
    failures: List[OutputError] = []  # the output folder cannot be written: the run stops
    with _StopOnSignal() as asked:  # (around the closing too: a second Ctrl-C leaves it alone)
        def stop() -> bool:  # a signal stops the sending of rows at once, not at the next result
            return bool(asked.requested) or stopping.is_set()

        try:
            try:
                for outcome in _outcomes(tasks(), jobs, str(folder), render_to, stop):
                    journal.record(outcome, spans.pop(outcome.row, 0))
                    summary.count({"file": outcome.file, "problems": outcome.problems})
                    if on_row:
                        on_row(outcome)
                    if asked.requested and not stopping.is_set():
                        stopping.set()  # no new rows; those under way are finished and journaled
                    if journal.failure and not stopping.is_set():
                        stopping.set()
            except OutputError as exc:
                failures.append(exc)
            except WorkerLost as exc:  # the rows it had are not journaled: --resume redoes them
                summary.worker_lost = str(exc)
            if asked.requested and not read_all.is_set():  # (also when it came after the last result in hand)
                summary.interrupted = asked.requested
        finally:
            journal.close()
            try:
                journal.write_problems(folder)
            except OutputError as exc:
                failures.append(exc)
                summary.no_problems_file = exc.reason
        failure = journal.failure or (failures[0] if failures else None)
        if not (failure or summary.stopped or summary.interrupted):  # the whole input is drafted: an
            try:  # update's end (a signal meanwhile waits for it, as after the last row)
                drafted = (entry["file"] for entry in journal.entries() if entry["file"])
                summary.superseded = update_run.finish(folder, render_to, drafted, drafted_any=summary.drafted > 0)
            except OutputError as exc:
                summary.cannot_move = str(exc)
    if failure:
        summary.cannot_write = str(failure)
    summary.kept = journal.kept
    return summary


def _rest_of_a_record(row: Row, journal: Journal) -> Optional[Row]:
    """None for a row done, unless it is a JSON Lines record over many lines whose first
    line a run before this one took as a row of its own (the file then ended inside the
    record, and its other lines were added since): its lines not done are one problem, not
    lost. (Only the first row can be so: the reader reads it before the journal; later rows
    are not read as records over many lines from a line the journal holds.)"""
    rest = next((n for n in range(row.number + 1, row.last + 1) if not journal.is_done(n)), None)
    if rest is None:
        return None
    return Row(rest, {}, [f"continues the JSON object that line {row.number} opens, whose first lines a run before "
                          "this one read one by one (the file ended inside it; the rest was added since): write "
                          "the report on one line, and draft it into a new folder"], row.last)


def _can_look_into(folder: Path) -> None:
    """OutputError when the folder (or one above it) may not be searched: said as such, not
    as an unexpected PermissionError from the first look for its journal."""
    try:
        (folder / JOURNAL).stat()
    except (FileNotFoundError, NotADirectoryError):
        pass  # a new folder (made later), or a file where the folder should be (said later)
    except OSError as exc:
        raise OutputError(f"cannot write here ({exc.strerror or exc})", str(folder)) from None


def _journaled(folder: Path) -> bool:
    """Whether a run in `folder` journaled rows: one that journaled none (a header-only
    template, drafting nothing) holds the folder for no one, and a new run may start there."""
    try:
        return (folder / JOURNAL).stat().st_size > 0
    except OSError:
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


def _outcomes(tasks: Iterator[tuple], jobs: int, out_dir: str, render_to: Optional[str],
              stopping: Callable[[], bool]) -> Iterator[Outcome]:
    """Results in input order, from this process (jobs=1) or worker processes. Once
    `stopping()` is true no new rows are started; the rows already sent are finished and
    yielded (a chunk per worker is being drafted, the rest are done and wait for their
    turn), so nothing done is thrown away; but none after a chunk that could not be written
    (a disk full for a moment): the journal must hold the input's first rows and no row past
    a gap, or a row after it would hold a report id that a row in the gap, drafted by
    --resume, comes to first (both then refused, each as the other's repeat)."""
    chunks = _chunked(tasks, out_dir, render_to)
    if jobs <= 1:
        for chunk in chunks:
            if stopping():
                return
            result = worker(chunk)
            if isinstance(result, OutputError):
                raise result
            yield from result
        return
    load_shared(render_to)
    with OrderedWorkers(jobs, worker, initializer=warm_up) as workers:
        failure = None
        for result in workers.run(chunks, jobs * WINDOW, lambda: failure is not None or stopping()):
            if isinstance(result, OutputError):  # send no more; take in what is under way
                failure = failure or result
                continue
            if failure is None:  # (a chunk after the failed one: its drafts are written again by --resume)
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
