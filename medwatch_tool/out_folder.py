"""The folder a batch run writes into: made owner-only, held by one run at a time, cleared of
what killed runs left, and never one holding files the run could overwrite.
"""
import os
import re
from pathlib import Path
from typing import Optional

from .errors import InputError, OutputError
from .journal import PROBLEMS

LOCK = ".medwatch-batch.lock"
PAGE = {"html": ".html", "text": ".txt"}  # --render's page beside each draft, by the form asked for
# `.NAME.PID.tmp`: a file being written when its process was killed (safe_io's temporary names)
_LEFT_BY_A_KILL = re.compile(r"\..+\.(?:xml|html|txt|csv|json)\.(\d+)\.tmp")

try:
    import fcntl
except ImportError:  # Windows: one run at a time is then the user's care
    fcntl = None


def make(folder: Path):
    """Create the folder and any missing parents, each owner-only (a parent made with the
    umask's mode could be 0777 under umask 000, above drafts of health data)."""
    missing = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        missing.append(parent)
    try:
        for path in reversed(missing):
            path.mkdir(mode=0o700, exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(20, "Not a directory")
    except OSError as exc:
        raise OutputError(f"cannot create this folder ({exc.strerror or exc})", str(folder)) from None


class Held:
    """The folder, held by this run until `release`: two runs at once (a second terminal, a
    --resume started while the first still ran) would each journal the same rows and write
    every problem twice, for good. An advisory lock (flock) that the system drops when the
    process ends, however it ends."""

    def __init__(self, folder: Path):
        self.fd: Optional[int] = None
        if fcntl is None:
            return
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(folder / LOCK, flags, 0o600)
        except OSError as exc:
            raise OutputError(f"cannot write here ({exc.strerror or exc})", str(folder / LOCK)) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            raise InputError("another medwatch batch run is writing into this folder now: wait until it ends "
                             "(or stop it), then run this command again (a run that was stopped is finished "
                             "with --resume)", str(folder)) from None
        except OSError:  # a file system without locks (some network shares): one run at a time is the user's care
            self.release()

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def remove_leftovers(folder: Path):
    """Delete the temporary files of processes killed while writing (`.NAME.PID.tmp`, a draft
    or page cut short, of health data). The folder is held, so no other batch run is writing
    them; one of a process still running (`medwatch new -o` into this folder) is left to it."""
    try:
        with os.scandir(folder) as entries:
            found = [(e.name, _LEFT_BY_A_KILL.fullmatch(e.name)) for e in entries if e.name.endswith(".tmp")]
    except OSError:
        return
    names = [name for name, match in found if match and not _running(int(match.group(1)))]
    for name in names:
        try:
            os.unlink(folder / name)
        except OSError:
            pass  # removed meanwhile, or not ours to remove: harmless


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process writes nothing here yet
    if os.name == "nt":
        return True  # os.kill(pid, 0) would end the process there (TerminateProcess): left alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process (or no way to tell): not ours to judge
    return True


def refuse_others_files(folder: Path, input_name: str, render_to: Optional[str]):
    """A new run writes drafts by report id, their pages if asked (--render) and problems.csv,
    replacing files of the same names: in a folder that already holds such files (hand-made
    drafts, another tool's output) it could overwrite them without a word, so it starts only
    where there are none (the input itself may lie there; notes.txt is no page of a run
    without --render text)."""
    ours = (".xml", PAGE[render_to]) if render_to else (".xml",)
    try:
        with os.scandir(folder) as entries:
            found = [e.name for e in entries if e.name == PROBLEMS or e.name.lower().endswith(ours)]
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise OutputError(f"cannot be read ({exc.strerror or exc})", str(folder)) from None
    found = [name for name in found if not _same_file(folder / name, input_name)]
    if found:
        shown = ", ".join(sorted(found)[:3]) + (f" and {len(found) - 3:,} more" if len(found) > 3 else "")
        raise InputError(f"already holds drafts or pages not from a batch run ({shown}), which this run could "
                         "replace: choose a new or empty --out folder", str(folder))


def refuse_overwriting_input(folder: Path, input_name: str, render_to: Optional[str]):
    """The input may lie in the --out folder, but not under a name the run writes: its
    problems.csv, a draft (`ID.xml`) or a page would replace it, atomically, and the rows
    with it (the only copy, often)."""
    if input_name == "-":
        return
    name = Path(input_name).name.lower()
    written = name == PROBLEMS or name.endswith(".xml") or (render_to and name.endswith(PAGE[render_to]))
    try:
        inside = written and os.path.samefile(Path(input_name).parent, folder)
    except OSError:  # the folder does not exist yet: the input is not in it
        inside = False
    if inside:
        raise InputError(f"lies in the --out folder under a name this run writes ({PROBLEMS}, drafts as "
                         f"ID.xml{', pages as ID' + PAGE[render_to] if render_to else ''}): it would be replaced; "
                         "move it out of the folder, or choose another --out", input_name)


def _same_file(path: Path, input_name: str) -> bool:
    try:
        return input_name != "-" and os.path.samefile(path, input_name)
    except OSError:  # a dangling link, say: not the input
        return False
