"""Exceptions raised by tumen, and the exit code the CLI gives each.

The tree::

    TumenError                      exit 1   anything tumen raises on purpose
    ├── InputError (ValueError)     exit 2   a file or value given by the user is unusable
    │   │                                    (carries path, line and reason)
    │   ├── ListError               exit 5   a sanctions list file is malformed or truncated
    │   └── OutputError             exit 2   an --out/--output path cannot be written as asked
    │                                        (a folder where a file is needed, or the reverse)
    ├── ConfigError (ValueError)    exit 3   a setting, TOML file or flag is invalid
    ├── StoreError                  exit 4   the DuckDB store is missing, locked by another
    │                                        process, not writable, or not a DuckDB file
    ├── BackendUnavailable          exit 6   an optional backend (Spark, Chromium, …) is not installed
    ├── DiskFull                    exit 7   no space left on the device while writing the store
    │                                        or an output file
    └── Interrupted                 exit 130 stopped by Ctrl-C (SIGINT): 128 + 2, as shells do

Usage errors (an unknown command or option, a missing argument, a value of the wrong
type such as ``--batch-lines abc``) are not TumenErrors: the CLI prints click's
``Usage: …`` and ``Error: …`` lines and exits 2, like every click program.  Any other
operating-system error (e.g. permission denied on a file tumen writes) is one line and
exit 1.

Every message says what was wrong *and what to do next*, e.g.
``ports.csv line 4: radius_km "ten" is not a number; give kilometres, e.g. 5.0``.

A malformed AIS line is never an exception: ingest quarantines it with a reason
and counts it.  These exceptions are for input that is unusable *as a whole*.
"""

from __future__ import annotations

from pathlib import Path


class TumenError(Exception):
    """Base class of every error tumen raises on purpose."""

    exit_code: int = 1


class InputError(TumenError, ValueError):
    """A file or value supplied by the user cannot be used.

    Parameters
    ----------
    reason:
        What is wrong and what to do about it.
    path:
        The offending file, if any.
    line:
        1-based line number in ``path``, if the problem is on one line.
    """

    exit_code = 2

    def __init__(self, reason: str, path: str | Path | None = None, line: int | None = None):
        self.reason = reason
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path} line {self.line}"
            where += ": "
        return f"{where}{self.reason}"


class ConfigError(TumenError, ValueError):
    """A setting, configuration file or command-line flag is invalid."""

    exit_code = 3


class StoreError(TumenError):
    """The store cannot be opened, is locked by another process, or lacks data."""

    exit_code = 4


class ListError(InputError):
    """A sanctions list file is malformed, truncated or of an unknown format.

    Previously loaded lists are left untouched when this is raised.
    """

    exit_code = 5


class BackendUnavailable(TumenError):
    """An optional component (e.g. Spark, Chromium, WeasyPrint's libraries) is missing."""

    exit_code = 6


class OutputError(InputError):
    """An output path (``--out``, ``--output``) cannot be written as asked.

    E.g. ``tumen report --out FILE`` (it needs a folder) or ``tumen export --out FOLDER``
    (it needs a file name).
    """

    exit_code = 2


class DiskFull(TumenError):
    """No space left on the device (``ENOSPC``) while writing the store or an output file.

    Ingest rolls back the file it was reading (files finished before are kept); export
    removes its partial output.  Free some space, or write to another disk, and run again.
    """

    exit_code = 7


class Interrupted(TumenError):
    """The command was stopped by Ctrl-C (SIGINT); exit code 130 (128 + signal 2)."""

    exit_code = 130
