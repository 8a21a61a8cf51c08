"""``tumen observe`` (the observations ledger) and ``tumen cue`` (imagery cues for dark port calls)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

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
    settings_from,
)

observe_app = typer.Typer(
    name="observe",
    help=(
        "The observations ledger: sightings of vessels from outside AIS (satellite imagery, rail, "
        "port reports, photos), set against the AIS events. No sub-command: list them."
    ),
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(observe_app, name="observe")


class Kind(StrEnum):
    imagery = "imagery"
    rail = "rail"
    port_report = "port_report"
    photo = "photo"
    other = "other"


class Confidence(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


def _store(settings: Any, read_only: bool = False) -> Any:
    from tumen.store import DuckDBStore

    return DuckDBStore(settings.db, read_only=read_only, create=False)


def _ports(store: Any, settings: Any) -> Any:
    from tumen.detect.ports import ports_detection_used

    return ports_detection_used(store, settings.ports)


def _list(db: Path | None, config: Path | None, json_out: bool, mmsi: int | None) -> None:
    from tumen.observe.corroborate import corroborations
    from tumen.observe.ledger import list_observations, observation_json

    settings = settings_from(config, db=db)
    with _store(settings, read_only=True) as store:
        rows = list_observations(store, mmsi) if store.table_exists("observations") else []
        corrs = corroborations(store, settings) if rows else []
    by_obs: dict[int, list[dict[str, Any]]] = {}
    for c in corrs:
        by_obs.setdefault(c["obs_id"], []).append(c)
    if json_out:
        out = []
        for o in rows:
            item = observation_json(o)
            item["corroboration"] = [
                {
                    "event_id": c["event_id"],
                    "outcome": c["outcome"],
                    "port": c["port"],
                    "explanation": c["explanation"],
                }
                for c in by_obs.get(o["obs_id"], [])
            ]
            out.append(item)
        print_json({"observations": out, "total": len(out)})
        return
    if not rows:
        err_console.print(f"no observations in {settings.db}; add one with `tumen observe add`")
        return
    table = Table(
        "#",
        "time (UTC)",
        "vessel",
        "MMSI",
        "where",
        "kind",
        "conf.",
        "source",
        "what it shows",
        title=f"{len(rows)} observations",
    )
    for column in table.columns:
        column.overflow = "fold"
    for o in rows:
        where = o["port"] or f"{o['lat']:.4f}, {o['lon']:.4f}"
        shows = "; ".join(
            f"{c['outcome']} {c['event_id'] or 'AIS track'}" for c in by_obs.get(o["obs_id"], [])
        )
        table.add_row(
            str(o["obs_id"]),
            o["ts"].strftime("%Y-%m-%d %H:%M"),
            Text(o["name"] or o["vessel"]),
            str(o["mmsi"]),
            Text(where),
            o["kind"],
            o["confidence"],
            Text(o["source"]),
            shows or "–",
        )
    out_console.print(table)


@observe_app.callback()
def observe_show(
    ctx: typer.Context,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """The observations in the store (as `tumen observe list`)."""
    if ctx.invoked_subcommand is not None:
        return
    _list(db, config, json_out, None)


@observe_app.command("list")
def observe_list(
    mmsi: Annotated[
        int | None, typer.Option("--mmsi", help="Only the observations of this MMSI.")
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help='One JSON object {"observations": [...], "total": N}, each with what it corroborates.',
        ),
    ] = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """List the observations, oldest first, with what each confirms or contradicts."""
    _list(db, config, json_out, mmsi)


@observe_app.command("add")
def observe_add(
    vessel: Annotated[
        str,
        typer.Option(
            "--vessel",
            help="The vessel: an MMSI (9 digits) or IMO number (7 digits) the store has heard, or a "
            "name it broadcast.",
        ),
    ],
    time: Annotated[
        str,
        typer.Option(
            "--time",
            help="When it was observed: ISO-8601, UTC unless an offset is given (e.g. 2024-01-10T06:00Z).",
        ),
    ],
    kind: Annotated[Kind, typer.Option("--kind", help="What kind of sighting it is.")],
    source: Annotated[
        str, typer.Option("--source", help="Where it comes from: a URL or a citation.")
    ],
    lat: Annotated[
        float | None, typer.Option("--lat", help="Latitude, WGS84 degrees (with --lon).")
    ] = None,
    lon: Annotated[
        float | None, typer.Option("--lon", help="Longitude, WGS84 degrees (with --lat).")
    ] = None,
    port: Annotated[
        str | None,
        typer.Option(
            "--port",
            help="A watched port (name, alias or UN/LOCODE) instead of --lat/--lon: its position, "
            "with its radius as the uncertainty.",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What was seen, in words.")] = None,
    confidence: Annotated[
        Confidence, typer.Option("--confidence", help="How sure the source is.")
    ] = Confidence.medium,
    attachment: Annotated[
        Path | None,
        typer.Option(
            "--attachment",
            help="A file backing it (image, PDF): its path and SHA-256 are stored, the file is not copied.",
        ),
    ] = None,
    uncertainty_km: Annotated[
        float | None,
        typer.Option(
            "--uncertainty-km",
            help="How far from the position the vessel may have been, km (default: the port's "
            "radius for --port, else observe.position_uncertainty_km).",
        ),
    ] = None,
    seen_name: Annotated[
        str | None,
        typer.Option(
            "--seen-name",
            help="The name the source shows the vessel under (hull marking, report entry); set "
            "against its identity changes (default: --vessel when it is a name).",
        ),
    ] = None,
    seen_imo: Annotated[
        str | None,
        typer.Option(
            "--seen-imo",
            help="The IMO number the source shows (7 digits; a wrong check digit is kept as "
            "evidence) (default: --vessel when it is an IMO).",
        ),
    ] = None,
    added_by: Annotated[
        str | None,
        typer.Option(
            "--added-by", help="Who adds it (default: TUMEN_USER, else the operating-system user)."
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Add one observation of a vessel (by position, or at a watched port) to the store."""
    from tumen.observe.corroborate import corroborations
    from tumen.observe.ledger import ObservationInput, add_observation, observation_json

    settings = settings_from(config, db=db)
    inp = ObservationInput(
        vessel=vessel,
        time=time,
        kind=kind.value,
        source=source,
        lat=lat,
        lon=lon,
        port=port,
        note=note,
        confidence=confidence.value,
        attachment=str(attachment) if attachment is not None else None,
        uncertainty_km=uncertainty_km,
        seen_name=seen_name,
        seen_imo=seen_imo,
    )
    with _store(settings) as store:
        obs = add_observation(store, _ports(store, settings), inp, settings, added_by=added_by)
        corrs = [c for c in corroborations(store, settings) if c["obs_id"] == obs["obs_id"]]
    item = observation_json(obs)
    item["duplicate"] = obs["duplicate"]
    item["corroboration"] = [
        {k: c[k] for k in ("event_id", "outcome", "port", "explanation")} for c in corrs
    ]
    if json_out:
        print_json(item)
        return
    if quiet:
        return
    what = "already stored as" if obs["duplicate"] else "added"
    where = obs["port"] or f"{obs['lat']:.4f}, {obs['lon']:.4f}"
    err_console.print(
        Text(
            f"{what} observation {obs['obs_id']}: {obs['name'] or obs['vessel']} "
            f"(MMSI {obs['mmsi']}) at {where} on {item['ts']}"
        )
    )
    for c in corrs:
        err_console.print(Text(f"  {c['explanation']}"))


@observe_app.command("import")
def observe_import(
    path: Annotated[
        Path,
        typer.Argument(
            help="A .csv (header: vessel,time,lat,lon,port,kind,source,note,confidence,attachment,"
            "uncertainty_km,seen_name,seen_imo) or .jsonl file (the same keys)."
        ),
    ],
    added_by: Annotated[
        str | None,
        typer.Option(
            "--added-by",
            help="Who adds them (default: TUMEN_USER, else the operating-system user).",
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Import observations from a file: each row stored, a duplicate, or rejected with its line and reason."""
    from tumen.observe.ledger import import_observations

    settings = settings_from(config, db=db)
    with _store(settings) as store:
        report = import_observations(
            store, _ports(store, settings), path, settings, added_by=added_by
        )
    if json_out:
        print_json(report.to_json())
        return
    if quiet:
        return
    err_console.print(
        f"{path}: {report.rows} rows: {report.stored} stored, {report.duplicates} duplicates, "
        f"{len(report.rejected)} rejected",
        highlight=False,
    )
    for r in report.rejected:
        err_console.print(Text(f"{path} line {r['line']}: {r['reason']}"))


@app.command("cue")
def cue_cmd(
    event_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Event ids (see `tumen events`); any event type.", show_default=False),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help="A cue for every dark-port-call candidate of every AIS gap."),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder to write cues.json, cues.geojson and, per cue, the STAC request bodies "
            "and Copernicus Browser links.",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: Annotated[
        bool,
        typer.Option("--json", help='One JSON object {"cues": [...], "total": N} on stdout.'),
    ] = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Imagery cues: for dark port calls (or any event), the area, time window, STAC searches for
    Sentinel-1 GRD and Sentinel-2 L2A, and Copernicus Browser links. Writes requests; sends nothing."""
    from tumen.errors import InputError
    from tumen.observe.cues import cues, write_cues

    if not all_ and not event_ids:
        raise InputError("give event ids, or --all for every dark-port-call candidate")
    if all_ and event_ids:
        raise InputError("give event ids or --all, not both")
    if out is not None:
        output_folder(out)
    settings = settings_from(config, db=db)
    with _store(settings, read_only=True) as store:
        items = cues(store, settings, event_ids=None if all_ else list(event_ids or []))
    if out is not None:
        files = write_cues(items, out)
        if not quiet and not json_out:
            err_console.print(
                f"wrote {len(items)} cues ({len(files)} files) to {out}", highlight=False
            )
    if json_out:
        print_json({"cues": items, "total": len(items)})
        return
    if quiet or out is not None:
        return
    table = Table(
        "cue", "vessel", "window (UTC)", "area", "why", title=f"{len(items)} imagery cues"
    )
    for column in table.columns:
        column.overflow = "fold"
    for c in items:
        table.add_row(
            c["cue_id"],
            str(c["mmsi"]),
            c["datetime"],
            f"{c['lat']:.4f}, {c['lon']:.4f} r {c['radius_km']:.1f} km",
            Text(c["reason"]),
        )
    out_console.print(table)
    for c in items:
        for b in c["browser"]:
            out_console.print(Text(f"{c['cue_id']} {b['title']}: {b['url']}"), soft_wrap=True)
