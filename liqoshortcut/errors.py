"""Domain errors and the exit codes they end a run with.

Both front ends share these: the CLI turns an error into one line on stderr and an exit code, the
operator into a condition and an event. Scripts in CI branch on the exit codes, so they are stable,
and the mapping from error to code is written once, here (`exit_code_for`), so that `--help`, the
README and the behaviour cannot drift apart.

An exception that is no domain error is a bug or a library failing in a way nobody mapped. Inside
a `create` run it is rolled back as any failure is (exit 1, its message starting "unexpected");
elsewhere the CLI names it in one line with `UNEXPECTED`, which claims no rollback.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class ExitCode(IntEnum):
    """How a `kubectl shortcut` run ended; `meaning` is what `--help` prints for it."""

    meaning: str

    def __new__(cls, code: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        return member

    SUCCESS = 0, "success"
    FAILED = 1, "failed; everything this run created was rolled back"
    USAGE = 2, "usage error: bad command line, nothing was done"
    ROLLBACK_INCOMPLETE = (
        3,
        "failed midway, and a rollback or delete could not finish: the error names what was "
        "left behind",
    )
    PRECONDITION_FAILED = (
        4,
        "a precondition failed (cluster, credentials, Liqo); nothing was changed",
    )
    UNREPORTED = (
        5,
        "done, but not reported (output not written, or central's record not updated); the "
        "error says what exists",
    )
    UNEXPECTED = (
        70,  # EX_SOFTWARE of sysexits.h: an internal error
        "unexpected error outside a run (a bug: -v shows where); nothing was rolled back",
    )
    INTERRUPTED = (
        130,
        "interrupted (Ctrl-C, SIGTERM, SIGHUP, or not confirmed); anything the run created was "
        "rolled back",
    )


class ShortcutError(Exception):
    """A failure shown as one line naming the problem and the fix, not as a stack trace."""


class UsageError(ShortcutError):
    """The command line asks for something impossible, e.g. the same edge on both ends."""


class PreconditionFailed(ShortcutError):
    """A check made before any change failed: unreachable cluster, missing rights, old Liqo."""


class WorkflowFailed(ShortcutError):
    """A step failed after changes began, and every change this run made was rolled back."""


class RollbackIncomplete(ShortcutError):
    """A step failed and the rollback could not remove everything this run created; or a
    teardown stopped midway, leaving part of a shortcut."""


class Interrupted(ShortcutError):
    """The run was interrupted (SIGINT, SIGTERM, SIGHUP) and what it had created was rolled
    back."""


class Unreported(ShortcutError):
    """The command did what it was asked (a shortcut made or removed stays so), but could not
    say so: its output could not be written, or central's record of the shortcut not updated.
    Not a failure to roll back: running the same command again converges and reports."""


_EXIT_CODES: Final[dict[type[ShortcutError], ExitCode]] = {
    ShortcutError: ExitCode.FAILED,
    UsageError: ExitCode.USAGE,
    PreconditionFailed: ExitCode.PRECONDITION_FAILED,
    WorkflowFailed: ExitCode.FAILED,
    RollbackIncomplete: ExitCode.ROLLBACK_INCOMPLETE,
    Interrupted: ExitCode.INTERRUPTED,
    Unreported: ExitCode.UNREPORTED,
}


def exit_code_for(error: ShortcutError) -> ExitCode:
    """The exit code of the most specific domain error class that `error` is an instance of."""
    return next(_EXIT_CODES[cls] for cls in type(error).__mro__ if cls in _EXIT_CODES)


def stopped_midway(error: BaseException, midway: str) -> ShortcutError:
    """The error for a teardown that failed or was interrupted (``error``) after its first
    change: ``midway`` says what is left and how to finish, never "nothing was changed"."""
    if isinstance(error, KeyboardInterrupt | Interrupted):
        return Interrupted(f"interrupted: {midway}")
    return RollbackIncomplete(f"{error}; {midway}")


def unexpected(error: BaseException) -> str:
    """An error nobody foresaw (a bug, or a library failing in a way not mapped to a domain
    error), in one line: its class says more than its message alone."""
    if isinstance(error, ShortcutError):
        return str(error)
    message = " ".join(str(error).split())
    return f"unexpected {type(error).__name__}" + (f": {message}" if message else "")
