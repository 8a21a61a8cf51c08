"""``tumen risk``, ``tumen report`` and ``tumen demo``: findings people can read and hand on."""

from __future__ import annotations

import json
from datetime import datetime
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
    output_folder,
    print_json,
    settings_from,
)
from tumen.errors import ConfigError, InputError
from tumen.store import DuckDBStore


def _open_existing(db: Path) -> DuckDBStore:
    """The store at ``db``; a missing file is an error (these commands read what ingest wrote)."""
    return DuckDBStore(db, create=False)


PortsOpt = Annotated[
    Path | None,
    typer.Option(
        "--ports",
        help="Watched-ports CSV; must be the file `tumen detect` used (default: the ports detection "
        "recorded in the store).",
        show_default=False,
    ),
]


risk_app = typer.Typer(name="risk", invoke_without_command=True)
app.add_typer(risk_app, name="risk")


@risk_app.callback()
def risk_cmd(
    ctx: typer.Context,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            help="Vessels to show (count) (default: risk.top_n = 20).",
            show_default=False,
        ),
    ] = None,
    ports: PortsOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Rank with only the data and lists known at this UTC time (ISO 8601; a date "
            "means 00:00): positions up to it, events ended by it, designations in force then. "
            "Table `risk` is not written.",
            show_default=False,
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="duckdb: in the store; spark: export the store's positions, statics, events and "
            "matches as Parquet, compute the same signals on Apache Spark, write table `risk` back "
            "(needs pyspark and Java 17+; settings: the spark section of tumen.toml).",
        ),
    ] = Engine.duckdb,
    spark_master: SparkMasterOpt = None,
    parquet: Annotated[
        str | None,
        typer.Option(
            "--parquet",
            help="With --engine spark: read this Parquet layout (folder or URL, written by `tumen "
            "export --format parquet --partition-by day`) instead of a store; needs --events and "
            "--risk-out.",
            show_default=False,
        ),
    ] = None,
    events: Annotated[
        str | None,
        typer.Option(
            "--events",
            help="With --parquet: the events as Parquet (folder or URL), from `tumen detect "
            "--engine spark --events-out`.",
            show_default=False,
        ),
    ] = None,
    matches: Annotated[
        str | None,
        typer.Option(
            "--matches",
            help="With --parquet: the list matches as Parquet (`tumen export matches --out "
            "matches.parquet` after `tumen screen`); without it no sanctions signal counts.",
            show_default=False,
        ),
    ] = None,
    observations: Annotated[
        str | None,
        typer.Option(
            "--observations",
            help="With --parquet: the observations as Parquet (`tumen export observations --out "
            "observations.parquet`); without it no observation signal counts.",
            show_default=False,
        ),
    ] = None,
    risk_out: Annotated[
        str | None,
        typer.Option(
            "--risk-out",
            help="With --engine spark: also write the ranking (table `risk`'s columns) as Parquet "
            "here (folder or URL); load it with `tumen risk import`.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Rank vessels by explained risk signals and write table `risk`.

    The score is a sum of points: sanctions matches (vessel, owner/manager, an
    encounter partner), voyages between North Korean and Russian ports, dark
    periods near watched ports or on a shuttle route, encounters at sea (more
    with a listed or DPRK partner), loitering and identity fraud.  Weights:
    `[risk.weights]` in tumen.toml (see `tumen config`).

    For each event of a vessel with a listed vessel or owner, says whether the
    designation was in force then: sanctions breach, pre-designation pattern,
    after delisting (`designation_timing` in --json).

    --engine spark computes the same signals on Apache Spark.  On a cluster, run
    `tumen risk --engine spark --parquet DIR --events EVENTS --matches MATCHES
    --observations OBSERVATIONS --risk-out OUT` (see docs/scale.md), then `tumen risk import OUT` into a local store.
    """
    if ctx.invoked_subcommand is not None:
        return
    from contextlib import nullcontext

    from tumen.risk import rank_vessels
    from tumen.risk.asof import as_of_view
    from tumen.risk.timing import designation_timing

    settings = settings_from(config, db=db, ports=ports)
    n_top = top or settings.risk.top_n
    spark_only = {
        "--spark-master": spark_master,
        "--parquet": parquet,
        "--risk-out": risk_out,
        "--events": events,
        "--matches": matches,
        "--observations": observations,
    }
    if engine is Engine.duckdb and any(v is not None for v in spark_only.values()):
        raise ConfigError(
            f"{', '.join(k for k, v in spark_only.items() if v is not None)} need(s) --engine spark"
        )
    if (events or matches or observations) and not parquet:
        raise ConfigError(
            "--events, --matches and --observations go with --parquet (a --db store's own events, "
            "matches and observations are used)"
        )
    if parquet and not (events and risk_out):
        raise ConfigError(
            "--parquet needs --events (the events Parquet) and --risk-out (where to write the ranking)"
        )
    if parquet and as_of is not None:
        raise ConfigError(
            "--as-of needs a --db store (the designations' history is kept there), not --parquet"
        )
    if parquet:
        _risk_parquet(
            settings,
            parquet,
            events or "",
            matches,
            observations,
            risk_out or "",
            spark_master,
            ports,
            n_top,
            json_out,
            quiet,
        )
        return
    when = None
    if as_of is not None:
        from tumen.times import parse_utc

        try:
            when = parse_utc(as_of)
        except ValueError:
            raise InputError(
                f"--as-of {as_of!r} is not a date or time; give ISO 8601, e.g. 2024-04-04"
            ) from None
    with (
        _open_existing(settings.db) as store,
        as_of_view(store, when) if when is not None else nullcontext(),
    ):
        if engine is Engine.spark:
            from tumen.engines import rank_on_spark

            table = rank_on_spark(
                store, settings, master=spark_master, ports=ports, risk_out=risk_out
            )
            if when is None:
                store.replace("risk", table)
        else:
            table = rank_vessels(store, settings, write=when is None)
        rows = table.slice(0, n_top).to_pylist()
        timing = designation_timing(store, [int(r["mmsi"]) for r in rows], until=when)
    written = (
        f"as of {when:%Y-%m-%d %H:%M} UTC (table `risk` not written)"
        if when
        else f"table `risk` written to {settings.db}"
    )
    if risk_out:
        written += f"; ranking written to {risk_out} (Parquet)"
    _show_ranking(
        table,
        rows,
        timing,
        when=when,
        json_out=json_out,
        quiet=quiet,
        extra={"engine": "spark", "risk_out": risk_out} if engine is Engine.spark else {},
        written=written,
    )


def _show_ranking(
    table: Any,
    rows: list[dict[str, Any]],
    timing: dict[int, list[dict[str, Any]]] | None,
    *,
    when: datetime | None,
    json_out: bool,
    quiet: bool,
    extra: dict[str, Any],
    written: str,
) -> None:
    """Print a ranking (``tumen risk``): the top ``rows`` of ``table``; ``timing`` ``None`` when
    the designations' timing is not known (no store: ``--parquet``)."""
    from tumen.risk.rank import ranking_counts
    from tumen.risk.timing import timing_counts

    for row in rows:
        row["signals"] = json.loads(row["signals"])
        row["weights"] = json.loads(row["weights"])
        row["designation_timing"] = None if timing is None else timing.get(int(row["mmsi"]), [])
    counts = ranking_counts(table.column("score").to_pylist())
    if json_out:
        print_json(
            {
                **counts,
                "as_of": when.isoformat() + "Z" if when is not None else None,
                **extra,
                "vessels": [
                    {
                        k: row[k]
                        for k in (
                            "rank",
                            "mmsi",
                            "imo",
                            "name",
                            "flag",
                            "score",
                            "n_events",
                            "signals",
                            "designation_timing",
                        )
                    }
                    | {
                        "designation_timing_counts": None
                        if row["designation_timing"] is None
                        else timing_counts(row["designation_timing"])
                    }
                    for row in rows
                ],
            }
        )
        return
    view = Table(
        "rank",
        "MMSI",
        "IMO",
        "name",
        "score",
        "signals (points)",
        title="Vessels by risk" + (f" as of {when:%Y-%m-%d %H:%M} UTC" if when else ""),
        show_lines=True,
    )
    for row in rows:
        signals = "\n".join(
            f"{s['title']}: {s['points']:g}"
            + (f" — {'; '.join(s['notes'][:3])}" if s["notes"] else "")
            for s in row["signals"]
        )
        view.add_row(
            str(row["rank"]),
            str(row["mmsi"]),
            str(row["imo"] or ""),
            row["name"] or "",
            f"{row['score']:g}",
            signals or "–",
        )
    out_console.print(view)
    for row in rows:
        if row["designation_timing"] is None:
            continue
        by = timing_counts(row["designation_timing"])
        shown = [f for f in row["designation_timing"] if f["status"] != "undetermined"][:3]
        if shown and not quiet:
            out_console.print(
                f"{row['name'] or row['mmsi']}: "
                + ", ".join(f"{n} {label}" for s, n in by.items() if n for label in [_LABEL[s]])
                + "".join(f"\n  {f['sentence']}" for f in shown),
                markup=False,
            )
    if not quiet:
        err_console.print(
            f"{counts['n_vessels']} vessels ranked, {counts['n_with_signals']} with at least one risk "
            f"signal; {written}",
            highlight=False,
        )


def _risk_parquet(
    settings: Any,
    layout: str,
    events: str,
    matches: str | None,
    observations: str | None,
    risk_out: str,
    master: str | None,
    ports: Path | None,
    n_top: int,
    json_out: bool,
    quiet: bool,
) -> None:
    """``tumen risk --engine spark --parquet DIR --events EV --risk-out OUT``: no store."""
    from tumen.engines import rank_parquet

    table = rank_parquet(
        layout,
        events,
        settings,
        matches=matches,
        observations=observations,
        risk_out=risk_out,
        master=master,
        ports=ports,
    )
    _show_ranking(
        table,
        table.slice(0, n_top).to_pylist(),
        None,
        when=None,
        json_out=json_out,
        quiet=quiet,
        extra={"engine": "spark", "risk_out": risk_out},
        written=f"ranking written to {risk_out} (Parquet; load it with `tumen risk import`)",
    )


@risk_app.command("import")
def risk_import_cmd(
    path: Annotated[
        Path,
        typer.Argument(
            help="A ranking as Parquet (a file, or the folder of part files Spark writes), from "
            "`tumen risk --engine spark --risk-out`.",
            show_default=False,
        ),
    ],
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Load a ranking computed elsewhere (Spark, a cluster) into the store, replacing table `risk`.

    The file must have every column of table `risk` (CONTRACTS.md), one row per MMSI, ranks 1…N.
    `tumen report` and `tumen serve` then show it.
    """
    from tumen.engines import import_risk

    settings = settings_from(config, db=db)
    with _open_existing(settings.db) as store:
        summary = import_risk(store, path)
    if json_out:
        print_json({"path": str(path), "db": str(settings.db), **summary})
    elif not quiet:
        err_console.print(
            f"imported the ranking of {summary['vessels']:,} vessels into {settings.db} "
            f"({summary['with_signals']:,} with at least one risk signal)",
            highlight=False,
        )


_LABEL = {
    "in_force": "sanctions breach",
    "pre_designation": "pre-designation",
    "after_delisting": "after delisting",
    "undetermined": "undetermined",
}


@app.command("report")
def report_cmd(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write report.html and report.pdf into.")
    ],
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    vessel: Annotated[
        list[int] | None,
        typer.Option(
            "--vessel",
            help="MMSI (9 digits) or IMO number (7 digits) to give a dossier; repeat for several.",
            show_default=False,
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            help="Dossiers for the N highest-risk vessels (count) (default: report.top_n = 10 when no --vessel).",
            show_default=False,
        ),
    ] = None,
    pdf: Annotated[
        bool,
        typer.Option("--pdf/--no-pdf", help="Also write the PDF (default: report.pdf = true)."),
    ] = True,
    ports: PortsOpt = None,
) -> None:
    """Write the evidence report: one self-contained HTML file (opens offline) and the same as PDF.

    A summary of the period and the top-risk vessels, then per vessel a dossier:
    identity history, screening matches with their explanations, a map of the
    track (gaps dashed, port visits, encounters, loitering), a timeline, and the
    events with their provenance (file, SHA-256, lines, detector parameters).
    Ranks the vessels first if `tumen risk` has not run.
    """
    from tumen.report import write_report

    settings = settings_from(config, db=db, ports=ports, report__pdf=None if pdf else False)
    output_folder(out)
    with _open_existing(settings.db) as store:
        if not quiet:
            err_console.print(f"writing the report from {settings.db} …")
        paths = write_report(store, out, settings, vessels=vessel or None, top=top)
    if json_out:
        print_json(paths)
        return
    out_console.print(f"report: {paths['html']}")
    if paths["pdf"]:
        out_console.print(f"pdf:    {paths['pdf']}")
    if not quiet:
        err_console.print(
            f"{len(paths['vessels'])} dossiers, {paths['events']} events in the annex"
        )


@app.command("demo")
def demo_cmd(
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder for the simulated input, the store and the report."),
    ] = Path("demo-out"),
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    seed: Annotated[int, typer.Option("--seed", help="Simulator seed (same seed, same data).")] = 0,
    hours: Annotated[
        int, typer.Option("--hours", min=1, help="Hours of simulated traffic (hours).")
    ] = 72,
    vessels: Annotated[
        int, typer.Option("--vessels", min=1, help="Simulated vessels (count).")
    ] = 150,
    real_lists: Annotated[
        bool,
        typer.Option(
            "--real-lists/--no-real-lists",
            help="Also screen against the real lists in ../shared/data/sanctions (or $TUMEN_SHARED_DATA) when present.",
        ),
    ] = True,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF.")] = True,
) -> None:
    """Run the whole chain on embedded defaults and print where the report is.

    Simulates a 3-day scenario (shuttles between Rajin and Dunai/Vostochny, dark
    port calls, ship-to-ship meetings, identity fraud), ingests it, runs every
    detector, screens against the bundled demo list (and the real lists when
    present), ranks the vessels and writes the report.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tumen.demo import run_demo

    settings = settings_from(config, report__pdf=None if pdf else False)
    output_folder(out)
    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err_console, disable=quiet, transient=False) as bar:
        task = bar.add_task("demo", total=8)

        def on_step(description: str, step: int, total: int) -> None:
            bar.update(task, completed=step - 1, total=total, description=description)

        result = run_demo(
            out,
            settings,
            seed=seed,
            hours=hours,
            vessels=vessels,
            real_lists=real_lists,
            on_step=on_step,
        )
        bar.update(task, completed=bar.tasks[0].total, description="done")
    if json_out:
        print_json(result.to_json())
        return
    if not quiet:
        steps = result.steps
        ing = steps.get("ingest", {})
        err_console.print(
            f"ingested {ing.get('lines', '?')} lines: {ing.get('stored', '?')} stored, "
            f"{ing.get('duplicates', '?')} duplicates, {ing.get('quarantined', '?')} quarantined"
        )
        risk = steps.get("risk", {})
        err_console.print(
            f"{risk.get('vessels', '?')} vessels ranked, {risk.get('with_signals', '?')} with at least one risk signal; top:"
        )
        for row in risk.get("top", []):
            err_console.print(
                f"  {row['rank']:>2}. {row['name'] or row['mmsi']} ({row['mmsi']}): {row['score']:.1f}"
            )
        overall = steps.get("evaluate", {}).get("overall")
        if overall:
            err_console.print(
                "detections vs. the simulator's truth: "
                + ", ".join(f"{k} {v:.3f}" for k, v in overall.items() if isinstance(v, float))
            )
        total = sum(s.get("seconds", 0.0) for s in steps.values())
        err_console.print(f"done in {total:.0f} s")
    out_console.print(f"report: {result.report['html']}")
    if result.report.get("pdf"):
        out_console.print(f"pdf:    {result.report['pdf']}")
