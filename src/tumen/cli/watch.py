"""``tumen watch``: live feeds into the store, incremental detection, alerts on a watchlist."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tumen.cli.common import (
    ConfigOpt,
    DbOpt,
    QuietOpt,
    VerboseOpt,
    app,
    err_console,
    print_json,
    settings_from,
)
from tumen.errors import InputError


@app.command("watch")
def watch_cmd(
    stdin: Annotated[
        list[str] | None,
        typer.Argument(help="`-` reads NMEA lines from standard input.", show_default=False),
    ] = None,
    tcp: Annotated[
        list[str] | None,
        typer.Option(
            "--tcp",
            help="HOST:PORT of an NMEA server to connect to (repeatable); reconnects with back-off.",
            show_default=False,
        ),
    ] = None,
    udp: Annotated[
        list[str] | None,
        typer.Option(
            "--udp",
            help="HOST:PORT to listen on for NMEA datagrams (repeatable).",
            show_default=False,
        ),
    ] = None,
    listen_tcp: Annotated[
        str | None,
        typer.Option(
            "--listen-tcp",
            help="HOST:PORT to accept feeders on (TCP; any number of them).",
            show_default=False,
        ),
    ] = None,
    follow: Annotated[
        list[Path] | None,
        typer.Option(
            "--follow",
            help="A growing log file to tail, across rotation (repeatable).",
            show_default=False,
        ),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            help="A recorded NMEA file to feed by its receive times (see --speed).",
            show_default=False,
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            min=0,
            help="Replay speed: times real time (0 = as fast as the store takes it).",
        ),
    ] = 1.0,
    until_end: Annotated[
        bool,
        typer.Option("--until-end", help="Exit when the replayed file (or stdin) is consumed."),
    ] = False,
    rules: Annotated[
        Path,
        typer.Option(
            "--rules",
            help="Watchlist: a TOML (or YAML) file of rules tables (docs/watch.md, examples/rules.toml).",
        ),
    ] = ...,  # type: ignore[assignment]
    alerts: Annotated[
        Path | None,
        typer.Option("--alerts", help="Append alerts to this JSON-lines file.", show_default=False),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            help="POST each alert (JSON) to this URL, with retries (watch.webhook_retries).",
            show_default=False,
        ),
    ] = None,
    ports: Annotated[
        Path | None,
        typer.Option(
            "--ports",
            help="Watched-ports CSV (header with at least name,country,lat,lon,radius_km; radius in km) "
            "replacing the bundled list.",
            show_default=False,
        ),
    ] = None,
    batch_s: Annotated[
        float | None,
        typer.Option(
            "--batch-s",
            help="Commit a micro-batch at least this often (seconds; default watch.batch_s = 2).",
            show_default=False,
        ),
    ] = None,
    batch_lines: Annotated[
        int | None,
        typer.Option(
            "--batch-lines",
            help="Commit when this many lines wait (count; default watch.batch_lines = 20000).",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", help="Print each alert as one JSON line on stdout, then a summary object."
        ),
    ] = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Read AIS as it arrives, keep the store current, and raise alerts on a watchlist.

    Inputs (one or several): --tcp, --udp, --listen-tcp, --follow, `-` (stdin), --replay.
    Lines are spooled to files, ingested in micro-batches with incremental detection (the
    store is opened per batch and closed in between, so readers can use it), and every
    event matching a rule of --rules becomes an alert (--alerts JSONL, --json stdout,
    --webhook).  Stop with Ctrl-C; kill -9 loses nothing: restart with the same arguments.
    The last stderr line (and with --json the last stdout object) gives lines, stored,
    duplicates, quarantined and alerts.
    """
    from tumen.watch.feeds import (
        Feed,
        FollowFeed,
        ReplayFeed,
        listen_tcp_feed,
        stdin_feed,
        tcp_feed,
        udp_feed,
    )
    from tumen.watch.loop import Outputs, Watcher
    from tumen.watch.rules import load_rules

    settings = settings_from(
        config, db=db, ports=ports, watch__batch_s=batch_s, watch__batch_lines=batch_lines
    )
    rule_list = load_rules(rules)
    for arg in stdin or []:
        if arg != "-":
            raise InputError(
                f"unexpected argument {arg!r}; name inputs with --tcp, --udp, --listen-tcp, --follow, --replay or `-`"
            )
    spool = settings.watch.spool_dir or (settings.db.resolve().parent / "spool")
    feeds: list[Feed] = []
    if replay is not None:
        feeds.append(ReplayFeed(replay, speed, settings.ingest.tz))
    for path in follow or []:
        feeds.append(FollowFeed(path))
    for t in tcp or []:
        feeds.append(tcp_feed(t, spool, settings.watch.reconnect_max_s))
    for u in udp or []:
        feeds.append(udp_feed(u, spool))
    if listen_tcp:
        feeds.append(listen_tcp_feed(listen_tcp, spool))
    if stdin:
        feeds.append(stdin_feed(spool))
    if not feeds:
        raise InputError("no input; give --tcp, --udp, --listen-tcp, --follow, --replay or `-`")
    keys = [f.key for f in feeds]
    if len(set(keys)) != len(keys):
        raise InputError("the same input is named twice")

    def say(text: str) -> None:
        if quiet and text.startswith("watch: "):
            return
        err_console.print(text, highlight=False, soft_wrap=True, markup=False)

    outputs = Outputs(alerts, json_out, webhook, settings, say)
    watcher = Watcher(
        settings.db,
        settings,
        feeds,
        rule_list,
        outputs,
        ports=settings.ports,
        until_end=until_end,
        say=say,
    )
    for f in feeds:
        bound = getattr(f, "bound", None)
        if bound is not None:
            say(f"watch: {f.address} listening on {bound[0]}:{bound[1]}")
    report = watcher.run()
    err_console.print(report.summary(), highlight=False, soft_wrap=True, markup=False)
    if json_out:
        print_json(report.to_json())
    sys.stdout.flush()
