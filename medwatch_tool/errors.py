"""One exception hierarchy whose messages are written for the user.

The core raises these; only cli.py turns them into exit codes, so library callers get
ordinary exceptions and the command line gets one clear line instead of a traceback.
"""


class MedwatchError(Exception):
    """Base class: `str(error)` is a complete, user-facing sentence."""

    exit_code = 1


class InputError(MedwatchError):
    """The user's file or data cannot be used (missing, unreadable, not a draft...)."""
