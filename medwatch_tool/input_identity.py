"""Whether a batch's input still begins with the file its run began with.

--resume skips every row the journal holds, by its row number. Given a changed file
(rows corrected after the first run, another file by mistake) it would skip rows it never
read, without a word. So a run records its input file's size and CRC-32 beside the
journal, and --resume takes a file only if it begins with exactly those bytes: the same
file, or the same export with rows added at its end. Each run records the file as it then
is, so rows added by one resume are checked by the next. Standard input and other pipes
cannot be read twice to compare: a run begun on one is resumed only from one (and the user
is told it was not compared), a run begun on a file only from a file.

The run's --render is recorded too: resumed with another, a run would leave pages of one
run in two forms, or some drafts without theirs; and the sheet of a workbook read (its
title, however --sheet spelt it): another sheet's rows are not the rows the journal holds.
A sheet other than the one read without --sheet is recorded under a format of its own
(_SHEET_FORMAT), which the versions before --sheet refuse to resume (they would read the
first sheet); those from before the format was recorded (2026-11-26, dd85f1e) cannot
tell, and resume it on the first sheet.

CRC-32, not SHA-256: it tells an edited file (the case here, not a forged one) at all but
a 1 in 4 billion chance, and hashlib would load OpenSSL into every run (3.6 MB more
resident memory, measured); zlib is loaded already.
"""
import json
import os
import shlex
import zlib
from pathlib import Path
from stat import S_ISREG
from typing import Optional, Tuple

from .errors import InputError, OptionConflict
from .readers import FORMAT_NAMES
from .safe_io import atomic_write

IDENTITY = ".medwatch-batch-input.json"


def _is_file(name: str) -> bool:
    try:
        return name != "-" and S_ISREG(os.stat(name).st_mode)
    except OSError:
        return False  # reading it fails again, with a message, when the run reads its rows


def _digest(name: str, prefix: Optional[int] = None) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """((bytes, CRC-32) of the file's first `prefix` bytes, (bytes, CRC-32) of all of it), in
    one reading; without `prefix` both are the whole file's."""
    crc = read = 0
    head = None
    with open(name, "rb") as handle:
        while True:
            step = 1 << 16 if prefix is None or read >= prefix else min(1 << 16, prefix - read)  # (1 MB: +2 MB RSS)
            block = handle.read(step)
            if not block:
                break
            crc = zlib.crc32(block, crc)
            read += len(block)
            if read == prefix:
                head = (read, crc)
    return head or (read, crc), (read, crc)


def _added_on_a_line_of_its_own(name: str, size: int) -> bool:
    """Whether what follows the file's first `size` bytes begins a row of its own: those
    bytes end with a line break, or what was added begins with one."""
    try:
        with open(name, "rb") as handle:
            handle.seek(size - 1)
            around = handle.read(2)
    except OSError:
        return True  # reading it fails again, with a message, when the run reads its rows
    return any(around[i:i + 1] in (b"\n", b"\r") for i in (0, 1))


def _earlier(folder: Path) -> Optional[dict]:
    try:
        then = json.loads((folder / IDENTITY).read_text(encoding="utf-8"))
        return then if isinstance(then, dict) else None
    except (OSError, ValueError):
        return None  # no run there yet


def check_and_note(folder: Path, name: str, render_to: Optional[str], fmt: str = "csv",
                   sheet: Optional[str] = None, default_sheet: bool = True) -> None:
    """Note the input `name` read as `fmt` (csv, tsv, jsonl, xlsx) with --render `render_to`,
    from the workbook's sheet titled `sheet` (`default_sheet`: the one read without --sheet),
    for the next resume, after checking that the run in `folder` can be resumed on it:
    OptionConflict (exit 2) when this run's options differ from the run's, InputError when
    the input has changed. Without an earlier run's record, only the note is made."""
    then = _earlier(folder)
    piped = not _is_file(name)
    workbook = fmt == "xlsx"
    now = None
    if then is not None:
        then_format = then.get("format", fmt)
        if not isinstance(then_format, str):
            then_format = "?"  # a record edited by hand: refused below
        elif then_format == _SHEET_FORMAT:
            then_format = "xlsx"
        if then_format != fmt:  # its rows were read otherwise: the journal's rows are not these
            was, now_read = (FORMAT_NAMES.get(f, f) for f in (then_format, fmt))
            raise OptionConflict(f"cannot finish the batch run in {folder}: it read its input as {was}, and this run "
                                 f"reads it as {now_read} (by its name, or --input-format); the rows it recorded are "
                                 "not the rows read now. Draft it anew into this folder with --update, or start a new "
                                 "run in another --out", name)
        if then.get("render", render_to) != render_to:
            was = f"--render {then['render']}" if then.get("render") else "no --render"
            raise OptionConflict(f"cannot finish the batch run in {folder}: it began with {was}; resume it with the "
                                 "same (with another, some drafts would have their pages in one form, some in the "
                                 "other, or none)", name)
        if then.get("size") is None and not piped:
            raise OptionConflict(f"cannot finish the batch run in {folder}: it began on standard input, which cannot "
                                 "be compared with this file, and --resume would skip rows it never read. Resume it "
                                 "from the same standard input, or draft this file anew into the folder with "
                                 "--update", name)
        if then.get("size") is not None and piped:
            raise OptionConflict(f"cannot finish the batch run in {folder}: it began on a file, and standard input "
                                 "cannot be compared with it; --resume would skip rows it never read. Resume it on "
                                 "that file, or draft these rows anew into the folder with --update", name)
        if not piped:
            try:
                size, crc32 = int(then["size"]), int(then["crc32"])
                (read, crc), now = _digest(name, size)
            except (KeyError, TypeError, ValueError):
                return  # a record this version did not write: nothing to compare
            except OSError:
                return  # reading it fails again, with a message, when the run reads its rows
            if read < size:
                raise InputError(_changed(folder, f"it is shorter than when the run began: {read:,} bytes, "
                                                  f"{size:,} then"), name)
            if crc != crc32:
                if workbook:
                    raise InputError(_changed(folder, "its content differs from the workbook the run began with; a "
                                                      "workbook saved again changes as a whole, so --resume takes it "
                                                      "only unchanged"), name)
                raise InputError(_changed(folder, "its content differs from the file the run began with; rows added "
                                                  "at its end would be fine"), name)
            if not workbook and now[0] > size > 0 and not _added_on_a_line_of_its_own(name, size):
                raise InputError(f"cannot finish the batch run in {folder}: when it began, the input's last row had "
                                 "no line break at its end, so the first row added since was written onto that row, "
                                 "which was done already, and would be skipped unread. Put a line break between the "
                                 "two, and run --resume again", name)
        if workbook and not _same_sheet(then, sheet, default_sheet):  # (after the file's own checks: a sheet
            was = _recorded_sheet(then)                                  # renamed is a changed file)
            read_then = f"the sheet '{was}'" if was is not None else "the first visible sheet"
            again = f"--sheet {shlex.quote(was)}" if was is not None else "no --sheet"
            raise OptionConflict(f"cannot finish the batch run in {folder}: it read {read_then} of the workbook, and "
                                 f"this run reads the sheet '{sheet}'; the rows it recorded are another sheet's. "
                                 f"Resume it with {again}, or draft this sheet into the folder with --update", name)
    _note(folder, name, piped, now, render_to, fmt if default_sheet else _SHEET_FORMAT, sheet if workbook else None)


# a workbook read from a sheet chosen by --sheet (see above), said so as the versions before
# --sheet print a format they do not know when they refuse to resume
_SHEET_FORMAT = "a sheet of an Excel workbook chosen by --sheet (a newer medwatch resumes it)"


def _recorded_sheet(then: dict) -> Optional[str]:
    sheet = then.get("sheet")
    return sheet if isinstance(sheet, str) else None


def _same_sheet(then: dict, sheet: Optional[str], default_sheet: bool) -> bool:
    """Whether this run reads the sheet the run in the folder read: the same title; a record
    without one (before --sheet) read the sheet read without --sheet."""
    recorded = _recorded_sheet(then)
    return default_sheet if recorded is None else recorded == sheet


def _changed(folder: Path, how: str) -> str:
    return (f"has changed since the batch run in {folder} began ({how}): --resume only finishes a run on "
            "the same input, and would skip rows it never read. To draft the changed file into this folder, "
            "run it with --update instead (every draft is written again, problems.csv lists the file's "
            "problems as it now is), or choose another --out")


def _note(folder: Path, name: str, piped: bool, digest: Optional[Tuple[int, int]], render_to: Optional[str],
          fmt: str, sheet: Optional[str]):
    """Record the input (size and CRC-32 of a file; none for a pipe, which is not read here:
    that would take its rows away from the run), how it is read (a workbook's sheet too) and
    the run's --render."""
    if not piped and digest is None:
        try:
            digest = _digest(name)[1]
        except OSError:
            piped = True  # reading it fails again, with a message, when the run reads its rows
    size, crc32 = (None, None) if piped else digest
    record = {"size": size, "crc32": crc32, "render": render_to, "format": fmt}
    if sheet is not None:
        record["sheet"] = sheet
    atomic_write(folder / IDENTITY, json.dumps(record))


def forget(folder: Path):
    """Drop the record of a run that journaled nothing (a new run starts afresh there)."""
    try:
        os.unlink(folder / IDENTITY)
    except FileNotFoundError:
        pass


def rendered(folder: Path) -> Tuple[bool, Optional[str]]:
    """Whether the run in `folder` noted its --render, and which (None: no pages)."""
    then = _earlier(folder)
    return (then is not None and "render" in then), (then or {}).get("render")


def was_piped(folder: Path) -> bool:
    """Whether the run in `folder` began on standard input or another pipe."""
    then = _earlier(folder)
    return then is not None and then.get("size") is None
