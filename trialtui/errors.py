"""Errors that reach the user as one line, with the exit status they map to.

Exit statuses (documented in README):

- 0: success
- 1: bad input (a file, a value, a database that cannot be opened or is locked)
- 2: usage error (unknown option, missing argument, unknown study or biomarker name)
- 130: interrupted (Ctrl-C); the message says whether anything was written
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def printable(text: str, *, limit: int = 2000) -> str:
    """``text`` as one printable line: control characters escaped, at most ``limit`` long.

    A longer text keeps its start and end around an ellipsis, so that a message naming a
    file and row still ends with what follows a huge value.
    """
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    if len(text) <= limit:
        return text
    keep = (limit - 40) // 2
    return f"{text[:keep]}...[{len(text) - 2 * keep} characters]...{text[-keep:]}"


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, as Python or DuckDB reports it (DuckDB: ``RuntimeError: Query interrupted``)."""
    if isinstance(exc, KeyboardInterrupt) or type(exc).__name__ == "InterruptException":
        return True
    return isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()


class TrialtuiError(Exception):
    """An error with a one-line message meant for the user."""

    exit_code = 1


class InputError(TrialtuiError):
    """Bad input: a file or value that cannot be imported or used."""

    exit_code = 1


class StoreError(TrialtuiError):
    """The database cannot be opened, is locked or is not a trialtui database."""

    exit_code = 1


class OutputError(TrialtuiError):
    """An output file cannot be written (disk full, no permission); names the file."""

    exit_code = 1


class UsageError(TrialtuiError):
    """The command was called wrongly (unknown study, option, name)."""

    exit_code = 2


class Interrupted(TrialtuiError):
    """Ctrl-C stopped the command; the message says what was written (e.g. nothing).

    ``written`` is True when the command's changes were committed before the interrupt.
    """

    exit_code = 130

    def __init__(self, message: str, *, written: bool = False) -> None:
        super().__init__(message)
        self.written = written
