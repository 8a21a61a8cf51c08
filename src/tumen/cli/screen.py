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
    help="Sanctions lists in the store: show what is loaded (no sub-command), `load` files, `update` from the web.",
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
) -> None:
    """Show the lists loaded in the store: list id, list date, file, entity counts."""
    if ctx.invoked_subcommand is not None:
        return
    from tumen.screen.lists import loaded_lists

    settings = settings_from(config, db=db)
    rows: list[dict[str, Any]] = []
    if Path(str(settings.db)).exists():  # never create a store just to say it is empty
        from tumen.store import DuckDBStore

        with DuckDBStore(settings.db, read_only=True) as store:
            rows = loaded_lists(store) if store.table_exists("lists") else []
    if json_out:
        print_json({"db": str(settings.db), "lists": rows})
        return
    if not rows:
        err_console.print(f"no lists loaded in {settings.db}; run `tumen lists load PATH`")
        return
    _print_lists(rows, f"sanctions lists in {settings.db}")


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


def _match_rows(matches: list[Any]) -> list[dict[str, Any]]:
    return [m.to_json() for m in matches]


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
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Screen the store's vessels (writes table `matches`), or names given with --query / --query-file."""
    from tumen.screen import screen_store
    from tumen.screen.match import QUERY_TYPES, get_index, screen_many, screen_query

    if fmt not in ("table", "json", "jsonl"):
        raise InputError(f"--format {fmt!r}: give table, json or jsonl")
    if type_ is not None and type_ not in QUERY_TYPES:
        raise InputError(f"--type {type_!r}: give vessel, company or person")
    flags = {
        "screen.threshold": threshold,
        "screen.max_candidates": limit,
        "screen.max_hops": max_hops,
    }
    settings = settings_from(config, db=db, **flags)
    from tumen.store import DuckDBStore

    if query is None and query_file is None:
        with (
            DuckDBStore(settings.db, create=False) as store,
            progress(quiet or json_out, unit="identities") as bar,
        ):
            task = bar.add_task("screening vessels", total=None)
            report = screen_store(
                store, settings, on_progress=lambda i, n: bar.update(task, completed=i, total=n)
            )
        if json_out:
            print_json(report.to_json())
            return
        if not quiet:
            err_console.print(
                f"screened {report.identities} vessel identities against {', '.join(report.lists)}: "
                f"{report.matches} matches ({report.vessel_matches} vessels, {report.party_matches} linked parties) "
                f"in {report.seconds:.1f} s; written to table matches"
            )
        return
    cfg = settings.screen
    with DuckDBStore(settings.db, read_only=Path(str(settings.db)).exists()) as store:
        if not store.table_exists("lists") or not store.scalar("SELECT count(*) FROM lists"):
            from tumen.errors import StoreError

            raise StoreError(
                f"{settings.db}: no sanctions list is loaded; run `tumen lists load PATH` first"
            )
        index = get_index(store)
    if query is not None:
        found = screen_query(
            index,
            query,
            type=type_,
            imo=imo,
            mmsi=mmsi,
            flag=flag,
            callsign=callsign,
            threshold=cfg.threshold,
            limit=cfg.max_candidates,
        )
        single = {"id": None, "query": query, "matches": _match_rows(found)}
        if json_out or fmt in ("json", "jsonl"):
            print_json(single)
            return
        table = Table(
            "score",
            "match",
            "caption",
            "schema",
            "list",
            "programs",
            "why",
            title=f"screening {query!r}",
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
        return
    assert query_file is not None
    fh = _query_file(query_file)
    parsed: list[tuple[int, dict[str, Any] | None, str | None]] = []  # (line, query, error)
    try:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
                if not isinstance(q, dict) or not (q.get("name") or q.get("imo") or q.get("mmsi")):
                    raise ValueError("needs at least a 'name'")
                if q.get("type") is not None and q["type"] not in QUERY_TYPES:
                    raise ValueError(f"type {q['type']!r} is not vessel, company or person")
                for key in ("name", "flag", "callsign"):
                    if q.get(key) is not None and not isinstance(q[key], str):
                        raise ValueError(f"{key!r} must be a string, not {q[key]!r}")
                for key in ("imo", "mmsi"):
                    if q.get(key) is not None and not isinstance(q[key], str | int):
                        raise ValueError(f"{key!r} must be a number or a string, not {q[key]!r}")
                parsed.append((line_no, q, None))
            except ValueError as exc:
                parsed.append((line_no, None, f"{query_file} line {line_no}: {exc}"))
    finally:
        if fh is not sys.stdin:
            fh.close()
    good = [q for _, q, _ in parsed if q is not None]
    with progress(quiet or fmt != "table", unit="queries") as bar:
        bar.add_task(f"screening {len(good)} queries", total=None)
        results = iter(
            screen_many(
                index, good, threshold=cfg.threshold, limit=cfg.max_candidates, workers=cfg.workers
            )
        )
    n, errors = len(parsed), sum(1 for _, q, _ in parsed if q is None)
    out_lines: list[dict[str, Any]] = []
    for line_no, q, error in parsed:
        if q is None:
            obj: dict[str, Any] = {"id": None, "line": line_no, "error": error, "matches": []}
        else:
            obj = {"id": q.get("id"), "matches": _match_rows(next(results))}
        if fmt in ("json", "jsonl") or json_out:
            sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            out_lines.append(obj)
    if out_lines:
        table = Table("id", "best match", "score", "match", title=f"screening {query_file}")
        for row in out_lines:
            best = row["matches"][0] if row["matches"] else None
            table.add_row(
                str(row.get("id")),
                best["caption"] if best else str(row.get("error", "")),
                f"{best['score']:.2f}" if best else "",
                "yes" if best and best["match"] else "",
            )
        out_console.print(table)
    if not quiet:
        err_console.print(f"{n} queries screened, {errors} bad lines")
