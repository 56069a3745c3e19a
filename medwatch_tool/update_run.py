"""`medwatch batch --update`: a corrected input drafted again into the folder of an earlier run.

A clinician fixes the rows that problems.csv named and runs the file again; the folder is
to hold what the corrected file gives, not two runs' outputs side by side. The update run
is a new run there (its own journal and problems.csv) that writes every draft anew. What
the earlier run drafted and the new input no longer gives (a row that now fails, a row
removed or given another report id) would stay in the folder as if still current: it is
moved into `superseded/` when the update run ends, never deleted.

Which drafts those are is told by the file system, not by a list held in memory (memory
stays flat however many rows): each earlier draft's inode is noted when the update begins,
and every draft written is a new inode (safe_io writes a temp file and links or renames it
over the old name, which is still there when the new inode is made), so an earlier draft
still on the same inode at the end is one this run did not write. On a file system that
ignores letter case, `ABC.xml` written over `abc.xml` is the same directory entry: it then
has the new inode, and is rightly kept.
"""
import json
import os
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from . import input_identity, out_folder
from .errors import InputError, OutputError
from .journal import JOURNAL
from .safe_io import atomic_text_writer

EARLIER = ".medwatch-batch-earlier.jsonl"  # [device, inode, name] of each earlier draft, a line each
SUPERSEDED = "superseded"


def pending(folder: Path) -> bool:
    """Whether an update began in `folder` and has not ended (its earlier drafts are listed):
    the folder's drafts are an earlier run's, and the run that ends it moves those it did not
    write."""
    return (folder / EARLIER).exists()


def begin(folder: Path, render_to: Optional[str]) -> None:
    """Make the run journaled in `folder` an earlier one: its drafts noted with their inodes,
    its journal and input record dropped, so that this run starts afresh there. An update
    begun before and stopped keeps its list of earlier drafts (the drafts it wrote are noted
    too: this run may not give them again)."""
    known, was = input_identity.rendered(folder)
    if known and was != render_to:
        said = f"--render {was}" if was else "no --render"
        asked = f"--render {render_to}" if render_to else "no --render"
        raise InputError(f"its drafts were made with {said}, and this update asks for {asked}: update them the "
                         "same way (the drafts would have pages of another form beside them, or old pages "
                         "of rows since corrected), or choose another --out", str(folder))
    listing = folder / EARLIER
    with atomic_text_writer(listing) as out:
        for device, inode, name in _listed(listing):
            out.write(json.dumps([device, inode, name]) + "\n")
        for name in _journaled_drafts(folder / JOURNAL):
            try:
                found = os.stat(folder / name, follow_symlinks=False)
            except OSError:
                continue  # lost meanwhile: nothing to move aside later
            out.write(json.dumps([found.st_dev, found.st_ino, name]) + "\n")
    try:
        os.unlink(folder / JOURNAL)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputError(f"cannot write here ({exc.strerror or exc})", str(folder / JOURNAL)) from None
    input_identity.forget(folder)


def finish(folder: Path, render_to: Optional[str]) -> Tuple[int, List[str]]:
    """Move the earlier drafts this run did not write (and their pages) into `superseded/`;
    returns how many, and the first few names. Called once the update run has read and
    drafted its whole input; again by the --resume that completes a stopped one."""
    listing = folder / EARLIER
    if not listing.exists():
        return 0, []
    aside = folder / SUPERSEDED
    count, first = 0, []
    for device, inode, name in _listed(listing):
        try:
            now = os.stat(folder / name, follow_symlinks=False)
        except OSError:
            continue  # moved already (by a stop before the list was dropped), or removed by hand
        if (now.st_dev, now.st_ino) != (device, inode):
            continue  # this run wrote it
        if count == 0:
            out_folder.make(aside)
        page = [name[:-4] + out_folder.PAGE[render_to]] if render_to else []
        for part in [name] + page:
            try:
                os.replace(folder / part, aside / part)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise OutputError(f"cannot move a draft the input no longer gives into {aside} "
                                  f"({exc.strerror or exc})", str(folder / part)) from None
        count += 1
        if len(first) < 3:
            first.append(name)
    try:
        os.unlink(listing)
    except OSError as exc:
        raise OutputError(f"cannot write here ({exc.strerror or exc})", str(listing)) from None
    return count, first


def _listed(listing: Path) -> Iterator[Tuple[int, int, str]]:
    """The earlier drafts noted by `begin` (none when it is not there)."""
    for noted in _records(listing):
        if isinstance(noted, list) and len(noted) == 3:
            device, inode, name = noted
            if _a_draft_name(name) and isinstance(device, int) and isinstance(inode, int):
                yield device, inode, name


def _journaled_drafts(journal: Path) -> Iterator[str]:
    """The file of every row the journal holds as drafted."""
    for entry in _records(journal):
        name = entry.get("file") if isinstance(entry, dict) else None
        if _a_draft_name(name):
            yield name


def _records(path: Path) -> Iterator:
    """Each line of a JSON Lines file of ours, decoded (none when the file is not there; a
    line a kill cut short is left out: the journal's row was not done, and the list of
    earlier drafts is written whole)."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def _a_draft_name(name) -> bool:
    """A name a run gives a draft, in the folder itself: nothing else is ever moved."""
    return (isinstance(name, str) and name.endswith(".xml") and not name.startswith(".")
            and "/" not in name and os.sep not in name and "\0" not in name)
