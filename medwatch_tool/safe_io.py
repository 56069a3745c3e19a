"""Safe reading and writing of files that carry health data.

Every XML parse of a draft or an E2B message goes through `parse_xml_bytes`: no entity
expansion, no DTD loading, no network, and a DOCTYPE is refused outright (they never need
one, and entity tricks such as XXE or "billion laughs" hide there). A workbook's parts are
streamed with the same settings (`sheet_rows.PARSER`; its rows' parts refuse a DOCTYPE too).
Every write goes through `atomic_write` (or, for a batch's many drafts, `FolderWriter`):
the whole text goes into a temp file in the same folder, created owner-only, which is then
given the report's name in one step (renamed; for a batch's drafts, linked where Linux
offers a nameless temp file), so a crash never leaves half a report and other users cannot
read it.
"""
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Optional, Union

from lxml import etree

from .errors import InputError, OutputError

OWNER_ONLY = 0o600


def safe_parser(**overrides) -> etree.XMLParser:
    """An lxml parser with entity resolution, DTD loading and network access off."""
    options = dict(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=False,
    )
    options.update(overrides)
    return etree.XMLParser(**options)


_PARSER = safe_parser()


def parse_xml_bytes(data: bytes, source: str = "<input>") -> etree._Element:
    """Parse `data` safely and return the root element, or raise InputError on one line."""
    if not data.strip():
        raise InputError("the file is empty", source)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("this is not an XML file (binary data)", source)
    head = data[:65536].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise InputError(
            "a DOCTYPE/ENTITY declaration is not allowed in a report "
            "(refused for safety: entities can read local files or exhaust memory)", source)
    try:
        root = etree.fromstring(data, parser=_PARSER, base_url=None)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None) or (exc.position[0] if exc.position else "?")
        message = str(exc.msg if hasattr(exc, "msg") else exc).split(", line ")[0]
        deep = re.match(r"Excessive depth in document: (\d+)", message)  # libxml2's limit, and advice
        if deep:  # meant for programmers ('use XML_PARSE_HUGE option')
            message = f"elements nested over {deep.group(1)} deep (a report is a few levels deep)"
        raise InputError(f"not well-formed XML: {message}", source, line) from None
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise InputError("a DOCTYPE declaration is not allowed in a report", source)
    return root


def read_bytes(path: Union[str, Path]) -> bytes:
    """Read a whole file, turning OS errors into one-line InputErrors."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError("is a directory, not a file", str(p))
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", str(p)) from None
    except PermissionError:
        raise InputError("permission denied", str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", str(p)) from None


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
# Linux, macOS: not Windows (os.replace takes folder handles wherever os.rename does; only
# the latter is listed)
_BY_FOLDER = {os.open, os.rename, os.unlink} <= os.supports_dir_fd


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to a file descriptor (os.write may write less, e.g. near a full disk)."""
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view):]


# A nameless temp file (Linux 3.11+, on ext4, XFS, btrfs, tmpfs) is given its name by
# linking it through /proc: one change to the folder instead of the three of a named temp
# file (made, renamed away, the final name made): 40% less kernel time a write on ext4.
# Only into an open folder: with a folder's handle os.link calls linkat, which follows
# the /proc link to the file; without, it calls link(), which would link the link itself.
_NAMELESS = bool(getattr(os, "O_TMPFILE", 0)) and os.path.isdir("/proc/self/fd")
_NAMELESS_FLAGS = os.O_WRONLY | getattr(os, "O_TMPFILE", 0) | getattr(os, "O_CLOEXEC", 0)


def _write_at(folder: str, name: str, data: Union[bytes, str], mode: int, durable: bool,
              folder_fd: Optional[int], suffix: str, nameless: bool = False) -> bool:
    """The one way a file is written atomically: all of `data` into a temp file created
    owner-only (`mode`), fsynced if `durable`, then given `name` in one step. With
    `folder_fd` every name is looked up in the open folder, not walked from the root, and
    with `nameless` too the temp file has no name (see `_write_nameless`). Returns whether
    the nameless way was taken (False: the folder's file system does not offer it)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if nameless and folder_fd is not None and _write_nameless(name, data, mode, durable, folder_fd, folder, suffix):
        return True
    _write_named(folder, name, data, mode, durable, folder_fd, suffix)
    return False


def _write_nameless(name: str, data: bytes, mode: int, durable: bool, folder_fd: int,
                    folder: str, suffix: str) -> bool:
    """Write through a nameless temp file, linked to `name` when complete: a killed process
    leaves nothing behind, not even a temp file. False when the file system cannot do it
    (nothing is left of the attempt): the named temp file then does it, or says why not."""
    try:
        fd = os.open(".", _NAMELESS_FLAGS, mode, dir_fd=folder_fd)
    except OSError:  # not offered by this file system (EOPNOTSUPP, EISDIR): the named way
        return False
    try:
        try:
            write_all(fd, data)
            if durable:
                os.fsync(fd)
        except OSError as exc:
            raise OutputError(f"cannot write ({exc.strerror or exc})", os.path.join(folder, name)) from None
        try:
            os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=folder_fd, follow_symlinks=True)
        except FileExistsError:  # a link never replaces a file: link a temp name, rename it over
            _rename_into_place(fd, name, folder_fd, folder, suffix)
        except OSError:  # a link refused (no hard links here): the named way
            return False
    finally:
        os.close(fd)
    return True


def _rename_into_place(fd: int, name: str, folder_fd: int, folder: str, suffix: str) -> None:
    """Replace the file `name` by the complete nameless file `fd` atomically: linked to a
    temp name, then renamed over it, as the named way does."""
    tmp = f".{name}{suffix}"
    try:
        try:
            os.link(f"/proc/self/fd/{fd}", tmp, dst_dir_fd=folder_fd, follow_symlinks=True)
        except FileExistsError:  # left by a killed run of this same process id: replace it
            os.unlink(tmp, dir_fd=folder_fd)
            os.link(f"/proc/self/fd/{fd}", tmp, dst_dir_fd=folder_fd, follow_symlinks=True)
        os.replace(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except OSError as exc:
        _remove_quietly(tmp, folder_fd)
        raise OutputError(f"cannot write ({exc.strerror or exc})", os.path.join(folder, name)) from None


def _write_named(folder: str, name: str, data: bytes, mode: int, durable: bool,
                 folder_fd: Optional[int], suffix: str) -> None:
    """Write through `.NAME.PID.tmp` beside the file, created with O_EXCL (never someone
    else's file), then renamed: where nameless temp files are not offered."""
    tmp, final = f".{name}{suffix}", name
    if folder_fd is None:
        tmp, final = os.path.join(folder, tmp), os.path.join(folder, name)
    try:
        try:
            fd = os.open(tmp, _CREATE, mode, dir_fd=folder_fd)
        except FileExistsError:  # left by a killed run of this same process id: replace it
            os.unlink(tmp, dir_fd=folder_fd)
            fd = os.open(tmp, _CREATE, mode, dir_fd=folder_fd)
        except FileNotFoundError:  # the folder does not exist yet
            if folder_fd is not None:
                raise
            os.makedirs(folder or ".", exist_ok=True)
            fd = os.open(tmp, _CREATE, mode)
    except OSError as exc:
        raise OutputError(f"cannot write here ({exc.strerror or exc})", os.path.join(folder, name)) from None
    try:
        try:
            write_all(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException as exc:
        _remove_quietly(tmp, folder_fd)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write ({exc.strerror or exc})", os.path.join(folder, name)) from None
        raise


def _remove_quietly(tmp: str, folder_fd: Optional[int]) -> None:
    """Remove a temp file after a failed write (already gone, or not removable: the next
    batch run into the folder removes it)."""
    try:
        os.unlink(tmp, dir_fd=folder_fd)
    except OSError:
        pass


def atomic_write(path: Union[str, Path], data: Union[bytes, str], mode: int = OWNER_ONLY,
                 durable: bool = True) -> None:
    """Write `data` to `path` atomically, created with permissions `mode` (owner-only by
    default; the umask can only take bits away, so no one else can ever read it).

    The rename makes the write all-or-nothing for any reader and across a killed process.
    `durable` also fsyncs before the rename so it survives a power cut.
    """
    folder, name = os.path.split(os.fspath(path))
    _write_at(folder, name, data, mode, durable, None, f".{os.getpid()}.tmp")


class FolderWriter:
    """Atomic owner-only writes of many files into one folder: a batch's drafts.

    The folder is held open and each file is created and named relative to it, so the
    kernel does not walk the folder's path twice per file; with two files per report that
    was about a sixth of the cost of writing them. On Linux each file is written nameless
    and linked (`_write_nameless`). Not fsynced: a batch's journal lets --resume find and
    redo a draft that a power cut lost.
    """

    def __init__(self, folder: str):
        self.folder, self.fd = folder, None
        self.suffix = f".{os.getpid()}.tmp"
        self.nameless = _NAMELESS
        if not os.path.isdir(folder):
            # never made here: a batch's folder is made owner-only before its run; made again
            # here (at the umask's mode) after it was moved away mid-run, it took the rest of
            # the drafts while the journal went with the moved folder, and the run said done
            raise OutputError("cannot write here (the folder is gone: moved or removed while the run wrote "
                              "into it)", folder)
        if _BY_FOLDER:
            flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
            try:
                self.fd = os.open(folder, flags)
            except OSError as exc:
                raise OutputError(f"cannot write here ({exc.strerror or exc})", folder) from None

    def write(self, name: str, data: Union[bytes, str], mode: int = OWNER_ONLY) -> None:
        """Write the file `name` of the folder atomically (as `atomic_write`, without fsync)."""
        # once the folder refuses the nameless way, the named one only: no file written twice
        self.nameless = _write_at(self.folder, name, data, mode, False, self.fd, self.suffix, self.nameless)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextmanager
def atomic_text_writer(path: Union[str, Path], mode: int = OWNER_ONLY, encoding: str = "utf-8"):
    """Stream text into `path` atomically (for outputs too big to build in memory)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        try:
            fd = os.open(tmp, _CREATE, mode)  # never someone else's file, nor a link's target
        except FileExistsError:  # left by a killed process of this same id: replace it
            os.unlink(tmp)
            fd = os.open(tmp, _CREATE, mode)
    except OSError as exc:
        raise OutputError(f"cannot write here ({exc.strerror or exc})", str(target)) from None
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write ({exc.strerror or exc})", str(target)) from None
        raise
