"""Byte streams under the text readers: standard input with its first block put back,
UTF-16 and CR-only text recoded as it is read, and lines decoded one by one (UTF-8, else
Windows-1252), never longer than MAX_FIELD in memory.
"""
import codecs
import csv
import io
import re
import sys
from typing import BinaryIO, List, Optional, Tuple

from .errors import InputError

MAX_FIELD = 16 * 1024 * 1024  # one cell or line; longer ones are reported, not kept in memory
MAX_MB = MAX_FIELD // (1024 * 1024)


def seekable_copy(stream: BinaryIO, name: str) -> BinaryIO:
    """A workbook read from a pipe, copied where it can be read at random (a .xlsx is a zip
    archive): in memory up to 64 MB, else an owner-only temporary file removed on close."""
    import shutil
    import tempfile

    copy = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
    try:
        shutil.copyfileobj(stream, copy, 1 << 20)
    except OSError as exc:  # the temporary folder is full or not writable
        copy.close()
        raise InputError(f"the workbook cannot be copied for reading ({exc.strerror or exc})", name) from None
    copy.seek(0)
    return copy


class Wrapped(io.RawIOBase):
    """A raw stream read through another: closing it closes what it reads, unless that is
    standard input (not ours to close)."""

    def __init__(self, source: BinaryIO):
        self._source = source

    def readable(self):
        return True

    def close(self):
        if self._source is not getattr(sys.stdin, "buffer", None):  # (None: started with it closed)
            self._source.close()
        super().close()


class Prefixed(Wrapped):
    """stdin or another pipe, its first block already read (to tell the format) put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO):
        super().__init__(rest)
        self._head, self._pos = head, 0

    def readinto(self, buffer):
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
        else:
            chunk = self._source.read(len(buffer))
            n = len(chunk)
            buffer[:n] = chunk
        self._pos += n
        return n

    def tell(self):
        return self._pos


def text_shape(head: bytes) -> Tuple[Optional[str], bool]:
    """Text that `DecodedLines` cannot take as it is: UTF-16 (its byte order mark tells;
    Excel's 'Unicode Text' export; else the NUL of every other byte) and lines ended by CR alone (old Mac files, Excel for
    Mac's 'CSV (Macintosh)'). Returns (the encoding to recode from, whether CR ends lines)."""
    encoding = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else _utf16_without_bom(head)
    text = Recoded.head(head, encoding, False)
    ends = [at for at in (text.find(b"\r"), text.find(b"\n")) if at >= 0]
    first = min(ends, default=-1)  # how the header line ends (a cell may hold a line break of its own)
    lone_cr = first >= 0 and text[first:first + 1] == b"\r" and text[first + 1:first + 2] != b"\n"
    if lone_cr and text.lstrip(b"\xef\xbb\xbf \t").startswith(b"{"):
        # JSON Lines: that CR may be written raw inside the first record's text; taken for how
        # lines end, it doubled every later line's number in a CRLF file
        lone_cr = b"\n" not in text
    return encoding, lone_cr


def _utf16_without_bom(head: bytes) -> Optional[str]:
    """UTF-16 saved without its byte order mark (some export tools do): a header of field
    paths is plain ASCII, so every other byte is NUL, the odd ones (little-endian) or the even."""
    sample = head[:1024]
    low, high = sample[0::2], sample[1::2]
    if len(high) < 8:
        return None
    if high.count(0) >= len(high) * 3 // 4 and not low.count(0):
        return "utf-16-le"
    if low.count(0) >= len(low) * 3 // 4 and not high.count(0):
        return "utf-16-be"
    return None


class Recoded(Wrapped):
    """A text input as UTF-8 with lines ending in LF, recoded as it is read (streamed: memory
    stays flat). `tell` is the position in the input, for the progress bar."""

    def __init__(self, source: BinaryIO, encoding: Optional[str], lone_cr: bool):
        super().__init__(source)
        self._lone_cr, self._pending = lone_cr, b""
        self.recoded = bool(encoding)  # its UTF-8 is this tool's: there is no Windows-1252 in it to tell apart
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace") if encoding else None

    @staticmethod
    def head(data: bytes, encoding: Optional[str], lone_cr: bool) -> bytes:
        """The first block as it reads once recoded (to tell the format and check it)."""
        if encoding:
            data = data.decode(encoding, errors="replace").encode("utf-8")
        return data.replace(b"\r", b"\n") if lone_cr else data

    def readinto(self, buffer):
        while not self._pending:
            raw = self._source.read(1 << 16)
            chunk = self._decoder.decode(raw, not raw).encode("utf-8") if self._decoder else raw
            self._pending = chunk.replace(b"\r", b"\n") if self._lone_cr else chunk
            if not raw:
                break
        n = min(len(buffer), len(self._pending))
        buffer[:n], self._pending = self._pending[:n], self._pending[n:]
        return n

    def tell(self):
        return self._source.tell()


class LineTooLong(Exception):
    """A physical line longer than MAX_FIELD: skipped without being held in memory.
    `in_open_cell`: it began inside a quoted cell left open by the lines before it."""

    def __init__(self, message: str, in_open_cell: bool = False):
        super().__init__(message)
        self.in_open_cell = in_open_cell


# a UTF-8 character of two, three or four bytes (validity is checked by decoding it); first,
# one beyond U+FFFF written as its two UTF-16 halves (CESU-8: Oracle's "UTF8", Java's
# modified UTF-8 write an emoji so)
_UTF8_CHARACTER = re.compile(rb"\xed[\xa0-\xaf][\x80-\xbf]\xed[\xb0-\xbf][\x80-\xbf]|"
                             rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _windows_1252_and_utf8(raw: bytes) -> str:
    """A line that is not all UTF-8: Windows-1252, except its UTF-8 characters that are
    plainly meant. A line can mix both (a name typed in one system, another pasted from a
    Windows program), and read whole as Windows-1252 its UTF-8 is garbled ("José" as
    "JosÃ©"). But two Windows-1252 bytes can make a UTF-8 character too: a capital É and a
    no-break space read as "ɠ", É and a closing quote as "ɔ". So a character is taken as
    UTF-8 where it is a letter, sign or accent of a script (Latin U+00A0-U+024F, combining
    accents, Greek, Cyrillic, Hebrew, Arabic... and beyond); a phonetic or modifier letter
    (U+0250-U+02FF) or a C1 control, which such pairs make, only where it is plainly meant
    (`_plainly_utf8`)."""
    out, at = [], 0
    for found in _UTF8_CHARACTER.finditer(raw):
        try:
            character = found.group().decode("utf-8")
        except UnicodeDecodeError:
            if len(found.group()) != 6:
                continue  # (an overlong form, or half a character: Windows-1252 bytes)
            halves = found.group().decode("utf-8", "surrogatepass")  # CESU-8: the two halves, joined
            character = halves.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        before = raw[at:found.start()].decode("cp1252", errors="replace")
        if character < "\u0300":
            preceding = ("".join(out[-4:]) + before)[-2:]
            if not _plainly_utf8(character, preceding, _next_character(raw, found.end())):
                continue
        out.append(before)
        out.append(character)
        at = found.end()
    out.append(raw[at:].decode("cp1252", errors="replace"))
    return "".join(out)


def _a_letter_in_its_word(preceding: str, character: str, following: str) -> bool:
    """Whether a phonetic or modifier letter (U+0250-U+02FF: the ʻokina of Kāneʻohe, the ə of
    Məmmədov, the ɛ and ɔ of Akan names) stands where a letter of a word does. Its two bytes
    read as Windows-1252 are a capital É, Ê or Ë and a sign (CAFÉ” is "CAFɔ", JOSÉ’s is
    "JOSɒs"), and such a capital ends a word of capitals or stands alone. So it is a letter after a small
    letter (no word puts a capital after one), after the capital that begins a word and
    before a small letter (Məmmədov), or at a word's start before a letter (ʻAiea).
    `preceding` is the (up to) two characters before it, `following` the one after it."""
    before = preceding[-1:]
    if before.islower():
        return True
    if not before.isalpha():
        return following.isalpha()
    word_start = len(preceding) < 2 or not preceding[0].isalpha()
    return before.isupper() and word_start and following.islower()


def _next_character(raw: bytes, at: int) -> str:
    """The character that starts at byte `at` of a mixed line, as the line will read it."""
    if at >= len(raw):
        return ""
    if raw[at] < 0x80:
        return chr(raw[at])
    found = _UTF8_CHARACTER.match(raw, at)
    if found is not None:
        try:
            return found.group().decode("utf-8")
        except UnicodeDecodeError:
            pass
    return raw[at:at + 1].decode("cp1252", errors="replace")


_AFTER_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")  # where a CR not followed by LF ends a line


class DecodedLines:
    """Lines as text: UTF-8 (BOM dropped) where it decodes, else Windows-1252 (a superset
    of Latin-1 for everything people type), decided byte run by byte run so a stray byte
    deep in a big export never garbles the rest, nor the UTF-8 beside it on its line.

    A CR alone ends a line wherever it is (a file whose rows were appended by programs with
    different line ends): the CSV reader would otherwise stop at it mid-line ("new-line
    character seen in unquoted field"), or read three rows as one. Inside a quoted cell it
    stays part of the cell's text, as the CSV reader joins a cell's lines as they are. With
    `lone_cr_ends_line` False (JSON Lines, whose lines end at LF) a CR is part of its line,
    so the line numbers after it still match `sed -n`.

    A line longer than MAX_FIELD is read past in pieces and raises LineTooLong; the next
    call goes on with the following line (a multi-GB file with no line breaks must not be
    loaded whole). An iterator class, not a generator, so it can go on after raising.

    `quotes` counts the double quotes read since the record began (`new_record`, at the
    start of a CSV record): while it is odd, a quoted cell is still open, so when a quoted
    cell spanning many lines is too long to read, `skip_open_cell` can read past the rest of
    it instead of taking its lines for rows of their own. `record` holds the record's lines
    and `line` counts the lines read (the first is 1), so a record that swallowed lines can
    be told and named, and its lines `put_back` to be read again as rows.
    """

    def __init__(self, handle: BinaryIO, lone_cr_ends_line: bool = True):
        self._handle, self._first = handle, True
        self._lone_cr_ends_line = lone_cr_ends_line  # JSON Lines: only LF ends a line (a CR is in it)
        # recoded from UTF-16: its UTF-8 is this tool's, read so without looking for Windows-1252
        # pairs in it (a BOM or JSON says no such thing: Windows-1252 lines get appended to a file
        # that began with a BOM, and PowerShell 5.1 writes JSON in the ANSI code page)
        self._utf8 = getattr(getattr(handle, "raw", None), "recoded", False)
        self._ahead: list = []  # lines (or a LineTooLong) to give before reading on, the next one last
        self.quotes, self.line = 0, 0
        self.record: List[str] = []

    def __iter__(self):
        return self

    def new_record(self):
        self.quotes = 0
        self.record.clear()

    # (delimiter, columns) of the rows, once the header is read: a CR alone is then told apart
    shape: Optional[Tuple[str, int]] = None

    def _pieces_of_one_row(self, pieces: List[str]) -> bool:
        """Whether the lines a CR alone splits a line into are pieces of one row (a line break
        typed in a cell the exporting program did not quote), not rows of their own: their
        cells add up to one row's, each break having cut one cell in two. The CSV reader then
        refuses the unquoted break at that row, instead of the row's pieces being read as rows
        of shifted cells."""
        if self.shape is None or self.quotes % 2:
            return False
        delimiter, columns = self.shape
        cells = sum(len(next(csv.reader([piece.rstrip("\r\n")], delimiter=delimiter), [])) for piece in pieces)
        return len(pieces) > 1 and cells == columns + len(pieces) - 1

    def put_back(self, lines: List[str], too_long: Optional[LineTooLong] = None):
        """Lines given again by the next calls, in order (a record's lines re-read as rows),
        and after them, when `too_long` is given, the line too long to read that followed them
        (raised again in its place)."""
        if too_long is not None:
            self._ahead.append(too_long)
            self.line -= 1
        self._ahead.extend(reversed(lines))
        self.line -= len(lines)

    def __next__(self) -> str:
        if self._ahead:
            text = self._ahead.pop()
            if isinstance(text, LineTooLong):
                self.line += 1
                raise text
            self.quotes += text.count('"')
        else:
            raw = self._handle.readline(MAX_FIELD + 1)
            if not raw:
                raise StopIteration
            if len(raw) > MAX_FIELD and not raw.endswith(b"\n"):
                in_open_cell = self.quotes % 2 == 1
                self.quotes += raw.count(b'"')  # one byte in UTF-8 and Windows-1252 alike
                while raw and not raw.endswith(b"\n"):
                    raw = self._handle.readline(1 << 20)
                    self.quotes += raw.count(b'"')
                self.line += 1
                raise LineTooLong(f"is longer than {MAX_MB} MB on one line; it was not read", in_open_cell)
            if self._first:
                while raw.startswith(b"\xef\xbb\xbf"):  # (twice: a tool added one to a file with one)
                    raw = raw[3:]
                self._first = False
            cr = raw.find(b"\r") if self._lone_cr_ends_line else -1
            if cr >= 0 and (cr < len(raw) - 2 or not raw.endswith(b"\r\n")):  # a CR alone ends a line
                pieces = [_decoded(piece, self._utf8) for piece in _AFTER_LONE_CR.split(raw) if piece]
                if not self._pieces_of_one_row(pieces):
                    self._ahead = pieces[::-1]
                    return next(self)
            self.quotes += raw.count(b'"')
            text = _decoded(raw, self._utf8)
        self.line += 1
        self.record.append(text)
        return text

    def skip_open_cell(self) -> bool:
        """Read past the lines of a quoted cell left open (an odd count of quotes), in pieces,
        as the CSV reader would have read them into the cell; False when the file ends first."""
        while self.quotes % 2:
            if self._ahead:
                text = self._ahead.pop()
                self.quotes += text.count('"')
                self.line += 1
                continue
            raw = self._handle.readline(1 << 20)
            if not raw:
                return False
            self.quotes += raw.count(b'"')
            self.line += raw.endswith(b"\n")
        return True


_NOT_A_NAME_S = re.compile("[\u0080-\u009f\u0250-\u02ff]")  # what Windows-1252 pairs make as UTF-8


def _decoded(raw: bytes, utf8: bool = False) -> str:
    """A line as text: UTF-8, unless it does not decode, or its UTF-8 holds what only a
    Windows-1252 pair makes ("CAFÉ”" in Windows-1252 is valid UTF-8 too: "CAFɔ"); the ʻ of
    Kāneʻohe or the ə of Məmmədov, letters in their words, are kept. So are such characters
    where the input is known to be UTF-8 (`utf8`: recoded from UTF-16), where they stand as
    no pair would (`_plainly_utf8`: the ˃ and ˂ of a lab result pasted from a record were
    read as "Ëƒ" and "Ë‚", silently), and where no Windows-1252 pair can make them (ː is
    CB 90, and 90 is no Windows-1252 character). Other UTF-8 on the line is no sign (a line
    may mix both: JOSÉ’S in Windows-1252 beside Łódź)."""
    try:
        text = raw.decode("utf-8")  # the fast path: nearly every line
    except UnicodeDecodeError:
        return _windows_1252_and_utf8(raw)
    if utf8 or text.isascii():
        return text
    for found in _NOT_A_NAME_S.finditer(text):
        at = found.start()
        if not _plainly_utf8(found.group(), text[max(0, at - 2):at], text[at + 1:at + 2]):
            return _windows_1252_and_utf8(raw)
    return text


def _plainly_utf8(character: str, preceding: str, following: str) -> bool:
    """Whether a character read as UTF-8 is meant, though two Windows-1252 characters can
    make it: a C1 control never is (no text holds one); a phonetic or modifier letter
    (U+0250-U+02FF) is where it stands as a letter of its word (`_a_letter_in_its_word`), and
    from U+0280 on also where no letter precedes it: its pair is a capital Ê or Ë and a sign,
    and no word has such a capital alone (˃ 6.5, 39˚ C). Anything no pair makes is meant.
    `preceding` is the (up to) two characters before it, `following` the one after it."""
    if not ("\u0080" <= character < "\u00a0" or "\u0250" <= character < "\u0300") \
            or not _a_windows_1252_pair(character):
        return True
    if character < "\u00a0":
        return False
    if character >= "\u0280" and not preceding[-1:].isalpha():
        return True
    return _a_letter_in_its_word(preceding, character, following)


def _a_windows_1252_pair(character: str) -> bool:
    """Whether the UTF-8 bytes of `character` are two Windows-1252 characters (five bytes
    are none: 81, 8D, 8F, 90, 9D)."""
    try:
        character.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True
