"""What every tumen command shares: the app, common options, output and errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tumen import __version__
from tumen.config import Settings, load_settings
from tumen.errors import TumenError

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
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: stderr console for progress, logs and human summaries that must not pollute JSON on stdout
err_console = Console(stderr=True)
#: stdout console for tables meant for people
out_console = Console()

_state: dict[str, Any] = {"debug": False, "verbosity": 0}


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
    int, typer.Option("-v", "--verbose", count=True, help="More detail on stderr (repeatable).")
]
QuietOpt = Annotated[
    bool, typer.Option("-q", "--quiet", help="No progress bars or summaries on stderr.")
]


def settings_from(config: Path | None, **flags: Any) -> Settings:
    """Effective settings: defaults < TOML < TUMEN_* env < the flags given (dotted keys)."""
    overrides = {k.replace("__", "."): v for k, v in flags.items()}
    return load_settings(config, overrides)


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
    with Progress(*columns, console=err_console, disable=quiet, transient=False) as bar:
        yield bar


def run_app(application: typer.Typer, argv: list[str] | None = None) -> int:
    """Run the CLI, turning a TumenError into one stderr line and its exit code."""
    try:
        application(args=argv, standalone_mode=False)
        return 0
    except TumenError as exc:
        if _state["debug"]:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
