"""`medwatch batch --update`: a corrected input drafted again into the folder of an earlier run.

A clinician fixes the rows that problems.csv named and runs the file again; the folder is
to hold what the corrected file gives, not two runs' outputs side by side. The update is a
new run there (its own journal and problems.csv) that writes every draft anew. A draft that
the new input no longer gives (its row now fails, or was removed or given another report
id) would stay in the folder as if still current: when the update has drafted its whole
input, every draft in the folder that its journal does not list is moved, with its page,
into `superseded/<when the update began>/`, never deleted nor replaced.

The folder itself is looked at, not a list of the earlier run's drafts: a run killed before
journaling its last rows left drafts no journal names, and those too are the earlier
input's. Which names this run drafted goes into a small SQLite table beside the drafts, not
into memory (memory stays flat however many rows). Until the update has ended, a marker
file says one is under way: the earlier drafts' --render, the folder they go to, when the
update first began and whether the earlier journal is dropped yet.
"""
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, List, Optional

from . import input_identity, out_folder
from .errors import OptionConflict, OutputError
from .journal import JOURNAL, PROBLEMS
from .name_index import drop, scratch_database
from .safe_io import atomic_write

MARKER = ".medwatch-batch-update.json"  # {"render", "aside": "superseded/...", "since": ns, "dropped": bool}
SUPERSEDED = "superseded"
_KEPT = ".medwatch-batch-kept.sqlite"


def pending(folder: Path) -> bool:
    """Whether an update began in `folder` and has not ended: the folder's drafts are an
    earlier run's, and the run that ends the update moves aside those it did not write."""
    return (folder / MARKER).exists()


def holds_a_run(folder: Path) -> bool:
    """Whether `folder` holds a batch run (finished or not, journaled rows or not): what an
    update replaces."""
    return any((folder / name).exists() for name in (JOURNAL, input_identity.IDENTITY, MARKER))


def check_render(folder: Path, render_to: Optional[str]) -> None:
    """OptionConflict when the folder's drafts have pages of another form than this run writes
    (or none): they would keep old pages of rows since corrected beside them."""
    marker = _marker(folder)
    known, was = (True, marker["render"]) if marker and "render" in marker else input_identity.rendered(folder)
    if known and was != render_to:
        said = f"--render {was}" if was else "no --render"
        asked = f"--render {render_to}" if render_to else "no --render"
        raise OptionConflict(f"its drafts were made with {said}, and this run asks for {asked}: run it the same "
                             "way (the drafts would have pages of another form beside them, or old pages of rows "
                             "since corrected), or choose another --out", str(folder))


def begin(folder: Path, render_to: Optional[str]) -> None:
    """Make the run in `folder` an earlier one: the update is marked as under way (durably,
    first), then the earlier journal, input record and problems.csv (the earlier input's
    rows) are dropped, so that this run starts afresh there, and the marker says so. An
    update begun again after one stopped keeps its folder for superseded drafts (a draft and
    its page moved apart by a stop are put together again; nothing there is replaced)."""
    check_render(folder, render_to)
    earlier = _marker(folder)
    aside = earlier["aside"] if earlier is not None else _new_aside(folder)
    if earlier is not None and render_to:  # before this run writes pages over them
        names = _Names(folder / _KEPT)
        try:
            _reunite_pages(folder, folder / aside, out_folder.PAGE[render_to], names)
        except OutputError as exc:
            raise OutputError(f"{exc.reason}; the update has not begun again: fix that, then run this command "
                              "again", exc.source) from None
        finally:
            names.close()
    since = None
    if earlier is not None:  # begun again: since the first begin (a marker without it: its own time)
        since = earlier["since"] if "since" in earlier else _mtime(folder / MARKER)
    _drop_earlier(folder, {"render": render_to, "aside": aside, "since": since})


def complete_begin(folder: Path) -> None:
    """Drop what `begin` was to drop when a kill stopped it in between: a --resume would
    otherwise finish the update on the earlier run's journal (rows it never read, skipped)."""
    marker = _marker(folder)
    if marker is not None and marker.get("dropped") is False:
        _drop_earlier(folder, marker)


def _drop_earlier(folder: Path, marker: dict) -> None:
    atomic_write(folder / MARKER, json.dumps(dict(marker, dropped=False)))
    if marker.get("since") is None:  # when the update began, in the file system's clock (as the drafts')
        marker = dict(marker, since=_mtime(folder / MARKER))
    for dropped in (JOURNAL, PROBLEMS):
        try:
            os.unlink(folder / dropped)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OutputError(f"cannot write here ({exc.strerror or exc})", str(folder / dropped)) from None
    input_identity.forget(folder)
    atomic_write(folder / MARKER, json.dumps(dict(marker, dropped=True)))


def _mtime(path: Path) -> Optional[int]:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def remove_scratch(folder: Path) -> None:
    """Remove the names table a killed update's end left (draft names, not to be left about)."""
    drop(None, folder / _KEPT)


@dataclass
class Moved:
    """What the end of an update moved aside: how many drafts, the first few names, where."""
    count: int = 0
    first: List[str] = field(default_factory=list)
    to: str = ""
    held: bool = False  # no row drafted: nothing was moved, and the update is still under way
    before: int = 0  # drafts moved there before the update was stopped (and begun again, or resumed)


def finish(folder: Path, render_to: Optional[str], drafted: Iterator[str], drafted_any: bool) -> Moved:
    """When an update has drafted its whole input (`drafted`: the drafts its journal lists),
    move every other draft in the folder, and its page, aside; again by the --resume that
    completes a stopped update. An update in which no row drafted moves nothing (all its rows
    failed: a wrong file, most likely) and stays under way for an --update of the file
    corrected. A new folder's update is a first run: nothing to move."""
    marker = _marker(folder)
    if marker is None:
        return Moved()
    aside = folder / marker["aside"]
    page = out_folder.PAGE[render_to] if render_to else None
    names = _Names(folder / _KEPT)
    moved = Moved(to=str(aside))
    try:
        names.add_drafted(drafted)
        for name in _drafts_in(folder):
            if not names.drafted(folder, name):
                names.add_gone(name)
        if not drafted_any and names.any_gone():
            return Moved(held=True, before=_drafts_counted(aside), to=str(aside))
        moved.before = _drafts_counted(aside)
        for name in names.gone():  # (listed first: the folder is not changed while it is read)
            if moved.count == 0:
                _make_aside(aside)
            _move_aside(folder, name, page, aside, marker.get("since"))
            moved.count += 1
            if len(moved.first) < 3:
                moved.first.append(name)
        if page:
            _reunite_pages(folder, aside, page, names)
    finally:
        names.close()
    try:
        os.unlink(folder / MARKER)
    except OSError as exc:
        raise OutputError(f"cannot remove the mark of the update under way ({exc.strerror or exc})",
                          str(folder / MARKER)) from None
    return moved


def begun_at(folder: Path) -> Optional[int]:
    """When the update under way in `folder` began (its marker's time, in the file system's
    clock, ns), once it has dropped the earlier run: a draft of its journal that is older
    is the earlier run's (its rewrite lost to a power cut) and is drafted again."""
    marker = _marker(folder)
    if marker is None or marker.get("dropped") is not True:
        return None
    try:
        began = os.stat(folder / MARKER).st_mtime_ns
    except OSError:
        return None
    # a marker stamped ahead of this clock (the clock set back since, a disk from another
    # machine) would make every draft look older: each --resume would redraft every row
    return began if began <= time.time_ns() else None


def _move_aside(folder: Path, name: str, page: Optional[str], aside: Path, since: Optional[int] = None) -> None:
    """Move the draft `name` and then its page into `aside`, under the first name free there
    for both (`NAME~2.xml`, `NAME~3.xml` ... once a draft of that name was moved there
    before the update was stopped and begun again: nothing is replaced). Stopped between
    the two, the page left alone is put beside its draft by the next run."""
    stem = name[:-4]
    if page and not _page_of(folder / name, folder / (stem + page), since):  # (an earlier draft's, if any)
        _move_one(folder / (stem + page), aside / (_free(aside, stem, page) + page))
    target = _free(aside, stem, page)
    for part, moved_to in [(name, target + ".xml")] + ([(stem + page, target + page)] if page else []):
        _move_one(folder / part, aside / moved_to)


def _free(aside: Path, stem: str, page: Optional[str]) -> str:
    """The first of NAME, NAME~2, NAME~3 ... with neither draft nor page in `aside`."""
    k = 1
    while True:
        target = stem if k == 1 else f"{stem}~{k}"
        if not any(os.path.lexists(aside / (target + suffix)) for suffix in (".xml", page) if suffix):
            return target
        k += 1


def _page_of(draft: Path, page: Path, since: Optional[int]) -> bool:
    """Whether `page` shows `draft`. A row's page is written after its draft: a draft this
    update wrote (since it began) beside a page from before it is a kill between the row's
    two writes, and the page an earlier draft's. (Both from before the update, a page older
    than its draft is a folder copied without its times: still a pair.)"""
    if since is None:
        return True
    try:
        page_time, draft_time = os.stat(page).st_mtime_ns, os.stat(draft).st_mtime_ns
    except OSError:
        return True  # no page there: nothing to tell apart
    return not (page_time < since <= draft_time)


def _move_one(source: Path, target: Path) -> None:
    try:
        _move(source, target)
    except FileNotFoundError:
        pass  # a draft without its page (a kill between a row's two writes), or moved meanwhile
    except OSError as exc:
        what = "a draft" if source.name.endswith(".xml") else "the page of a draft"
        raise OutputError(f"cannot move {what} the input no longer gives into {target.parent} "
                          f"({exc.strerror or exc})", str(source)) from None


def _reunite_pages(folder: Path, aside: Path, page: str, names: "_Names") -> None:
    """Move each page a stop left without its draft beside that draft in `aside` (drafts are
    moved first); other pages without a draft (a file of the user's, `index.html`) stay."""
    for name in _pages_alone(folder, page):
        names.add_page_alone(name)
    for name in names.pages_alone():
        slot = _slot_of_page(aside, name[:-len(page)], page)
        if slot:
            _make_aside(aside)  # (never through a link)
            _move_one(folder / name, aside / slot)


def _slot_of_page(aside: Path, stem: str, page: str) -> Optional[str]:
    """Where a page whose draft a stop moved before it goes: beside the last draft of that
    name moved without its page (a draft written later under that name would have written
    the page again). None when there is none: not a page of a draft moved aside."""
    k, last_alone = 1, None
    while True:
        target = stem if k == 1 else f"{stem}~{k}"
        draft, its_page = (os.path.lexists(aside / (target + suffix)) for suffix in (".xml", page))
        if not draft and not its_page:
            return last_alone + page if last_alone else None
        if draft and not its_page:
            last_alone = target
        k += 1


def _pages_alone(folder: Path, page: str) -> Iterator[str]:
    """Pages in `folder` without their draft beside them."""
    return (name for name in _files_in(folder, page) if not os.path.lexists(folder / (name[:-len(page)] + ".xml")))


def _move(source: Path, target: Path) -> None:
    os.replace(source, target)  # (in the same folder tree: a rename, all or nothing)


def _drafts_counted(aside: Path) -> int:
    return sum(1 for _ in _drafts_in(aside)) if aside.is_dir() else 0


def _new_aside(folder: Path) -> str:
    """superseded/<now, UTC>, or with -2, -3 ... after it where that is taken."""
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    aside, n = started, 1
    while (folder / SUPERSEDED / aside).exists():
        n += 1
        aside = f"{started}-{n}"
    return f"{SUPERSEDED}/{aside}"


def _marker(folder: Path) -> Optional[dict]:
    """The marker of an update under way (None: none is), with a folder for superseded drafts
    of its own if the marker's is damaged, and "render" only where it tells one."""
    try:
        text = (folder / MARKER).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        text = ""
    try:
        marker = json.loads(text)
    except ValueError:
        marker = None
    if not isinstance(marker, dict):
        marker = {}
    if not _inside(marker.get("aside")):
        marker["aside"] = _new_aside(folder)
    if marker.get("render", "") not in (None, *out_folder.PAGE):
        marker.pop("render", None)
    if not isinstance(marker.get("since"), int):
        marker.pop("since", None)
    if not isinstance(marker.get("dropped"), bool):
        marker.pop("dropped", None)  # (damaged: the journal there may be the update's own, kept)
    return marker


def _inside(aside) -> bool:
    """A marker's folder for superseded drafts is one below superseded/ (nothing else is
    ever moved into)."""
    parts = aside.split("/") if isinstance(aside, str) else []
    return len(parts) == 2 and parts[0] == SUPERSEDED and parts[1] not in ("", ".", "..") and os.sep not in parts[1]


def _make_aside(aside: Path) -> None:
    """superseded/ and the update's folder in it, owner-only; never through a link (drafts
    of health data would go wherever it points)."""
    for path in (aside.parent, aside):
        if path.is_symlink():
            raise OutputError("is a symbolic link: drafts the input no longer gives are moved only into a "
                              "folder of the output folder's own; remove the link", str(path))
    out_folder.make(aside)


def _drafts_in(folder: Path) -> Iterator[str]:
    """The names of the drafts in `folder`."""
    return _files_in(folder, ".xml")


def _files_in(folder: Path, suffix: str) -> Iterator[str]:
    """The names of the files in `folder` ending in `suffix` (not hidden, not links)."""
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.endswith(suffix) and not e.name.startswith(".") and e.is_file(follow_symlinks=False):
                    yield e.name
    except OSError as exc:
        raise OutputError(f"cannot be read ({exc.strerror or exc})", str(folder)) from None


class _Names:
    """The names of the drafts a run wrote (as a file system may compare them), and of those
    to move aside: kept on disk (ten million rows' names would take a gigabyte of memory)."""

    def __init__(self, path: Path):
        self.path = path
        self.db = scratch_database(path, "CREATE TABLE names (folded TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID",
                                   "CREATE TABLE gone (name TEXT PRIMARY KEY) WITHOUT ROWID",
                                   "CREATE TABLE pages_alone (name TEXT PRIMARY KEY) WITHOUT ROWID")

    def add_drafted(self, names: Iterator[str]) -> None:
        self._add("INSERT OR REPLACE INTO names VALUES (?, ?)", ((n.casefold(), n) for n in names))

    def add_gone(self, name: str) -> None:
        self._add("INSERT OR IGNORE INTO gone VALUES (?)", [(name,)])

    def _add(self, sql: str, rows) -> None:
        try:
            self.db.executemany(sql, rows)
        except sqlite3.Error as exc:  # "database or disk is full"
            raise OutputError(f"cannot write ({exc})", str(self.path)) from None

    def add_page_alone(self, name: str) -> None:
        self._add("INSERT OR IGNORE INTO pages_alone VALUES (?)", [(name,)])

    def pages_alone(self) -> Iterator[str]:
        for (name,) in self.db.execute("SELECT name FROM pages_alone"):
            yield name

    def any_gone(self) -> bool:
        return self.db.execute("SELECT 1 FROM gone LIMIT 1").fetchone() is not None

    def gone(self) -> Iterator[str]:
        for (name,) in self.db.execute("SELECT name FROM gone"):
            yield name

    def drafted(self, folder: Path, name: str) -> bool:
        """Whether the draft `name` is one the run wrote: by its name, or under another
        letter case that this file system takes for the same file (R1.xml written over r1.xml
        where case is ignored)."""
        found = self.db.execute("SELECT name FROM names WHERE folded = ?", (name.casefold(),)).fetchone()
        if found is None:
            return False
        if found[0] == name:
            return True
        try:
            return os.path.samefile(folder / name, folder / found[0])
        except OSError:
            return False

    def close(self):
        drop(self.db, self.path)
