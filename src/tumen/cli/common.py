"""What every tumen command shares: the app, common options, output and errors.

Errors
    :func:`run_app` turns every failure into one line on stderr and an exit code:
    a :class:`~tumen.errors.TumenError` its own code (see :mod:`tumen.errors`); usage
    errors click's ``Usage:``/``Error:`` lines and 2 (Typer vendors its own copy of
    click, so both its exception classes and those of an installed click are caught);
    Ctrl-C 130; a full disk 7; any other operating-system error 1.  ``tumen --debug``
    shows the traceback instead.

Output
    Tables go to stdout for people.  When stdout is a pipe or a file they are laid out
    at their full width (no wrapping at 80 columns, no ``…``), see :class:`WideConsole`.

Logging
    ``-v`` (info), ``-vv`` (debug) and ``-q`` (errors only) set the level of the
    ``tumen`` loggers, written to stderr; every command that takes them does so through
    the options' callbacks, so a command need not do anything with its ``verbose``.
"""

from __future__ import annotations

import errno
import importlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from rich.console import Console, ConsoleDimensions
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from tumen import __version__
from tumen.config import Settings, load_settings
from tumen.errors import DiskFull, Interrupted, OutputError, TumenError

log = logging.getLogger("tumen")

app = typer.Typer(
    name="tumen",
    help=(
        "Watch the sea lanes between North Korea and Russia: ingest AIS, detect port calls, "
        "voyages, dark periods, ship-to-ship meetings and identity fraud, screen against "
        "sanctions lists, and write evidence reports."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: help texts print as written (Rich markup would eat "[risk.weights]")
    # and flags show as flags (Typer's Rich help labels them "<bool>").
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: width given to tables written to a pipe or a file (columns): in effect, no limit
PIPE_WIDTH = 1 << 16


class WideConsole(Console):
    """A Rich console that wraps at the terminal's width, and not at all into a pipe or file.

    Rich lays out for 80 columns when its file is not a terminal, so a table piped to
    ``less`` or saved to a file was wrapped and its cells cut (``sample…``).  Here a
    console that is not writing to a terminal (and was given no width, nor ``COLUMNS``)
    is :data:`PIPE_WIDTH` columns wide: each table takes the width its content needs.
    """

    @property
    def size(self) -> ConsoleDimensions:
        dims = Console.size.fget(self)  # type: ignore[attr-defined]
        if self._width is None and not self.is_terminal:
            return ConsoleDimensions(PIPE_WIDTH, dims.height)
        return dims  # type: ignore[no-any-return]

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


#: stderr console for progress, logs and human summaries that must not pollute JSON on stdout
err_console = WideConsole(stderr=True)
#: stdout console for tables meant for people
out_console = WideConsole()

_state: dict[str, Any] = {"debug": False, "verbose": 0, "quiet": False, "interrupted": False}


class _ConsoleHandler(logging.Handler):
    """Log records as plain lines on :data:`err_console` (above any progress bar)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            err_console.print(Text(self.format(record)), highlight=False, soft_wrap=True)
        except Exception:  # logging must never break a command
            self.handleError(record)


def _configure_logging() -> None:
    """Set the ``tumen`` loggers' level from ``-v``/``-q``: -q errors, default warnings,
    -v info, -vv debug."""
    if not any(isinstance(h, _ConsoleHandler) for h in log.handlers):
        handler = _ConsoleHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
    verbose, quiet = _state["verbose"], _state["quiet"]
    if verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    elif quiet:
        level = logging.ERROR
    else:
        level = logging.WARNING
    log.setLevel(level)


def _verbose_callback(value: int) -> int:
    _state["verbose"] = max(_state["verbose"], value or 0)
    _configure_logging()
    return value


def _quiet_callback(value: bool) -> bool:
    _state["quiet"] = bool(_state["quiet"] or value)
    _configure_logging()
    return value


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"tumen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


# -- common options (same name, help and default everywhere) ------------------
class Engine(StrEnum):
    """Where a command's SQL runs (`--engine`): the local DuckDB store or Apache Spark."""

    duckdb = "duckdb"
    spark = "spark"


SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="Spark master URL, e.g. local[2] or yarn (default: spark.master, local[*]).",
        show_default=False,
    ),
]
DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="DuckDB store file (default: ./tumen.duckdb, or `db` in the config).",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML settings file (default: ./tumen.toml if present).",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")
]
VerboseOpt = Annotated[
    int,
    typer.Option(
        "-v",
        "--verbose",
        count=True,
        callback=_verbose_callback,
        show_default=False,
        help="Log more on stderr: -v what is done, -vv details (repeatable).",
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "-q",
        "--quiet",
        callback=_quiet_callback,
        help="No progress bars, summaries or warnings on stderr; errors only.",
    ),
]


def settings_from(config: Path | None, **flags: Any) -> Settings:
    """Effective settings: defaults < TOML < TUMEN_* env < the flags given (dotted keys)."""
    overrides = {k.replace("__", "."): v for k, v in flags.items()}
    settings = load_settings(config, overrides)
    log.debug(
        "settings: config %s, flags %s",
        config or "(none given)",
        {k: v for k, v in overrides.items() if v is not None},
    )
    log.debug("effective settings: %s", settings.model_dump(mode="json"))
    return settings


def output_folder(path: Path, flag: str = "--out") -> Path:
    """``path`` checked as a folder to write into (it may not exist yet).

    Raises :class:`~tumen.errors.OutputError` when it is an existing file.
    """
    if path.exists() and not path.is_dir():
        raise OutputError(
            f"is a file, but {flag} names a folder to write into; give a folder "
            "(it is created if missing)",
            path,
        )
    return path


def output_file(path: Path, flag: str = "--out", example: str = "out") -> Path:
    """``path`` checked as a file to write (``-`` is stdout).

    Raises :class:`~tumen.errors.OutputError` when it is an existing folder; the message
    suggests ``path / example``.
    """
    if str(path) != "-" and path.is_dir():
        raise OutputError(
            f"is a folder, but {flag} names the file to write; give a file name, "
            f"e.g. {path / example}",
            path,
        )
    return path


def print_json(obj: Any) -> None:
    """One JSON object on stdout (stable keys, UTF-8)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def progress(quiet: bool = False, unit: str = "lines") -> Iterator[Progress]:
    """A Rich progress bar on stderr showing count, rate in ``unit``/s and time left."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(
                f"{speed:,.0f} {unit}/s" if speed else f"– {unit}/s", style="progress.data.speed"
            )

    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with _CheckedProgress(*columns, console=err_console, disable=quiet, transient=False) as bar:
        yield bar


class _CheckedProgress(Progress):
    """A progress display that also ends the command if a Ctrl-C was swallowed.

    DuckDB's Python client checks for signals while it runs a query; when the query ends
    first, the ``KeyboardInterrupt`` that Ctrl-C raised can be lost, and a long series
    of short queries (ingest in small batches) then ignores Ctrl-C.  The CLI's SIGINT
    handler remembers every Ctrl-C, and each progress update raises it again.
    """

    def update(self, *args: Any, **kwargs: Any) -> None:
        check_interrupted()
        super().update(*args, **kwargs)

    def advance(self, *args: Any, **kwargs: Any) -> None:
        check_interrupted()
        super().advance(*args, **kwargs)


def check_interrupted() -> None:
    """Raise :class:`KeyboardInterrupt` if Ctrl-C was pressed during this command
    (even if the exception it raised then was swallowed on the way)."""
    if _state.get("interrupted"):
        raise KeyboardInterrupt


def _on_sigint(signum: int, frame: Any) -> None:
    _state["interrupted"] = True
    raise KeyboardInterrupt


@contextmanager
def _sigint_remembered() -> Iterator[None]:
    """Install :func:`_on_sigint` for the command (main thread, default handler only)."""
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def translate_error(exc: BaseException) -> TumenError | None:
    """The :class:`~tumen.errors.TumenError` that ``exc`` stands for, or ``None``.

    Ctrl-C (``KeyboardInterrupt``, DuckDB's ``Query interrupted``, or any error raised
    after a Ctrl-C in this command) is :class:`~tumen.errors.Interrupted`; ``ENOSPC`` from the OS, pyarrow or DuckDB is
    :class:`~tumen.errors.DiskFull`; the store's other conditions are decided by
    :func:`tumen.store.duckdb.translate_error`.
    """
    if isinstance(exc, TumenError):
        return exc
    if isinstance(exc, KeyboardInterrupt) or (
        # whatever breaks after a Ctrl-C broke because of it (e.g. a module whose import
        # the interrupt cut short, used later)
        _state.get("interrupted") and isinstance(exc, Exception) and not isinstance(exc, _USAGE)
    ):
        return Interrupted("interrupted")
    if isinstance(exc, OSError) and (
        exc.errno == errno.ENOSPC or "No space left on device" in str(exc)
    ):
        where = f" writing {exc.filename}" if exc.filename else ""
        return DiskFull(f"no space left on device{where}")
    if "tumen.store.duckdb" in sys.modules:
        from tumen.store.duckdb import translate_error as store_error

        return store_error(exc)
    return None


@contextmanager
def hint_on_failure(interrupted: str, disk_full: str) -> Iterator[None]:
    """Add what to do next to the one line of a Ctrl-C or a full disk inside the block."""
    try:
        yield
    except BaseException as exc:
        err = translate_error(exc)
        if isinstance(err, Interrupted):
            raise Interrupted(f"{err}; {interrupted}") from exc
        if isinstance(err, DiskFull):
            raise DiskFull(f"{err}; {disk_full}") from exc
        raise


def _classes(name: str) -> tuple[type[BaseException], ...]:
    """Exception class ``name`` of Typer's vendored click and of an installed click.

    Typer 0.29 ships its own copy of click (``typer._click``): its usage errors are not
    ``click.ClickException`` instances.  Catch both, whichever exist.
    """
    found: list[type[BaseException]] = []
    for module in ("typer._click.exceptions", "typer.exceptions", "click.exceptions"):
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in found:
            found.append(cls)
    return tuple(found)


_EXIT = _classes("Exit")
_ABORT = _classes("Abort")
_USAGE = _classes("ClickException") + _classes("TyperException")


def _print_error(message: str) -> None:
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )


def run_app(application: typer.Typer, argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    Every failure is one line on stderr (see the module docstring); ``--debug`` re-raises.
    """
    _state.update(debug=False, verbose=0, quiet=False, interrupted=False)
    _configure_logging()
    args = list(sys.argv[1:] if argv is None else argv)
    _state["debug"] = "--debug" in args[: args.index("--") if "--" in args else None]
    command = typer.main.get_command(application)
    started = time.perf_counter()
    try:
        try:
            with _sigint_remembered(), command.make_context("tumen", args) as ctx:
                command.invoke(ctx)
        except BaseException as exc:
            translated = translate_error(exc)
            if translated is None or translated is exc:
                raise
            raise translated from exc
    except TumenError as exc:
        if _state["debug"]:
            raise
        _print_error(str(exc))
        return exc.exit_code
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _ABORT:
        _print_error("aborted")
        return 1
    except _USAGE as exc:
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            sys.stderr.write(f"Error: {exc}\n")
        return int(getattr(exc, "exit_code", 2))
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # the reader went away (`tumen events | head`)
            _silence_stdout()
            return 1
        if _state["debug"]:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        _print_error(f"{where}{exc.strerror or exc}")
        return 1
    log.info("%s done in %.1f s", _command_path(command, args), time.perf_counter() - started)
    return 0


def _command_path(command: Any, args: list[str]) -> str:
    """``"tumen lists load"`` for the arguments ``["lists", "load", "x.xml"]``."""
    names = ["tumen"]
    for arg in args:
        sub = getattr(command, "commands", {}).get(arg)
        if arg.startswith("-"):
            continue
        if sub is None:
            break
        names.append(arg)
        command = sub
    return " ".join(names)


def _silence_stdout() -> None:
    """After a broken pipe: send what is still buffered for stdout nowhere."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (tests): nothing to flush later
        pass
