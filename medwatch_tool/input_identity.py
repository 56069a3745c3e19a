"""Whether a batch's input still begins with the file its run began with.

--resume skips every row the journal holds, by its row number. Given a changed file
(rows corrected after the first run, another file by mistake) it would skip rows it never
read, without a word. So a run records its input file's size and SHA-256 beside the
journal, and --resume takes a file only if it begins with exactly those bytes: the same
file, or the same export with rows added at its end. Standard input and other pipes
cannot be read twice to compare: they are taken on trust.
"""
import hashlib
import json
import os
from pathlib import Path
from stat import S_ISREG
from typing import Optional

from .safe_io import atomic_write

IDENTITY = ".medwatch-batch-input.json"


def _is_file(name: str) -> bool:
    try:
        return name != "-" and S_ISREG(os.stat(name).st_mode)
    except OSError:
        return False  # reading it fails again, with a message, when the run reads its rows


def _digest(name: str, size: Optional[int] = None) -> (int, str):
    """(bytes read, SHA-256 of them): the whole file, or its first `size` bytes."""
    digest, read = hashlib.sha256(), 0
    with open(name, "rb") as handle:
        while size is None or read < size:
            block = handle.read(1 << 20 if size is None else min(1 << 20, size - read))
            if not block:
                break
            digest.update(block)
            read += len(block)
    return read, digest.hexdigest()


def record(folder: Path, name: str) -> None:
    """Note the input file a run begins with, unless an earlier run's is noted already.
    (A pipe is not read here: that would take its rows away from the run.)"""
    path = folder / IDENTITY
    if path.exists():
        return
    size, sha256 = _digest(name) if _is_file(name) else (None, None)
    atomic_write(path, json.dumps({"size": size, "sha256": sha256}))


def change(folder: Path, name: str) -> Optional[str]:
    """How the input file no longer begins as the file the run in `folder` began with; None
    when it does, or when either is a pipe (nothing to compare)."""
    try:
        then = json.loads((folder / IDENTITY).read_text(encoding="utf-8"))
        size, sha256 = int(then["size"]), str(then["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no run there yet, or it read a pipe
    if not _is_file(name):
        return None
    try:
        read, now = _digest(name, size)
    except OSError:
        return None  # reading it fails again, with a message, when the run reads its rows
    if read < size:
        return f"it is shorter than when the run began: {read:,} bytes, {size:,} then"
    if now != sha256:
        return "its content differs from the file the run began with; rows added at its end would be fine"
    return None
