"""``tumen lists`` (show / load / update the sanctions lists) and ``tumen screen``."""

from __future__ import annotations

import json
import sys
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
    print_json,
    progress,
    settings_from,
)
from tumen.errors import InputError

lists_app = typer.Typer(
    name="lists",
    help="Sanctions lists in the store: show what is loaded and every version kept (no sub-command), "
    "`load` files, `diff` two versions, `update` from the web.",
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(lists_app, name="lists")


def _open_store(db: Path | None, config: Path | None, read_only: bool = False, **flags: Any) -> Any:
    from tumen.store import DuckDBStore

    settings = settings_from(config, db=db, **flags)
    return settings, DuckDBStore(settings.db, read_only=read_only)


def _print_lists(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(
        "list", "date", "status", "entities", "sanctioned", "vessels", "links", "file", title=title
    )
    for r in rows:
        table.add_row(
            str(r.get("list_id", "")),
            str(r.get("list_date") or ""),
            str(r.get("status", "loaded")),
            f"{r.get('entities', '')}",
            f"{r.get('targets', '')}",
            f"{r.get('vessels', '')}",
            f"{r.get('links', '')}",
            str(r.get("path", "")),
        )
    out_console.print(table)


@lists_app.callback()
def lists_show(
    ctx: typer.Context,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Show the lists loaded in the store (list id, list date, file, entity counts) and every
    version of each that was loaded (version id, date, sanctioned entries, added/removed)."""
    if ctx.invoked_subcommand is not None:
        return
    from tumen.screen.lists import loaded_lists
    from tumen.screen.lists.history import list_versions

    settings = settings_from(config, db=db)
    rows: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    if Path(str(settings.db)).exists():  # never create a store just to say it is empty
        from tumen.store import DuckDBStore

        with DuckDBStore(settings.db, read_only=True) as store:
            rows = loaded_lists(store) if store.table_exists("lists") else []
            versions = list_versions(store)
    if json_out:
        print_json({"db": str(settings.db), "lists": rows, "versions": versions})
        return
    if not rows:
        if not quiet:
            err_console.print(f"no lists loaded in {settings.db}; run `tumen lists load PATH`")
        return
    _print_lists(rows, f"sanctions lists in {settings.db}")
    if versions:
        _print_versions(versions)


def _print_versions(versions: list[dict[str, Any]]) -> None:
    table = Table(
        "version",
        "date",
        "list date",
        "loaded (UTC)",
        "sanctioned",
        "added",
        "removed",
        "current",
        "file",
        title="list versions kept (compare two with `tumen lists diff OLD NEW`)",
    )
    for v in versions:
        table.add_row(
            v["version_id"],
            v["date"],
            v["list_date"] or "",
            v["loaded_at"],
            str(v["targets"]),
            "" if v["added"] is None else f"+{v['added']}",
            "" if v["removed"] is None else f"-{v['removed']}",
            "yes" if v["current"] else "",
            Path(v["path"]).name,
        )
    out_console.print(table)


@lists_app.command("diff")
def lists_diff(
    old: Annotated[
        str,
        typer.Argument(help="Older version: a version id (e.g. us_ofac_sdn@2024-04-04) or a date."),
    ],
    new: Annotated[
        str, typer.Argument(help="Newer version: a version id or a date (ISO 8601, UTC).")
    ],
    list_id: Annotated[
        str | None,
        typer.Option(
            "--list",
            help="The list whose versions a date picks (needed when several lists are loaded).",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", help="Entries shown per section in the table (count); --json has all."
        ),
    ] = 50,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Sanctioned entries added, removed and changed between two loaded versions of a list.

    A date stands for the version in force that day (the newest dated on or before it).
    """
    from tumen.errors import StoreError
    from tumen.screen.lists.history import diff_versions, resolve_version
    from tumen.store import DuckDBStore

    settings = settings_from(config, db=db)
    if not Path(str(settings.db)).exists():
        raise StoreError(f"{settings.db}: no such store; run `tumen lists load PATH` first")
    with DuckDBStore(settings.db, read_only=True) as store:
        a = resolve_version(store, old, list_id)
        b = resolve_version(store, new, list_id)
        if a["list_id"] != b["list_id"]:
            raise InputError(
                f"{a['version_id']} and {b['version_id']} are versions of different lists; "
                "compare two versions of one list"
            )
        result = diff_versions(store, a, b)
    if json_out:
        print_json({"db": str(settings.db), **result})
        return
    out_console.print(
        f"{a['list_id']}: {a['version_id']} → {b['version_id']}: "
        f"+{result['counts']['added']} added, -{result['counts']['removed']} removed, "
        f"{result['counts']['changed']} changed"
    )
    if result["note"] and not quiet:
        err_console.print(f"note: {result['note']}")
    for key in ("added", "removed", "changed"):
        entries = result[key]
        if not entries:
            continue
        table = Table("entity", "name", "schema", "programs", "changed properties", title=key)
        for e in entries[:limit]:
            table.add_row(
                e["entity_id"],
                e["caption"] or "",
                e["schema"],
                ", ".join(e["programs"]),
                ", ".join(e.get("properties", [])),
            )
        out_console.print(table)
        if len(entries) > limit and not quiet:
            err_console.print(f"{key}: {len(entries) - limit} more (--limit, or --json for all)")


@lists_app.command("load")
def lists_load(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="List files or folders (UN XML, OFAC SDN CSV/XML, FtM "
            "JSON lines, vessels CSV, ownership CSV; .gz fine)."
        ),
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Load even if the store holds a newer or identical copy."),
    ] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Load sanctions lists into the store; a newer copy of a list replaces the older one atomically."""
    from tumen.screen.lists import load_lists

    settings, store = _open_store(db, config)
    with store, progress(quiet or json_out, unit="entities") as bar:
        task = bar.add_task("reading lists", total=None)

        def on_progress(path: str, n: int) -> None:
            bar.update(task, advance=n, description=f"read {Path(path).name}")

        summaries = load_lists(store, paths, force=force, on_progress=on_progress)
    if json_out:
        print_json({"db": str(settings.db), "lists": summaries})
        return
    _print_lists(summaries, f"lists loaded into {settings.db}")
    for s in summaries:
        if s.get("status") == "replaced" and not quiet:
            err_console.print(
                f"{s['list_id']}: +{s['added']} added, -{s['removed']} removed, {s['changed']} changed"
            )


@lists_app.command("update")
def lists_update(
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Download the current official lists (URLs in the `screen` settings) and load them.

    Files are kept in `screen.lists_dir` under dated names; needs internet access.
    """
    from tumen.screen.lists import load_lists
    from tumen.screen.lists.update import download_lists

    settings, store = _open_store(db, config)
    with progress(quiet or json_out, unit="files") as bar:
        task = bar.add_task("downloading", total=None)
        files = download_lists(
            settings.screen, on_file=lambda p: bar.update(task, advance=1, description=p.name)
        )
    with store:
        summaries = load_lists(store, files)
    if json_out:
        print_json(
            {"db": str(settings.db), "downloaded": [str(f) for f in files], "lists": summaries}
        )
        return
    _print_lists(summaries, f"lists updated in {settings.db}")


def _query_file(path: str) -> Any:
    if path == "-":
        return sys.stdin
    p = Path(path)
    if not p.is_file():
        raise InputError("no such query file; give a JSON-lines file or - for stdin", p)
    return p.open(encoding="utf-8")


@app.command("screen")
def screen_cmd(
    query: Annotated[
        str | None, typer.Option("--query", help="Screen one name instead of the store's vessels.")
    ] = None,
    imo: Annotated[
        str | None, typer.Option("--imo", help="IMO number of the queried vessel (7 digits).")
    ] = None,
    mmsi: Annotated[
        str | None, typer.Option("--mmsi", help="MMSI of the queried vessel (9 digits).")
    ] = None,
    callsign: Annotated[
        str | None, typer.Option("--callsign", help="Call sign of the queried vessel.")
    ] = None,
    flag: Annotated[
        str | None,
        typer.Option("--flag", help="Flag of the queried vessel (country name or ISO code)."),
    ] = None,
    type_: Annotated[
        str | None,
        typer.Option(
            "--type", help="Restrict candidates: vessel, company or person (default: all)."
        ),
    ] = None,
    query_file: Annotated[
        str | None,
        typer.Option(
            "--query-file",
            help="JSON lines, one query per line: "
            '{"id", "name", "type", "imo", "mmsi", "flag"} (- = stdin).',
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Output of --query/--query-file: table, json or jsonl.")
    ] = "table",
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Match threshold, 0–1 (default: screen.threshold = 0.7).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help="Candidates per query (default: screen.max_candidates = 5).",
            show_default=False,
        ),
    ] = None,
    max_hops: Annotated[
        int | None,
        typer.Option(
            "--max-hops",
            help="Ownership hops searched (default: screen.max_hops = 2).",
            show_default=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Screen against the lists as they stood on this date (ISO 8601, UTC; "
            "default: the newest versions loaded).",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Screen the store's vessels (writes table `matches`), or names given with --query / --query-file."""
    from tumen.screen.lists.history import parse_day
    from tumen.screen.match import QUERY_TYPES

    day = parse_day(as_of) if as_of is not None else None

    if fmt not in ("table", "json", "jsonl"):
        raise InputError(f"--format {fmt!r}: give table, json or jsonl")
    if type_ is not None and type_ not in QUERY_TYPES:
        raise InputError(f"--type {type_!r}: give vessel, company or person")
    settings = settings_from(
        config,
        db=db,
        **{
            "screen.threshold": threshold,
            "screen.max_candidates": limit,
            "screen.max_hops": max_hops,
        },
    )
    if query is None and query_file is None:
        _screen_vessels(settings, json_out=json_out, quiet=quiet, as_of=day)
    elif query is not None:
        ids = {"imo": imo, "mmsi": mmsi, "flag": flag, "callsign": callsign}
        _screen_one(settings, query, type_, ids, as_json=json_out or fmt != "table", as_of=day)
    else:
        assert query_file is not None
        _screen_file(
            settings, query_file, as_json=json_out or fmt != "table", quiet=quiet, as_of=day
        )


def _screen_vessels(settings: Any, *, json_out: bool, quiet: bool, as_of: Any = None) -> None:
    """Screen every vessel identity of the store and write table ``matches``."""
    from tumen.screen import screen_store
    from tumen.store import DuckDBStore

    with (
        DuckDBStore(settings.db, create=False) as store,
        progress(quiet or json_out, unit="identities") as bar,
    ):
        task = bar.add_task("screening vessels", total=None)
        report = screen_store(
            store,
            settings,
            on_progress=lambda i, n: bar.update(task, completed=i, total=n),
            as_of=as_of,
        )
    if json_out:
        print_json(report.to_json())
    elif not quiet:
        err_console.print(
            f"screened {report.identities} vessel identities against {', '.join(report.lists)}"
            f"{f' as of {report.as_of}' if report.as_of else ''}: "
            f"{report.matches} matches ({report.vessel_matches} vessels, "
            f"{report.party_matches} linked parties) in {report.seconds:.1f} s; "
            "written to table matches"
        )


def _screen_one(
    settings: Any,
    query: str,
    type_: str | None,
    ids: dict[str, str | None],
    *,
    as_json: bool,
    as_of: Any = None,
) -> None:
    """Screen one name against the lists of the store (read-only; never creates it)."""
    from tumen.screen.match import screen_query
    from tumen.screen.queries import open_index

    cfg = settings.screen
    found = screen_query(
        open_index(settings.db, as_of=as_of),
        query,
        type=type_,
        imo=ids["imo"],
        mmsi=ids["mmsi"],
        flag=ids["flag"],
        callsign=ids["callsign"],
        threshold=cfg.threshold,
        limit=cfg.max_candidates,
    )
    if as_json:
        out = {"id": None, "query": query, "matches": [m.to_json() for m in found]}
        print_json(out | ({"as_of": as_of.isoformat()} if as_of else {}))
        return
    table = Table(
        "score",
        "match",
        "caption",
        "schema",
        "list",
        "programs",
        "why",
        title=f"screening {query!r}" + (f" as of {as_of}" if as_of else ""),
    )
    for m in found:
        table.add_row(
            f"{m.score:.2f}",
            "yes" if m.match else "",
            m.entry.caption,
            m.entry.schema,
            m.entry.list_id,
            ", ".join(m.entry.programs),
            "; ".join(m.explanation),
        )
    out_console.print(table)


def _screen_file(
    settings: Any, query_file: str, *, as_json: bool, quiet: bool, as_of: Any = None
) -> None:
    """Screen a JSON-lines query file: one output object per line (JSON lines or a table)."""
    from tumen.screen.queries import open_index, parse_query_lines, screen_query_lines

    index = open_index(settings.db, as_of=as_of)
    fh = _query_file(query_file)
    try:
        parsed = parse_query_lines(fh, query_file)
    finally:
        if fh is not sys.stdin:
            fh.close()
    with progress(quiet or as_json, unit="queries") as bar:
        bar.add_task(f"screening {sum(p.query is not None for p in parsed)} queries", total=None)
        rows = list(screen_query_lines(index, parsed, settings.screen))
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif rows:
        table = Table("id", "best match", "score", "match", title=f"screening {query_file}")
        for row in rows:
            best = row["matches"][0] if row["matches"] else None
            table.add_row(
                str(row.get("id")),
                best["caption"] if best else str(row.get("error", "")),
                f"{best['score']:.2f}" if best else "",
                "yes" if best and best["match"] else "",
            )
        out_console.print(table)
    if not quiet:
        errors = sum(p.query is None for p in parsed)
        err_console.print(f"{len(parsed)} queries screened, {errors} bad lines")
