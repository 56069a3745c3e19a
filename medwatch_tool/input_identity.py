"""Whether a batch's input still begins with the file its run began with.

--resume skips every row the journal holds, by its row number. Given a changed file
(rows corrected after the first run, another file by mistake) it would skip rows it never
read, without a word. So a run records its input file's size and CRC-32 beside the
journal, and --resume takes a file only if it begins with exactly those bytes: the same
file, or the same export with rows added at its end. Standard input and other pipes
cannot be read twice to compare: they are taken on trust.

CRC-32, not SHA-256: it tells an edited file (the case here, not a forged one) at all but
a 1 in 4 billion chance, and hashlib would load OpenSSL into every run (3.6 MB more
resident memory, measured); zlib is loaded already.
"""
import json
import os
import zlib
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


def _digest(name: str, size: Optional[int] = None) -> (int, int):
    """(bytes read, their CRC-32): the whole file, or its first `size` bytes."""
    crc, read = 0, 0
    with open(name, "rb") as handle:
        while size is None or read < size:
            block = handle.read(1 << 16 if size is None else min(1 << 16, size - read))  # (1 MB blocks: +2 MB RSS)
            if not block:
                break
            crc = zlib.crc32(block, crc)
            read += len(block)
    return read, crc


def record(folder: Path, name: str) -> None:
    """Note the input file a run begins with, unless an earlier run's is noted already.
    (A pipe is not read here: that would take its rows away from the run.)"""
    path = folder / IDENTITY
    if path.exists():
        return
    size = crc32 = None
    if _is_file(name):
        try:
            size, crc32 = _digest(name)
        except OSError:
            pass  # reading it fails again, with a message, when the run reads its rows
    atomic_write(path, json.dumps({"size": size, "crc32": crc32}))


def change(folder: Path, name: str) -> Optional[str]:
    """How the input file no longer begins as the file the run in `folder` began with; None
    when it does, or when either is a pipe (nothing to compare)."""
    try:
        then = json.loads((folder / IDENTITY).read_text(encoding="utf-8"))
        size, crc32 = int(then["size"]), int(then["crc32"])
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
    if now != crc32:
        return "its content differs from the file the run began with; rows added at its end would be fine"
    return None
