"""``tumen ingest`` (AIS files → store) and ``tumen export`` (store table → file)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tumen.cli.common import (
    ConfigOpt,
    DbOpt,
    JsonOpt,
    QuietOpt,
    VerboseOpt,
    app,
    err_console,
    hint_on_failure,
    out_console,
    output_file,
    print_json,
    progress,
    settings_from,
)
from tumen.errors import InputError
from tumen.ingest.pipeline import IngestReport, check_inputs, ingest_paths
from tumen.store import DuckDBStore

log = logging.getLogger(__name__)

PathsArg = Annotated[
    list[Path],
    typer.Argument(
        help="NMEA 0183 capture(s) or CSV file(s), plain or .gz, or directories (every file below them).",
        show_default=False,
    ),
]
TzOpt = Annotated[
    str | None,
    typer.Option(
        "--tz",
        help="IANA time zone of logger-prefix times and CSV times written without a zone, e.g. Europe/Paris "
        "(default: UTC, or ingest.tz in the config).",
        show_default=False,
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        help="For a CSV of another layout: FIELD=COLUMN,... naming its columns. Required: mmsi, ts, lat, lon "
        "(ts as ISO 8601, Unix seconds/ms or dd/mm/yyyy HH:MM:SS); optional: sog (knots), cog (degrees), "
        "heading (degrees), nav_status, name, imo, callsign, ship_type, draught (m), destination, station, "
        "class, length (m), width (m).",
        show_default=False,
    ),
]
WindowOpt = Annotated[
    float | None,
    typer.Option(
        "--dedupe-window",
        help="The same message heard again within this many seconds is a duplicate (default: 60 s).",
        show_default=False,
    ),
]
BatchOpt = Annotated[
    int | None,
    typer.Option(
        "--batch-lines",
        help="Lines read per batch; bounds memory (default: 100000 lines).",
        show_default=False,
    ),
]


def _summary(report: IngestReport, db: Path) -> None:
    table = Table(title=f"ingest into {db}", show_footer=True)
    table.add_column("file", footer="total")
    for name, total in (
        ("lines", report.lines),
        ("stored", report.stored),
        ("duplicates", report.duplicates),
        ("quarantined", report.quarantined),
    ):
        table.add_column(name, justify="right", footer=f"{total:,}")
    for f in report.files:
        label = Path(f.path).name + (" (already ingested)" if f.already_ingested else "")
        table.add_row(
            label, f"{f.lines:,}", f"{f.stored:,}", f"{f.duplicates:,}", f"{f.quarantined:,}"
        )
    out_console.print(table)
    rows = report.rows
    out_console.print(
        f"rows written: {rows['positions']:,} positions, {rows['statics']:,} statics, {rows['messages']:,} messages"
        f"  ({report.lines:,} lines = {report.stored:,} stored + {report.duplicates:,} duplicates"
        f" + {report.quarantined:,} quarantined; {report.seconds:.1f} s)"
    )
    if report.reasons:
        out_console.print(
            "quarantined: " + ", ".join(f"{n:,} {reason}" for reason, n in report.reasons.items()),
            highlight=False,
        )
    if report.repeats_folded:
        out_console.print(
            f"of the duplicates, {report.repeats_folded:,} repeat an untimed message stored from "
            "the same file (counted in its row's `repeats`)",
            highlight=False,
            markup=False,
        )
    for s in report.skipped:
        err_console.print(f"skipped {s.path}: {s.reason}", highlight=False)
    for w in report.warnings:
        err_console.print(f"warning {w['path']}: {w['warning']}", highlight=False)


@app.command("ingest")
def ingest_cmd(
    paths: PathsArg,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    tz: TzOpt = None,
    columns: ColumnsOpt = None,
    dedupe_window: WindowOpt = None,
    batch_lines: BatchOpt = None,
) -> None:
    """Read AIS files into the store; every line ends stored, duplicate or quarantined.

    NMEA 0183 (!AIVDM/!AIVDO, any talker; tag blocks, $PGHP headers, logger prefixes,
    multi-part messages), NOAA MarineCadastre and DMA CSV, other CSV with --columns.
    Re-ingesting a file adds nothing.  Prints the counts (they add up to the lines read);
    --json prints one object with integer keys lines, stored, duplicates, quarantined
    (totals) and per-file detail under "files".
    """
    settings = settings_from(
        config,
        db=db,
        ingest__tz=tz,
        ingest__dedupe_window_s=dedupe_window,
        ingest__batch_lines=batch_lines,
    )
    files, skipped, _ = check_inputs(paths, columns)  # a bad file fails here, before the store
    log.info("%d files to read, %d skipped", len(files), len(skipped))
    for f in files:
        log.debug("%s: %s, %d bytes", f.path, f.format, f.size_bytes)
    with (
        hint_on_failure(
            interrupted="files finished before are kept and the one being read was rolled "
            "back; run the same command again to go on (finished files are skipped)",
            disk_full="the file being read was rolled back (files finished before are kept); "
            "free some space, or give --db on another disk, and run again",
        ),
        DuckDBStore(settings.db) as store,
        progress(quiet, unit="lines") as bar,
    ):
        task = bar.add_task("ingest", total=None)

        def on_progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        report = ingest_paths(store, paths, settings, columns=columns, on_progress=on_progress)
    for fr in report.files:
        log.info(
            "%s: %s lines, %s stored, %s duplicates, %s quarantined%s",
            fr.path,
            fr.lines,
            fr.stored,
            fr.duplicates,
            fr.quarantined,
            " (already ingested)" if fr.already_ingested else "",
        )
    if json_out:
        obj = report.to_json()
        obj["db"] = str(settings.db)
        print_json(obj)
    elif not quiet:
        _summary(report, settings.db)


def _export_layout(
    settings: Any,
    out: Path,
    table: str | None,
    fmt: str | None,
    partition_by: str,
    json_out: bool,
    quiet: bool,
) -> None:
    from tumen.export.layout import write_layout

    if fmt not in (None, "parquet"):
        raise InputError(
            f"--partition-by writes Parquet; leave --format out or give parquet, not {fmt}"
        )
    with (
        hint_on_failure(
            interrupted=f"nothing was written to {out}",
            disk_full=f"nothing was written to {out}; free some space, or give --out on another disk",
        ),
        DuckDBStore(settings.db, read_only=True) as store,
    ):
        counts = write_layout(
            store, out, partition_by=partition_by, tables=(table,) if table else None
        )
    if json_out:
        print_json(
            {"out": str(out), "format": "parquet", "partition_by": partition_by, "rows": counts}
        )
    elif not quiet:
        listed = ", ".join(f"{n:,} {t}" for t, n in counts.items())
        out_console.print(f"wrote {listed} to {out}/ (Parquet, partitioned by {partition_by})")


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.", show_default=False)],
    table: Annotated[
        str | None,
        typer.Argument(
            help=(
                "Store table to export, e.g. positions, statics, quarantine, events; "
                "the findings formats (ftm, geojson, kml, csv-evidence) default to all findings."
            ),
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help=(
                "parquet, csv (any table); ftm, geojson, kml, csv-evidence (findings) "
                "(default: from the --out suffix, else parquet)."
            ),
            show_default=False,
        ),
    ] = None,
    partition_by: Annotated[
        str | None,
        typer.Option(
            "--partition-by",
            help="With --format parquet: write a folder of Hive-style partitions (day = UTC "
            "calendar day): positions, statics and sources, all columns (provenance kept) — the "
            "layout `tumen detect --engine spark --parquet DIR` reads.  A table argument limits it "
            "to that table.",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Write a store table to a file (Parquet, CSV, ...), streamed in batches.

    The file appears only once complete: a failed export (a full disk, Ctrl-C) leaves
    no partial file behind.  With --partition-by day, --out is a folder (the Parquet layout for
    Spark and other engines).
    """
    from tumen.export import export_table, format_for

    settings = settings_from(config, db=db)
    if partition_by is not None:
        _export_layout(settings, out, table, fmt, partition_by, json_out, quiet)
        return
    chosen = format_for(out, fmt)
    output_file(out, example=f"{table or 'findings'}{(chosen.suffixes or ('',))[0]}")
    with (
        hint_on_failure(
            interrupted=f"nothing was written to {out}",
            disk_full=f"nothing was written to {out}; free some space, or give --out on "
            "another disk, and run again",
        ),
        DuckDBStore(settings.db, read_only=True) as store,
    ):
        n = export_table(store, table, out, chosen.name, settings)
    if json_out:
        print_json(
            {"table": table or "findings", "out": str(out), "format": chosen.name, "rows": n}
        )
    elif not quiet:
        out_console.print(f"wrote {n:,} rows of {table or 'findings'} to {out} ({chosen.name})")
