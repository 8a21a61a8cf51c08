"""``tumen simulate`` (scenario with ground truth) and ``tumen evaluate`` (score detections)."""

from __future__ import annotations

from enum import StrEnum
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
    out_console,
    output_folder,
    print_json,
    progress,
    settings_from,
)
from tumen.errors import InputError


class SimFormat(StrEnum):
    """Output formats of ``tumen simulate``."""

    nmea = "nmea"
    csv = "csv"
    both = "both"


@app.command("simulate")
def simulate_cmd(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder to write ais.nmea and/or ais.csv, truth.jsonl and ports.csv."
        ),
    ],
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed gives the same bytes.")
    ] = 0,
    hours: Annotated[
        float, typer.Option("--hours", help="Length of the simulated period (hours).", min=1)
    ] = 72,
    vessels: Annotated[
        int,
        typer.Option(
            "--vessels",
            help="Number of vessels, planted ones included (count; at least ~25 are made).",
            min=0,
        ),
    ] = 150,
    fmt: Annotated[
        SimFormat,
        typer.Option(
            "--format",
            help="nmea: NMEA 0183 with NMEA 4.10 tag blocks; csv: NOAA MarineCadastre layout; both.",
        ),
    ] = SimFormat.nmea,
    ports: Annotated[
        Path | None,
        typer.Option(
            "--ports", help="Watched-ports CSV (default: the bundled list); copied to ports.csv."
        ),
    ] = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Simulate AIS traffic between North Korea and Russia with planted behaviour and its ground truth.

    Background cargo ships, tankers and fishing boats in the Sea of Japan / East Sea, plus shuttles, dark periods, ship-to-ship meetings, loitering, identity fraud and look-alikes, with the noise of a real feed. Writes the AIS, the truth of every event the detectors should find (truth.jsonl, look-alikes marked negative), the ports file used and the designations made mid-period (sim_designations_DATE.csv, a list to load with `tumen lists load`). Start time, feed and noise rates: the sim settings (`tumen config`).
    """
    from tumen.sim import simulate

    settings = settings_from(config)
    output_folder(out)
    tasks: dict[str, Any] = {}
    labels = {
        "fleet": "planning voyages",
        "transmit": "transmitting",
        "write": "writing lines",
        "truth": "deriving truth",
    }
    with progress(quiet or json_out, unit="items") as bar:

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        result = simulate(
            out,
            seed=seed,
            hours=hours,
            vessels=vessels,
            fmt=fmt.value,
            ports=ports,
            settings=settings,
            on_progress=on_progress,
        )
    summary = result.to_json()
    if json_out:
        print_json(summary)
        return
    if not quiet:
        err_console.print(
            f"simulated {summary['vessels']} vessels over {hours:g} h (seed {seed}) in {summary['elapsed_s']:.1f} s: "
            f"{summary['lines']:,} NMEA lines, {summary['csv_rows']:,} CSV rows, "
            f"{sum(summary['truth_events'].values()):,} truth events "
            f"({', '.join(f'{k} {v}' for k, v in summary['truth_events'].items())}), {summary['negatives']} look-alikes"
        )
    for path in result.files:
        out_console.print(str(path))


@app.command("evaluate")
def evaluate_cmd(
    truth: Annotated[
        Path, typer.Option("--truth", help="truth.jsonl written by `tumen simulate`.")
    ],
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Score the store's detected events against a truth file: precision, recall and F1 per type.

    Events match when type, vessel(s), port(s) or subtype agree and their times overlap within a per-type tolerance (hours, settings sim.evaluate); matching is one-to-one. Lists the missed and spurious events and the look-alikes (negatives) that were reported.
    """
    from tumen.sim.evaluate import evaluate
    from tumen.store import DuckDBStore

    settings = settings_from(config, db=db)
    if not truth.is_file():
        raise InputError("no such truth file; give the truth.jsonl `tumen simulate` wrote", truth)
    store = DuckDBStore(settings.db, read_only=True)
    try:
        result = evaluate(store, truth, settings)
    finally:
        store.close()
    if json_out:
        print_json(result)
        return
    table = Table(
        "type", "tp", "fp", "fn", "precision", "recall", "F1", title=f"detections vs {truth}"
    )
    for kind, row in [*result["by_type"].items(), ("overall", result["overall"])]:
        table.add_row(
            kind,
            *(str(row[k]) for k in ("tp", "fp", "fn")),
            *(f"{row[k]:.3f}" for k in ("precision", "recall", "f1")),
        )
    out_console.print(table)
    for title, key in (("missed", "missed"), ("spurious", "spurious")):
        rows = result[key]
        if rows:
            out_console.print(f"[bold]{title}[/] ({len(rows)}):")
            for e in rows[:15]:
                out_console.print(f"  {_describe(e)}", highlight=False)
            if len(rows) > 15:
                out_console.print(f"  … {len(rows) - 15} more (use --json)")
    hits = result["negatives_hit"]
    if hits:
        out_console.print(f"[bold red]look-alikes reported[/] ({len(hits)}):")
        for h in hits[:15]:
            out_console.print(
                f"  {_describe(h['detected'])}  ← {h['negative'].get('note', '')}", highlight=False
            )
    elif not quiet:
        err_console.print("no look-alike was reported")


def _describe(e: dict[str, Any]) -> str:
    what = e["type"] + (f"/{e['subtype']}" if e.get("subtype") else "")
    who = str(e["mmsi"]) + (f"+{e['other_mmsi']}" if e.get("other_mmsi") else "")
    where = e.get("port") or (
        f"{e.get('from_port')}→{e.get('to_port')}" if e.get("from_port") else ""
    )
    return f"{what} {who} {e['start']}–{e['end']} {where}".rstrip()
