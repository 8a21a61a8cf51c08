"""The tumen CLI run in-process, for tests (the ``cli`` fixture of conftest.py, usable anywhere)."""

from __future__ import annotations

import os


def run_cli(*args: str | os.PathLike[str]) -> tuple[int, str, str]:
    """Run the tumen CLI in-process: ``run_cli("ingest", path, "--json")`` → (exit code, stdout, stderr)."""
    import contextlib
    import io

    from tumen.cli import app, common
    from tumen.cli.common import run_app

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        old_out, old_err = common.out_console.file, common.err_console.file
        common.out_console.file, common.err_console.file = out, err
        try:
            code = run_app(app, [str(a) for a in args])
        finally:
            common.out_console.file, common.err_console.file = old_out, old_err
    return code, out.getvalue(), err.getvalue()
