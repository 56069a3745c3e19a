"""Which draft names a batch run has given out, and to which row: kept on disk, not in memory.

Two rows with the same report id (and follow-up number) would write the same file; the
second is refused and told which row came first. A dictionary of every name would grow
with the input (about 130 bytes a row: 1.3 GB for ten million rows), so the names live
in a small SQLite table beside the drafts (standard library; its page cache is bounded).
The table is only an index: it is rebuilt from the batch journal when a run resumes and
removed when the run ends.
"""
import os
import sqlite3
from pathlib import Path
from typing import Optional

from .errors import OutputError

INDEX = ".medwatch-batch-names.sqlite"


def scratch_database(path: Path, *tables: str) -> sqlite3.Connection:
    """A new SQLite file at `path` beside the drafts (one a killed run left is replaced),
    owner-only, with `tables` created and a transaction begun: an index that is rebuilt when
    needed, so without rollback journal or fsync. OutputError when it cannot be made."""
    db = None
    try:
        for stale in (path, Path(f"{path}-journal")):
            if stale.exists():
                stale.unlink()  # left by a killed run
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner only, like the drafts
        os.close(fd)
        db = sqlite3.connect(str(path), isolation_level=None)
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        for table in tables:
            db.execute(table)
        db.execute("BEGIN")
        return db
    except (OSError, sqlite3.Error) as exc:
        drop(db, path)
        raise OutputError(f"cannot write here ({getattr(exc, 'strerror', None) or exc})", str(path)) from None


def drop(db: Optional[sqlite3.Connection], path: Path) -> None:
    """Close a scratch database and remove its file."""
    try:
        if db is not None:
            db.close()
    finally:
        for part in (path, Path(f"{path}-journal")):
            try:
                part.unlink()
            except OSError:  # gone, or the folder turned read-only: the next run replaces it
                pass


class NameIndex:
    """name -> first row that claimed it."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / INDEX
        self.db = scratch_database(self.path, "CREATE TABLE names (name TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")
        self.pending = 0

    def claim(self, name: str, row: int) -> Optional[int]:
        """Give `name` to `row`; returns the earlier row that already has it, else None."""
        try:
            return self._claim(name, row)
        except sqlite3.Error as exc:  # "database or disk is full"
            raise OutputError(f"cannot write ({exc})", str(self.path)) from None

    def _claim(self, name: str, row: int) -> Optional[int]:
        name = name.casefold()  # ITB-1.xml and itb-1.xml are one file on Windows and macOS
        cursor = self.db.execute("INSERT OR IGNORE INTO names VALUES (?, ?)", (name, row))
        if cursor.rowcount == 1:
            self.pending += 1
            if self.pending >= 4096:  # keep SQLite's own memory for the open transaction small
                self.db.execute("COMMIT")
                self.db.execute("BEGIN")
                self.pending = 0
            return None
        first = self.db.execute("SELECT row FROM names WHERE name = ?", (name,)).fetchone()[0]
        return None if first == row else first

    def close(self):
        """Drop the index: a later --resume rebuilds it from the journal."""
        drop(self.db, self.path)
        self.db = None
