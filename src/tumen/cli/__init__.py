"""The ``tumen`` command line.

Commands are thin: each parses its flags, builds :class:`tumen.config.Settings`,
calls one function of the core and prints the result (a Rich table for people,
one JSON object or JSON lines with ``--json`` for scripts).  Progress and logs go
to stderr, data to stdout.  A :class:`tumen.errors.TumenError` becomes one line
on stderr and the exit code documented in :mod:`tumen.errors`; ``--debug``
shows the traceback instead.

Each command group lives in its own module of this package and registers its
commands on :data:`app` when imported.
"""

from __future__ import annotations

import importlib
import sys

from tumen.cli.common import app, run_app

# Command modules, in the order the data flows.  Importing registers the commands.
COMMAND_MODULES = (
    "tumen.cli.config_cmd",
    "tumen.cli.ingest",
    "tumen.cli.detect",
    "tumen.cli.sim",
    "tumen.cli.screen",
    "tumen.cli.observe",
    "tumen.cli.report",
    "tumen.cli.serve",
    "tumen.cli.watch",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name)


def main() -> None:
    """Entry point of the ``tumen`` console script."""
    sys.exit(run_app(app))


__all__ = ["app", "main"]
