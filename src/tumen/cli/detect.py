"""``tumen detect`` (run the behaviour detectors) and ``tumen events`` (print what they found)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tumen.cli.common import (
    ConfigOpt,
    DbOpt,
    Engine,
    JsonOpt,
    QuietOpt,
    SparkMasterOpt,
    VerboseOpt,
    app,
    err_console,
    out_console,
    output_file,
    print_json,
    progress,
    settings_from,
)
from tumen.config import Settings
from tumen.detect.events import (
    EVENT_TYPES,
    event_records,
    query_events,
    to_csv,
    to_geojson,
    to_jsonl,
)
from tumen.detect.pipeline import DetectReport
from tumen.errors import ConfigError
from tumen.store import DuckDBStore
from tumen.times import parse_utc


def _open(db: Path, *, read_only: bool = False, memory_limit: str | None = None) -> DuckDBStore:
    """The store ingest wrote; a missing file is an error, not a new empty store."""
    return DuckDBStore(db, read_only=read_only, create=False, memory_limit=memory_limit)


@app.command("detect")
def detect_cmd(
    db: DbOpt = None,
    config: ConfigOpt = None,
    ports: Annotated[
        Path | None,
        typer.Option(
            "--ports",
            help="Watched-ports CSV (header with at least name,country,lat,lon,radius_km; radius in km) "
            "replacing the bundled list of North Korean and Russian Far East ports.",
            show_default=False,
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Recompute every vessel, even where an incremental run would do."
        ),
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="duckdb: in the store; spark: export the store as Parquet, detect on Apache Spark, "
            "import the events back (needs pyspark and Java 17+; settings: the spark section of tumen.toml).",
        ),
    ] = Engine.duckdb,
    spark_master: SparkMasterOpt = None,
    parquet: Annotated[
        str | None,
        typer.Option(
            "--parquet",
            help="With --engine spark: read this Parquet layout (folder or URL, written by `tumen "
            "export --format parquet --partition-by day`) instead of a store; needs --events-out.",
            show_default=False,
        ),
    ] = None,
    events_out: Annotated[
        str | None,
        typer.Option(
            "--events-out",
            help="With --engine spark: also write the events as Parquet here (folder or URL); "
            "load them with `tumen events import`.",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Run every behaviour detector over the store and write the `events` table.

    Detects port visits (≥ 30 min inside a port's radius), voyages between two watched ports, AIS
    gaps (≥ 6 h of silence, with the ports reachable while dark), encounters (two vessels ≤ 500 m
    apart for ≥ 2 h, both < 2 kn, ≥ 10 km from every port), loitering (< 2 kn for ≥ 4 h, ≥ 10 km from
    every port) and identity fraud.  Every threshold is a setting (`tumen config`).  When the store
    has only grown since the last run, only the vessels with new data are recomputed.

    --engine spark runs the same detectors on Apache Spark (always a full run).  On a cluster, run
    `tumen detect --engine spark --parquet DIR --events-out OUT` (e.g. under spark-submit, see
    docs/scale.md), then `tumen events import OUT` into a local store.
    """
    from tumen.detect import run_detectors

    settings = settings_from(config, db=db, ports=ports)
    if engine is Engine.duckdb and (parquet or events_out or spark_master):
        raise ConfigError("--parquet, --events-out and --spark-master need --engine spark")
    if parquet and not events_out:
        raise ConfigError("--parquet needs --events-out: where to write the events (Parquet)")
    if engine is Engine.spark:
        _detect_spark(settings, spark_master, parquet, events_out, json_out, quiet, verbose)
        return
    with (
        _open(settings.db, memory_limit=settings.detect.memory_limit) as store,
        progress(quiet or json_out, unit="steps") as bar,
    ):
        task = bar.add_task("detecting", total=None)

        def on_progress(step: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"detect: {step}")

        report = run_detectors(store, settings, on_progress=on_progress, full=full)
    _print_report(report, json_out, quiet, verbose)


def _detect_spark(
    settings: Settings,
    master: str | None,
    parquet: str | None,
    events_out: str | None,
    json_out: bool,
    quiet: bool,
    verbose: int,
) -> None:
    from tumen import engines

    with progress(quiet or json_out, unit="steps") as bar:
        task = bar.add_task("detecting on spark", total=None)

        def on_progress(step: str, done: int, total: int) -> None:
            bar.update(
                task, completed=done, total=total or None, description=f"detect (spark): {step}"
            )

        if parquet:
            report, n = engines.detect_parquet(
                parquet, events_out or "", settings, master=master, on_progress=on_progress
            )
            report.events_total = dict(report.events)
        else:
            with _open(settings.db) as store:
                report = engines.detect_on_spark(
                    store, settings, master=master, on_progress=on_progress, events_out=events_out
                )
    _print_report(report, json_out, quiet, verbose, engine="spark", events_out=events_out)


def _print_report(
    report: DetectReport,
    json_out: bool,
    quiet: bool,
    verbose: int,
    *,
    engine: str = "duckdb",
    events_out: str | None = None,
) -> None:
    if json_out:
        out = report.to_json()
        if engine != "duckdb":
            out["engine"] = engine
            out["events_out"] = events_out
        print_json(out)
        return
    if quiet:
        return
    err_console.print(
        f"{report.mode} run ({engine}): {report.positions:,} positions of {report.vessels:,} vessels "
        f"in {report.seconds:.1f} s ({report.positions / max(report.seconds, 1e-9):,.0f} positions/s); "
        f"segments {report.segments}",
        highlight=False,
    )
    table = Table("type", "written this run", "in store", title="events")
    for etype in EVENT_TYPES:
        table.add_row(
            etype, str(report.events.get(etype, 0)), str(report.events_total.get(etype, 0))
        )
    err_console.print(table)
    if events_out:
        err_console.print(f"events written to {events_out} (Parquet)", highlight=False)
    if verbose:
        for step, secs in report.timings.items():
            err_console.print(f"  {step:<16} {secs:8.2f} s", highlight=False)


class EventFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    geojson = "geojson"
    table = "table"


def _parse_time(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_utc(value)
    except ValueError:
        raise ConfigError(
            f"{flag} {value!r} is not an ISO-8601 time; give e.g. 2024-01-10 or 2024-01-10T10:00Z"
        ) from None


events_app = typer.Typer(
    name="events",
    help="Print the detected events, filtered (times are ISO-8601 UTC with Z); `import` loads "
    "events written as Parquet by `tumen detect --engine spark`.",
    invoke_without_command=True,
)
app.add_typer(events_app, name="events")


@events_app.callback()
def events_cmd(
    ctx: typer.Context,
    db: DbOpt = None,
    config: ConfigOpt = None,
    type_: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            "-t",
            help="Only events of this type (repeatable): " + ", ".join(EVENT_TYPES) + ".",
            show_default=False,
        ),
    ] = None,
    mmsi: Annotated[
        int | None,
        typer.Option("--mmsi", help="Only events of this MMSI (either vessel of an encounter)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only events ending at or after this UTC time (ISO-8601, e.g. 2024-01-10).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only events starting at or before this UTC time (ISO-8601)."),
    ] = None,
    fmt: Annotated[
        EventFormat,
        typer.Option(
            "--format",
            "-f",
            help="jsonl (one JSON object per line: the public contract), csv, geojson, or table.",
        ),
    ] = EventFormat.table,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout ('-' = stdout)."),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help='One JSON object {"events": [...], "total": N}, each event as in jsonl.',
        ),
    ] = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Print the detected events, filtered (times are ISO-8601 UTC with Z).

    --format jsonl prints one event per line (the public contract for streams);
    --json prints one JSON object holding the list of events and their count.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from(config, db=db)
    types = list(type_ or [])
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ConfigError(
            f"--type {unknown[0]!r} is not an event type; use one of {', '.join(EVENT_TYPES)}"
        )
    since_dt, until_dt = _parse_time(since, "--since"), _parse_time(until, "--until")
    if output is not None:
        output_file(output, "--output", example=f"events.{'json' if json_out else fmt.value}")
    with _open(settings.db, read_only=True) as store:
        table = query_events(store, types=types, mmsi=mmsi, since=since_dt, until=until_dt)
        corrs = _corroborations(store, settings)
    records = _with_corroboration(event_records(table), corrs)
    if json_out:
        text = json.dumps(
            {"events": list(records), "total": table.num_rows}, ensure_ascii=False, default=str
        )
        chunks: Iterable[str] = [text + "\n"]
    elif fmt is EventFormat.table and (output is None or str(output) == "-"):
        _print_table(records, table.num_rows)
        return
    else:
        chunks = {
            EventFormat.jsonl: to_jsonl,
            EventFormat.csv: to_csv,
            EventFormat.geojson: to_geojson,
            EventFormat.table: to_csv,
        }[fmt](records)
    if output is None or str(output) == "-":
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
    else:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.writelines(chunks)
        if not quiet:
            err_console.print(f"wrote {table.num_rows:,} events to {output}", highlight=False)


def _corroborations(store: DuckDBStore, settings: Settings) -> list[dict[str, Any]]:
    """What the store's observations confirm or contradict (:mod:`tumen.observe.corroborate`)."""
    from tumen.observe.corroborate import corroborations

    return corroborations(store, settings)


def _with_corroboration(
    records: Iterable[dict[str, Any]], corrs: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Each event record with key ``corroboration`` added (a list; empty when no observation bears on it)."""
    from tumen.observe.corroborate import by_event, event_json

    grouped = by_event(corrs)
    for rec in records:
        rec["corroboration"] = [event_json(c) for c in grouped.get(rec["event_id"], [])]
        yield rec


def _print_table(records: object, n: int) -> None:
    table = Table(
        "start (UTC)",
        "end (UTC)",
        "type",
        "mmsi",
        "other",
        "where",
        "measures",
        title=f"{n} events",
    )
    for column in table.columns:
        column.overflow = "fold"
    for rec in records:  # type: ignore[attr-defined]
        ev = rec["evidence"]
        where = (
            rec["port"]
            or (f"{rec['from_port']} → {rec['to_port']}" if rec["from_port"] else "")
            or (f"{rec['lat']:.4f}, {rec['lon']:.4f}" if rec["lat"] is not None else "")
        )
        kind = rec["type"] + (f"/{rec['subtype']}" if rec["subtype"] else "")
        keys = (
            "duration_h",
            "distance_km",
            "implied_speed_kn",
            "min_distance_m",
            "imo",
            "declared_flag",
        )
        measures = ", ".join(
            f"{k}={ev[k]:.2f}" if isinstance(ev.get(k), float) else f"{k}={ev[k]}"
            for k in keys
            if k in ev
        )
        table.add_row(
            rec["start"],
            rec["end"],
            kind,
            str(rec["mmsi"]),
            str(rec["other_mmsi"] or ""),
            where,
            measures,
        )
    out_console.print(table)


@events_app.command("import")
def events_import_cmd(
    path: Annotated[
        Path,
        typer.Argument(
            help="Events as Parquet (a file, or the folder of part files Spark writes), from "
            "`tumen detect --engine spark --events-out`.",
            show_default=False,
        ),
    ],
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Load events detected elsewhere (Spark, a cluster) into the store, replacing its events.

    The file must have every column of the events contract (CONTRACTS.md).  When it carries
    provenance and the store holds positions, every cited position must be the store's row of the
    same file (SHA-256) and line.  Screening, risk and reports then use these events.
    """
    from tumen.engines import import_events

    settings = settings_from(config, db=db)
    with DuckDBStore(settings.db) as store:
        summary = import_events(store, path)
    if json_out:
        print_json({"path": str(path), "db": str(settings.db), **summary})
    elif not quiet:
        err_console.print(
            f"imported {summary['events']:,} events into {settings.db} "
            f"({', '.join(f'{k} {v}' for k, v in summary['by_type'].items()) or 'none'}); "
            f"{summary['checked_positions']:,} cited positions checked against the store",
            highlight=False,
        )
