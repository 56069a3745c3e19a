"""A workbook's shared string table, held so that memory stays flat however long the sheet.

Excel keeps every text of a workbook in one table, read before the first row, and a cell
names its text by number: the table grows with the sheet (held whole, reading 200,000
rows of a clinic's export took 97 MB, 45 MB for 20,000; now 44 MB, bench/readers.py). The
first texts are held in a list; past them, texts wait in an unnamed temporary file, in
blocks read back when a cell asks for one, the last 1,024 blocks kept (fewer for long
texts: memory is bounded in characters too). Excel numbers the texts in the order it
first meets them, row by row, so a sheet read in order asks for texts near one another,
and the texts a sheet repeats (units, yes/no, routes) come first and stay in memory. A
table in another order is read as correctly, a block read for nearly every text: small
blocks keep that to 199 us a row against 141 (with blocks of 256 texts: 363). Very long
texts read out of order cost more, as fewer blocks fit in the characters kept (a review's
sheet of 32,000-character narratives among recurring names: 156 us a row against 26).

The file holds health data: on Linux it never has a name (O_TMPFILE); on other Unix it is
created owner-only and unlinked at once; on Windows the system deletes it when it is
closed. Nothing is left behind whether the run ends, fails or is killed.
"""
import marshal
import os
import tempfile
from array import array
from collections import OrderedDict
from typing import List, Sequence

from .errors import OutputError

# held in a list: the first texts, up to either limit (a sheet of under some 8,000 rows of
# short texts never spills; long narratives spill sooner: a text may hold 32,767 characters)
IN_MEMORY = 50_000
IN_MEMORY_CHARACTERS = 2_000_000
BLOCK = 16  # texts per block of the file (marshal: this process's own data, read back by itself)
KEPT, KEPT_CHARACTERS = 1024, 2_000_000  # blocks read back and kept, up to either limit


class TextTable(Sequence):
    """Texts by number: `add` each in order, then `done()` gives the table to read from."""

    def __init__(self):
        self._head: List[str] = []
        self._head_characters = 0
        self._pending: List[str] = []
        self._file = None
        self._starts = array("q")  # where each block begins in the file, and where the last ends
        self._spilled = 0
        self._kept: "OrderedDict[int, List[str]]" = OrderedDict()
        self._kept_characters = 0

    def add(self, text: str) -> None:
        spilling = self._pending or self._file is not None  # (once a text waits for the file, all after it do)
        if not spilling and len(self._head) < IN_MEMORY and self._head_characters < IN_MEMORY_CHARACTERS:
            self._head.append(text)
            self._head_characters += len(text)
            return
        self._pending.append(text)
        if len(self._pending) == BLOCK:
            self._write_block()

    def done(self) -> Sequence[str]:
        """The table: the list itself when every text stayed in memory (nearly every
        workbook), else this object."""
        if not self._pending and self._file is None:
            return self._head
        if self._pending:
            self._write_block()
        try:
            self._file.flush()  # blocks are read back below the file object's buffer
        except OSError as exc:
            self._failed(exc)
        return self

    def _write_block(self) -> None:
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile()  # mode 0600, and no name
                self._starts.append(0)
            data = marshal.dumps(self._pending)
            self._file.write(data)
        except OSError as exc:
            self._failed(exc)
        self._starts.append(self._starts[-1] + len(data))
        self._spilled += len(self._pending)
        self._pending = []

    def __len__(self) -> int:
        return len(self._head) + self._spilled

    def __getitem__(self, index: int) -> str:
        if 0 <= index < len(self._head):
            return self._head[index]
        if not isinstance(index, int) or index < 0 or index >= len(self):
            raise IndexError(index)
        number, place = divmod(index - len(self._head), BLOCK)
        block = self._kept.get(number)
        if block is None:
            block = self._read_block(number)
        else:
            self._kept.move_to_end(number)
        return block[place]

    def _failed(self, exc: OSError):
        """No room (or no right) to write in the temporary folder: the reader of the workbook
        says so with the workbook's name."""
        self.close()
        try:
            where = f" in {tempfile.gettempdir()}"
        except OSError:  # no usable temporary folder at all (exc says which were tried)
            where = ""
        raise OutputError(f"its texts could not be set aside in a temporary file{where} "
                          f"({exc.strerror or exc}): set TMPDIR to a folder with room") from None

    def _read_block(self, number: int) -> List[str]:
        """A block from the file (an OSError, as of reading the input: the run stops there)."""
        start, end = self._starts[number], self._starts[number + 1]
        if hasattr(os, "pread"):
            data = os.pread(self._file.fileno(), end - start, start)
        else:  # (Windows: one thread reads)
            self._file.seek(start)
            data = self._file.read(end - start)
        block = marshal.loads(data)
        self._kept[number] = block
        self._kept_characters += sum(map(len, block))
        while len(self._kept) > KEPT or (self._kept_characters > KEPT_CHARACTERS and len(self._kept) > 1):
            self._kept_characters -= sum(map(len, self._kept.popitem(last=False)[1]))
        return block

    def close(self) -> None:
        """Free the temporary file (closing it is deleting it; what its buffer held is not
        written: a close after a failed write does not fail again)."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError:
                pass
