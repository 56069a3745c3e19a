"""One exception hierarchy whose messages are written for the user.

The core raises these; only cli.py turns them into exit codes, so library callers get
ordinary exceptions and the command line gets one clear line instead of a traceback.
"""
from typing import Optional


class MedwatchError(Exception):
    """Base class: `str(error)` is a complete, user-facing sentence."""

    exit_code = 1


class InputError(MedwatchError):
    """The user's file or data cannot be used (missing, unreadable, not a draft...).

    `reason` says what is wrong; `source` and `line` say where, when known, so reports
    can show them in their own columns (problems.csv, JSON) as well as in the message.
    """

    def __init__(self, reason: str, source: Optional[str] = None, line: Optional[int] = None):
        self.reason, self.source, self.line = reason, source, line
        where = ":".join(str(x) for x in (source, line) if x not in (None, ""))
        super().__init__(f"{where}: {reason}" if where else reason)


class OptionConflict(InputError):
    """The options of a run do not fit the run already in its folder (--resume missing, or
    another --render, --sheet or input format than it began with): a usage error, exit 2,
    as --help says; nothing is done."""

    exit_code = 2


class OutputError(InputError):
    """What the tool writes cannot be written (disk full, no permission, a file too big).

    Not the input's fault: a batch stops on it (and --resume finishes later) instead of
    listing every remaining row as failed. An InputError too, so callers that report any
    unusable file keep doing so.
    """


class ValueProblem(ValueError):
    """A value that cannot be stored in its field (not a date, not one of the choices...);
    the message is for the user, who sees it beside the field's box."""


class InputDamaged(Exception):
    """The input turned out to be damaged partway (a workbook whose compressed sheet fails
    its checksum): like a read error, the rows before it stand and the rest cannot be read."""
